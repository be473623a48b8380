"""Tests for the access-event wire record, its JSON Schema and the example files."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from custom_components.concierge.core.errors import EventValidationError
from custom_components.concierge.core.events import (
    DATA_KEY,
    FORBIDDEN_DATA_KEY,
    FORBIDDEN_DATA_KEYS,
    MAX_DATA_ITEMS,
    WIRE_KEYS,
    AccessEvent,
    AccessEventType,
    EvidenceKind,
    EvidenceRef,
    Outcome,
    Source,
    format_wire_time,
    from_json,
    from_wire,
    parse_wire_time,
    to_json,
    to_wire,
)
from custom_components.concierge.core.ids import IDENTIFIER

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schema" / "access-event.v1.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
VALID = sorted((ROOT / "schema" / "examples" / "valid").glob("*.json"))
INVALID = sorted((ROOT / "schema" / "examples" / "invalid").glob("*.json"))
SHA = "a" * 64
T0 = datetime(2025, 6, 12, 10, 42, 17, 250_000, tzinfo=UTC)


def load(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def event(**overrides: Any) -> AccessEvent:
    values: dict[str, Any] = {
        "time": T0,
        "site": "home",
        "type": AccessEventType.UNLOCKED,
        "outcome": Outcome.OK,
        "id": "e1",
    }
    values.update(overrides)
    return AccessEvent(**values)


# --- schema and examples ------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["additionalProperties"] is False


def test_schema_agrees_with_the_code() -> None:
    # The version and the enums are generated from the schema (tests/test_vocabulary.py);
    # what the hand-written validator says about keys, data and ids is checked here.
    props = SCHEMA["properties"]
    assert set(props) == WIRE_KEYS
    assert set(SCHEMA["required"]) == WIRE_KEYS
    names = props["data"]["propertyNames"]
    assert names["pattern"] == f"^{DATA_KEY.pattern}$"
    assert names["not"]["pattern"] == FORBIDDEN_DATA_KEY.pattern
    assert props["data"]["maxProperties"] == MAX_DATA_ITEMS
    assert SCHEMA["$defs"]["identifier"]["pattern"] == f"^{IDENTIFIER.pattern}$"


def test_there_are_enough_examples() -> None:
    assert len(VALID) >= 8
    assert len(INVALID) >= 10


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_valid_example(path: Path) -> None:
    obj = load(path)
    VALIDATOR.validate(obj)
    parsed = from_wire(obj)
    assert to_wire(parsed) == obj
    assert from_json(path.read_text(encoding="utf-8")) == parsed


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_invalid_example(path: Path) -> None:
    obj = load(path)
    assert not VALIDATOR.is_valid(obj)
    with pytest.raises(EventValidationError) as err:
        from_wire(obj)
    assert err.value.translation_key == "invalid_event"
    assert err.value.placeholders["problem"] == str(err.value)


@pytest.mark.parametrize("key", sorted(FORBIDDEN_DATA_KEYS | {"pin_slot", "card_number_hash"}))
def test_forbidden_data_keys_fail_both(key: str) -> None:
    wire = to_wire(event())
    wire["data"] = {key: "x"}
    assert not VALIDATOR.is_valid(wire)
    with pytest.raises(EventValidationError, match="forbidden"):
        from_wire(wire)


@pytest.mark.parametrize("key", ["panel", "spinner", "slot", "decode_ms", "pins"])
def test_harmless_data_keys_pass_both(key: str) -> None:
    wire = to_wire(event(data={key: 1}))
    VALIDATOR.validate(wire)
    assert from_wire(wire).data == {key: 1}


# --- construction -------------------------------------------------------------------------


def test_defaults_and_normalisation() -> None:
    made = AccessEvent(
        time=datetime(2025, 6, 12, 12, 0, 0, 123_999, tzinfo=datetime.now().astimezone().tzinfo),
        site="home",
        type=AccessEventType.DOOR_OPENED,
        outcome=Outcome.INFO,
        data={"slot": 1},
    )
    assert re.fullmatch(r"[0-9a-f]{32}", made.id)
    assert made.time.tzinfo is UTC
    assert made.time.microsecond == 123_000
    assert isinstance(made.data, MappingProxyType)
    assert made.evidence == ()
    assert to_wire(made)["time"].endswith(".123Z")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id": ""}, "id must be"),
        ({"id": "x" * 65}, "id must be"),
        ({"time": datetime(2025, 1, 1)}, "timezone-aware"),  # noqa: DTZ001
        ({"site": "my home"}, "site must be"),
        ({"portal": ""}, "portal must be"),
        ({"grant": 5}, "grant must be"),
        ({"visit": "a/b"}, "visit must be"),
        ({"type": "unlocked"}, "unknown event type"),
        ({"outcome": "ok"}, "unknown outcome"),
        ({"source": "keypad"}, "unknown source"),
        ({"reason": "Door Jammed"}, "reason must be"),
        ({"data": [("slot", 1)]}, "data must be an object"),
        ({"data": {f"k{i}": i for i in range(33)}}, "at most 32"),
        ({"data": {1: 1}}, "snake_case"),
        ({"data": {"Slot": 1}}, "snake_case"),
        ({"data": {"x" * 41: 1}}, "snake_case"),
        ({"data": {"load": float("nan")}}, "finite"),
        ({"data": {"load": float("inf")}}, "finite"),
        ({"data": {"note": "x" * 201}}, "longer than 200"),
        ({"data": {"nested": {"a": 1}}}, "string, number or boolean"),
        ({"data": {"none": None}}, "string, number or boolean"),
        ({"evidence": [EvidenceRef(EvidenceKind.SNAPSHOT, "/a.jpg", SHA)]}, "tuple"),
        ({"evidence": tuple([EvidenceRef(EvidenceKind.SNAPSHOT, "/a", SHA)] * 33)}, "tuple"),
        ({"evidence": ({"kind": "snapshot"},)}, "EvidenceRef"),
    ],
)
def test_construction_rejects(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(EventValidationError, match=message):
        event(**overrides)


@pytest.mark.parametrize(
    ("kind", "ref", "sha256", "message"),
    [
        ("snapshot", "/a.jpg", SHA, "kind"),
        (EvidenceKind.SNAPSHOT, "", SHA, "ref"),
        (EvidenceKind.SNAPSHOT, "/a\n.jpg", SHA, "ref"),
        (EvidenceKind.SNAPSHOT, "x" * 1025, SHA, "ref"),
        (EvidenceKind.SNAPSHOT, 5, SHA, "ref"),
        (EvidenceKind.SNAPSHOT, "/a.jpg", SHA.upper(), "sha256"),
        (EvidenceKind.SNAPSHOT, "/a.jpg", SHA[:63], "sha256"),
        (EvidenceKind.SNAPSHOT, "/a.jpg", None, "sha256"),
    ],
)
def test_evidence_validation(kind: Any, ref: Any, sha256: Any, message: str) -> None:
    with pytest.raises(EventValidationError, match=message):
        EvidenceRef(kind, ref, sha256)


# --- wire parsing -------------------------------------------------------------------------


def wire(**changes: object) -> dict[str, object]:
    obj = to_wire(event(evidence=(EvidenceRef(EvidenceKind.SNAPSHOT, "/a.jpg", SHA),)))
    obj.update(changes)
    return obj


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "must be a JSON object"),
        (wire(extra=1), "unknown key"),
        ({k: v for k, v in wire().items() if k != "site"}, "missing key"),
        (wire(v=2), "unsupported version"),
        (wire(v=True), "unsupported version"),
        (wire(v="1"), "unsupported version"),
        (wire(id=5), "id must be a string"),
        (wire(time=1718189000), "time must be a string"),
        (wire(time="2025-06-12T10:42:17.250"), "naive"),
        (wire(time="2025-06-12 10:42"), "naive"),
        (wire(time="2025-06-12T10:42:17+00:00"), "RFC 3339"),
        (wire(time="yesterday"), "RFC 3339"),
        (wire(time="2025-13-12T10:42:17.250Z"), "not a valid date"),
        (wire(portal=3), "portal"),
        (wire(type="teleported"), "unknown event type"),
        (wire(type=None), "event type must be a string"),
        (wire(outcome="maybe"), "unknown outcome"),
        (wire(source="telepathy"), "unknown source"),
        (wire(data=[]), "data must be an object"),
        (wire(evidence={}), "evidence must be an array"),
        (wire(evidence=[{"kind": "snapshot", "ref": "/a.jpg"}]), "exactly kind, ref, sha256"),
        (wire(evidence=["x"]), "exactly kind, ref, sha256"),
    ],
)
def test_from_wire_rejects(obj: object, message: str) -> None:
    with pytest.raises(EventValidationError, match=message):
        from_wire(obj)


def test_from_wire_accepts_version_as_json_number() -> None:
    # JSON Schema's `const: 1` also accepts 1.0; the parser agrees.
    VALIDATOR.validate(wire(v=1.0))
    assert from_wire(wire(v=1.0)) == from_wire(wire())


def test_json_helpers() -> None:
    made = event(data={"note": "Grüße"}, source=Source.KEYPAD, reason="ok_code")
    text = to_json(made)
    assert "Grüße" in text
    assert from_json(text) == made
    assert from_json(text.encode()) == made
    with pytest.raises(EventValidationError, match="not valid JSON"):
        from_json("{")


def test_wire_time_helpers() -> None:
    assert format_wire_time(datetime(5, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)) == (
        "0005-01-02T03:04:05.006Z"
    )
    assert parse_wire_time("2025-06-12T10:42:17.250Z") == T0


# --- properties ---------------------------------------------------------------------------

ids = st.from_regex(IDENTIFIER, fullmatch=True)
snake = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
data_keys = st.from_regex(DATA_KEY, fullmatch=True).filter(
    lambda k: not FORBIDDEN_DATA_KEY.search(k)
)
data_values = st.one_of(
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=200),
)
evidence_refs = st.builds(
    EvidenceRef,
    st.sampled_from(EvidenceKind),
    st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=80),
    st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
)
events = st.builds(
    AccessEvent,
    id=ids,
    time=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    site=ids,
    portal=st.none() | ids,
    grant=st.none() | ids,
    visit=st.none() | ids,
    type=st.sampled_from(AccessEventType),
    outcome=st.sampled_from(Outcome),
    reason=st.none() | snake,
    source=st.none() | st.sampled_from(Source),
    data=st.dictionaries(data_keys, data_values, max_size=6),
    evidence=st.lists(evidence_refs, max_size=3).map(tuple),
)


@settings(max_examples=80, deadline=None)
@given(events)
def test_generated_events_validate_and_round_trip(made: AccessEvent) -> None:
    obj = json.loads(to_json(made))
    VALIDATOR.validate(obj)
    parsed = from_wire(obj)
    assert parsed == made
    assert to_wire(parsed) == obj


@settings(max_examples=30, deadline=None)
@given(events, st.integers(0, 10**6))
def test_time_is_truncated_to_milliseconds(made: AccessEvent, micros: int) -> None:
    later = event(time=made.time + timedelta(microseconds=micros))
    assert later.time.microsecond % 1000 == 0
    assert from_wire(to_wire(later)) == later
