"""Grants found by time: whose windows may fall in a range, and whose window is open or next.

A calendar asks two things of a site's grants: every window in a range (a month view)
and the window open now, or else the next to open, of any grant. Asking every grant
costs as much as there are grants; this index answers from the grants concerned, and
works out for each grant only what a question needs, when it is first asked.

- By range: each grant's windows lie within its span (from its validity's start or its
  first one-off window, to its validity's end or its last one-off window). A grant is
  filed under each week its span touches; a span of more than `MAX_WEEKS` weeks, or with
  no start or no end (a weekly grant without validity bounds), is asked always. A range
  asks the grants filed under its weeks: a superset of those with a window in it. The
  grants are filed at the first range asked (a site that is only set up files none).
- Open or next: a heap of each grant's current or next window, ordered as a calendar
  shows them (start, end, label, id). A grant enters it with its span's start as a
  stand-in (never later than its true window), worked out only when it comes to the top:
  so finding the first window at setup works out a few grants, not all. An entry is
  stale once its grant changed (a newer entry follows) or its window ended; a stale
  entry that comes to the top is dropped or replaced by the grant's next window. A
  stale entry is never later than its grant's true next window, so the top's first
  valid, worked-out entry is the answer.

A change to one grant costs that grant's weeks and a heap push, whatever the number of
grants. Plain typed Python, no Home Assistant.
"""

import heapq
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from . import fast_times
from .grants import Grant
from .windows import Interval, OneOffWindow, Schedule

WEEK = timedelta(weeks=1)
MAX_WEEKS = 60
"""A grant whose span touches more weeks than this is asked for every range."""
_EPOCH = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday (weeks are counted in UTC)
_EARLIEST = datetime.min.replace(tzinfo=UTC)

type _Entry = tuple[datetime, datetime, str, str, int, Grant, bool]
"""start, end, label, grant id, order, grant, and whether the window is worked out."""


def _week(at: datetime) -> int:
    return (at - _EPOCH) // WEEK


def span(schedule: Schedule) -> tuple[datetime | None, datetime | None]:
    """The earliest start and latest end any of the schedule's windows can have."""
    one_offs = [w for w in schedule.windows if isinstance(w, OneOffWindow)]
    weekly = schedule.has_weekly
    start = schedule.valid_from
    if start is None and not weekly:
        start = min(w.start for w in one_offs)
    end = schedule.valid_until
    if end is None and not weekly:
        end = max(w.end for w in one_offs)
    return start, end


def current_or_next(schedule: Schedule, tz: ZoneInfo, now: datetime) -> Interval | None:
    """The whole interval open at `now`, else the next one; None if none is left."""
    return fast_times.current_or_next(schedule, tz, now)


class WindowIndex:
    """A calendar's grants (revoked ones leave it), by week and by their next window."""

    def __init__(self, tz: ZoneInfo) -> None:
        """An empty index for a site in `tz`."""
        self._tz = tz
        self._grants: dict[str, Grant] = {}
        self._weeks: dict[int, set[str]] = {}
        self._filed: dict[str, range] = {}
        self._always: set[str] = set()
        self._weeks_built = False
        """Whether the grants are filed by week (done when a range is first asked)."""
        self._heap: list[_Entry] = []
        self._order = count()

    def __len__(self) -> int:
        """How many grants the calendar shows."""
        return len(self._grants)

    def put(self, grant: Grant, now: datetime) -> None:
        """Add the grant or take its new version; a revoked grant leaves."""
        if (entry := self._take(grant, now)) is not None:
            heapq.heappush(self._heap, entry)
        if len(self._heap) > 2 * len(self._grants) + 64:
            self._compact()

    def put_all(self, grants: Iterable[Grant], now: datetime) -> None:
        """`put` each grant, at once (the heap built in one go)."""
        heap = self._heap
        heap.extend(entry for grant in grants if (entry := self._take(grant, now)) is not None)
        heapq.heapify(heap)

    def _take(self, grant: Grant, now: datetime) -> _Entry | None:
        """Record and file the grant; its stand-in heap entry if it has a window to come."""
        if self._grants.get(grant.id) is grant:
            return None  # the same version: filed and on the heap already
        self.drop(grant.id)
        if grant.revoked:
            return None
        self._grants[grant.id] = grant
        start, end = span(grant.schedule)
        if self._weeks_built:
            self._file(grant.id, start, end)
        if end is not None and end <= now:
            return None  # no window is open or to come: none to push
        at = _EARLIEST if start is None else start  # never after its true window
        return (at, at, grant.label, grant.id, next(self._order), grant, False)

    def _file(self, grant_id: str, start: datetime | None, end: datetime | None) -> None:
        if start is None or end is None or _week(end) - _week(start) >= MAX_WEEKS:
            self._always.add(grant_id)
            return
        weeks = range(_week(start), _week(end) + 1)
        self._filed[grant_id] = weeks
        for week in weeks:
            self._weeks.setdefault(week, set()).add(grant_id)

    def drop(self, grant_id: str) -> None:
        """The grant leaves the calendar (its heap entry goes stale)."""
        if self._grants.pop(grant_id, None) is None:
            return
        self._always.discard(grant_id)
        for week in self._filed.pop(grant_id, range(0)):
            filed = self._weeks[week]
            filed.discard(grant_id)
            if not filed:
                del self._weeks[week]

    def in_range(self, start: datetime, end: datetime) -> list[Grant]:
        """The grants that may have a window in `[start, end)` (a superset)."""
        if end <= start:
            return []
        if not self._weeks_built:
            self._weeks_built = True
            for grant in self._grants.values():
                self._file(grant.id, *span(grant.schedule))
        ids = set(self._always)
        last = _week(end)
        for week in range(_week(start), last + 1):
            ids.update(self._weeks.get(week, ()))
        return [self._grants[grant_id] for grant_id in ids]

    def open_or_next(self, now: datetime) -> tuple[Interval, Grant] | None:
        """The window open at `now`, else the next to open, of any grant (calendar order)."""
        heap = self._heap
        while heap:
            start, end, _label, grant_id, _n, grant, exact = heap[0]
            if self._grants.get(grant_id) is not grant:
                heapq.heappop(heap)  # changed or gone: a newer entry follows, or none
            elif not exact or end <= now:
                heapq.heappop(heap)  # its span's start, or a window over: the true one
                self._push(grant, now)
            else:
                return Interval(start, end), grant
        return None

    def _push(self, grant: Grant, now: datetime) -> None:
        if (interval := current_or_next(grant.schedule, self._tz, now)) is not None:
            order = next(self._order)
            entry = (interval.start, interval.end, grant.label, grant.id, order, grant, True)
            heapq.heappush(self._heap, entry)

    def _compact(self) -> None:
        self._heap = [e for e in self._heap if self._grants.get(e[3]) is e[5]]
        heapq.heapify(self._heap)


def index_of(grants: Iterable[Grant], tz: ZoneInfo, now: datetime) -> WindowIndex:
    """An index of `grants` (the revoked ones left out)."""
    index = WindowIndex(tz)
    index.put_all(grants, now)
    return index
