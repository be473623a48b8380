"""The fast answers for one-off schedules are `schedule_times`' answers, for any schedule."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from custom_components.concierge.core import fast_times, schedule_times
from custom_components.concierge.core.errors import InvalidWindowError
from custom_components.concierge.core.windows import OneOffWindow, Schedule, WeeklyWindow

TZ = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 3, 20, tzinfo=UTC)
HOUR = timedelta(hours=1)

hours = st.integers(min_value=0, max_value=24 * 20)


@st.composite
def one_off_schedules(draw: st.DrawFn) -> Schedule:
    """One to four one-off windows (overlapping, touching or apart), bounds or not."""
    windows = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        start = T0 + draw(hours) * HOUR
        windows.append(OneOffWindow(start, start + draw(st.integers(1, 72)) * HOUR))
    first = min(w.start for w in windows)
    last = max(w.end for w in windows)
    low = draw(st.none() | st.integers(-5, 30).map(lambda h: first + h * HOUR))
    high = draw(st.none() | st.integers(-30, 5).map(lambda h: last + h * HOUR))
    try:
        return Schedule(tuple(windows), valid_from=low, valid_until=high)
    except InvalidWindowError:
        return Schedule(tuple(windows))


def _current_or_next(schedule: Schedule, at: datetime) -> object:
    """The definition: the interval open at `at`, else the one the next edge opens."""
    if not schedule_times.is_open(schedule, TZ, at):
        edge = schedule_times.next_edge(schedule, TZ, at)
        return None if edge is None else schedule_times.current_interval(schedule, TZ, edge)
    return schedule_times.current_interval(schedule, TZ, at)


@given(one_off_schedules(), st.integers(-48, 24 * 25), st.integers(0, 59))
def test_one_off_answers_are_schedule_times_answers(
    schedule: Schedule, hour: int, minute: int
) -> None:
    at = T0 + hour * HOUR + timedelta(minutes=minute)
    for instant in (at, at.astimezone(TZ)):  # any aware instant, not only UTC
        assert fast_times.is_open(schedule, TZ, instant) == schedule_times.is_open(
            schedule, TZ, instant
        )
        assert fast_times.next_edge(schedule, TZ, instant) == schedule_times.next_edge(
            schedule, TZ, instant
        )
        assert fast_times.current_or_next(schedule, TZ, instant) == _current_or_next(
            schedule, instant
        )
    assert fast_times.last_end(schedule, TZ) == schedule_times.last_end(schedule, TZ)


WEEKLY = [
    Schedule((WeeklyWindow(frozenset({6}), time(1), time(4)),)),  # across the clock change
    Schedule(
        (WeeklyWindow(frozenset({0, 4}), time(22), time(2)), OneOffWindow(T0, T0 + HOUR)),
        valid_until=T0 + timedelta(days=30),
    ),
]


@pytest.mark.parametrize("schedule", WEEKLY)
@pytest.mark.parametrize("hour", [0, 30, 170, 500])
def test_a_schedule_with_a_weekly_window_is_answered_by_schedule_times(
    schedule: Schedule, hour: int
) -> None:
    at = T0 + hour * HOUR
    assert fast_times.one_off_spans(schedule) is None
    assert fast_times.is_open(schedule, TZ, at) == schedule_times.is_open(schedule, TZ, at)
    assert fast_times.next_edge(schedule, TZ, at) == schedule_times.next_edge(schedule, TZ, at)
    assert fast_times.current_or_next(schedule, TZ, at) == _current_or_next(schedule, at)
    assert fast_times.last_end(schedule, TZ) == schedule_times.last_end(schedule, TZ)


def test_a_naive_instant_is_refused_as_schedule_times_refuses_it() -> None:
    schedule = Schedule((OneOffWindow(T0, T0 + HOUR),))
    naive = datetime(2026, 3, 20, 0, 30)  # noqa: DTZ001 - the point of the test
    for ask in (fast_times.is_open, fast_times.next_edge, fast_times.current_or_next):
        with pytest.raises(InvalidWindowError):
            ask(schedule, TZ, naive)


def test_touching_windows_are_one_interval() -> None:
    schedule = Schedule((OneOffWindow(T0 + HOUR, T0 + 2 * HOUR), OneOffWindow(T0, T0 + HOUR)))
    assert fast_times.one_off_spans(schedule) == [(T0, T0 + 2 * HOUR)]
    assert fast_times.next_edge(schedule, TZ, T0) == T0 + 2 * HOUR
