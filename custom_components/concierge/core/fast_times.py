"""`schedule_times`' answers in a few comparisons for a schedule of one-off windows only.

A site with thousands of grants has mostly one-off grants (guests, couriers); setup asks
each one's state and next edge. `schedule_times` searches any schedule in chunks of days
(weekly windows, DST); a schedule of one-off windows is just its windows clipped to the
validity bounds and merged, and every answer is read off that list. A schedule with a
weekly window is handed to `schedule_times` unchanged. The answers are the same
(`tests/core/test_core_fast_times.py` checks them against `schedule_times`).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from . import schedule_times
from .windows import Interval, OneOffWindow, Schedule

type Spans = list[tuple[datetime, datetime]]


def one_off_spans(schedule: Schedule) -> Spans | None:
    """The merged, sorted open intervals of a one-off schedule; None if a window is weekly."""
    low, high = schedule.valid_from, schedule.valid_until
    spans: Spans = []
    for window in schedule.windows:
        if type(window) is not OneOffWindow:
            return None
        start, end = window.start, window.end
        if low is not None and low > start:
            start = low
        if high is not None and high < end:
            end = high
        if start < end:
            spans.append((start, end))
    if len(spans) < 2:  # noqa: PLR2004 - one window: nothing to merge
        return spans
    spans.sort()
    merged: Spans = [spans[0]]
    for start, end in spans[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            if end > last_end:
                merged[-1] = (last_start, end)
        else:
            merged.append((start, end))
    return merged


def is_open(schedule: Schedule, tz: ZoneInfo, at: datetime) -> bool:
    """As `schedule_times.is_open`."""
    if (spans := one_off_spans(schedule)) is None or at.tzinfo is None:
        return schedule_times.is_open(schedule, tz, at)
    return any(start <= at < end for start, end in spans)


def next_edge(schedule: Schedule, tz: ZoneInfo, after: datetime) -> datetime | None:
    """As `schedule_times.next_edge`."""
    if (spans := one_off_spans(schedule)) is None or after.tzinfo is None:
        return schedule_times.next_edge(schedule, tz, after)
    for start, end in spans:
        if start > after:
            return start
        if end > after:
            return end
    return None


def last_end(schedule: Schedule, tz: ZoneInfo) -> datetime | None:
    """As `schedule_times.last_end`."""
    if not (spans := one_off_spans(schedule)):
        return schedule_times.last_end(schedule, tz)
    return spans[-1][1]


def current_or_next(schedule: Schedule, tz: ZoneInfo, now: datetime) -> Interval | None:
    """The whole interval open at `now`, else the next one; None if none is left."""
    if (spans := one_off_spans(schedule)) is None or now.tzinfo is None:
        at = (
            now
            if schedule_times.is_open(schedule, tz, now)
            else schedule_times.next_edge(schedule, tz, now)
        )
        return None if at is None else schedule_times.current_interval(schedule, tz, at)
    for start, end in spans:
        if end > now:
            return Interval(start, end)
    return None
