"""The store site's decisions (core.stores): status, events, duplicates, gate passages."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.concierge.core.events import (
    AccessEvent,
    AccessEventType,
    Outcome,
    to_json,
)
from custom_components.concierge.core.stores import (
    MAX_GATES,
    MAX_PAYLOAD_BYTES,
    Drop,
    Gate,
    Occupancy,
    Passage,
    SeenIds,
    StoreStatus,
    events_topic,
    is_topic_prefix,
    occupancy_after,
    occupancy_from_status,
    parse_event,
    parse_status,
    passage_after,
    status_topic,
    unique_id,
)

SITE = "store-042"
NOW = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
TIMEOUT = timedelta(seconds=30)


def _status(**changes: Any) -> str:
    return json.dumps({"v": 1, "site": SITE, "online": True} | changes)


def _event(kind: AccessEventType, **fields: Any) -> AccessEvent:
    return AccessEvent(
        time=NOW, site=SITE, type=kind, outcome=fields.pop("outcome", Outcome.OK), **fields
    )


def test_topics_and_unique_id() -> None:
    prefix = "concierge/store"
    assert events_topic(prefix, SITE) == "concierge/store/store-042/events"
    assert status_topic(prefix, SITE) == "concierge/store/store-042/status"
    assert unique_id(prefix, SITE) == "concierge/store/store-042"


@pytest.mark.parametrize(
    ("prefix", "valid"),
    [
        ("concierge/store", True),
        ("shop", True),
        ("a/b/c-d_e.f", True),
        ("", False),
        ("/concierge", False),
        ("concierge/", False),
        ("a//b", False),
        ("concierge/+", False),
        ("concierge/#", False),
        ("$SYS/x", False),
        ("a\0b", False),
        ("a\nb", False),
        ("x" * 201, False),
        (42, False),
    ],
)
def test_topic_prefix(prefix: object, valid: bool) -> None:
    assert is_topic_prefix(prefix) is valid


def test_full_status_is_read() -> None:
    status = parse_status(
        _status(
            name=" Corner store ",
            capacity=30,
            occupancy=11,
            gates=[{"id": "entry_1", "name": "Entry", "role": "entry"}, {"id": "exit_1"}],
            future_key={"anything": True},
        ).encode(),
        SITE,
    )
    assert status == StoreStatus(
        online=True,
        name="Corner store",
        capacity=30,
        occupancy=11,
        gates=(Gate("entry_1", "Entry", "entry"), Gate("exit_1", "exit_1", None)),
    )


def test_will_says_only_offline() -> None:
    assert parse_status('{"v": 1, "site": "store-042", "online": false}', SITE) == StoreStatus(
        online=False
    )


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("not json", Drop.INVALID_STATUS),
        (b"\xff\xfe", Drop.INVALID_STATUS),
        ("[1, 2]", Drop.INVALID_STATUS),
        (_status(v=2), Drop.INVALID_STATUS),
        (_status(v=True), Drop.INVALID_STATUS),
        (_status(site="store-043"), Drop.OTHER_SITE),
        (_status(site="not a site"), Drop.INVALID_STATUS),
        (_status(online="yes"), Drop.INVALID_STATUS),
        (json.dumps({"v": 1, "site": SITE}), Drop.INVALID_STATUS),
        (_status(capacity=-1), Drop.INVALID_STATUS),
        (_status(occupancy=True), Drop.INVALID_STATUS),
        (_status(occupancy=1.5), Drop.INVALID_STATUS),
        (_status(name=""), Drop.INVALID_STATUS),
        (_status(name=5), Drop.INVALID_STATUS),
        (_status(name="x" * 101), Drop.INVALID_STATUS),
        (_status(gates={"id": "a"}), Drop.INVALID_STATUS),
        (_status(gates=["a"]), Drop.INVALID_STATUS),
        (_status(gates=[{"id": "a b"}]), Drop.INVALID_STATUS),
        (_status(gates=[{"id": "a"}, {"id": "a"}]), Drop.INVALID_STATUS),
        (_status(gates=[{"id": "a", "name": "  "}]), Drop.INVALID_STATUS),
        (_status(gates=[{"id": "a", "name": "bell\x07"}]), Drop.INVALID_STATUS),
        (_status(gates=[{"id": "a", "role": "Main Entry"}]), Drop.INVALID_STATUS),
        (_status(gates=[{"id": f"g{i}"} for i in range(MAX_GATES + 1)]), Drop.INVALID_STATUS),
        (_status(name="x" * MAX_PAYLOAD_BYTES), Drop.TOO_LARGE),
    ],
)
def test_bad_status_is_dropped(payload: str | bytes, reason: Drop) -> None:
    assert parse_status(payload, SITE) is reason


def test_events_are_validated_and_kept_to_their_site() -> None:
    event = _event(AccessEventType.CHECK_IN, portal="entry_1", visit="trip-1")
    assert parse_event(to_json(event).encode(), SITE) == event
    assert parse_event(to_json(event), "store-043") is Drop.OTHER_SITE
    assert parse_event(b"{}", SITE) is Drop.INVALID_EVENT
    assert parse_event(b"\xff", SITE) is Drop.INVALID_EVENT
    assert parse_event(b" " * (MAX_PAYLOAD_BYTES + 1), SITE) is Drop.TOO_LARGE


def test_seen_ids_drop_repeats_and_forget_the_oldest() -> None:
    seen = SeenIds(limit=3)
    assert [seen.add(i) for i in ("a", "b", "a", "c")] == [True, True, False, True]
    assert len(seen) == 3
    assert seen.add("d") is True  # "a" is forgotten now
    assert len(seen) == 3
    assert seen.add("a") is True
    assert seen.add("d") is False


def test_a_passage_starts_with_check_in_check_out_or_gate_opened() -> None:
    for kind in (AccessEventType.CHECK_IN, AccessEventType.CHECK_OUT, AccessEventType.GATE_OPENED):
        after = passage_after(None, _event(kind, portal="g", visit="v1"), NOW, TIMEOUT)
        assert after == Passage(visit="v1", until=NOW + TIMEOUT)
    # Without a visit, or refused, nothing passes.
    assert (
        passage_after(None, _event(AccessEventType.GATE_OPENED, portal="g"), NOW, TIMEOUT) is None
    )
    denied = _event(AccessEventType.CHECK_IN, portal="g", visit="v1", outcome=Outcome.DENIED)
    assert passage_after(None, denied, NOW, TIMEOUT) is None
    # Other events leave no passage where there was none.
    closed = _event(AccessEventType.DOOR_CLOSED, portal="g")
    assert passage_after(None, closed, NOW, TIMEOUT) is None


def test_a_passage_ends_when_the_gate_closes_for_it_or_the_visit_ends() -> None:
    current = Passage(visit="v1", until=NOW + TIMEOUT)
    later = NOW + timedelta(seconds=5)

    def after(kind: AccessEventType, visit: str | None) -> Passage | None:
        return passage_after(current, _event(kind, portal="g", visit=visit), later, TIMEOUT)

    assert after(AccessEventType.DOOR_CLOSED, "v1") is None
    assert after(AccessEventType.DOOR_CLOSED, None) is None
    assert after(AccessEventType.DOOR_CLOSED, "v2") is current
    assert after(AccessEventType.VISIT_COMPLETED, "v1") is None
    assert after(AccessEventType.VISIT_ABORTED, "v1") is None
    assert after(AccessEventType.VISIT_COMPLETED, "v2") is current
    assert after(AccessEventType.ACCESS_DENIED, "v1") is current
    assert after(AccessEventType.CHECK_IN, "v2") == Passage("v2", later + TIMEOUT)


def test_occupancy_follows_events_and_status() -> None:
    start = Occupancy()
    changed = _event(
        AccessEventType.OCCUPANCY_CHANGED,
        outcome=Outcome.INFO,
        data={"occupancy": 11, "capacity": 30, "load": 0.367},
    )
    assert occupancy_after(start, changed) == Occupancy(11, 30)
    odd = _event(
        AccessEventType.OCCUPANCY_CHANGED,
        outcome=Outcome.INFO,
        data={"occupancy": -2, "capacity": True},
    )
    assert occupancy_after(Occupancy(11, 30), odd) == Occupancy(11, 30)
    other = _event(AccessEventType.CHECK_IN, portal="g", visit="v", data={"occupancy": 3})
    assert occupancy_after(Occupancy(11, 30), other) == Occupancy(11, 30)
    assert occupancy_from_status(Occupancy(11, 30), StoreStatus(online=False)) == Occupancy(11, 30)
    assert occupancy_from_status(
        Occupancy(11, 30), StoreStatus(online=True, capacity=40, occupancy=12)
    ) == Occupancy(12, 40)
