"""The integration's module structure: no import cycles (type-only imports included)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "custom_components" / "concierge"


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    modules = {_module(p): p for p in ROOT.rglob("*.py")}
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        package = [p for p in package if p]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.level:
                continue
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{target}.{alias.name}" if target else alias.name
                hit = full if full in modules else target
                if hit in modules and hit != name:
                    edges[name].add(hit)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component: list[str] = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_the_integration_has_no_import_cycle() -> None:
    edges = _imports()
    assert "coordinator" in edges["flow"] or "hosts" in edges["flow"]  # the scan sees imports
    assert _cycles(edges) == []


def test_the_core_imports_nothing_of_home_assistant() -> None:
    for path in (ROOT / "core").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "homeassistant" not in text.replace("Home Assistant", ""), path.name
