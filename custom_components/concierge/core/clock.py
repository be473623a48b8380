"""Site time: a clock that never goes backwards, whatever the wall clock does.

Grant windows are decided on the wall clock, and the wall clock is not trustworthy: an
NTP correction steps it back, a Raspberry Pi without a battery-backed clock starts an
hour (or a year) behind after a power cut. A decision made on a clock that went back
would undo decisions already carried out: an expired grant active again, its PIN
written to the lock again.

Site time is the wall clock, held so it never moves backwards:

- each reading pairs the wall clock with a monotonic clock (seconds that only count
  up, such as the event loop's `time()`);
- site time is the later of the wall clock and the last site time plus the monotonic
  seconds elapsed since it was read. A step back of the wall clock is thus ignored (site
  time carries on from where it was, at the monotonic clock's pace) and a step forward
  is taken;
- the last site time is kept across restarts (`ClockMark.effective`): the first reading
  of a process is at least the stored value, so a clock far behind at start changes
  nothing already decided;
- every reading says whether the wall clock stepped since the previous one (how far
  and which way), once per step: a wall clock that stays behind by the same amount is
  not a new step.

A wall clock that drifts against the monotonic one by less than `STEP_TOLERANCE` between
two readings (NTP slewing it, jitter) has not stepped.

Site time never loses ground against the monotonic clock: `effective - monotonic` never
decreases. As a monotonic clock never goes backwards, site time never does either. (A
test harness that moves every clock at once, freezegun's, can move the monotonic clock
back; site time then moves with it, and the wall clock did not step against it.)
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

STEP_TOLERANCE = 2.0
"""Seconds the wall clock may drift against the monotonic clock without being a step."""


class StepDirection(StrEnum):
    """Which way the wall clock stepped."""

    BACK = "back"
    FORWARD = "forward"


@dataclass(frozen=True, slots=True)
class ClockStep:
    """A step of the wall clock against elapsed time."""

    direction: StepDirection
    seconds: float
    """The size of the step (always positive)."""


@dataclass(frozen=True, slots=True)
class ClockMark:
    """The last reading: site time, the monotonic clock, and how far the wall lags."""

    effective: datetime
    """Site time at the reading (aware, UTC)."""
    monotonic: float
    """The monotonic clock at the reading (seconds; meaningful within one process)."""
    lag: float = 0.0
    """Seconds the wall clock was behind site time at the reading (never negative)."""


@dataclass(frozen=True, slots=True)
class ClockReading:
    """The outcome of reading the clocks: the new mark, and a step if one happened."""

    mark: ClockMark
    step: ClockStep | None = None

    @property
    def now(self) -> datetime:
        """Site time at this reading."""
        return self.mark.effective


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None or when.utcoffset() is None:
        msg = "site time needs aware datetimes"
        raise ValueError(msg)
    return when.astimezone(UTC)


def _step(jump: float, tolerance: float) -> ClockStep | None:
    if jump > tolerance:
        return ClockStep(StepDirection.FORWARD, jump)
    if jump < -tolerance:
        return ClockStep(StepDirection.BACK, -jump)
    return None


def start(
    stored: datetime | None,
    wall: datetime,
    monotonic: float,
    *,
    tolerance: float = STEP_TOLERANCE,
) -> ClockReading:
    """The first reading of a process, given the site time stored by the last one.

    Site time starts at the later of the wall clock and `stored`. A wall clock behind
    `stored` by more than `tolerance` is reported as a step back.
    """
    wall = _utc(wall)
    if stored is None or wall >= (stored := _utc(stored)):
        return ClockReading(ClockMark(wall, monotonic))
    lag = (stored - wall).total_seconds()
    return ClockReading(ClockMark(stored, monotonic, lag), _step(-lag, tolerance))


def read(
    mark: ClockMark,
    wall: datetime,
    monotonic: float,
    *,
    tolerance: float = STEP_TOLERANCE,
) -> ClockReading:
    """Read the clocks again: site time now, and whether the wall clock stepped."""
    wall = _utc(wall)
    elapsed = monotonic - mark.monotonic
    carried = mark.effective + timedelta(seconds=elapsed)
    effective = max(wall, carried)
    # Without a step, the wall clock still lags site time by `mark.lag`: whatever
    # differs from that is how far the wall clock moved against elapsed time.
    jump = (wall - carried).total_seconds() + mark.lag
    lag = (effective - wall).total_seconds()
    return ClockReading(ClockMark(effective, monotonic, lag), _step(jump, tolerance))


def advance(mark: ClockMark, to: datetime) -> ClockMark:
    """Move site time forward to `to` if it is behind (never back); not a step.

    For an instant the shell has already acted on (a window edge whose timer fired a
    hair early): no later reading may fall before it.
    """
    to = _utc(to)
    if to <= mark.effective:
        return mark
    ahead = (to - mark.effective).total_seconds()
    return ClockMark(to, mark.monotonic, mark.lag + ahead)


def seconds_until(when: datetime, now: datetime) -> float:
    """Monotonic seconds from site time `now` until site time `when` (0 if past)."""
    return max(0.0, (_utc(when) - _utc(now)).total_seconds())
