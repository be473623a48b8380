"""Site time: a clock that never goes backwards, whatever the wall clock does."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.clock import (
    STEP_TOLERANCE,
    ClockMark,
    ClockReading,
    ClockStep,
    StepDirection,
    advance,
    read,
    seconds_until,
    start,
)

T0 = datetime(2026, 11, 24, 11, tzinfo=UTC)
MINUTE = 60.0


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


# --- examples ---------------------------------------------------------------------------


def test_clocks_that_agree_give_the_wall_clock() -> None:
    first = start(None, T0, 100.0)
    assert first == ClockReading(ClockMark(T0, 100.0))
    assert first.now == T0
    second = read(first.mark, T0 + _s(90), 190.0)
    assert second.now == T0 + _s(90)
    assert second.step is None
    assert second.mark.lag == 0


def test_a_step_back_is_ignored_and_reported_once() -> None:
    mark = start(None, T0, 0.0).mark
    stepped = read(mark, T0 + _s(60 - 30 * MINUTE), 60.0)
    # Site time carries on from where it was, at the monotonic clock's pace.
    assert stepped.now == T0 + _s(60)
    assert stepped.step == ClockStep(StepDirection.BACK, 30 * MINUTE)
    assert stepped.mark.lag == 30 * MINUTE
    # The wall clock stays 30 min behind: no new step, site time keeps running.
    later = read(stepped.mark, T0 + _s(3600 - 30 * MINUTE), 3600.0)
    assert later.now == T0 + _s(3600)
    assert later.step is None


def test_a_step_forward_is_taken() -> None:
    mark = start(None, T0, 0.0).mark
    stepped = read(mark, T0 + _s(10 + 3600), 10.0)
    assert stepped.now == T0 + _s(3610)
    assert stepped.step == ClockStep(StepDirection.FORWARD, 3600)
    assert stepped.mark.lag == 0


def test_a_wall_clock_behind_catches_up_by_stepping_forward() -> None:
    behind = read(start(None, T0, 0.0).mark, T0 - _s(1800), 0.0)
    # Forward by 20 min: still behind site time, which keeps running on elapsed time.
    partly = read(behind.mark, T0 - _s(600), 0.0)
    assert partly.now == T0
    assert partly.step == ClockStep(StepDirection.FORWARD, 1200)
    assert partly.mark.lag == 600
    # Forward past site time: followed again.
    caught = read(partly.mark, T0 + _s(300), 0.0)
    assert caught.now == T0 + _s(300)
    assert caught.step == ClockStep(StepDirection.FORWARD, 900)
    assert caught.mark.lag == 0


def test_jitter_below_the_tolerance_is_no_step() -> None:
    mark = start(None, T0, 0.0).mark
    slow = read(mark, T0 + _s(100 - STEP_TOLERANCE / 2), 100.0)
    assert slow.step is None
    assert slow.now == T0 + _s(100)
    fast = read(slow.mark, T0 + _s(200 + STEP_TOLERANCE / 2), 200.0)
    assert fast.step is None
    assert fast.now == T0 + _s(200 + STEP_TOLERANCE / 2)


def test_a_start_behind_the_stored_mark_uses_the_mark() -> None:
    stored = T0 + timedelta(days=400)  # an RTC that lost a year and more
    first = start(stored, T0, 5.0)
    assert first.now == stored
    assert first.step == ClockStep(StepDirection.BACK, timedelta(days=400).total_seconds())
    later = read(first.mark, T0 + _s(60), 65.0)
    assert later.now == stored + _s(60)
    assert later.step is None


def test_a_start_after_the_stored_mark_takes_the_wall_clock_quietly() -> None:
    first = start(T0, T0 + timedelta(days=2), 5.0)
    assert first.now == T0 + timedelta(days=2)
    assert first.step is None
    # Within the tolerance behind the mark: no step either.
    assert start(T0, T0 - _s(1), 0.0).step is None


def test_advance_moves_forward_only_and_is_no_step() -> None:
    mark = start(None, T0, 0.0).mark
    assert advance(mark, T0 - _s(5)) is mark
    ahead = advance(mark, T0 + _s(0.25))
    assert ahead.effective == T0 + _s(0.25)
    after = read(ahead, T0 + _s(10), 10.0)
    assert after.now == T0 + _s(10.25)
    assert after.step is None


def test_readings_in_other_zones_are_normalised_to_utc() -> None:
    reading = start(None, T0.astimezone(ZoneInfo("Europe/Berlin")), 0.0)
    assert reading.now == T0
    assert reading.now.tzinfo is UTC


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        start(None, T0.replace(tzinfo=None), 0.0)


def test_seconds_until() -> None:
    assert seconds_until(T0 + _s(90), T0) == 90
    assert seconds_until(T0, T0 + _s(1)) == 0


# --- properties -------------------------------------------------------------------------

# A reading: how far the monotonic clock advanced since the last one, and how far the
# wall clock moved against it (0 most of the time; steps either way; small jitter).
_elapsed = st.floats(min_value=0, max_value=7 * 86400, allow_nan=False)
_wall_step = st.one_of(
    st.just(0.0),
    st.floats(min_value=-400 * 86400, max_value=400 * 86400, allow_nan=False),
    st.floats(min_value=-1, max_value=1, allow_nan=False),
)
_readings = st.lists(st.tuples(_elapsed, _wall_step), max_size=40)
_stored = st.one_of(
    st.none(), st.floats(min_value=-400 * 86400, max_value=400 * 86400).map(lambda s: T0 + _s(s))
)


def _run(
    stored: datetime | None, readings: list[tuple[float, float]]
) -> list[tuple[datetime, float, ClockReading]]:
    """Feed the readings; return (wall, monotonic, reading) for each, the start first."""
    wall, monotonic = T0, 1000.0
    out = [(wall, monotonic, reading := start(stored, wall, monotonic))]
    for elapsed, step in readings:
        monotonic += elapsed
        wall += _s(elapsed + step)
        reading = read(reading.mark, wall, monotonic)
        out.append((wall, monotonic, reading))
    return out


@settings(max_examples=300)
@given(stored=_stored, readings=_readings)
def test_site_time_never_goes_backwards(
    stored: datetime | None, readings: list[tuple[float, float]]
) -> None:
    seen = _run(stored, readings)
    times = [reading.now for _, _, reading in seen]
    assert times == sorted(times)
    for wall, _, reading in seen:
        assert reading.now >= wall  # a step forward is always taken
        assert reading.mark.lag == pytest.approx((reading.now - wall).total_seconds(), abs=1e-6)
        assert reading.mark.lag >= 0
    if stored is not None:
        assert times[0] >= stored


@settings(max_examples=300)
@given(stored=_stored, readings=_readings)
def test_site_time_runs_at_least_as_fast_as_elapsed_time(
    stored: datetime | None, readings: list[tuple[float, float]]
) -> None:
    seen = _run(stored, readings)
    for (_, mono_a, a), (_, mono_b, b) in pairwise(seen):
        assert (b.now - a.now).total_seconds() >= (mono_b - mono_a) - 1e-6


@settings(max_examples=300)
@given(
    readings=st.lists(
        st.tuples(
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
            st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
        ),
        max_size=30,
    )
)
def test_site_time_never_loses_ground_against_the_monotonic_clock(
    readings: list[tuple[float, float]],
) -> None:
    """For any readings at all (even a monotonic clock going back, as in a test harness)."""
    reading = start(None, T0, 0.0)
    ahead = 0.0  # site time, less the monotonic clock (seconds after T0)
    for monotonic, wall in readings:
        reading = read(reading.mark, T0 + _s(wall), monotonic)
        now_ahead = (reading.now - T0).total_seconds() - monotonic
        assert now_ahead >= ahead - 1e-3
        ahead = now_ahead


@settings(max_examples=300)
@given(
    before=st.lists(_elapsed, max_size=10),
    size=st.floats(min_value=STEP_TOLERANCE * 2, max_value=400 * 86400),
    back=st.booleans(),
    after=st.lists(_elapsed, max_size=10),
)
def test_each_step_is_reported_once(
    before: list[float], size: float, back: bool, after: list[float]
) -> None:
    step = -size if back else size
    readings = [(e, 0.0) for e in before] + [(1.0, step)] + [(e, 0.0) for e in after]
    seen = _run(None, readings)
    steps = [reading.step for _, _, reading in seen if reading.step is not None]
    assert len(steps) == 1
    (reported,) = steps
    assert reported.direction is (StepDirection.BACK if back else StepDirection.FORWARD)
    assert reported.seconds == pytest.approx(size, rel=1e-9, abs=1e-3)


@settings(max_examples=200)
@given(readings=st.lists(_elapsed, max_size=40))
def test_clocks_that_agree_are_never_a_step(readings: list[float]) -> None:
    seen = _run(None, [(e, 0.0) for e in readings])
    for wall, _, reading in seen:
        assert reading.step is None
        assert abs((reading.now - wall).total_seconds()) < 1e-3
