"""When a schedule is open: its intervals and edges, in the site's time zone.

All intervals are half-open, `[start, end)`, and every instant the functions return is
an aware datetime in UTC. Weekly windows are evaluated in the site's time zone (the `tz`
argument of every function here).

Wall-clock times are mapped to instants with two rules, applied to starts and ends
alike:

- a time that does not exist (inside the spring-forward gap) maps to the first valid
  instant after the gap (02:30 on a Berlin spring-forward night becomes 03:00 CEST);
- an ambiguous time (the repeated fall-back hour) maps to its first occurrence.

So a weekly window lasts its nominal length in wall-clock time, and on DST days its
real duration may be an hour shorter or longer. That is intended: "Sundays 01:30-03:30"
means what the clock on the wall shows.

What windows and schedules are, and how they are stored: `core.windows`.
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .skips import skips_reach
from .windows import Interval, OneOffWindow, Schedule, WeeklyWindow, aware_utc

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
    window: WeeklyWindow, tz: ZoneInfo, lo: datetime, hi: datetime, skipped: frozenset[date]
) -> Iterator[Interval]:
    """Yield the window's occurrences that may touch `[lo, hi)` (a superset), none skipped."""
    day = lo.astimezone(tz).date() - _MARGIN
    last = hi.astimezone(tz).date()
    while day <= last:
        if day.weekday() in window.weekdays and day not in skipped:
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
            else _weekly_occurrences(window, tz, lo, hi, schedule.skipped)
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
        + ([reach[1]] if (reach := skips_reach(schedule.skipped)) else [])
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
        + ([reach[0]] if (reach := skips_reach(schedule.skipped)) else [])
    )
    return earliest - (_QUIET if schedule.has_weekly else _MARGIN)


# --- public evaluation ------------------------------------------------------------------


def is_open(schedule: Schedule, tz: ZoneInfo, at: datetime) -> bool:
    """Return whether the schedule lets someone in at instant `at`."""
    at = aware_utc(at, "at")
    return any(i.contains(at) for i in _raw(schedule, tz, at, at + _TICK))


def occurrences(schedule: Schedule, tz: ZoneInfo, start: datetime, end: datetime) -> list[Interval]:
    """Return the merged, sorted open intervals within `[start, end)`.

    Intervals are clipped to the query range: an interval cut at `start` or `end`
    continues beyond it. Touching windows are merged, so every boundary strictly
    inside the range is a real edge (see `next_edge`).
    """
    start = aware_utc(start, "start")
    end = aware_utc(end, "end")
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
    after = aware_utc(after, "after")
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
    at = aware_utc(at, "at")
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
    at = aware_utc(at, "at")
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
