"""The committed bundles (the Access panel, the door card) are the build of the frontend source.

HACS installs the integration straight from the repository, with no build step, so the
bundles in custom_components/concierge/frontend/ are committed; this test rebuilds them from
frontend/ (its lockfile, `npm ci`, `npm run build`) in a temporary copy and compares bytes.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FRONTEND = ROOT / "frontend"
OUT = ROOT / "custom_components" / "concierge" / "frontend"
BUNDLE = OUT / "concierge-panel.js"
CARD = OUT / "concierge-door-card.js"
BUNDLES = ("concierge-panel.js", "concierge-door-card.js")
SOURCE = ("package.json", "package-lock.json", "build.mjs", "src")


def _run(args: list[str], cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def test_committed_bundle_is_the_build_of_the_source(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is missing: the frontend build needs Node.js >= 20 (scripts/setup)")
    work = tmp_path / "frontend"
    work.mkdir()
    for name in SOURCE:
        source = FRONTEND / name
        if source.is_dir():
            shutil.copytree(source, work / name)
        else:
            shutil.copy2(source, work / name)
    _run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], work)
    built = tmp_path / "built"
    _run([npm, "run", "build", "--silent", "--", str(built)], work)
    assert sorted(p.name for p in built.iterdir()) == sorted(BUNDLES)
    for name in BUNDLES:
        assert (built / name).read_bytes() == (OUT / name).read_bytes(), (
            f"custom_components/concierge/frontend/{name} is not the build of frontend/: "
            "run `npm run build` in frontend/ and commit the bundles"
        )
    # Deterministic: a second build gives the same bytes.
    again = tmp_path / "again"
    _run([npm, "run", "build", "--silent", "--", str(again)], work)
    for name in BUNDLES:
        assert (again / name).read_bytes() == (built / name).read_bytes()


@pytest.mark.parametrize(
    ("bundle", "element"),
    [(BUNDLE, "concierge-panel"), (CARD, "concierge-door-card")],
    ids=["panel", "door-card"],
)
def test_bundle_is_one_module_without_imports_left(bundle: Path, element: str) -> None:
    """One file: everything (Lit, the QR code) is inside; nothing is fetched at runtime."""
    text = bundle.read_text()
    assert f'"{element}"' in text
    for bare in ("lit", "lit/", "qrcode-generator", "./"):
        assert f'from"{bare}' not in text
        assert f'import"{bare}' not in text
    assert "import(" not in text
