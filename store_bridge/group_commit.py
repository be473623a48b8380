"""Durable changes committed together: one write to disk for all that wait (group commit).

A durable change (`Database.change_durable`: a checkout's state, before the processor is
asked anything) must be on disk before its caller goes on, and each one costs a sync of the
write-ahead log: with checkouts in flight the disk, not the processor, would set the pace.
So the changes that are waiting when the database thread gets to them go into ONE
transaction, committed with ``synchronous=FULL``, and their callers all go on after that one
sync. Nobody waits for a group to fill: a change that arrives alone is committed alone.

Each change stays atomic on its own: it runs inside a savepoint, and one that raises (a
checkout whose visit was taken meanwhile, a constraint) is rolled back alone, its caller gets
the exception, and the others commit. If the commit itself fails (a full disk, an I/O error),
nothing of the group is stored and every caller gets the error: none is told "stored" for a
change that is not.
"""

import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from .events import Wire


class Store(Protocol):
    """What a group needs of the store: its connection and adding events in a transaction."""

    @property
    def db(self) -> sqlite3.Connection:  # noqa: D102
        ...

    def write_events(self, events: Sequence[Wire]) -> None:  # noqa: D102
        ...


@dataclass(slots=True)
class Pending:
    """One durable change waiting for its group: the work, its events, its caller's future."""

    work: Callable[[sqlite3.Connection], Any]
    events: Sequence[Wire]
    done: Future[Any]


def commit_group(store: Store, group: list[Pending]) -> None:
    """Run `group` in one durable transaction; every future is resolved when this returns."""
    live = [item for item in group if item.done.set_running_or_notify_cancel()]
    outcomes: list[tuple[Pending, bool, Any]] = []
    db = store.db
    try:
        db.execute("PRAGMA synchronous=FULL")
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                outcomes = [_one(store, item) for item in live]
                db.execute("COMMIT")
            except BaseException:
                _rollback(db)
                raise
        finally:
            db.execute("PRAGMA synchronous=NORMAL")
    except BaseException as err:  # noqa: BLE001 - handed to every caller of the group
        for item in live:
            item.done.set_exception(err)
        return
    for item, ok, value in outcomes:
        if ok:
            item.done.set_result(value)
        else:
            item.done.set_exception(value)


def _one(store: Store, item: Pending) -> tuple[Pending, bool, Any]:
    """One change in a savepoint of its own: (item, stored, its result or exception)."""
    db = store.db
    db.execute("SAVEPOINT one_change")
    try:
        result = item.work(db)
        store.write_events(item.events)
    except Exception as err:  # noqa: BLE001 - this change alone is undone, its caller told
        db.execute("ROLLBACK TO one_change")
        db.execute("RELEASE one_change")
        return item, False, err
    db.execute("RELEASE one_change")
    return item, True, result


def _rollback(db: sqlite3.Connection) -> None:
    """Undo the group's transaction (SQLite may have ended it already after a failed commit)."""
    if db.in_transaction:
        db.execute("ROLLBACK")
