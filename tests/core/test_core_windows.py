"""Tests for access windows and schedules, including DST and property tests."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.errors import InvalidWindowError, StoredDataError
from custom_components.concierge.core.schedule_times import (
    CURRENT_INTERVAL_HORIZON,
    current_interval,
    is_open,
    last_end,
    next_edge,
    occurrences,
    previous_edge,
    resolve_local,
)
from custom_components.concierge.core.windows import (
    Interval,
    OneOffWindow,
    Schedule,
    WeeklyWindow,
    window_from_dict,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
UTC_ZONE = ZoneInfo("UTC")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # 30-minute DST shift
ZONES = [BERLIN, NEW_YORK, UTC_ZONE, LORD_HOWE, ZoneInfo("Asia/Kolkata")]
SUNDAY = 6
US = timedelta(microseconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def weekly(days: set[int], start: str, end: str) -> WeeklyWindow:
    return WeeklyWindow(frozenset(days), time.fromisoformat(start), time.fromisoformat(end))


def only(*windows: OneOffWindow | WeeklyWindow, **bounds: datetime) -> Schedule:
    return Schedule(tuple(windows), **bounds)


# --- validation ---------------------------------------------------------------------------


def test_one_off_validation() -> None:
    with pytest.raises(InvalidWindowError) as err:
        OneOffWindow(datetime(2025, 1, 1), utc(2025, 1, 2))  # noqa: DTZ001
    assert err.value.translation_key == "naive_datetime"
    assert err.value.placeholders == {"field": "start"}
    with pytest.raises(InvalidWindowError, match="window_end_before_start"):
        OneOffWindow(utc(2025, 1, 2), utc(2025, 1, 2))
    with pytest.raises(InvalidWindowError, match="window_too_long"):
        OneOffWindow(utc(2025, 1, 1), utc(2026, 1, 3))
    window = OneOffWindow(datetime(2025, 1, 1, 12, tzinfo=BERLIN), utc(2025, 1, 2))
    assert window.start == utc(2025, 1, 1, 11)
    assert window.start.tzinfo is UTC


@pytest.mark.parametrize(
    "days", [frozenset(), frozenset({7}), frozenset({-1}), frozenset({True}), {1, 2}]
)
def test_weekly_weekday_validation(days: object) -> None:
    with pytest.raises(InvalidWindowError, match="invalid_weekdays"):
        WeeklyWindow(days, time(8), time(9))  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [time(8, 0, 30), time(8, 0, 0, 5), time(8, tzinfo=UTC), "08:00"])
def test_weekly_time_validation(bad: object) -> None:
    with pytest.raises(InvalidWindowError, match="invalid_time"):
        WeeklyWindow(frozenset({0}), time(8), bad)  # type: ignore[arg-type]


def test_schedule_validation() -> None:
    with pytest.raises(InvalidWindowError, match="no_windows"):
        Schedule(())
    with pytest.raises(InvalidWindowError, match="no_windows"):
        Schedule([weekly({0}, "08:00", "09:00")])  # type: ignore[arg-type]
    with pytest.raises(InvalidWindowError, match="invalid_validity"):
        only(weekly({0}, "08:00", "09:00"), valid_from=utc(2025, 2, 1), valid_until=utc(2025, 1, 1))
    with pytest.raises(InvalidWindowError, match="naive_datetime"):
        only(weekly({0}, "08:00", "09:00"), valid_until=datetime(2025, 1, 1))  # noqa: DTZ001
    with pytest.raises(InvalidWindowError, match="window_outside_validity"):
        only(OneOffWindow(utc(2025, 1, 1), utc(2025, 1, 2)), valid_from=utc(2025, 1, 2))
    schedule = only(weekly({0}, "08:00", "09:00"), valid_from=datetime(2025, 1, 1, tzinfo=BERLIN))
    assert schedule.valid_from == utc(2024, 12, 31, 23)


def test_interval() -> None:
    interval = Interval(utc(2025, 1, 1), utc(2025, 1, 2))
    assert interval.duration == timedelta(days=1)
    assert interval.contains(utc(2025, 1, 1))
    assert not interval.contains(utc(2025, 1, 2))
    with pytest.raises(InvalidWindowError):
        Interval(utc(2025, 1, 2), utc(2025, 1, 1))


# --- DST ----------------------------------------------------------------------------------


def test_resolve_local_gap_and_ambiguity() -> None:
    # Berlin: spring forward 2025-03-30 02:00 -> 03:00, fall back 2025-10-26 03:00 -> 02:00.
    assert resolve_local(date(2025, 3, 30), time(2, 30), BERLIN) == utc(2025, 3, 30, 1)
    assert resolve_local(date(2025, 3, 30), time(2, 0), BERLIN) == utc(2025, 3, 30, 1)
    assert resolve_local(date(2025, 10, 26), time(2, 30), BERLIN) == utc(2025, 10, 26, 0, 30)
    assert resolve_local(date(2025, 10, 26), time(3, 0), BERLIN) == utc(2025, 10, 26, 2)
    # New York: 2025-03-09 02:00 -> 03:00, 2025-11-02 02:00 -> 01:00.
    assert resolve_local(date(2025, 3, 9), time(2, 30), NEW_YORK) == utc(2025, 3, 9, 7)
    assert resolve_local(date(2025, 11, 2), time(1, 30), NEW_YORK) == utc(2025, 11, 2, 5, 30)
    # Lord Howe: 2025-10-05 02:00 -> 02:30 (+10:30 -> +11:00).
    assert resolve_local(date(2025, 10, 5), time(2, 15), LORD_HOWE) == utc(2025, 10, 4, 15, 30)


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        # Spring forward: 01:30 standard time to 03:30 summer time is one real hour.
        (BERLIN, date(2025, 3, 30), Interval(utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1, 30))),
        # Fall back: the wall clock passes 02:00-03:00 twice, so three real hours.
        (BERLIN, date(2025, 10, 26), Interval(utc(2025, 10, 25, 23, 30), utc(2025, 10, 26, 2, 30))),
        (NEW_YORK, date(2025, 3, 9), Interval(utc(2025, 3, 9, 6, 30), utc(2025, 3, 9, 7, 30))),
        (NEW_YORK, date(2025, 11, 2), Interval(utc(2025, 11, 2, 5, 30), utc(2025, 11, 2, 8, 30))),
    ],
)
def test_weekly_window_on_dst_sundays(tz: ZoneInfo, day: date, expected: Interval) -> None:
    schedule = only(weekly({SUNDAY}, "01:30", "03:30"))
    start = datetime.combine(day, time(), tz)
    found = occurrences(schedule, tz, start, start + timedelta(days=1))
    assert found == [expected]
    assert is_open(schedule, tz, expected.start)
    assert not is_open(schedule, tz, expected.end)
    assert next_edge(schedule, tz, expected.start) == expected.end
    assert current_interval(schedule, tz, expected.start + US) == expected


def test_start_in_gap_begins_after_the_gap() -> None:
    schedule = only(weekly({SUNDAY}, "02:30", "04:00"))
    day = datetime(2025, 3, 30, tzinfo=BERLIN)
    assert occurrences(schedule, BERLIN, day, day + timedelta(days=1)) == [
        Interval(utc(2025, 3, 30, 1), utc(2025, 3, 30, 2))
    ]
    # On an ordinary Sunday it lasts 1.5 h.
    week_before = day - timedelta(days=7)
    (ordinary,) = occurrences(schedule, BERLIN, week_before, week_before + timedelta(days=1))
    assert ordinary.duration == timedelta(hours=1, minutes=30)


def test_ambiguous_start_uses_first_occurrence() -> None:
    schedule = only(weekly({SUNDAY}, "02:30", "03:30"))
    day = datetime(2025, 10, 26, tzinfo=BERLIN)
    # 02:30 CEST (00:30 UTC) to 03:30 CET (02:30 UTC): two real hours.
    assert occurrences(schedule, BERLIN, day, day + timedelta(days=1)) == [
        Interval(utc(2025, 10, 26, 0, 30), utc(2025, 10, 26, 2, 30))
    ]


def test_window_inside_the_gap_vanishes_that_day_only() -> None:
    schedule = only(weekly({SUNDAY}, "02:10", "02:50"))
    day = datetime(2025, 3, 30, tzinfo=BERLIN)
    assert occurrences(schedule, BERLIN, day, day + timedelta(days=1)) == []
    assert len(occurrences(schedule, BERLIN, day, day + timedelta(days=8))) == 1


def test_overnight_windows() -> None:
    schedule = only(weekly({4}, "22:00", "06:00"))  # Friday night
    start = datetime(2025, 6, 6, tzinfo=BERLIN)  # a Friday
    assert occurrences(schedule, BERLIN, start, start + timedelta(days=3)) == [
        Interval(utc(2025, 6, 6, 20), utc(2025, 6, 7, 4))
    ]
    # Saturday night into the spring-forward Sunday is an hour shorter.
    saturday = only(weekly({5}, "22:00", "06:00"))
    night = datetime(2025, 3, 29, tzinfo=BERLIN)
    (occurrence,) = occurrences(saturday, BERLIN, night, night + timedelta(days=2))
    assert occurrence.duration == timedelta(hours=7)
    # Equal start and end: a full wall-clock day.
    full = only(weekly({0}, "09:00", "09:00"))
    (day,) = occurrences(full, UTC_ZONE, utc(2025, 6, 2), utc(2025, 6, 4))
    assert day == Interval(utc(2025, 6, 2, 9), utc(2025, 6, 3, 9))


# --- evaluation ---------------------------------------------------------------------------


def test_occurrences_merge_and_clip() -> None:
    schedule = only(
        weekly({0}, "08:00", "12:00"),
        weekly({0}, "12:00", "14:00"),
        weekly({0}, "13:00", "13:30"),
        OneOffWindow(utc(2025, 6, 2, 16), utc(2025, 6, 2, 17)),
    )
    found = occurrences(schedule, UTC_ZONE, utc(2025, 6, 2, 9), utc(2025, 6, 3))
    assert found == [
        Interval(utc(2025, 6, 2, 9), utc(2025, 6, 2, 14)),
        Interval(utc(2025, 6, 2, 16), utc(2025, 6, 2, 17)),
    ]
    assert occurrences(schedule, UTC_ZONE, utc(2025, 6, 3), utc(2025, 6, 2)) == []
    with pytest.raises(InvalidWindowError, match="naive_datetime"):
        occurrences(schedule, UTC_ZONE, datetime(2025, 6, 2), utc(2025, 6, 3))  # noqa: DTZ001


def test_validity_bounds_clip_weekly() -> None:
    schedule = only(
        weekly({0, 1, 2, 3, 4, 5, 6}, "08:00", "18:00"),
        valid_from=utc(2025, 6, 2, 10),
        valid_until=utc(2025, 6, 4, 12),
    )
    assert occurrences(schedule, UTC_ZONE, utc(2025, 6, 1), utc(2025, 6, 10)) == [
        Interval(utc(2025, 6, 2, 10), utc(2025, 6, 2, 18)),
        Interval(utc(2025, 6, 3, 8), utc(2025, 6, 3, 18)),
        Interval(utc(2025, 6, 4, 8), utc(2025, 6, 4, 12)),
    ]
    assert last_end(schedule, UTC_ZONE) == utc(2025, 6, 4, 12)
    assert next_edge(schedule, UTC_ZONE, utc(2025, 6, 4, 12)) is None
    assert next_edge(schedule, UTC_ZONE, utc(2025, 5, 1)) == utc(2025, 6, 2, 10)
    assert previous_edge(schedule, UTC_ZONE, utc(2025, 6, 2, 10)) == utc(2025, 6, 2, 10)
    assert previous_edge(schedule, UTC_ZONE, utc(2025, 6, 2, 9)) is None


def test_one_off_only() -> None:
    schedule = only(
        OneOffWindow(utc(2025, 6, 2, 9), utc(2025, 6, 2, 10)),
        OneOffWindow(utc(2025, 6, 20, 9), utc(2025, 6, 20, 10)),
    )
    assert next_edge(schedule, BERLIN, utc(2025, 6, 2, 10)) == utc(2025, 6, 20, 9)
    assert next_edge(schedule, BERLIN, utc(2025, 6, 20, 10)) is None
    assert previous_edge(schedule, BERLIN, utc(2025, 6, 19)) == utc(2025, 6, 2, 10)
    assert previous_edge(schedule, BERLIN, utc(2025, 6, 2, 8)) is None
    assert last_end(schedule, BERLIN) == utc(2025, 6, 20, 10)
    assert current_interval(schedule, BERLIN, utc(2025, 6, 3)) is None
    assert current_interval(schedule, BERLIN, utc(2025, 6, 2, 9, 30)) == Interval(
        utc(2025, 6, 2, 9), utc(2025, 6, 2, 10)
    )


def test_long_one_off_chain_is_found_far_away() -> None:
    schedule = only(
        OneOffWindow(utc(2025, 1, 1), utc(2025, 12, 1)),
        OneOffWindow(utc(2025, 12, 1), utc(2026, 6, 1)),
    )
    assert next_edge(schedule, UTC_ZONE, utc(2025, 2, 1)) == utc(2026, 6, 1)
    assert previous_edge(schedule, UTC_ZONE, utc(2026, 5, 1)) == utc(2025, 1, 1)


def test_around_the_clock_weekly() -> None:
    always = only(weekly({0, 1, 2, 3, 4, 5, 6}, "00:00", "00:00"))
    at = utc(2025, 3, 30, 1)
    assert is_open(always, BERLIN, at)
    assert next_edge(always, BERLIN, at) is None
    assert previous_edge(always, BERLIN, at) is None
    assert last_end(always, BERLIN) is None
    assert current_interval(always, BERLIN, at) == Interval(
        at - CURRENT_INTERVAL_HORIZON, at + CURRENT_INTERVAL_HORIZON
    )
    bounded = only(
        weekly({0, 1, 2, 3, 4, 5, 6}, "00:00", "00:00"),
        valid_from=utc(2024, 1, 1),
        valid_until=utc(2027, 1, 1),
    )
    assert current_interval(bounded, BERLIN, at) == Interval(utc(2024, 1, 1), utc(2027, 1, 1))
    assert last_end(bounded, BERLIN) == utc(2027, 1, 1)


def test_weekly_never_ends_without_valid_until() -> None:
    schedule = only(weekly({2}, "10:00", "11:00"), valid_from=utc(2025, 6, 1))
    assert last_end(schedule, BERLIN) is None
    assert next_edge(schedule, BERLIN, utc(2030, 1, 1)) is not None


def test_last_end_of_a_schedule_that_never_opens() -> None:
    # Mondays only, but valid Tuesday to Thursday.
    schedule = only(
        weekly({0}, "10:00", "11:00"), valid_from=utc(2025, 6, 3), valid_until=utc(2025, 6, 6)
    )
    assert occurrences(schedule, UTC_ZONE, utc(2025, 6, 1), utc(2025, 6, 30)) == []
    assert last_end(schedule, UTC_ZONE) == utc(2025, 6, 6)
    assert next_edge(schedule, UTC_ZONE, utc(2025, 6, 1)) is None


# --- storage ------------------------------------------------------------------------------


def test_round_trip() -> None:
    schedule = only(
        weekly({4, 0}, "22:00", "06:30"),
        OneOffWindow(datetime(2025, 6, 1, 10, tzinfo=BERLIN), utc(2025, 6, 1, 12)),
        valid_from=utc(2025, 1, 1),
        valid_until=utc(2026, 1, 1),
    )
    data = schedule.to_dict()
    assert data["windows"] == [
        {"type": "weekly", "weekdays": [0, 4], "start": "22:00", "end": "06:30"},
        {
            "type": "one_off",
            "start": "2025-06-01T08:00:00+00:00",
            "end": "2025-06-01T12:00:00+00:00",
        },
    ]
    assert Schedule.from_dict(data) == schedule
    open_ended = only(weekly({1}, "08:00", "09:00"))
    assert Schedule.from_dict(open_ended.to_dict()) == open_ended


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"type": "daily"},
        {"type": "weekly", "weekdays": ["mon"], "start": "08:00", "end": "09:00"},
        {"type": "weekly", "weekdays": [0], "start": "24:00", "end": "09:00"},
        {"type": "weekly", "weekdays": [0], "start": "8:00", "end": "09:00"},
        {"type": "weekly", "weekdays": [0], "start": 800, "end": "09:00"},
        {"type": "weekly", "weekdays": 0, "start": "08:00", "end": "09:00"},
        {"type": "one_off", "start": "2025-01-01T00:00:00", "end": "2025-01-02T00:00:00Z"},
        {"type": "one_off", "start": "yesterday", "end": "2025-01-02T00:00:00Z"},
        {"type": "one_off", "start": 5, "end": "2025-01-02T00:00:00Z"},
        {1: "one_off"},
    ],
)
def test_window_from_dict_rejects(data: object) -> None:
    with pytest.raises(StoredDataError) as err:
        window_from_dict(data)
    assert err.value.translation_key == "stored_data_invalid"


def test_schedule_from_dict_rejects() -> None:
    with pytest.raises(StoredDataError):
        Schedule.from_dict({"windows": "x", "valid_from": None, "valid_until": None})
    with pytest.raises(StoredDataError):
        Schedule.from_dict([])


# --- properties ---------------------------------------------------------------------------

BASE = datetime(2025, 1, 1, tzinfo=UTC)
minutes_in_2025 = st.integers(min_value=0, max_value=366 * 24 * 60)
wall_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 1, 15, 29, 30, 45, 59]))


@st.composite
def one_offs(draw: st.DrawFn) -> OneOffWindow:
    start = BASE + timedelta(minutes=draw(minutes_in_2025))
    return OneOffWindow(start, start + timedelta(minutes=draw(st.integers(1, 10 * 24 * 60))))


weeklies = st.builds(
    WeeklyWindow,
    st.frozensets(st.integers(0, 6), min_size=1, max_size=7),
    wall_times,
    wall_times,
)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    windows = tuple(draw(st.lists(st.one_of(one_offs(), weeklies), min_size=1, max_size=3)))
    valid_from = draw(st.none() | st.builds(lambda m: BASE + timedelta(minutes=m), minutes_in_2025))
    valid_until = None
    if draw(st.booleans()):
        floor = valid_from or BASE
        valid_until = floor + timedelta(minutes=draw(st.integers(1, 200 * 24 * 60)))
    try:
        return Schedule(windows, valid_from, valid_until)
    except InvalidWindowError:
        return Schedule(windows)


instants = st.builds(
    lambda m, s: BASE + timedelta(minutes=m, seconds=s), minutes_in_2025, st.integers(0, 59)
)
zones = st.sampled_from(ZONES)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(schedules(), zones, instants, st.lists(st.integers(0, 20 * 24 * 3600), max_size=6))
def test_is_open_agrees_with_occurrences(
    schedule: Schedule, tz: ZoneInfo, start: datetime, offsets: list[int]
) -> None:
    end = start + timedelta(days=20)
    found = occurrences(schedule, tz, start, end)
    for earlier, later in pairwise(found):
        assert earlier.end < later.start  # sorted, disjoint and not touching
    assert all(start <= i.start < i.end <= end for i in found)
    samples = [start + timedelta(seconds=o) for o in offsets]
    samples += [p for i in found for p in (i.start, i.end - US, i.end)]
    for point in samples:
        if start <= point < end:
            assert is_open(schedule, tz, point) == any(i.contains(point) for i in found)


@SETTINGS
@given(schedules(), zones, instants, st.lists(st.integers(0, 999), max_size=4))
def test_next_edge_is_the_next_edge(
    schedule: Schedule, tz: ZoneInfo, after: datetime, fractions: list[int]
) -> None:
    edge = next_edge(schedule, tz, after)
    state = is_open(schedule, tz, after)
    horizon = after + timedelta(days=30)
    found = occurrences(schedule, tz, after, horizon)
    candidates = [t for i in found for t in (i.start, i.end) if after < t < horizon]
    if candidates:
        assert edge == min(candidates)
    else:
        assert edge is None or edge >= horizon
    if edge is None:
        assert last_end(schedule, tz) is None or state is False
        return
    assert edge > after
    assert is_open(schedule, tz, edge) != is_open(schedule, tz, edge - US)
    assert is_open(schedule, tz, edge - US) == state
    for fraction in fractions:
        assert is_open(schedule, tz, after + (edge - after) * fraction // 1000) == state


@SETTINGS
@given(schedules(), zones, instants)
def test_previous_edge_and_current_interval(schedule: Schedule, tz: ZoneInfo, at: datetime) -> None:
    edge = previous_edge(schedule, tz, at)
    state = is_open(schedule, tz, at)
    if edge is not None:
        assert edge <= at
        assert is_open(schedule, tz, edge) == state
        assert is_open(schedule, tz, edge - US) != state
    interval = current_interval(schedule, tz, at)
    if not state:
        assert interval is None
        return
    assert interval is not None
    assert interval.contains(at)
    assert is_open(schedule, tz, interval.start)
    assert is_open(schedule, tz, interval.end - US)
    end = last_end(schedule, tz)
    if end is not None:
        assert interval.end <= end


@SETTINGS
@given(schedules())
def test_storage_round_trip(schedule: Schedule) -> None:
    assert Schedule.from_dict(schedule.to_dict()) == schedule


@settings(max_examples=40, deadline=None)
@given(zones, st.dates(date(2000, 1, 1), date(2040, 12, 31)), wall_times)
def test_resolve_local_is_the_wall_time_or_just_after_a_gap(
    tz: ZoneInfo, day: date, wall: time
) -> None:
    instant = resolve_local(day, wall, tz)
    naive = datetime.combine(day, wall)
    local = instant.astimezone(tz).replace(tzinfo=None)
    if local != naive:  # in a gap: the first instant after it
        assert local > naive
        assert (instant - timedelta(seconds=1)).astimezone(tz).replace(tzinfo=None) < naive
    else:  # exists: the first occurrence
        assert (instant - timedelta(hours=1)).astimezone(tz).replace(tzinfo=None) != naive
