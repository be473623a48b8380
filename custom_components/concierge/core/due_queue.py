"""Keys due at instants, earliest first: what one timer for many waits needs.

A site waits for many instants at once (each grant's next window edge, each ended
grant's retirement). One timer for the earliest does it, if the earliest is cheap to
find after any change: a heap of (instant, key), where an entry is valid while its key
is still due at its instant (a newer `set` or a `drop` leaves the old entry stale, to be
skipped when it comes to the top). A change costs a heap push, whatever the number of
keys. Plain typed Python, no Home Assistant.
"""

import heapq
from collections.abc import Iterable
from datetime import datetime


class DueQueue:
    """Keys and the instant each is due at; the earliest first."""

    def __init__(self) -> None:
        """An empty queue."""
        self._due: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []

    def __len__(self) -> int:
        """How many keys are due at some instant."""
        return len(self._due)

    def get(self, key: str) -> datetime | None:
        """The instant `key` is due at; None if it is not in the queue."""
        return self._due.get(key)

    def set(self, key: str, at: datetime) -> None:
        """`key` is due at `at` (instead of any instant before)."""
        if self._due.get(key) == at:
            return
        self._due[key] = at
        heapq.heappush(self._heap, (at, key))
        if len(self._heap) > 2 * len(self._due) + 64:
            self._heap = [(t, k) for k, t in self._due.items()]
            heapq.heapify(self._heap)

    def set_many(self, items: Iterable[tuple[str, datetime]]) -> None:
        """`set` each (key, instant), at once."""
        self._due.update(items)
        self._heap = [(t, k) for k, t in self._due.items()]
        heapq.heapify(self._heap)

    def drop(self, key: str) -> None:
        """`key` is no longer due."""
        self._due.pop(key, None)

    def clear(self) -> None:
        """Nothing is due."""
        self._due.clear()
        self._heap.clear()

    def first(self) -> datetime | None:
        """The earliest instant a key is due at; None if the queue is empty."""
        heap = self._heap
        while heap:
            at, key = heap[0]
            if self._due.get(key) == at:
                return at
            heapq.heappop(heap)  # stale: the key was set again or dropped
        return None

    def pop_due(self, now: datetime) -> list[tuple[str, datetime]]:
        """Take the keys due at or before `now` (earliest first), with their instants."""
        due: list[tuple[str, datetime]] = []
        heap = self._heap
        while (at := self.first()) is not None and at <= now:
            _, key = heapq.heappop(heap)
            del self._due[key]
            due.append((key, at))
        return due
