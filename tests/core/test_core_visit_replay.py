"""Visits the audit log took further than the stored data, rebuilt from the log's records."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.concierge.core.events import (
    AccessEvent,
    AccessEventType,
    Outcome,
    Source,
    to_wire,
)
from custom_components.concierge.core.grants import Grant, GrantKind, new_grant
from custom_components.concierge.core.visit_replay import replay_visits
from custom_components.concierge.core.visits import Visit, VisitState, request_visit
from custom_components.concierge.core.windows import OneOffWindow, Schedule

TZ = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
Kind = AccessEventType


def event(
    kind: AccessEventType, seconds: int = 0, visit: str | None = "v1", **extra: Any
) -> AccessEvent:
    values: dict[str, Any] = {
        "time": T0 + timedelta(seconds=seconds),
        "site": "home",
        "portal": "front_door",
        "grant": "g1",
        "visit": visit,
        "type": kind,
        "outcome": Outcome.INFO,
        "source": Source.KEYPAD,
    }
    values.update(extra)
    return AccessEvent(**values)


def wire(kind: AccessEventType, seconds: int = 0, **extra: Any) -> dict[str, object]:
    return to_wire(event(kind, seconds, **extra))


def grant(max_uses: int | None = None, uses: int = 0) -> Grant:
    window = OneOffWindow(T0 - timedelta(hours=1), T0 + timedelta(hours=2))
    made = new_grant(
        label="Cleaner", kind=GrantKind.CLEANER, portals=("front_door",),
        schedule=Schedule((window,)), now=T0 - timedelta(days=1), max_uses=max_uses,
        grant_id="g1",
    )  # fmt: skip
    return replace(made, uses=uses)


def stored_visit(visit: str = "v1") -> Visit:
    return request_visit(
        site="home", portal="front_door", source=Source.KEYPAD,
        event=event(Kind.ACCESS_REQUESTED, visit=visit), now=T0, grant="g1",
    )  # fmt: skip


def test_a_visit_the_data_never_held_is_rebuilt_and_its_grant_use_counted() -> None:
    visits: dict[str, Visit] = {}
    grants = {"g1": grant(max_uses=3)}

    changed = replay_visits(
        visits, grants, [wire(Kind.ACCESS_REQUESTED), wire(Kind.ACCESS_GRANTED, 1)], TZ
    )

    assert changed == ["v1"]
    visit = visits["v1"]
    assert visit.state is VisitState.AUTHORIZED
    assert (visit.portal, visit.grant, visit.source) == ("front_door", "g1", Source.KEYPAD)
    assert [e.type for e in visit.timeline] == [Kind.ACCESS_REQUESTED, Kind.ACCESS_GRANTED]
    assert grants["g1"].uses == 1


def test_records_after_the_stored_head_carry_a_stored_visit_on() -> None:
    visits = {"v1": stored_visit()}
    grants = {"g1": grant()}
    records = [
        wire(Kind.ACCESS_GRANTED, 1),
        wire(Kind.ALARM_DISARMED, 2),  # joins the timeline, no new state
        wire(Kind.VISIT_STARTED, 3),
    ]

    assert replay_visits(visits, grants, records, TZ) == ["v1"]

    visit = visits["v1"]
    assert visit.state is VisitState.IN_PROGRESS
    assert [e.type for e in visit.timeline] == [
        Kind.ACCESS_REQUESTED, Kind.ACCESS_GRANTED, Kind.ALARM_DISARMED, Kind.VISIT_STARTED,
    ]  # fmt: skip
    assert grants["g1"].uses == 1


def test_each_access_granted_counts_one_use_of_its_grant() -> None:
    grants = {"g1": grant(max_uses=5)}
    records = [
        wire(Kind.ACCESS_REQUESTED, 0, visit="v1"),
        wire(Kind.ACCESS_GRANTED, 1, visit="v1"),
        wire(Kind.ACCESS_REQUESTED, 2, visit="v2"),
        wire(Kind.ACCESS_GRANTED, 3, visit="v2"),
    ]

    assert sorted(replay_visits({}, grants, records, TZ)) == ["v1", "v2"]
    assert grants["g1"].uses == 2


def test_a_use_after_the_grants_last_is_not_counted() -> None:
    visits: dict[str, Visit] = {}
    grants = {"g1": grant(max_uses=1, uses=1)}  # used up already: a keypad entry after it
    records = [wire(Kind.ACCESS_REQUESTED), wire(Kind.ACCESS_GRANTED, 1)]

    assert replay_visits(visits, grants, records, TZ) == ["v1"]

    assert visits["v1"].state is VisitState.AUTHORIZED  # the door did open: the visit stays
    assert grants["g1"].uses == 1


def test_a_finished_visit_the_data_no_longer_holds_is_left_out() -> None:
    visits = {"v1": stored_visit()}
    grants = {"g1": grant()}
    records = [
        wire(Kind.ACCESS_REQUESTED, 0, visit="old"),
        wire(Kind.ACCESS_GRANTED, 1, visit="old"),
        wire(Kind.VISIT_COMPLETED, 2, visit="old"),
        wire(Kind.ACCESS_DENIED, 3, reason="outside_window"),  # the stored one ends: kept
    ]

    assert replay_visits(visits, grants, records, TZ) == ["v1"]

    assert set(visits) == {"v1"}
    assert visits["v1"].state is VisitState.DENIED
    assert visits["v1"].abort_reason == "outside_window"


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(wire(Kind.ACCESS_REQUESTED, visit=None), id="no visit"),
        pytest.param(wire(Kind.ACCESS_REQUESTED) | {"type": "teleported"}, id="damaged"),
        pytest.param(wire(Kind.ACCESS_GRANTED), id="unknown visit, not its request"),
        pytest.param(wire(Kind.ACCESS_REQUESTED, portal=None), id="request without a door"),
        pytest.param(wire(Kind.ACCESS_REQUESTED, source=None), id="request without a source"),
    ],
)
def test_records_that_cannot_start_a_visit_are_ignored(record: dict[str, object]) -> None:
    visits: dict[str, Visit] = {}
    grants = {"g1": grant()}

    assert replay_visits(visits, grants, [record], TZ) == []

    assert visits == {}
    assert grants["g1"].uses == 0


def test_a_record_that_does_not_fit_its_visit_is_skipped_and_the_rest_applied() -> None:
    visits = {"v1": stored_visit()}
    grants = {"g1": grant()}
    records = [
        wire(Kind.VISIT_STARTED, 1),  # not from requested: out of order
        wire(Kind.ACCESS_GRANTED, 2),
    ]

    assert replay_visits(visits, grants, records, TZ) == ["v1"]

    assert visits["v1"].state is VisitState.AUTHORIZED
    assert [e.type for e in visits["v1"].timeline] == [Kind.ACCESS_REQUESTED, Kind.ACCESS_GRANTED]


def test_a_record_the_visit_already_holds_changes_nothing() -> None:
    stored = stored_visit()
    visits = {"v1": stored}

    replay_visits(visits, {}, [to_wire(stored.timeline[0])], TZ)

    assert visits["v1"] == stored
