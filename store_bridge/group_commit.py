"""Changes committed together: one transaction for all that wait (group commit).

A durable change (`Database.change_durable`: a checkout's state, before the processor is
asked anything) must be on disk before its caller goes on, and each one costs a sync of the
write-ahead log: with checkouts in flight the disk, not the processor, would set the pace.
So the changes that are waiting when the database thread gets to them (`Database.group`,
durable or not: a checkout's other states join them) go into ONE transaction, and the
durable ones' callers all go on after one sync of the log (`wal_sync.py`: in a thread of
its own, so that the database thread goes on with the next jobs meanwhile; once a sync
failed, durable changes are refused). Nobody waits for a group to fill: a change that
arrives alone is committed alone. The same runs a batch of changes that need not wait for
the disk (`Database.change_each`: the checkouts started from the final carts taken at once)
in one transaction instead of one each.

Each change stays atomic on its own: it runs inside a savepoint (alone, the transaction is
its savepoint), and one that raises (a checkout whose visit was taken meanwhile, a
constraint) is rolled back alone, its caller gets the exception, and the others commit. If
the commit itself fails (a full disk, an I/O error), nothing of the group is stored and
`run_group` raises: no caller is told "stored" for a change that is not.
"""

import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from .events import Wire
from .wal_sync import SyncFailed, WalSync


class Closed(Exception):  # noqa: N818 - named after the condition
    """The database was closed: nothing was stored."""


class Store(Protocol):
    """What a group needs of the store: its connection and adding events in a transaction."""

    @property
    def db(self) -> sqlite3.Connection:  # noqa: D102
        ...

    def write_events(self, events: Sequence[Wire]) -> None:  # noqa: D102
        ...

    def io_error(self, err: BaseException) -> None:  # noqa: D102
        ...

    def log_writable(self) -> bool:  # noqa: D102
        ...


@dataclass(frozen=True, slots=True)
class Change:
    """One change of a group: the work (given the connection) and its events."""

    work: Callable[[sqlite3.Connection], Any]
    events: Sequence[Wire]


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one change: stored with its result, or undone with its exception."""

    stored: bool
    value: Any
    """The work's result (stored) or the exception it raised (undone)."""


class Groups:
    """The changes waiting for the database thread: each time it gets to them, one group."""

    def __init__(
        self,
        store: Callable[[], Store | None],
        wal: WalSync,
        submit: Callable[[Callable[[], None]], object],
    ) -> None:
        """Commit to `store()` (None once closed), sync through `wal`, run by `submit`."""
        self._store = store
        self._wal = wal
        self._submit = submit
        self._waiting: list[tuple[Change, Future[Any], bool]] = []
        self._lock = threading.Lock()
        self._queued = False
        self.count = 0
        """Groups committed with a durable change (each waits for one sync of the log)."""

    def add(self, change: Change, *, durable: bool) -> Future[Any]:
        """Queue `change` for the next group; its future (its result, or why it failed)."""
        done: Future[Any] = Future()
        with self._lock:
            self._waiting.append((change, done, durable))
            start, self._queued = not self._queued, True
        if start:
            try:
                self._submit(self.commit)
            except RuntimeError:  # the thread was shut down: nothing will run them
                self.commit()
        return done

    def commit(self) -> None:
        """The waiting changes, committed as one (in the database thread).

        The callers of durable changes are told by the log's sync thread once the commit is
        on disk (refused once a sync failed); the others, those whose change was undone, and
        all of them if the commit failed, at once.
        """
        with self._lock:
            group, self._waiting, self._queued = self._waiting, [], False
        live = [item for item in group if item[1].set_running_or_notify_cancel()]
        store = self._store()
        durable = any(item[2] for item in live)
        if store is not None and durable and not store.log_writable():  # the log may have lost
            failed = self._wal.failed or "log not synced"
            for _change, done, _durable in (item for item in live if item[2]):
                done.set_exception(SyncFailed(failed))
            live = [item for item in live if not item[2]]
        if store is None:
            for _change, done, _durable in live:
                done.set_exception(Closed("closed"))
            return
        try:
            results = run_group(store, [change for change, _done, _durable in live])
        except BaseException as err:  # noqa: BLE001 - nothing stored: every caller told
            for _change, done, _durable in live:
                done.set_exception(err)
            return
        synced = []
        for (_change, done, durable), result in zip(live, results, strict=True):
            if not result.stored:
                done.set_exception(result.value)
            elif durable:
                synced.append((done, result.value))
            else:
                done.set_result(result.value)
        self.count += bool(synced)
        self._wal.after_commit(synced)


def run_group(store: Store, group: Sequence[Change]) -> list[Result]:
    """Run `group` in one transaction (committed, not synced): each change's outcome.

    Raises (nothing of the group stored) if the transaction cannot begin or commit. A change
    alone needs no savepoint of its own: the transaction is undone if it raises.
    """
    db = store.db
    db.execute("BEGIN IMMEDIATE")
    try:
        if len(group) == 1:
            results = [_alone(store, group[0])]  # rolled back already if it raised
        else:
            results = [_one(store, change) for change in group]
        if db.in_transaction:
            db.execute("COMMIT")
    except BaseException as err:
        store.io_error(err)  # an I/O error: the log may have lost what it held
        _rollback(db)
        raise
    return results


def _alone(store: Store, change: Change) -> Result:
    """The only change of its transaction: undone with it if it raises."""
    try:
        result = change.work(store.db)
        store.write_events(change.events)
    except Exception as err:  # noqa: BLE001 - undone, its caller told
        store.db.execute("ROLLBACK")
        return Result(stored=False, value=err)
    return Result(stored=True, value=result)


def _one(store: Store, change: Change) -> Result:
    """One change in a savepoint of its own."""
    db = store.db
    db.execute("SAVEPOINT one_change")
    try:
        result = change.work(db)
        store.write_events(change.events)
    except Exception as err:  # noqa: BLE001 - this change alone is undone, its caller told
        db.execute("ROLLBACK TO one_change")
        db.execute("RELEASE one_change")
        return Result(stored=False, value=err)
    db.execute("RELEASE one_change")
    return Result(stored=True, value=result)


def _rollback(db: sqlite3.Connection) -> None:
    """Undo the group's transaction (SQLite may have ended it already after a failed commit)."""
    if db.in_transaction:
        db.execute("ROLLBACK")
