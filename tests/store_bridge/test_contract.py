"""The contract, bridge side: what the bridge emits is the shared model.

Its events are checked against the very schema file and example events the integration is
tested with (`schema/`), and against the integration's own strict parser: whatever a real
bridge run writes to its outbox, Concierge in Home Assistant accepts unchanged. Its
retained status (and its will) validate against `schema/store-status.v1.schema.json` and
are read unchanged by the integration. That both sides name the same types, sources,
topics and versions is not tested here: they are generated from `schema/`
(tests/test_vocabulary.py).
"""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from custom_components.concierge.core.events import from_wire, to_wire
from custom_components.concierge.core.stores import StoreStatus, parse_status
from store_bridge.events import InvalidEventError, make_event, schema, validate
from store_bridge.outbox import offline_status
from store_bridge.vocabulary import EventType, Outcome

from .conftest import SITE, Store, StoreFactory

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_FILE = ROOT / "schema" / "access-event.v1.schema.json"
VALID = sorted((ROOT / "schema" / "examples" / "valid").glob("*.json"))
INVALID = sorted((ROOT / "schema" / "examples" / "invalid").glob("*.json"))
STATUS_SCHEMA: dict[str, Any] = json.loads(
    (ROOT / "schema" / "store-status.v1.schema.json").read_text(encoding="utf-8")
)
STATUS = Draft202012Validator(STATUS_SCHEMA, format_checker=FormatChecker())


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_every_valid_example_passes_the_bridge(path: Path) -> None:
    event = json.loads(path.read_text(encoding="utf-8"))
    assert _verdict(event), "the bridge refuses a valid example"
    # What passes the bridge, Concierge reads back unchanged.
    assert to_wire(from_wire(event)) == event


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_every_invalid_example_is_refused_by_the_bridge(path: Path) -> None:
    with pytest.raises(InvalidEventError):
        validate(json.loads(path.read_text(encoding="utf-8")))


REFERENCE = Draft202012Validator(schema(), format_checker=FormatChecker())
ODD_VALUES: list[Any] = [
    None,
    0,
    1.5,
    True,
    "",
    "x" * 300,
    "a b",
    [],
    {},
    {"pin": "1"},
    "2025-07-01",
]


def _verdict(obj: object) -> bool:
    try:
        validate(obj)
    except InvalidEventError:
        return False
    return True


@pytest.mark.parametrize("path", VALID + INVALID, ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_the_quick_validator_agrees_with_the_reference_on_examples(path: Path) -> None:
    obj = json.loads(path.read_text(encoding="utf-8"))
    assert _verdict(obj) is REFERENCE.is_valid(obj)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_the_quick_validator_agrees_with_the_reference_on_every_change(path: Path) -> None:
    """Each key of each valid example replaced by odd values, removed, or one added."""
    base = json.loads(path.read_text(encoding="utf-8"))
    variants: list[Any] = [{**base, "extra": 1}]
    for key in base:
        variants.append({k: v for k, v in base.items() if k != key})
        variants.extend({**base, key: value} for value in ODD_VALUES)
        if isinstance(base[key], dict):
            variants.extend(
                {**base, key: {**base[key], name: 1}} for name in ("ok_key", "Bad", "email")
            )
    for variant in variants:
        assert _verdict(variant) is REFERENCE.is_valid(variant), variant


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
        assert REFERENCE.is_valid(event)
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


def _known_keys(status: dict[str, Any]) -> None:
    """The bridge says only what the schema names (consumers ignore the rest: a typo)."""
    assert set(status) <= set(STATUS_SCHEMA["properties"])
    gate_keys = set(STATUS_SCHEMA["$defs"]["gate"]["properties"])
    assert all(set(gate) <= gate_keys for gate in status.get("gates") or [])
    assert set(status.get("shelf") or {}) <= set(STATUS_SCHEMA["$defs"]["shelf"]["properties"])
    checkout = status.get("checkout") or {}
    assert set(checkout) <= set(STATUS_SCHEMA["$defs"]["checkout"]["properties"])
    sales = checkout.get("sales_today") or {}
    assert set(sales) <= set(STATUS_SCHEMA["$defs"]["sales"]["properties"])


async def test_the_status_is_a_store_status_the_integration_reads_unchanged(
    make_store: StoreFactory,
) -> None:
    store: Store = await make_store(capacity=2)
    _, first = await store.check_in(qr=store.operator.qr())
    for status in (store.bridge.status(), offline_status(SITE)):
        STATUS.validate(status)
        _known_keys(status)
        read = parse_status(json.dumps(status), SITE)
        assert isinstance(read, StoreStatus)
        assert (read.online, read.name, read.capacity, read.occupancy) == (
            status["online"],
            status.get("name"),
            status.get("capacity"),
            status.get("occupancy"),
        )
        shelf = status.get("shelf")
        assert (read.shelf is None) is (shelf is None)
        if read.shelf is not None:
            assert read.shelf.review == shelf["review"]
            assert read.shelf.anomalies == shelf["anomalies"]
        checkout = status.get("checkout")
        assert (read.checkout is None) is (checkout is None)
        if read.checkout is not None:
            assert read.checkout.pending == checkout.get("pending")
            assert read.checkout.outstanding_accounts == checkout.get("outstanding_accounts")
    online = store.bridge.status()
    assert online["occupancy"] == 1
    read = parse_status(json.dumps(online), SITE)
    assert isinstance(read, StoreStatus)
    assert read.gates is not None
    assert [(g.gate_id, g.name, g.role) for g in read.gates] == [
        ("entry_1", "Entry", "entry"),
        ("exit_1", "Exit", "exit"),
    ]
    await store.leave(track=first["track"])
    STATUS.validate(store.bridge.status())
