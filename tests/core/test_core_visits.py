"""Tests for the visit state machine."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.errors import (
    EventValidationError,
    StoredDataError,
    VisitTransitionError,
)
from custom_components.concierge.core.events import (
    AccessEvent,
    AccessEventType,
    EvidenceKind,
    EvidenceRef,
    Outcome,
    Source,
)
from custom_components.concierge.core.visits import (
    TERMINAL_STATES,
    TRANSITIONS,
    Visit,
    VisitState,
    add_event,
    add_evidence,
    advance,
    request_visit,
)

T0 = datetime(2025, 6, 12, 10, 41, tzinfo=UTC)
VISIT = "v1"
SNAP = EvidenceRef(EvidenceKind.SNAPSHOT, "/media/v1/entry.jpg", "b" * 64)
REC = EvidenceRef(EvidenceKind.RECORDING, "/media/v1/visit.mp4", "c" * 64)


def ev(kind: AccessEventType, seconds: int = 0, **extra: Any) -> AccessEvent:
    values: dict[str, Any] = {
        "time": T0 + timedelta(seconds=seconds),
        "site": "home",
        "portal": "front_door",
        "grant": "g1",
        "visit": VISIT,
        "type": kind,
        "outcome": Outcome.INFO,
    }
    values.update(extra)
    return AccessEvent(**values)


def requested() -> Visit:
    return request_visit(
        site="home",
        portal="front_door",
        source=Source.COURIER_TOKEN,
        event=ev(AccessEventType.ACCESS_REQUESTED),
        now=T0,
        grant="g1",
    )


def test_happy_path() -> None:
    visit = requested()
    assert visit.id == VISIT
    assert visit.state is VisitState.REQUESTED
    assert not visit.terminal
    visit = advance(visit, VisitState.AUTHORIZED, ev(AccessEventType.ACCESS_GRANTED, 1), T0)
    visit = advance(
        visit,
        VisitState.IN_PROGRESS,
        ev(AccessEventType.DOOR_OPENED, 5, evidence=(SNAP,)),
        T0 + timedelta(seconds=5),
    )
    visit = add_event(visit, ev(AccessEventType.DOOR_CLOSED, 40))
    end = T0 + timedelta(seconds=50)
    visit = advance(visit, VisitState.COMPLETED, ev(AccessEventType.VISIT_COMPLETED, 50), end)
    assert visit.terminal
    assert visit.ended_at == end
    assert visit.abort_reason is None
    assert [e.type for e in visit.timeline] == [
        AccessEventType.ACCESS_REQUESTED,
        AccessEventType.ACCESS_GRANTED,
        AccessEventType.DOOR_OPENED,
        AccessEventType.DOOR_CLOSED,
        AccessEventType.VISIT_COMPLETED,
    ]
    assert visit.evidence == (SNAP,)
    # Media may arrive after the visit ended.
    visit = add_event(visit, ev(AccessEventType.EVIDENCE_CAPTURED, 80, evidence=(SNAP, REC)))
    assert visit.evidence == (SNAP, REC)
    assert add_evidence(visit, REC, SNAP).evidence == (SNAP, REC)
    with pytest.raises(VisitTransitionError) as err:
        add_event(visit, ev(AccessEventType.DOOR_OPENED, 90))
    assert err.value.translation_key == "visit_closed"


def test_denied_and_aborted_record_the_reason() -> None:
    denied = advance(
        requested(),
        VisitState.DENIED,
        ev(AccessEventType.ACCESS_DENIED, 1, outcome=Outcome.DENIED, reason="pets_home"),
        T0,
        reason="pets_home",
    )
    assert denied.abort_reason == "pets_home"
    assert denied.ended_at == T0
    with pytest.raises(VisitTransitionError, match="visit_transition_not_allowed"):
        advance(denied, VisitState.AUTHORIZED, ev(AccessEventType.ACCESS_GRANTED), T0)
    authorized = advance(requested(), VisitState.AUTHORIZED, ev(AccessEventType.UNLOCKED), T0)
    with pytest.raises(VisitTransitionError, match="invalid_visit"):
        advance(authorized, VisitState.IN_PROGRESS, ev(AccessEventType.DOOR_OPENED), T0, "why")
    with pytest.raises(VisitTransitionError, match="invalid_visit"):
        advance(authorized, VisitState.ABORTED, ev(AccessEventType.VISIT_ABORTED), T0, "Bad Reason")
    # No door sensor: authorized straight to completed.
    done = advance(authorized, VisitState.COMPLETED, ev(AccessEventType.LOCKED), T0)
    assert done.state is VisitState.COMPLETED


def test_transition_error_placeholders() -> None:
    with pytest.raises(VisitTransitionError) as err:
        advance(requested(), VisitState.COMPLETED, ev(AccessEventType.LOCKED), T0)
    assert err.value.placeholders == {"state": "requested", "new_state": "completed"}


def test_events_must_belong_to_the_visit() -> None:
    visit = requested()
    with pytest.raises(VisitTransitionError, match="event_visit_mismatch"):
        add_event(visit, ev(AccessEventType.DOOR_OPENED, visit="other"))
    with pytest.raises(VisitTransitionError, match="event_visit_mismatch"):
        add_event(visit, ev(AccessEventType.DOOR_OPENED, site="store-1"))
    with pytest.raises(VisitTransitionError, match="event_visit_mismatch"):
        advance(visit, VisitState.AUTHORIZED, ev(AccessEventType.ACCESS_GRANTED, visit=None), T0)
    with pytest.raises(VisitTransitionError, match="event_visit_mismatch"):
        request_visit(
            site="home",
            portal="front_door",
            source=Source.KEYPAD,
            event=ev(AccessEventType.ACCESS_REQUESTED, visit=None),
            now=T0,
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "bad id"}, "id"),
        ({"site": ""}, "site"),
        ({"portal": None}, "portal"),
        ({"grant": "a b"}, "grant"),
        ({"started_at": datetime(2025, 1, 1)}, "started_at"),  # noqa: DTZ001
        ({"ended_at": T0}, "ended_at"),
        ({"state": VisitState.COMPLETED}, "ended_at"),
        ({"state": VisitState.COMPLETED, "ended_at": T0 - timedelta(seconds=1)}, "ended_at"),
        ({"state": VisitState.COMPLETED, "ended_at": datetime(2025, 7, 1)}, "ended_at"),  # noqa: DTZ001
        ({"abort_reason": "timeout"}, "abort_reason"),
    ],
)
def test_visit_validation(changes: dict[str, Any], field: str) -> None:
    base = replace(requested(), timeline=())
    with pytest.raises(VisitTransitionError) as err:
        replace(base, **changes)
    assert err.value.translation_key == "invalid_visit"
    assert err.value.placeholders == {"field": field}


def test_storage_round_trip() -> None:
    visit = advance(
        requested(),
        VisitState.ABORTED,
        ev(AccessEventType.VISIT_ABORTED, 3, evidence=(SNAP,), data={"attempts": 2}),
        T0 + timedelta(seconds=3),
        reason="camera_lost",
    )
    data = visit.to_dict()
    assert data["state"] == "aborted"
    assert data["ended_at"] == "2025-06-12T10:41:03+00:00"
    assert Visit.from_dict(data) == visit
    fresh = requested()
    assert Visit.from_dict(fresh.to_dict()) == fresh


def test_from_dict_rejects() -> None:
    data = requested().to_dict()
    with pytest.raises(StoredDataError):
        Visit.from_dict({**data, "state": "teleported"})
    with pytest.raises(StoredDataError):
        Visit.from_dict({**data, "timeline": None})
    with pytest.raises(EventValidationError):
        Visit.from_dict({**data, "timeline": [{"v": 1}]})


def test_transition_table_shape() -> None:
    assert set(TRANSITIONS) == set(VisitState)
    assert {VisitState.DENIED, VisitState.COMPLETED, VisitState.ABORTED} == TERMINAL_STATES


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(list(VisitState)), max_size=8), st.booleans())
def test_random_transitions(targets: list[VisitState], with_extra_events: bool) -> None:
    visit = requested()
    for step, target in enumerate(targets, start=1):
        now = T0 + timedelta(seconds=step)
        before = visit.state
        event = ev(AccessEventType.SAFETY_ALERT, step)
        if target not in TRANSITIONS[before]:
            with pytest.raises(VisitTransitionError):
                advance(visit, target, event, now)
            continue
        visit = advance(visit, target, event, now)
        assert visit.state is target
        assert (visit.ended_at is not None) == visit.terminal
        if with_extra_events and not visit.terminal:
            visit = add_event(visit, ev(AccessEventType.DOOR_OPENED, step))
    assert visit.timeline[0].type is AccessEventType.ACCESS_REQUESTED
    assert Visit.from_dict(visit.to_dict()) == visit
