"""Changes committed together (`group_commit.py`), against a real SQLite file.

What a caller notices: its change is on disk when `change_durable` returns (the log was
synced, once for the group, after the commit: seen at ``os.fsync``, `disk_syncs.py`),
changes waiting together share one commit, a change that fails is undone alone (the others
are stored), and a commit that fails stores nothing of its group and tells every caller.
"""

import asyncio
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from store_bridge.database import Database
from store_bridge.events import Wire
from store_bridge.storage import StorageUnavailable

from .disk_syncs import Syncs


def _event(n: int) -> Wire:
    return {"id": f"ev-{n}", "type": "test", "n": n}


async def _opened(tmp_path: Path) -> Database:
    db = Database(tmp_path / "bridge.sqlite3")
    await db.open()
    await db.call(lambda s: s.db.execute("CREATE TABLE IF NOT EXISTS notes (n INTEGER UNIQUE)"))
    return db


def _note(n: int) -> object:
    return lambda db: db.execute("INSERT INTO notes VALUES (?)", (n,)).rowcount


async def _hold(db: Database) -> threading.Event:
    """Keep the database thread busy (so that changes queue up) until the event is set."""
    busy, free = threading.Event(), threading.Event()
    HELD.add(asyncio.ensure_future(db.call(lambda _s: (busy.set(), free.wait(10)))))
    assert await asyncio.to_thread(busy.wait, 10)
    return free


HELD: set[asyncio.Future[object]] = set()


class TakenError(Exception):
    """A change that finds its work done meanwhile (as a checkout whose visit was taken)."""


def _stored(path: Path) -> tuple[list[int], list[str]]:
    """What another connection reads from the file: the notes and the outbox's event ids."""
    with closing(sqlite3.connect(path)) as other:
        notes = [row[0] for row in other.execute("SELECT n FROM notes ORDER BY n")]
        events = [row[0] for row in other.execute("SELECT event_id FROM outbox ORDER BY seq")]
    return notes, events


async def test_changes_waiting_together_share_one_durable_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await _opened(tmp_path)
    log: list[object] = []
    syncs = Syncs(monkeypatch, log)
    await db.call(lambda s: s.db.set_trace_callback(log.append))
    free = await _hold(db)
    waiting = [asyncio.ensure_future(db.change_durable(_note(n), [_event(n)])) for n in range(8)]
    for n, change in enumerate(waiting):
        change.add_done_callback(lambda _f, n=n: log.append(("told", n)))
    await asyncio.sleep(0)  # every change is queued behind the busy thread
    free.set()
    assert await asyncio.gather(*waiting) == [1] * 8
    await db.call(lambda s: s.db.set_trace_callback(None))

    assert _stored(db.path) == (list(range(8)), [f"ev-{n}" for n in range(8)])
    assert log.count("COMMIT") == 1
    assert db.groups == 1
    (synced,) = syncs.of(db.path)  # one sync of the log for the group
    committed, told = log.index("COMMIT"), log.index(("told", 0))
    assert committed < log.index(synced) < told  # committed, then on disk, then told
    assert all(log.index(("told", n)) > log.index(synced) for n in range(8))
    # Alone, a change does not wait for company: its own commit and sync.
    assert await db.change_durable(_note(100), [_event(100)]) == 1
    assert db.groups == 2
    assert len(syncs.of(db.path)) == 2
    await db.close()


async def test_a_failing_change_is_undone_alone_and_its_caller_told(tmp_path: Path) -> None:
    db = await _opened(tmp_path)
    free = await _hold(db)
    first = asyncio.ensure_future(db.change_durable(_note(1), [_event(1)]))
    twice = asyncio.ensure_future(db.change_durable(_note(1), [_event(2)]))  # UNIQUE: refused

    def half_done(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO notes VALUES (50)")
        raise TakenError

    broken = asyncio.ensure_future(db.change_durable(half_done, [_event(3)]))
    last = asyncio.ensure_future(db.change_durable(_note(2), [_event(4)]))
    await asyncio.sleep(0)
    free.set()

    assert await first == 1
    with pytest.raises(StorageUnavailable, match="IntegrityError"):
        await twice
    with pytest.raises(TakenError):
        await broken
    assert await last == 1
    assert _stored(db.path) == ([1, 2], ["ev-1", "ev-4"])  # nothing of the failed ones
    assert db.groups == 1
    await db.close()


async def test_a_commit_that_fails_stores_nothing_and_tells_every_caller(tmp_path: Path) -> None:
    db = await _opened(tmp_path)

    def deferred(conn: sqlite3.Connection) -> None:  # checked only at COMMIT
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
        conn.execute(
            "CREATE TABLE kids (parent INTEGER REFERENCES parents(id) "
            "DEFERRABLE INITIALLY DEFERRED)"
        )

    await db.call(lambda s: deferred(s.db))
    free = await _hold(db)
    good = asyncio.ensure_future(db.change_durable(_note(1), [_event(1)]))
    orphan = asyncio.ensure_future(
        db.change_durable(lambda c: c.execute("INSERT INTO kids VALUES (7)"), [_event(2)])
    )
    await asyncio.sleep(0)
    free.set()

    for change in (good, orphan):
        with pytest.raises(StorageUnavailable, match="IntegrityError"):
            await change
    assert _stored(db.path) == ([], [])
    # The connection is usable again: the next change is stored.
    assert await db.change_durable(_note(3), [_event(3)]) == 1
    assert _stored(db.path) == ([3], ["ev-3"])
    await db.close()


async def test_a_change_given_up_before_its_group_ran_is_not_made(tmp_path: Path) -> None:
    db = await _opened(tmp_path)
    free = await _hold(db)
    given_up = asyncio.ensure_future(db.change_durable(_note(1), [_event(1)]))
    kept = asyncio.ensure_future(db.change_durable(_note(2), [_event(2)]))
    await asyncio.sleep(0)
    given_up.cancel()
    await asyncio.sleep(0)
    free.set()

    assert await kept == 1
    assert given_up.cancelled()
    assert _stored(db.path) == ([2], ["ev-2"])
    await db.close()


async def test_after_close_a_durable_change_answers_unavailable(tmp_path: Path) -> None:
    db = await _opened(tmp_path)
    await db.close()
    with pytest.raises(StorageUnavailable, match="closed"):
        await db.change_durable(_note(1), [_event(1)])
