"""Access windows and schedules: when a grant lets someone in.

All intervals are half-open, `[start, end)`, and every instant the functions return
is an aware datetime in UTC.

Two kinds of window exist:

- `OneOffWindow`: two absolute instants.
- `WeeklyWindow`: a set of weekdays and a local wall-clock start and end, evaluated in
  the site's time zone (the `tz` argument of every evaluating function). An end at or
  before the start means the window runs overnight into the next day (an end equal to
  the start is a full day).

Wall-clock times are mapped to instants with two rules, applied to starts and ends
alike:

- a time that does not exist (inside the spring-forward gap) maps to the first valid
  instant after the gap (02:30 on a Berlin spring-forward night becomes 03:00 CEST);
- an ambiguous time (the repeated fall-back hour) maps to its first occurrence.

So a weekly window lasts its nominal length in wall-clock time, and on DST days its
real duration may be an hour shorter or longer. That is intended: "Sundays 01:30-03:30"
means what the clock on the wall shows.

A `Schedule` combines windows (their union) with optional overall validity bounds
`valid_from` / `valid_until` (a weekly schedule usually has a date range).
"""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import _parse
from .errors import InvalidWindowError

MAX_ONE_OFF_LENGTH = timedelta(days=366)
"""The longest one-off window allowed."""

CURRENT_INTERVAL_HORIZON = timedelta(days=366)
"""How far `current_interval` looks either side of its instant (see there)."""

# The search machinery. Weekly occurrences last at most ~25 h, so 2 days of margin
# around any range catches every occurrence touching it. A weekly pattern without
# edges over 22 consecutive days (which always contain a DST-free week) has none ever.
_MARGIN = timedelta(days=2)
_QUIET = timedelta(days=22)
_CHUNK = timedelta(days=8)
_OVERLAP = timedelta(days=1)
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)

_WHAT_WINDOW = "window"
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_WHAT_SCHEDULE = "schedule"


def _aware_utc(value: datetime, field: str) -> datetime:
    """Return `value` in UTC, refusing naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidWindowError(translation_key="naive_datetime", placeholders={"field": field})
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open interval `[start, end)` of absolute instants (UTC)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        """Normalise to UTC and require `end > start`."""
        object.__setattr__(self, "start", _aware_utc(self.start, "start"))
        object.__setattr__(self, "end", _aware_utc(self.end, "end"))
        if self.end <= self.start:
            raise InvalidWindowError(translation_key="window_end_before_start")

    def contains(self, at: datetime) -> bool:
        """Return whether `at` lies in `[start, end)`."""
        return self.start <= at < self.end

    @property
    def duration(self) -> timedelta:
        """The real (elapsed) length of the interval."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class OneOffWindow:
    """A single window between two absolute instants (stored in UTC)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        """Normalise to UTC and check order and maximum length."""
        object.__setattr__(self, "start", _aware_utc(self.start, "start"))
        object.__setattr__(self, "end", _aware_utc(self.end, "end"))
        if self.end <= self.start:
            raise InvalidWindowError(translation_key="window_end_before_start")
        if self.end - self.start > MAX_ONE_OFF_LENGTH:
            raise InvalidWindowError(
                translation_key="window_too_long",
                placeholders={"max_days": str(MAX_ONE_OFF_LENGTH.days)},
            )

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage."""
        return {"type": "one_off", "start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A window recurring on weekdays (0=Monday) between local wall-clock times.

    `end <= start` means the window runs overnight into the next day.
    """

    weekdays: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        """Check weekdays (non-empty, 0..6) and minute-precision naive times."""
        days: object = self.weekdays
        if (
            not isinstance(days, frozenset)
            or not days
            or not all(type(d) is int and 0 <= d <= 6 for d in days)  # noqa: PLR2004
        ):
            raise InvalidWindowError(translation_key="invalid_weekdays")
        for name in ("start", "end"):
            value: object = getattr(self, name)
            if (
                not isinstance(value, time)
                or value.tzinfo is not None
                or value.second
                or value.microsecond
            ):
                raise InvalidWindowError(
                    translation_key="invalid_time", placeholders={"field": name}
                )

    @property
    def overnight(self) -> bool:
        """Whether each occurrence ends on the following day."""
        return self.end <= self.start

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage (weekdays sorted, times as HH:MM)."""
        return {
            "type": "weekly",
            "weekdays": sorted(self.weekdays),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
        }


type Window = OneOffWindow | WeeklyWindow
"""Any access window."""


def _parse_hhmm(value: object, field: str) -> time:
    """Parse a strict `HH:MM` string."""
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _parse.fail(_WHAT_WINDOW, field)
    return time(int(match[1]), int(match[2]))


def window_from_dict(data: object) -> Window:
    """Rebuild a window from `to_dict` output."""
    obj = _parse.as_mapping(data, _WHAT_WINDOW)
    kind = _parse.get_str(obj, "type", _WHAT_WINDOW)
    if kind == "one_off":
        return OneOffWindow(
            start=_parse.get_datetime(obj, "start", _WHAT_WINDOW),
            end=_parse.get_datetime(obj, "end", _WHAT_WINDOW),
        )
    if kind != "weekly":
        raise _parse.fail(_WHAT_WINDOW, "type")
    days = _parse.get_list(obj, "weekdays", _WHAT_WINDOW)
    if not all(type(d) is int for d in days):
        raise _parse.fail(_WHAT_WINDOW, "weekdays")
    return WeeklyWindow(
        weekdays=frozenset(d for d in days if type(d) is int),
        start=_parse_hhmm(obj.get("start"), "start"),
        end=_parse_hhmm(obj.get("end"), "end"),
    )


@dataclass(frozen=True, slots=True)
class Schedule:
    """The union of windows, limited to `[valid_from, valid_until)` where given."""

    windows: tuple[Window, ...]
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    def __post_init__(self) -> None:
        """Check the windows and the validity bounds."""
        windows: object = self.windows
        if not isinstance(windows, tuple) or not windows:
            raise InvalidWindowError(translation_key="no_windows")
        if self.valid_from is not None:
            object.__setattr__(self, "valid_from", _aware_utc(self.valid_from, "valid_from"))
        if self.valid_until is not None:
            object.__setattr__(self, "valid_until", _aware_utc(self.valid_until, "valid_until"))
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise InvalidWindowError(translation_key="invalid_validity")
        for window in self.windows:
            if isinstance(window, OneOffWindow) and self.clip(window.start, window.end) is None:
                raise InvalidWindowError(translation_key="window_outside_validity")

    @property
    def has_weekly(self) -> bool:
        """Whether any window recurs weekly."""
        return any(isinstance(w, WeeklyWindow) for w in self.windows)

    def clip(self, start: datetime, end: datetime) -> Interval | None:
        """Clip `[start, end)` to the validity bounds; None if nothing is left."""
        if self.valid_from is not None:
            start = max(start, self.valid_from)
        if self.valid_until is not None:
            end = min(end, self.valid_until)
        return Interval(start, end) if start < end else None

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage."""
        return {
            "windows": [w.to_dict() for w in self.windows],
            "valid_from": None if self.valid_from is None else self.valid_from.isoformat(),
            "valid_until": None if self.valid_until is None else self.valid_until.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: object) -> Schedule:
        """Rebuild a schedule from `to_dict` output."""
        obj = _parse.as_mapping(data, _WHAT_SCHEDULE)
        return cls(
            windows=tuple(
                window_from_dict(w) for w in _parse.get_list(obj, "windows", _WHAT_SCHEDULE)
            ),
            valid_from=_parse.get_opt_datetime(obj, "valid_from", _WHAT_SCHEDULE),
            valid_until=_parse.get_opt_datetime(obj, "valid_until", _WHAT_SCHEDULE),
        )


# --- wall clock to instants -------------------------------------------------------------


def resolve_local(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """Map a local date and wall-clock time to an instant (UTC) with the DST rules.

    A non-existent time (spring-forward gap) maps to the first valid instant after
    the gap; an ambiguous time (fall-back) maps to its first occurrence.
    """
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=tz).astimezone(UTC)  # fold=0: first occurrence
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # Inside a gap: the transition lies between the two candidate mappings. Find the
    # first whole second whose wall-clock time is at or after `naive`.
    other = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low = int(min(first, other).timestamp())
    high = int(max(first, other).timestamp())
    while high - low > 1:
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return datetime.fromtimestamp(high, UTC)


def _weekly_occurrences(
    window: WeeklyWindow, tz: ZoneInfo, lo: datetime, hi: datetime
) -> Iterator[Interval]:
    """Yield the window's occurrences that may touch `[lo, hi)` (a superset)."""
    day = lo.astimezone(tz).date() - _MARGIN
    last = hi.astimezone(tz).date()
    while day <= last:
        if day.weekday() in window.weekdays:
            start = resolve_local(day, window.start, tz)
            end = resolve_local(day + _DAY if window.overnight else day, window.end, tz)
            if start < end:  # a window entirely inside a DST gap vanishes that day
                yield Interval(start, end)
        day += _DAY


def _raw(schedule: Schedule, tz: ZoneInfo, lo: datetime, hi: datetime) -> list[Interval]:
    """All occurrences, clipped to the validity bounds, that intersect `[lo, hi)`."""
    found: list[Interval] = []
    for window in schedule.windows:
        candidates: Iterator[Interval] | tuple[Interval, ...] = (
            (Interval(window.start, window.end),)
            if isinstance(window, OneOffWindow)
            else _weekly_occurrences(window, tz, lo, hi)
        )
        for candidate in candidates:
            clipped = schedule.clip(candidate.start, candidate.end)
            if clipped is not None and clipped.start < hi and clipped.end > lo:
                found.append(clipped)
    return found


def _merge(intervals: Sequence[Interval]) -> list[Interval]:
    """Merge overlapping and touching intervals; return them sorted."""
    merged: list[Interval] = []
    for interval in sorted(intervals, key=lambda i: i.start):
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return merged


def _edges(schedule: Schedule, tz: ZoneInfo, lo: datetime, hi: datetime) -> list[datetime]:
    """Return the genuine edges strictly inside `(lo, hi)`.

    Occurrences outside `[lo, hi)` can only extend merged intervals that already reach
    `lo` or `hi`, so boundaries strictly inside the range are exact.
    """
    edges: list[datetime] = []
    for interval in _merge(_raw(schedule, tz, lo, hi)):
        edges.extend(t for t in (interval.start, interval.end) if lo < t < hi)
    return edges


def _forward_limit(schedule: Schedule, after: datetime) -> datetime:
    """Return an instant past which no edge after `after` exists if none came before."""
    if schedule.valid_until is not None:
        return schedule.valid_until + _MARGIN
    latest = max(
        [after]
        + [w.end for w in schedule.windows if isinstance(w, OneOffWindow)]
        + ([schedule.valid_from] if schedule.valid_from is not None else [])
    )
    return latest + (_QUIET if schedule.has_weekly else _MARGIN)


def _backward_limit(schedule: Schedule, before: datetime) -> datetime:
    """Return an instant before which no edge exists if none came between it and `before`."""
    if schedule.valid_from is not None:
        return schedule.valid_from - _MARGIN
    earliest = min(
        [before]
        + [w.start for w in schedule.windows if isinstance(w, OneOffWindow)]
        + ([schedule.valid_until] if schedule.valid_until is not None else [])
    )
    return earliest - (_QUIET if schedule.has_weekly else _MARGIN)


# --- public evaluation ------------------------------------------------------------------


def is_open(schedule: Schedule, tz: ZoneInfo, at: datetime) -> bool:
    """Return whether the schedule lets someone in at instant `at`."""
    at = _aware_utc(at, "at")
    return any(i.contains(at) for i in _raw(schedule, tz, at, at + _TICK))


def occurrences(schedule: Schedule, tz: ZoneInfo, start: datetime, end: datetime) -> list[Interval]:
    """Return the merged, sorted open intervals within `[start, end)`.

    Intervals are clipped to the query range: an interval cut at `start` or `end`
    continues beyond it. Touching windows are merged, so every boundary strictly
    inside the range is a real edge (see `next_edge`).
    """
    start = _aware_utc(start, "start")
    end = _aware_utc(end, "end")
    if end <= start:
        return []
    return [
        Interval(max(i.start, start), min(i.end, end))
        for i in _merge(_raw(schedule, tz, start, end))
    ]


def next_edge(schedule: Schedule, tz: ZoneInfo, after: datetime) -> datetime | None:
    """Return the earliest instant `> after` at which openness changes.

    Returns None when openness never changes again (the schedule is over, or open
    for good). Use it to schedule a callback exactly at the next window edge.
    """
    after = _aware_utc(after, "after")
    limit = _forward_limit(schedule, after)
    lo, span = after, _CHUNK
    while lo < limit:
        hi = lo + span
        found = _edges(schedule, tz, lo, hi)
        if found:
            return min(found)
        lo, span = hi - _OVERLAP, span * 2
    return None


def previous_edge(schedule: Schedule, tz: ZoneInfo, at: datetime) -> datetime | None:
    """Return the latest instant `<= at` at which openness changed, or None if never."""
    at = _aware_utc(at, "at")
    limit = _backward_limit(schedule, at)
    hi, span = at + _OVERLAP, _CHUNK
    while hi > limit:
        lo = hi - span
        found = [t for t in _edges(schedule, tz, lo, hi) if t <= at]
        if found:
            return max(found)
        hi, span = lo + _OVERLAP, span * 2
    return None


def current_interval(schedule: Schedule, tz: ZoneInfo, at: datetime) -> Interval | None:
    """Return the whole merged interval containing `at`, or None when closed at `at`.

    The interval is exact, except that a side which never ends (a weekly schedule
    open around the clock without a validity bound on that side) is reported as
    `at ± CURRENT_INTERVAL_HORIZON`.
    """
    at = _aware_utc(at, "at")
    if not is_open(schedule, tz, at):
        return None
    start = previous_edge(schedule, tz, at)
    end = next_edge(schedule, tz, at)
    return Interval(
        at - CURRENT_INTERVAL_HORIZON if start is None else start,
        at + CURRENT_INTERVAL_HORIZON if end is None else end,
    )


def last_end(schedule: Schedule, tz: ZoneInfo) -> datetime | None:
    """Return the end of the schedule's last interval; None if it never ends.

    A schedule with weekly windows and no `valid_until` never ends. A bounded schedule
    that never opens at all (e.g. a weekly day that falls outside a short validity
    range) returns `valid_until`.
    """
    if schedule.valid_until is not None:
        bound = schedule.valid_until
    elif schedule.has_weekly:
        return None
    else:
        bound = max(w.end for w in schedule.windows if isinstance(w, OneOffWindow))
    edge = previous_edge(schedule, tz, bound)
    return bound if edge is None else edge
