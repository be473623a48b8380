"""Occurrences left out of a weekly schedule ("only this one" deleted in a calendar).

A schedule's `skipped` dates are local dates (the site's time zone): a weekly occurrence
that starts on a skipped date is closed — its PIN is not on the lock, a courier is
refused as outside the window — and the calendar does not show it. One-off windows are
never skipped. Absent in stored data means none.

A calendar names an occurrence by its recurrence id, the local start as iCalendar writes
it (`20261124T093000`); its date is the date to skip. Plain typed Python, no Home
Assistant.
"""

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from . import _parse
from .errors import InvalidWindowError

MAX_SKIPPED = 1000
"""The most dates a schedule may leave out (about 19 years of a weekly window)."""

_RECURRENCE_ID = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})(T[0-9]{6}Z?)?")
_DAY = timedelta(days=1)


def check_skipped(skipped: object) -> frozenset[date]:
    """Validate a schedule's skipped dates (a frozenset of dates, at most `MAX_SKIPPED`)."""
    if (
        not isinstance(skipped, frozenset)
        or len(skipped) > MAX_SKIPPED
        or not all(type(day) is date for day in skipped)
    ):
        raise InvalidWindowError(translation_key="invalid_skipped")
    return skipped


def skipped_to_list(skipped: frozenset[date]) -> list[str]:
    """The stored form: ISO dates, sorted."""
    return [day.isoformat() for day in sorted(skipped)]


def skipped_from_dict(data: object, what: str) -> frozenset[date]:
    """Read `skipped` from a stored schedule; absent or null is none."""
    obj = _parse.as_mapping(data, what)
    if obj.get("skipped") is None:
        return frozenset()
    days: set[date] = set()
    for value in _parse.get_list(obj, "skipped", what):
        if not isinstance(value, str):
            raise _parse.fail(what, "skipped")
        try:
            days.add(date.fromisoformat(value))
        except ValueError:
            raise _parse.fail(what, "skipped") from None
    return frozenset(days)


def recurrence_id(local_start: datetime) -> str:
    """The recurrence id of an occurrence starting at `local_start` (site-local time)."""
    return local_start.strftime("%Y%m%dT%H%M%S")


def occurrence_day(value: str) -> date | None:
    """The local date a recurrence id names; None if it is not one."""
    match = _RECURRENCE_ID.fullmatch(value.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def with_skipped(skipped: frozenset[date], day: date) -> frozenset[date]:
    """`skipped` and `day` (the dates already past may be dropped by the caller)."""
    return check_skipped(skipped | {day})


def skips_reach(skipped: Iterable[date]) -> tuple[datetime, datetime] | None:
    """Instants (UTC) surely before the first and after the last skipped local date.

    A run of skipped occurrences is a quiet time without edges; searches for the next
    or previous edge of a schedule without an end look past it by this much.
    """
    days = sorted(skipped)
    if not days:
        return None
    first = datetime.combine(days[0], time(0), UTC) - 2 * _DAY
    last = datetime.combine(days[-1], time(0), UTC) + 2 * _DAY
    return first, last
