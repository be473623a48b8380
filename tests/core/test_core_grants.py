"""Tests for grants: validation, computed state, the transition table and storage."""

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.errors import (
    InvalidGrantError,
    StoredDataError,
    TransitionError,
)
from custom_components.concierge.core.grants import (
    ALLOWED,
    REDACTED,
    TERMINAL_STATES,
    AlarmPolicy,
    Credentials,
    Grant,
    GrantAction,
    GrantKind,
    GrantState,
    Policy,
    apply_action,
    grant_state,
    new_grant,
    next_state_change,
    settled_state,
)
from custom_components.concierge.core.windows import OneOffWindow, Schedule, WeeklyWindow

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2025, 6, 2, 8, tzinfo=UTC)
END = datetime(2025, 6, 2, 10, tzinfo=UTC)
BEFORE = START - timedelta(hours=1)
DURING = START + timedelta(minutes=30)
AFTER = END + timedelta(hours=1)
ONE_OFF = Schedule((OneOffWindow(START, END),))


def make(**overrides: object) -> Grant:
    values: dict[str, object] = {
        "label": "  Parcel courier ",
        "kind": GrantKind.COURIER,
        "portals": ("front_door",),
        "schedule": ONE_OFF,
        "now": BEFORE - timedelta(days=1),
        "grant_id": "g1",
        "credentials": Credentials(pin="482913", remote_token=True),
    }
    values.update(overrides)
    return new_grant(**values)  # type: ignore[arg-type]


# --- credentials and validation -----------------------------------------------------------


def test_pin_never_in_repr() -> None:
    creds = Credentials(pin="482913")
    assert "482913" not in repr(creds)
    assert "<set>" in repr(creds)
    assert "pin=None" in repr(Credentials())
    grant = make()
    assert "482913" not in repr(grant)
    assert "482913" not in str(grant)


@pytest.mark.parametrize("pin", ["123", "12345678901", "12a4", "١٢٣٤", " 1234", 1234])
def test_invalid_pins(pin: object) -> None:
    with pytest.raises(InvalidGrantError) as err:
        Credentials(pin=pin)  # type: ignore[arg-type]
    assert err.value.translation_key == "invalid_pin"
    assert str(pin) not in str(err.value)


@pytest.mark.parametrize("pin", ["1234", "0000000000"])
def test_valid_pins(pin: str) -> None:
    assert Credentials(pin=pin).pin == pin


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"grant_id": "has space"}, "invalid_grant_id"),
        ({"label": "   "}, "empty_label"),
        ({"label": 5}, "empty_label"),
        ({"label": "x" * 65}, "label_too_long"),
        ({"portals": ()}, "no_portals"),
        ({"portals": ["front_door"]}, "no_portals"),
        ({"portals": ("front door",)}, "invalid_portal"),
        ({"portals": ("a", "a")}, "duplicate_portal"),
        ({"max_uses": 0}, "invalid_max_uses"),
        ({"max_uses": True}, "invalid_max_uses"),
        ({"max_visit_minutes": 0}, "invalid_max_visit_minutes"),
        ({"max_visit_minutes": 1441}, "invalid_max_visit_minutes"),
        ({"max_visit_minutes": 5.0}, "invalid_max_visit_minutes"),
        ({"now": datetime(2025, 1, 1)}, "naive_datetime"),  # noqa: DTZ001
    ],
)
def test_grant_validation(overrides: dict[str, object], key: str) -> None:
    with pytest.raises(InvalidGrantError) as err:
        make(**overrides)
    assert err.value.translation_key == key


def test_grant_validation_uses() -> None:
    with pytest.raises(InvalidGrantError, match="invalid_uses"):
        replace(make(), uses=-1)


def test_new_grant_defaults() -> None:
    grant = new_grant(
        label=" Cleaner ",
        kind=GrantKind.CLEANER,
        portals=("back_door",),
        schedule=ONE_OFF,
        now=datetime(2025, 6, 1, 12, tzinfo=TZ),
    )
    assert grant.label == "Cleaner"
    assert len(grant.id) == 32
    assert grant.created_at == datetime(2025, 6, 1, 10, tzinfo=UTC)
    assert grant.credentials == Credentials()
    assert grant.policy == Policy()
    assert grant.policy.alarm is AlarmPolicy.DISARM_FOR_VISIT
    assert grant.uses == 0


# --- state --------------------------------------------------------------------------------


def test_state_follows_the_schedule() -> None:
    grant = make()
    assert grant_state(grant, BEFORE, TZ) is GrantState.SCHEDULED
    assert grant_state(grant, START, TZ) is GrantState.ACTIVE
    assert grant_state(grant, END, TZ) is GrantState.EXPIRED


def test_state_precedence() -> None:
    grant = make(max_uses=1)
    assert grant_state(replace(grant, suspended=True), DURING, TZ) is GrantState.SUSPENDED
    assert grant_state(replace(grant, suspended=True), AFTER, TZ) is GrantState.EXPIRED
    assert grant_state(replace(grant, uses=1, suspended=True), AFTER, TZ) is GrantState.USED_UP
    revoked = replace(grant, uses=1, suspended=True, revoked=True)
    assert grant_state(revoked, AFTER, TZ) is GrantState.REVOKED


def test_next_state_change() -> None:
    grant = make()
    assert next_state_change(grant, BEFORE, TZ) == START
    assert next_state_change(grant, DURING, TZ) == END
    assert next_state_change(grant, AFTER, TZ) is None
    assert next_state_change(replace(grant, suspended=True), BEFORE, TZ) == END
    assert next_state_change(replace(grant, revoked=True), BEFORE, TZ) is None
    weekly = make(schedule=Schedule((WeeklyWindow(frozenset({0}), time(8), time(9)),)))
    assert next_state_change(replace(weekly, suspended=True), BEFORE, TZ) is None


# --- transitions --------------------------------------------------------------------------


def test_allowed_table_is_complete() -> None:
    assert set(ALLOWED) == set(GrantState)


@pytest.mark.parametrize(
    ("action", "check"),
    [
        (GrantAction.SUSPEND, lambda g: g.suspended),
        (GrantAction.REVOKE, lambda g: g.revoked),
        (GrantAction.RECORD_USE, lambda g: g.uses == 1),
    ],
)
def test_actions_while_active(action: GrantAction, check: object) -> None:
    updated = apply_action(make(), action, DURING, TZ)
    assert check(updated)  # type: ignore[operator]


def test_resume_only_from_suspended() -> None:
    suspended = apply_action(make(), GrantAction.SUSPEND, BEFORE, TZ)
    assert grant_state(suspended, BEFORE, TZ) is GrantState.SUSPENDED
    assert not apply_action(suspended, GrantAction.RESUME, BEFORE, TZ).suspended
    with pytest.raises(TransitionError) as err:
        apply_action(make(), GrantAction.RESUME, BEFORE, TZ)
    assert err.value.translation_key == "transition_not_allowed"
    assert err.value.placeholders == {"action": "resume", "state": "scheduled"}


def test_record_use_only_when_active_and_used_up() -> None:
    with pytest.raises(TransitionError):
        apply_action(make(), GrantAction.RECORD_USE, BEFORE, TZ)
    grant = apply_action(make(max_uses=1), GrantAction.RECORD_USE, DURING, TZ)
    assert grant_state(grant, DURING, TZ) is GrantState.USED_UP
    with pytest.raises(TransitionError):
        apply_action(grant, GrantAction.RECORD_USE, DURING, TZ)


def test_update_replaces_and_revalidates() -> None:
    grant = make()
    new_schedule = Schedule((OneOffWindow(START, END + timedelta(hours=5)),))
    updated = apply_action(
        grant,
        GrantAction.UPDATE,
        DURING,
        TZ,
        label=" Renamed ",
        schedule=new_schedule,
        max_uses=3,
        policy=Policy(alarm=AlarmPolicy.LEAVE_ALONE),
    )
    assert updated.label == "Renamed"
    assert updated.schedule == new_schedule
    assert updated.id == grant.id
    assert updated.created_at == grant.created_at
    with pytest.raises(InvalidGrantError, match="no_portals"):
        apply_action(grant, GrantAction.UPDATE, DURING, TZ, portals=())
    with pytest.raises(InvalidGrantError) as err:
        apply_action(grant, GrantAction.UPDATE, DURING, TZ, uses=0)  # type: ignore[call-arg]
    assert err.value.placeholders == {"field": "uses"}
    with pytest.raises(InvalidGrantError) as err:
        apply_action(grant, GrantAction.SUSPEND, DURING, TZ, label="x")
    assert err.value.placeholders == {"field": "label"}
    with pytest.raises(TransitionError):
        apply_action(grant, GrantAction.UPDATE, AFTER, TZ, label="late")


# --- storage ------------------------------------------------------------------------------


def test_storage_round_trip_and_redaction() -> None:
    grant = replace(make(max_uses=2, max_visit_minutes=15), uses=1, suspended=True)
    data = grant.to_dict()
    assert data["credentials"] == {"pin": "482913", "remote_token": True, "guest_link": False}
    assert Grant.from_dict(data) == grant
    redacted = grant.redacted_dict()
    assert redacted["credentials"] == {"pin": REDACTED, "remote_token": True, "guest_link": False}
    assert "482913" not in repr(redacted)
    no_pin = make(credentials=Credentials(guest_link=True))
    assert no_pin.redacted_dict()["credentials"] == {
        "pin": None,
        "remote_token": False,
        "guest_link": True,
    }


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(portals=[1]),
        lambda d: d.update(kind="burglar"),
        lambda d: d.update(uses="1"),
        lambda d: d.update(max_uses=True),
        lambda d: d.update(credentials={"pin": 1234, "remote_token": False, "guest_link": False}),
        lambda d: d.update(policy={"alarm": "disarm_for_visit"}),
        lambda d: d.update(created_at=None),
        lambda d: d.pop("label"),
    ],
)
def test_from_dict_rejects(mutate: object) -> None:
    data = make().to_dict()
    mutate(data)  # type: ignore[operator]
    with pytest.raises(StoredDataError):
        Grant.from_dict(data)


# --- properties ---------------------------------------------------------------------------

actions = st.sampled_from(list(GrantAction))
TERMINAL = {GrantState.REVOKED, GrantState.EXPIRED, GrantState.USED_UP}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(actions, st.integers(0, 4 * 60)), max_size=12),
    st.none() | st.integers(1, 3),
)
def test_random_action_sequences_respect_the_table(
    steps: list[tuple[GrantAction, int]], max_uses: int | None
) -> None:
    schedule = Schedule(
        (WeeklyWindow(frozenset({0, 2}), time(9), time(11)),),
        valid_until=datetime(2025, 6, 20, tzinfo=UTC),
    )
    grant = make(schedule=schedule, max_uses=max_uses)
    now = datetime(2025, 6, 2, 6, tzinfo=UTC)  # a Monday
    for action, minutes in steps:
        now += timedelta(minutes=minutes * 10)
        before = grant_state(grant, now, TZ)
        assert before in GrantState
        if before is GrantState.REVOKED:
            assert not ALLOWED[before]
        if action not in ALLOWED[before]:
            with pytest.raises(TransitionError) as err:
                apply_action(grant, action, now, TZ)
            assert err.value.placeholders == {"action": action.value, "state": before.value}
            continue
        after = apply_action(grant, action, now, TZ)
        assert action in ALLOWED[before]
        assert before not in TERMINAL
        state = grant_state(after, now, TZ)
        if action is GrantAction.REVOKE:
            assert state is GrantState.REVOKED
        if action is GrantAction.RECORD_USE:
            assert after.uses == grant.uses + 1
            if max_uses is not None and after.uses >= max_uses:
                assert state is GrantState.USED_UP
        grant = after


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 30 * 24 * 60),
    st.booleans(),
    st.lists(st.floats(0, 1, exclude_max=True), max_size=4),
)
def test_next_state_change_is_exact(minutes: int, suspended: bool, fractions: list[float]) -> None:
    schedule = Schedule(
        (
            WeeklyWindow(frozenset({0, 3}), time(9), time(11)),
            WeeklyWindow(frozenset({5}), time(22), time(2)),
        ),
        valid_from=datetime(2025, 6, 4, tzinfo=UTC),
        valid_until=datetime(2025, 6, 25, tzinfo=UTC),
    )
    grant = replace(make(schedule=schedule), suspended=suspended)
    now = datetime(2025, 6, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    state = grant_state(grant, now, TZ)
    change = next_state_change(grant, now, TZ)
    if change is None:
        assert state in TERMINAL
        return
    assert grant_state(grant, change, TZ) != state
    for fraction in fractions:
        assert grant_state(grant, now + (change - now) * fraction // 1000, TZ) == state


# --- states move forward only -------------------------------------------------------------


@given(
    recorded=st.one_of(st.none(), st.sampled_from(GrantState)),
    computed=st.sampled_from(GrantState),
)
def test_a_recorded_terminal_state_stays(recorded: GrantState | None, computed: GrantState) -> None:
    settled = settled_state(recorded, computed)
    if recorded in TERMINAL_STATES:
        assert settled in TERMINAL_STATES
        assert settled is (computed if computed in TERMINAL_STATES else recorded)
    else:
        assert settled is computed


def test_an_expired_grant_stays_expired_at_an_earlier_instant() -> None:
    grant = make()
    computed = grant_state(grant, DURING, TZ)  # the clock went back into the window
    assert computed is GrantState.ACTIVE
    assert settled_state(GrantState.EXPIRED, computed) is GrantState.EXPIRED
    assert settled_state(GrantState.SCHEDULED, computed) is GrantState.ACTIVE
