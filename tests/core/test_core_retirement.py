"""Which ended grants leave, and when the next one is due (core/retirement.py)."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.concierge.core.grants import Grant, GrantKind, GrantState, new_grant
from custom_components.concierge.core.retirement import (
    codes_left,
    ended_at,
    plan_retirement,
    recorded_ends,
)
from custom_components.concierge.core.slot_types import KnownSlot, SlotStatus
from custom_components.concierge.core.windows import OneOffWindow, Schedule, WeeklyWindow

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 24, 9, tzinfo=UTC)
END = datetime(2026, 11, 24, 11, tzinfo=UTC)
WEEK = timedelta(days=7)


def _grant(schedule: Schedule | None = None) -> Grant:
    return new_grant(
        label="Plumber",
        kind=GrantKind.OTHER,
        portals=("front",),
        schedule=schedule or Schedule((OneOffWindow(START, END),)),
        now=START - timedelta(days=1),
    )


def test_an_expired_grant_ended_at_its_last_window_even_if_recorded_later() -> None:
    later = END + timedelta(days=2)  # Home Assistant was down when the window closed
    assert ended_at(_grant(), GrantState.EXPIRED, later, TZ) == END


def test_a_revoked_or_used_up_grant_ended_when_that_was_recorded() -> None:
    revoked = START + timedelta(minutes=30)
    assert ended_at(_grant(), GrantState.REVOKED, revoked, TZ) == revoked
    assert ended_at(_grant(), GrantState.USED_UP, revoked, TZ) == revoked
    # Never recorded (a lost log): at the end of its window at the latest.
    assert ended_at(_grant(), GrantState.REVOKED, None, TZ) == END


def test_a_weekly_grant_revoked_without_a_record_has_no_known_end() -> None:
    weekly = Schedule((WeeklyWindow(frozenset({1}), time(9), time(12)),))
    assert ended_at(_grant(weekly), GrantState.REVOKED, None, TZ) is None


@pytest.mark.parametrize("state", [GrantState.SCHEDULED, GrantState.ACTIVE, GrantState.SUSPENDED])
def test_grants_that_have_not_ended_never_retire(state: GrantState) -> None:
    assert ended_at(_grant(), state, END, TZ) is None


def test_the_plan_retires_due_grants_holds_waiting_ones_and_names_the_next_time() -> None:
    ends = {"a": END, "b": END + timedelta(hours=1), "c": END + timedelta(days=3)}
    now = END + WEEK + timedelta(hours=1)
    plan = plan_retirement(ends, WEEK, now, held={"b"})
    assert plan.due == ("a",)
    assert plan.waiting == ("b",)
    assert plan.next_at == END + timedelta(days=3) + WEEK
    assert plan_retirement(ends, WEEK, END + WEEK - timedelta(seconds=1)).due == ()
    assert plan_retirement(ends, timedelta(0), END).due == ("a",)
    with pytest.raises(ValueError, match="negative"):
        plan_retirement(ends, timedelta(days=-1), now)


@given(
    st.dictionaries(
        st.sampled_from("abcdef"), st.integers(min_value=0, max_value=30 * 24), max_size=6
    ),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=60 * 24),
    st.sets(st.sampled_from("abcdef")),
)
def test_each_ended_grant_is_due_exactly_once_its_time_has_come(
    hours: dict[str, int], days: int, now_hours: int, held: set[str]
) -> None:
    ends = {g: START + timedelta(hours=h) for g, h in hours.items()}
    now = START + timedelta(hours=now_hours)
    plan = plan_retirement(ends, timedelta(days=days), now, held)
    for grant, end in ends.items():
        ready = end + timedelta(days=days) <= now
        assert (grant in plan.due) == (ready and grant not in held)
        assert (grant in plan.waiting) == (ready and grant in held)
    later = [e + timedelta(days=days) for e in ends.values() if e + timedelta(days=days) > now]
    assert plan.next_at == min(later, default=None)


def test_codes_left_are_held_or_unconfirmed_ones() -> None:
    lock = {
        10: KnownSlot(SlotStatus.OURS, "a", "fp"),
        11: KnownSlot(SlotStatus.UNSETTLED, "b", "fp"),
        12: KnownSlot(SlotStatus.EMPTY),
        13: KnownSlot(SlotStatus.FOREIGN),
    }
    statuses = {"c": {"front": "not_removed"}, "d": {"front": "programmed"}, "e": {"x": "pending"}}
    assert codes_left([lock], statuses) == {"a", "b", "c", "e"}


def test_recorded_ends_keep_the_first_end_of_each_grant() -> None:
    events = [
        {"type": "grant_created", "grant": "a", "time": "2026-11-24T08:00:00.000Z"},
        {"type": "grant_revoked", "grant": "a", "time": "2026-11-24T09:30:00.000Z"},
        {"type": "grant_expired", "grant": "a", "time": "2026-11-25T09:30:00.000Z"},
        {"type": "grant_used_up", "grant": "b", "time": "2026-11-24T10:00:00.000Z"},
        {"type": "grant_expired", "grant": "c", "time": "not a time"},
        {"type": "grant_expired", "grant": None, "time": "2026-11-24T10:00:00.000Z"},
    ]
    assert recorded_ends(events) == {
        "a": datetime(2026, 11, 24, 9, 30, tzinfo=UTC),
        "b": datetime(2026, 11, 24, 10, tzinfo=UTC),
    }
