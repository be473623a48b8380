"""The generated wire vocabulary (scripts/generate_vocabulary.py): fresh, and from schema/.

`scripts/test` (and so CI) runs `generate_vocabulary.py --check` before anything else;
these tests run it too, show that it fails, naming the file, when a generated file was
edited, is missing or is stale after a schema change, and that what it writes is the
schema's vocabulary, formatted and linted as the rest of the code.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from custom_components.concierge.core import vocabulary as integration
from store_bridge import vocabulary as bridge

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "generate_vocabulary.py"
INTEGRATION_FILE = "custom_components/concierge/core/vocabulary.py"
BRIDGE_FILE = "store_bridge/vocabulary.py"
SCHEMA_COPY = "store_bridge/schema/access-event.v1.schema.json"
GENERATED = (INTEGRATION_FILE, BRIDGE_FILE, SCHEMA_COPY)


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of schema/ with freshly generated files next to it."""
    shutil.copytree(ROOT / "schema", tmp_path / "schema")
    written = run("--root", tmp_path)
    assert written.returncode == 0, written.stderr
    assert written.stdout.split() == [word for path in GENERATED for word in ("wrote", path)]
    return tmp_path


def test_the_checked_in_files_are_fresh() -> None:
    checked = run("--check")
    assert checked.returncode == 0, checked.stderr
    assert "3 generated files are up to date" in checked.stdout


def test_a_generation_in_a_copy_is_byte_for_byte_the_checked_in_one(tree: Path) -> None:
    for path in GENERATED:
        assert (tree / path).read_bytes() == (ROOT / path).read_bytes(), path
    again = run("--root", tree)
    assert (again.returncode, again.stdout.strip()) == (
        0,
        "generate_vocabulary: 3 generated files are up to date",
    )


def test_a_hand_edit_fails_the_check_naming_the_file(tree: Path) -> None:
    target = tree / BRIDGE_FILE
    edited = target.read_text().replace(
        '    SYSTEM = "system"\n', '    SYSTEM = "system"\n    X = "x"\n'
    )
    target.write_text(edited)
    checked = run("--check", "--root", tree)
    assert checked.returncode == 1
    assert f"{BRIDGE_FILE} differs from a fresh generation" in checked.stderr
    assert "+++ store_bridge/vocabulary.py (fresh generation)" in checked.stderr
    assert '-    X = "x"' in checked.stderr
    assert "Run scripts/generate_vocabulary.py" in checked.stderr
    assert INTEGRATION_FILE not in checked.stderr


def test_a_missing_file_fails_the_check(tree: Path) -> None:
    (tree / SCHEMA_COPY).unlink()
    checked = run("--check", "--root", tree)
    assert checked.returncode == 1
    assert f"{SCHEMA_COPY} is missing" in checked.stderr


def test_a_schema_change_makes_the_generated_files_stale(tree: Path) -> None:
    schema_file = tree / "schema" / "access-event.v1.schema.json"
    schema = load(schema_file)
    schema["properties"]["type"]["enum"].append("parcel_seen")
    schema["properties"]["source"]["enum"].insert(-1, "delivery_token")
    save(schema_file, schema)
    checked = run("--check", "--root", tree)
    assert checked.returncode == 1
    assert f"{INTEGRATION_FILE} differs" in checked.stderr
    assert f"{SCHEMA_COPY} differs" in checked.stderr
    # Not a store's type or source: what the bridge says does not change.
    assert BRIDGE_FILE not in checked.stderr

    assert run("--root", tree).returncode == 0
    assert run("--check", "--root", tree).returncode == 0
    text = (tree / INTEGRATION_FILE).read_text()
    assert '    PARCEL_SEEN = "parcel_seen"\n' in text
    assert '    DELIVERY_TOKEN = "delivery_token"  # noqa: S105 - a name, not a password\n' in text


def test_what_it_writes_passes_ruff_whatever_the_schema_says(tree: Path) -> None:
    schema_file = tree / "schema" / "access-event.v1.schema.json"
    schema = load(schema_file)
    schema["properties"]["source"]["enum"].insert(-1, "delivery_token")
    schema["properties"]["type"]["description"] = "What happened. " + "A long story. " * 20
    save(schema_file, schema)
    assert run("--root", tree).returncode == 0
    files = [str(tree / INTEGRATION_FILE), str(tree / BRIDGE_FILE)]
    ruff = [sys.executable, "-m", "ruff"]
    config = ["--config", str(ROOT / "pyproject.toml")]
    for command in (["check", "--ignore", "INP001"], ["format", "--check"]):
        result = subprocess.run(
            [*ruff, *command, *config, *files], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


EVENT_FILE = "access-event.v1.schema.json"
TOPICS_FILE = "store-topics.json"


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        (
            TOPICS_FILE,
            lambda t: t["store_events"]["type"].append("teleported"),
            "schema/store-topics.json: store_events/type: teleported not in",
        ),
        (
            EVENT_FILE,
            lambda s: s["properties"]["type"]["enum"].append("Bad Type"),
            "'Bad Type' is not a snake_case code",
        ),
        (
            EVENT_FILE,
            lambda s: s["properties"]["outcome"]["enum"].append("ok"),
            "'ok' is listed twice",
        ),
        (
            TOPICS_FILE,
            lambda t: t["topics"]["events"].update(address="{site}/{prefix}/events"),
            "topics/events: address must be",
        ),
        (
            TOPICS_FILE,
            lambda t: t["topics"]["status"].update(payload="nowhere.json"),
            "topics/status: payload must name a schema file",
        ),
        (
            EVENT_FILE,
            lambda s: s["properties"]["v"].update(const="1"),
            "v/const must be a version",
        ),
        (TOPICS_FILE, lambda t: t.pop("default_prefix"), "default_prefix is missing"),
        (TOPICS_FILE, lambda t: t["topics"]["status"].update(qos=[1]), "qos must be 0, 1 or 2"),
        (
            EVENT_FILE,
            lambda s: s["properties"]["outcome"].update(description='How it """went.'),
            "no backslash, no triple quotes",
        ),
    ],
    ids=[
        "unknown-store-type",
        "bad-code",
        "twice",
        "address",
        "payload",
        "version",
        "prefix",
        "qos",
        "quotes",
    ],
)
def test_schema_files_it_cannot_generate_from_are_refused(
    tree: Path, name: str, change: Any, message: str
) -> None:
    source = tree / "schema" / name
    obj = load(source)
    change(obj)
    save(source, obj)
    before = {path: (tree / path).read_bytes() for path in GENERATED}
    result = run("--root", tree)
    assert result.returncode == 2
    assert message in result.stderr
    assert {path: (tree / path).read_bytes() for path in GENERATED} == before


def test_the_generated_modules_say_what_the_schema_says() -> None:
    event = load(ROOT / "schema" / "access-event.v1.schema.json")
    status = load(ROOT / "schema" / "store-status.v1.schema.json")
    topics = load(ROOT / "schema" / "store-topics.json")
    props = event["properties"]
    store = topics["store_events"]
    for module in (integration, bridge):
        assert props["v"]["const"] == module.EVENT_VERSION
        assert status["properties"]["v"]["const"] == module.STATUS_VERSION
        assert topics["default_prefix"] == module.DEFAULT_TOPIC_PREFIX
        assert [m.value for m in module.Outcome] == props["outcome"]["enum"]
        for name, topic in topics["topics"].items():
            made = getattr(module, f"{name}_topic")("shop/x", "store-1")
            assert made == topic["address"].format(prefix="shop/x", site="store-1")
    assert [m.value for m in integration.AccessEventType] == props["type"]["enum"]
    assert [m.value for m in integration.Source] == props["source"]["enum"][:-1]
    assert [m.value for m in integration.EvidenceKind] == (
        event["$defs"]["evidence"]["properties"]["kind"]["enum"]
    )
    assert [m.value for m in integration.STORE_EVENT_TYPES] == store["type"]
    assert [m.value for m in bridge.EventType] == store["type"]
    assert [m.value for m in bridge.Source] == store["source"]


def test_wire_time_and_new_id_are_the_same_on_both_sides() -> None:
    from datetime import UTC, datetime, timedelta, timezone  # noqa: PLC0415

    moments = [
        datetime(2025, 7, 1, 9, 0, 1, 500_999, tzinfo=UTC),
        datetime(5, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
        datetime(2025, 7, 1, 11, 0, tzinfo=timezone(timedelta(hours=2))),
    ]
    for moment in moments:
        assert integration.format_wire_time(moment) == bridge.format_wire_time(moment)
    assert integration.format_wire_time(moments[0]) == "2025-07-01T09:00:01.500Z"
    assert integration.format_wire_time(moments[1]) == "0005-01-02T03:04:05.006Z"
    assert integration.format_wire_time(moments[2]) == "2025-07-01T09:00:00.000Z"
    ids = {integration.new_id() for _ in range(100)} | {bridge.new_id() for _ in range(100)}
    assert len(ids) == 200
    assert all(len(i) == 32 and set(i) <= set("0123456789abcdef") for i in ids)
