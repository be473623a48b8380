"""The database's one thread: jobs run one at a time, gate jobs before upkeep.

SQLite has one connection, used from one thread (`storage.py`). Two lanes feed it: the
foreground (check-ins, exits, the outbox, the status page) and upkeep (purge batches,
checkpoints, giving space back: `retention.py`). When the thread picks its next job it takes
the oldest foreground job if there is one, and an upkeep job only when none waits; so a
check-in waits at most for the one upkeep step that is running, never for upkeep queued
before it, and upkeep is cut into short steps. So that a store busy without a pause still
gets its upkeep done, an upkeep job that has seen `UPKEEP_PASSED_MAX` foreground jobs go
before it goes next.
"""

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from enum import IntEnum
from typing import Any, Final

UPKEEP_PASSED_MAX: Final = 32
"""Foreground jobs that may go before a waiting upkeep job; then it goes next."""


class Lane(IntEnum):
    """Foreground jobs go before upkeep; within a lane, in order of arrival."""

    FOREGROUND = 0
    UPKEEP = 1


type _Job = tuple[Callable[[], Any], Future[Any], int]
"""The work, its future, and how many foreground jobs had started when it was queued."""


class DbThread:
    """One thread that runs the jobs it is given, foreground first."""

    def __init__(self, name: str) -> None:
        """Name the thread; it starts with the first job."""
        self._name = name
        self._lanes: tuple[deque[_Job], deque[_Job]] = (deque(), deque())
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._started = 0
        """Foreground jobs handed to the thread so far."""

    @property
    def waiting(self) -> int:
        """Jobs queued that have not started yet."""
        with self._ready:
            return sum(len(lane) for lane in self._lanes)

    def submit[T](self, lane: Lane, work: Callable[[], T]) -> Future[T]:
        """Queue `work` in `lane`; its future. RuntimeError once the thread was shut down."""
        done: Future[T] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the database thread was shut down")
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
            self._lanes[lane].append((work, done, self._started))
            self._ready.notify()
        return done

    def shutdown(self) -> None:
        """Run what is queued, then end the thread (and wait for it)."""
        with self._ready:
            self._closed = True
            thread = self._thread
            self._ready.notify()
        if thread is not None:
            thread.join()

    def _next(self) -> _Job | None:
        """The next job to run, waiting for one; None once shut down with nothing left."""
        foreground, upkeep = self._lanes
        with self._ready:
            while not (foreground or upkeep or self._closed):
                self._ready.wait()
            if upkeep and (not foreground or self._started - upkeep[0][2] >= UPKEEP_PASSED_MAX):
                return upkeep.popleft()
            if not foreground:
                return None
            self._started += 1
            return foreground.popleft()

    def _serve(self) -> None:
        while (job := self._next()) is not None:
            work, done, _ = job
            if not done.set_running_or_notify_cancel():
                continue
            try:
                result = work()
            except BaseException as err:  # noqa: BLE001 - handed to the one who waits
                done.set_exception(err)
            else:
                done.set_result(result)
