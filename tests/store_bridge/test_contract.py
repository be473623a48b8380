"""The contract, bridge side: the events the bridge emits are the shared access-event model.

Checked against the very schema file and example events the integration is tested with
(`schema/`), and against the integration's own strict parser: whatever a real bridge run
writes to its outbox, Concierge in Home Assistant accepts unchanged.
"""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from custom_components.concierge.core.events import from_wire, to_wire
from store_bridge.events import (
    EventType,
    InvalidEventError,
    Outcome,
    Source,
    make_event,
    schema,
    validate,
)

from .conftest import Store, StoreFactory

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schema" / "access-event.v1.schema.json"
VALID = sorted((ROOT / "schema" / "examples" / "valid").glob("*.json"))
INVALID = sorted((ROOT / "schema" / "examples" / "invalid").glob("*.json"))


def test_the_bridge_ships_the_shared_schema_file() -> None:
    assert schema() == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_the_bridge_speaks_a_subset_of_the_shared_vocabulary() -> None:
    properties = schema()["properties"]
    assert {t.value for t in EventType} <= set(properties["type"]["enum"])
    assert {o.value for o in Outcome} <= set(properties["outcome"]["enum"])
    assert {s.value for s in Source} <= set(properties["source"]["enum"])


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_every_valid_example_passes_the_bridge(path: Path) -> None:
    validate(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_every_invalid_example_is_refused_by_the_bridge(path: Path) -> None:
    with pytest.raises(InvalidEventError):
        validate(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("key", ["card_number", "email", "pin", "qr_token", "user_code", "jwt"])
def test_the_bridge_cannot_build_an_event_with_personal_or_secret_data(key: str) -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    with pytest.raises(InvalidEventError, match="data"):
        make_event(
            site="store-042",
            type=EventType.CHECK_IN,
            outcome=Outcome.OK,
            when=datetime.now(UTC),
            data={key: "x"},
        )


async def test_a_real_run_is_accepted_unchanged_by_the_integration(
    make_store: StoreFactory,
) -> None:
    store: Store = await make_store(capacity=2)
    _, first = await store.check_in(qr=store.operator.qr(party=2))
    await store.check_in(card_token="pm_someone_else_123")  # store full: refused
    await store.check_in(qr="garbage")  # malformed: refused
    await store.leave(track=first["track"])
    await store.leave()  # anonymous egress
    store.exit.broken = True
    await store.leave()  # safety alert
    store.entry.broken = True
    await store.check_in(card_token="pm_gate_broken_456")  # aborted
    events: list[dict[str, Any]] = store.outbox()
    kinds = {e["type"] for e in events}
    assert kinds >= {
        "check_in",
        "check_out",
        "gate_opened",
        "occupancy_changed",
        "access_denied",
        "safety_alert",
        "visit_aborted",
    }
    for event in events:
        validate(event)
        assert to_wire(from_wire(event)) == event


def test_the_installed_package_carries_the_schema(tmp_path: Path) -> None:
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(uv).exists():
        pytest.skip("uv is not installed (scripts/setup installs it)")
    subprocess.run(
        [
            uv,
            "build",
            "--wheel",
            "--no-build-isolation",
            "-q",
            "-p",
            sys.executable,
            "-o",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("store_bridge/schema/access-event.v1.schema.json")
        names = archive.namelist()
    assert packaged == SCHEMA_FILE.read_bytes()
    assert "store_bridge/py.typed" in names
    assert {"store_bridge/gates/simulator.py", "store_bridge/core/credentials.py"} <= set(names)
