"""The visit flow's decisions: refusals in order, what the alarm returns to after a visit."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.concierge.core.delivery import (
    ARMED_STATES,
    PREVIOUS_MODE,
    Conditions,
    denial,
    locks_itself,
    mode_to_restore,
    pets_home,
    rearm_mode,
    should_disarm,
)
from custom_components.concierge.core.deny import DenyReason
from custom_components.concierge.core.events import AccessEvent, AccessEventType, Outcome, Source
from custom_components.concierge.core.grants import (
    AlarmPolicy,
    Grant,
    GrantKind,
    GrantState,
    Policy,
    new_grant,
)
from custom_components.concierge.core.visits import request_visit
from custom_components.concierge.core.windows import OneOffWindow, Schedule

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
FINE = Conditions(
    grant_state=GrantState.ACTIVE, pets_home=False, cameras_working=True, portal_busy=False
)


def _grant(**policy: object) -> Grant:
    return new_grant(
        label="Parcel Co",
        kind=GrantKind.COURIER,
        portals=("front",),
        schedule=Schedule((OneOffWindow(T0, T0 + timedelta(hours=2)),)),
        now=T0,
        policy=Policy(**policy),  # type: ignore[arg-type]
    )


def test_an_active_grant_with_nothing_in_the_way_may_enter() -> None:
    assert denial(_grant(), "front", FINE) is None


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (GrantState.SCHEDULED, DenyReason.OUTSIDE_WINDOW),
        (GrantState.EXPIRED, DenyReason.OUTSIDE_WINDOW),
        (GrantState.SUSPENDED, DenyReason.GRANT_SUSPENDED),
        (GrantState.REVOKED, DenyReason.GRANT_REVOKED),
        (GrantState.USED_UP, DenyReason.GRANT_USED_UP),
    ],
)
def test_a_grant_that_is_not_active_says_why(state: GrantState, reason: DenyReason) -> None:
    conditions = Conditions(
        grant_state=state, pets_home=False, cameras_working=True, portal_busy=False
    )
    assert denial(_grant(), "front", conditions) is reason


def test_policies_and_the_busy_door() -> None:
    pets = Conditions(GrantState.ACTIVE, pets_home=True, cameras_working=True, portal_busy=False)
    dark = Conditions(GrantState.ACTIVE, pets_home=False, cameras_working=False, portal_busy=False)
    busy = Conditions(GrantState.ACTIVE, pets_home=False, cameras_working=True, portal_busy=True)
    assert denial(_grant(refuse_when_pets_home=True), "front", pets) is DenyReason.PETS_HOME
    assert denial(_grant(), "front", pets) is None  # the grant does not mind pets
    assert denial(_grant(require_camera=True), "front", dark) is DenyReason.CAMERA_UNAVAILABLE
    assert denial(_grant(), "front", dark) is None
    assert denial(_grant(), "front", busy) is DenyReason.PORTAL_BUSY
    assert denial(_grant(), "back", FINE) is DenyReason.NO_COURIER_GRANT


@pytest.mark.parametrize(
    ("state", "expected"), [("on", True), ("home", True), ("Detected", True), ("off", False),
                            ("not_home", False), (None, False)],
)  # fmt: skip
def test_pets_home_reads_presence_like_states(state: str | None, *, expected: bool) -> None:
    assert pets_home(state) is expected


def test_should_disarm() -> None:
    assert should_disarm(_grant(), "armed_away")
    # A missing or unavailable panel is not assumed disarmed: the attempt fails, and denies.
    assert should_disarm(_grant(), None)
    assert should_disarm(_grant(), "unavailable")
    assert not should_disarm(_grant(), "disarmed")
    assert not should_disarm(_grant(alarm=AlarmPolicy.LEAVE_ALONE), "armed_away")
    assert not should_disarm(None, "armed_away")


def _event(visit: str, kind: AccessEventType, **data: str) -> AccessEvent:
    return AccessEvent(
        time=T0, site="site", type=kind, outcome=Outcome.OK, visit=visit, portal="front",
        source=Source.REMOTE,
        data=data,
    )  # fmt: skip


def test_mode_to_restore_follows_the_timeline() -> None:
    request = _event("v1", AccessEventType.ACCESS_REQUESTED)
    visit = request_visit(site="site", portal="front", source=Source.REMOTE, event=request, now=T0)
    assert mode_to_restore(visit) is None
    from custom_components.concierge.core.visits import add_event  # noqa: PLC0415

    disarmed = add_event(
        visit, _event("v1", AccessEventType.ALARM_DISARMED, **{PREVIOUS_MODE: "armed_night"})
    )
    assert mode_to_restore(disarmed) == "armed_night"
    rearmed = add_event(disarmed, _event("v1", AccessEventType.ALARM_REARMED, mode="armed_night"))
    assert mode_to_restore(rearmed) is None
    odd = add_event(visit, _event("v1", AccessEventType.ALARM_DISARMED, **{PREVIOUS_MODE: "x"}))
    assert mode_to_restore(odd) is None


@given(st.sampled_from(sorted(ARMED_STATES)), st.booleans(), st.sampled_from(sorted(ARMED_STATES)))
def test_rearm_never_leaves_a_disarmed_alarm_behind(
    previous: str, door_secure: bool, fallback: str
) -> None:
    mode = rearm_mode(previous, door_secure=door_secure, fallback=fallback)
    assert mode in ARMED_STATES
    assert mode == (previous if door_secure else fallback)
    assert rearm_mode(None, door_secure=door_secure, fallback=fallback) is None


def test_only_keypad_visits_start_with_the_lock_open() -> None:
    assert locks_itself(Source.KEYPAD)
    assert not any(locks_itself(s) for s in Source if s is not Source.KEYPAD)
