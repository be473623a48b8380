"""A calendar event's schedule, and a grant's schedule as a recurring series.

An event is one window, or a weekly one with a repeat rule
(`FREQ=WEEKLY[;BYDAY=..][;UNTIL=..]`); any other rule is refused with a translated
message. A grant with one weekly window is shown as a series with such a rule.
"""

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.components.calendar.const import EVENT_END, EVENT_RRULE, EVENT_START
from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN
from .core.grants import Grant
from .core.schedule_times import resolve_local
from .core.windows import OneOffWindow, Schedule, WeeklyWindow

RRULE_WEEKDAYS: Mapping[str, int] = {
    "MO": 0,
    "TU": 1,
    "WE": 2,
    "TH": 3,
    "FR": 4,
    "SA": 5,
    "SU": 6,
}
"""iCalendar weekday codes (BYDAY) and Python's weekday numbers."""

_UNTIL_DATE = re.compile(r"[0-9]{8}")
_UNTIL_DATETIME = re.compile(r"[0-9]{8}T[0-9]{6}Z?")
_DAY = timedelta(days=1)
_WEEK_DAYS = 7


def _unsupported() -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key="unsupported_recurrence"
    )


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    """An event's start or end as an instant; a date is the site's local midnight."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    return resolve_local(value, time(0), tz)


def _rule_parts(rule: str) -> dict[str, str]:
    """Split `FREQ=WEEKLY;BYDAY=TU,TH` into its parts (names upper-cased)."""
    parts: dict[str, str] = {}
    for item in rule.upper().split(";"):
        name, sep, value = item.partition("=")
        if not sep or name in parts:
            raise _unsupported()
        parts[name] = value
    return parts


def _weekdays(byday: str | None, first: datetime) -> frozenset[int]:
    """Weekdays from BYDAY; without it, the weekday of the first occurrence."""
    if byday is None:
        return frozenset({first.weekday()})
    codes = byday.split(",")
    if not all(code in RRULE_WEEKDAYS for code in codes):
        raise _unsupported()  # also "1TU" and the like: they need a monthly or yearly rule
    return frozenset(RRULE_WEEKDAYS[code] for code in codes)


def _until_limit(until: str, tz: ZoneInfo) -> datetime:
    """The latest instant an occurrence may start at, from an UNTIL value.

    A date includes the whole local day; a date-time ending in Z is UTC, one without
    it is local (a floating time) in the site's time zone.
    """
    if _UNTIL_DATE.fullmatch(until):
        next_day = date.fromisoformat(until) + _DAY
        return resolve_local(next_day, time(0), tz) - timedelta(microseconds=1)
    if not _UNTIL_DATETIME.fullmatch(until):
        raise _unsupported()
    moment = datetime.fromisoformat(until)
    return moment if moment.tzinfo is not None else resolve_local(moment.date(), moment.time(), tz)


def _last_end(window: WeeklyWindow, limit: datetime, tz: ZoneInfo) -> datetime:
    """The end of the last occurrence of `window` that starts at or before `limit`."""
    day = limit.astimezone(tz).date()
    starts = [
        d
        for d in (day - timedelta(days=n) for n in range(_WEEK_DAYS + 1))
        if d.weekday() in window.weekdays and resolve_local(d, window.start, tz) <= limit
    ]
    last = max(starts)  # never empty: the same weekday a week before always qualifies
    return resolve_local(last + _DAY if window.overnight else last, window.end, tz)


def _weekly(rule: str, start: datetime, end: datetime, tz: ZoneInfo) -> Schedule:
    """A weekly schedule from `FREQ=WEEKLY[;BYDAY=..][;UNTIL=..]` and the first occurrence.

    The occurrence's local wall-clock times become the window's times; it may last a
    day at most (an end at or before the start time runs overnight). The schedule
    starts with the first occurrence and ends with the last one starting by UNTIL.
    """
    parts = _rule_parts(rule)
    if parts.pop("FREQ", None) != "WEEKLY" or parts.pop("INTERVAL", "1") != "1":
        raise _unsupported()
    parts.pop("WKST", None)  # the week's first day only matters for longer intervals
    byday = parts.pop("BYDAY", None)
    until = parts.pop("UNTIL", None)
    local_start = start.astimezone(tz)
    local_end = end.astimezone(tz)
    wall_length = local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None)
    if parts or not timedelta(0) < wall_length <= _DAY:
        raise _unsupported()
    window = WeeklyWindow(
        weekdays=_weekdays(byday, local_start),
        start=time(local_start.hour, local_start.minute),
        end=time(local_end.hour, local_end.minute),
    )
    if window.start == window.end and wall_length != _DAY:
        raise _unsupported()  # shorter than a minute: it would become a whole day
    valid_until = None if until is None else _last_end(window, _until_limit(until, tz), tz)
    return Schedule((window,), valid_from=start, valid_until=valid_until)


def series_window(grant: Grant) -> WeeklyWindow | None:
    """The weekly window of a grant shown as a recurring series (it has only that one)."""
    windows = grant.schedule.windows
    if len(windows) == 1 and isinstance(window := windows[0], WeeklyWindow):
        return window
    return None


def series_rule(grant: Grant) -> str | None:
    """The repeat rule of a grant's series; None for a grant shown event by event."""
    if (window := series_window(grant)) is None:
        return None
    days = ",".join(code for code, day in RRULE_WEEKDAYS.items() if day in window.weekdays)
    rule = f"FREQ=WEEKLY;BYDAY={days}"
    if (until := grant.schedule.valid_until) is not None:
        rule += ";UNTIL=" + until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return rule


def event_schedule(event: Mapping[str, Any], tz: ZoneInfo) -> Schedule:
    """The schedule of a calendar event: one window, or a weekly one with a repeat rule."""
    start = _instant(event[EVENT_START], tz)
    end = _instant(event[EVENT_END], tz)
    if rule := event.get(EVENT_RRULE):
        return _weekly(rule, start, end, tz)
    return Schedule((OneOffWindow(start, end),))
