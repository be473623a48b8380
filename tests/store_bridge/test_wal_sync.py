"""Durable changes synced to disk off the database thread (`wal_sync.py`), on a real SQLite file.

What a caller notices: `change_durable` returns only once its commit is on disk (the log
synced after the commit ended), while the database thread goes on with other jobs meanwhile;
a sync that fails refuses the change and every durable change after it; closing tells those
still waiting. The disk is the edge: syncs are seen, held or failed at ``os.fsync``
(`disk_syncs.py`); SQLite and its file are real.
"""

import asyncio
import errno
import logging
import sqlite3
import threading
import time
from concurrent.futures import Future
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from store_bridge import store_schema, wal_sync
from store_bridge.database import Database
from store_bridge.events import Wire
from store_bridge.storage import StorageUnavailable
from store_bridge.wal_sync import SyncFailed, WalSync, log_path

from ..waiting import until
from .disk_syncs import Syncs


def _event(n: int) -> Wire:
    return {"id": f"ev-{n}", "type": "test", "n": n}


def _note(n: int) -> Any:
    return lambda db: db.execute("INSERT INTO notes VALUES (?)", (n,)).rowcount


async def _opened(path: Path) -> Database:
    db = Database(path)
    await db.open()
    await db.call(lambda s: s.db.execute("CREATE TABLE IF NOT EXISTS notes (n INTEGER UNIQUE)"))
    return db


def _notes(path: Path | str) -> list[int]:
    """What another connection reads from the file (committed, synced or not)."""
    with closing(sqlite3.connect(path)) as other:
        return [row[0] for row in other.execute("SELECT n FROM notes ORDER BY n")]


async def _syncing(syncs: Syncs) -> None:
    await until("a sync is held", syncs.waiting.is_set)


async def _one_waiting_for_a_held_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Database, Syncs, asyncio.Future[int]]:
    """An opened database with one durable change committed, waiting for its held sync."""
    db = await _opened(tmp_path / "bridge.sqlite3")
    syncs = Syncs(monkeypatch)
    syncs.hold()
    durable = asyncio.ensure_future(db.change_durable(_note(1), [_event(1)]))
    await _syncing(syncs)
    return db, syncs, durable


async def test_the_database_thread_goes_on_while_the_log_is_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, syncs, durable = await _one_waiting_for_a_held_sync(tmp_path, monkeypatch)

    # Committed, not on disk yet: its caller waits, everyone else goes on.
    assert _notes(db.path) == [1]
    assert await db.call(lambda s: s.db.execute("SELECT count(*) FROM notes").fetchone()[0]) == 1
    assert await db.group(_note(2), [_event(2)], durable=False) == 1
    assert not durable.done()

    syncs.release()
    assert await durable == 1
    assert len(syncs.of(db.path)) == 1
    await db.close()


async def test_a_change_committed_during_a_sync_waits_for_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await _opened(tmp_path / "bridge.sqlite3")
    log: list[object] = []
    syncs = Syncs(monkeypatch, log)
    syncs.hold()
    first = asyncio.ensure_future(db.change_durable(_note(1), [_event(1)]))
    await _syncing(syncs)  # the sync for `first` began before `second` committed
    second = asyncio.ensure_future(db.change_durable(_note(2), [_event(2)]))
    second.add_done_callback(lambda _f: log.append("second told"))
    await until("the second change is committed", lambda: _notes(db.path), want=[1, 2].__eq__)

    syncs.release()
    assert list(await asyncio.gather(first, second)) == [1, 1]
    synced = syncs.of(db.path)
    assert len(synced) == 2
    assert log.index(synced[1]) < log.index("second told")  # told after a sync of its own
    await db.close()


async def test_a_change_that_needs_no_disk_is_told_without_waiting_for_the_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, syncs, durable = await _one_waiting_for_a_held_sync(tmp_path, monkeypatch)
    busy, free = threading.Event(), threading.Event()

    def hold(_store: object) -> bool:
        busy.set()
        return free.wait(10)

    held = asyncio.ensure_future(db.call(hold))
    assert await asyncio.to_thread(busy.wait, 10)  # the database thread is busy
    both = [
        asyncio.ensure_future(db.change_durable(_note(2), [_event(2)])),
        asyncio.ensure_future(db.group(_note(3), [_event(3)], durable=False)),
    ]
    await asyncio.sleep(0)  # both queued behind the busy thread: one group
    free.set()
    await held
    assert await both[1] == 1  # the sync for the durable one is still held
    assert not both[0].done()

    syncs.release()
    assert list(await asyncio.gather(durable, both[0])) == [1, 1]
    assert _notes(db.path) == [1, 2, 3]
    await db.close()


class _Clock:
    """The log's sync thread's `time.monotonic`, moved by the test (the clock: an edge)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1000.0
        monkeypatch.setattr(wal_sync, "time", self)

    def monotonic(self) -> float:
        return self.now


async def test_a_failed_sync_refuses_durable_changes_until_the_log_is_written_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bridge.sqlite3"
    db = await _opened(path)
    syncs = Syncs(monkeypatch)
    syncs.fail(errno.EIO)
    clock = _Clock(monkeypatch)  # when the log is tried again (at most every RECOVER_S)
    with (
        caplog.at_level(logging.ERROR, logger="store_bridge.wal_sync"),
        pytest.raises(StorageUnavailable, match="EIO"),
    ):
        await db.change_durable(_note(1), [_event(1)])
    assert "durable changes are refused until it is written afresh" in caplog.text

    syncs.error = None  # the next sync would succeed, and may be a lie: never believed
    with pytest.raises(StorageUnavailable, match="EIO"):
        await db.change_durable(_note(2), [_event(2)])
    with pytest.raises(StorageUnavailable, match="EIO"):  # a check-in's own durable commit
        await db.call(lambda s: s.change(_note(3), [_event(3)], durable=True))
    wal = f"{path.resolve()}-wal"
    assert syncs.of(path) == [("fsync failed", wal)]  # never tried again
    assert _notes(path) == [1]  # the failed one was committed, its caller was never told
    # Changes that need not wait for the disk go on.
    assert await db.group(_note(4), [_event(4)], durable=False) == 1

    # Tried again later: while a reader (the other process) keeps the log, it cannot be
    # written afresh, and durable changes stay refused.
    clock.now += wal_sync.RECOVER_S
    with closing(sqlite3.connect(path)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM notes").fetchall()
        with pytest.raises(StorageUnavailable, match="EIO"):
            await db.change_durable(_note(5), [_event(5)])
        reader.execute("COMMIT")
    assert log_path(path).stat().st_size > 0
    clock.now += wal_sync.RECOVER_S
    # The reader gone: the log is folded into the file (written anew, synced by SQLite),
    # synced through a new descriptor, and durable changes are taken again.
    assert await db.change_durable(_note(6), [_event(6)]) == 1
    assert syncs.of(path)[1:] == [("fsync", wal)] * 2  # the new descriptor's, the change's
    assert _notes(path) == [1, 4, 6]
    await db.close()

    again = await _opened(path)  # a restart: the log is folded and synced at open
    assert await again.change_durable(_note(7), [_event(7)]) == 1
    assert _notes(path) == [1, 4, 6, 7]
    await again.close()


async def test_a_log_that_cannot_be_synced_at_open_keeps_the_file_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Syncs(monkeypatch).fail(errno.ENOSPC)
    db = Database(tmp_path / "bridge.sqlite3")
    with pytest.raises(StorageUnavailable, match="ENOSPC"):
        await db.open()
    await db.close()


async def test_closing_tells_the_callers_waiting_for_a_sync_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, syncs, durable = await _one_waiting_for_a_held_sync(tmp_path, monkeypatch)
    closing_down = asyncio.ensure_future(db.close())
    await asyncio.sleep(0)
    syncs.release()

    assert await durable == 1
    await closing_down
    assert len(syncs.of(db.path)) == 1
    with pytest.raises(StorageUnavailable, match="closed"):
        await db.change_durable(_note(2), [_event(2)])


async def test_the_first_sync_of_a_log_syncs_its_directory_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bridge.sqlite3"
    syncs = Syncs(monkeypatch)
    db = await _opened(path)  # a new file: its log is new
    assert await db.change_durable(_note(1), [_event(1)]) == 1
    assert await db.change_durable(_note(2), [_event(2)]) == 1

    assert len(syncs.of(path)) == 3  # at open, then once per change
    assert len(syncs.of(tmp_path, "")) == 1  # its directory, with the first
    await db.close()


def test_a_log_missing_while_a_commit_waits_is_a_failed_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No log at open: nothing to sync yet. SQLite deletes the log only when its last
    connection closes, and ours is open: a log missing when a commit waits is not where we
    look (it is never taken for "on disk")."""
    syncs = Syncs(monkeypatch)
    wal = WalSync(tmp_path / "gone.sqlite3")
    wal.sync_now(folded=True)  # nothing there yet: the open goes on
    done: Future[int] = Future()
    done.set_running_or_notify_cancel()
    wal.after_commit([(done, 7)])
    with pytest.raises(SyncFailed, match="ENOENT"):
        done.result(10)
    wal.close()
    assert syncs.log == []

    late: Future[int] = Future()
    late.set_running_or_notify_cancel()
    wal.after_commit([(late, 8)])  # nothing syncs after close: refused, never "stored"
    with pytest.raises(SyncFailed):
        late.result(0)


async def test_a_durable_change_on_a_linked_database_syncs_the_log_beside_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The configured file is a symbolic link (a data disk mounted elsewhere): SQLite keeps
    the log beside the target, and that is the log synced before a caller is told."""
    (tmp_path / "data").mkdir()
    link = tmp_path / "link.sqlite3"
    link.symlink_to(tmp_path / "data" / "real.sqlite3")
    db = Database(link)
    await db.open()
    syncs = Syncs(monkeypatch)
    await db.group(lambda c: c.execute("CREATE TABLE pay (id TEXT)"), [], durable=True)
    await db.group(lambda c: c.execute("INSERT INTO pay VALUES ('pi_1')"), [], durable=True)
    synced = syncs.of(tmp_path / "data" / "real.sqlite3")
    await db.close()
    assert synced


async def test_an_io_error_sqlite_saw_during_a_sync_refuses_the_changes_it_may_cover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payment's id waits for the log's sync; meanwhile SQLite's own synced commit fails
    with an I/O error (the disk failed writing the log back; Linux may report that once, to
    whoever syncs first). The payment is refused, never told "on disk", and so is every
    durable change after it. (Fault injected at the edge: `os.fsync` held, then SQLite's
    commit answered with SQLITE_IOERR_FSYNC as SQLite raises it.)"""
    db = Database(tmp_path / "b.sqlite3")
    await db.open()
    await db.call(lambda s: s.db.execute("CREATE TABLE pay (id TEXT)"))
    monkeypatch.setattr(wal_sync, "RECOVER_S", 3600.0)  # not written afresh meanwhile
    syncs = Syncs(monkeypatch)
    syncs.hold()
    payment = asyncio.ensure_future(
        db.group(lambda c: c.execute("INSERT INTO pay VALUES ('pi_1')"), [], durable=True)
    )
    await _syncing(syncs)

    def full_commit_fails(store: Any) -> None:
        err = sqlite3.OperationalError("disk I/O error")
        err.sqlite_errorcode = sqlite3.SQLITE_IOERR_FSYNC
        err.sqlite_errorname = "SQLITE_IOERR_FSYNC"

        def work() -> None:
            raise err

        store._tx(work, durable=True)

    with pytest.raises(StorageUnavailable):
        await db.call(full_commit_fails)
    syncs.release()
    with pytest.raises(StorageUnavailable, match="EIO"):
        await payment
    with pytest.raises(StorageUnavailable, match="EIO"):
        await db.group(lambda c: c.execute("INSERT INTO pay VALUES ('pi_2')"), [], durable=True)
    assert await db.group(lambda c: c.execute("SELECT 1").fetchone()[0], [], durable=False) == 1
    await db.close()


def test_a_log_that_cannot_be_opened_is_a_failed_sync(tmp_path: Path) -> None:
    """The log cannot be opened (here a link to itself): nothing is known to be on disk."""
    (tmp_path / "bridge.sqlite3-wal").symlink_to(tmp_path / "bridge.sqlite3-wal")
    wal = WalSync(tmp_path / "bridge.sqlite3")
    with pytest.raises(SyncFailed, match="ELOOP"):
        wal.sync_now(folded=True)
    (tmp_path / "bridge.sqlite3-wal").unlink()  # openable again: still refused
    with pytest.raises(SyncFailed, match="ELOOP"):
        wal.sync_now(folded=True)
    done: Future[int] = Future()
    done.set_running_or_notify_cancel()
    wal.after_commit([(done, 1)])
    with pytest.raises(SyncFailed, match="ELOOP"):
        done.result(0)
    wal.close()


async def test_the_open_writes_what_the_log_holds_afresh_into_the_file(tmp_path: Path) -> None:
    """A log left by a crash (or behind a failed sync: the page cache may hold what never
    reached the disk) is folded into the database file and emptied at the open, so that what
    the bridge goes on from is written anew and synced by SQLite."""
    path = tmp_path / "bridge.sqlite3"
    with closing(store_schema.connect(path)) as left:  # another connection keeps the log
        left.execute("CREATE TABLE notes (n INTEGER)")
        left.execute("INSERT INTO notes VALUES (1)")
        assert log_path(path).stat().st_size > 0
        db = Database(path)
        await db.open()
        assert log_path(path).stat().st_size == 0
        assert _notes(path) == [1]
        await db.close()


async def test_an_open_while_a_reader_keeps_the_log_never_holds_a_writer_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkout process opens the database while the gates' process reads and writes it:
    folding the log never waits for the reader with the lock held, so no check-in's write is
    refused ("database is locked") meanwhile; the open goes on once it gave up folding."""
    clock = _Clock(monkeypatch)  # when the log is tried again
    path = tmp_path / "bridge.sqlite3"
    await (await _opened(path)).close()
    written, refused = 0, []
    with closing(sqlite3.connect(path)) as reader, closing(store_schema.connect(path)) as writer:
        writer.execute("INSERT INTO notes VALUES (0)")  # something in the log
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM notes").fetchall()  # a snapshot: keeps the log
        db = Database(path)
        started = time.monotonic()
        opening = asyncio.ensure_future(db.open())
        while not opening.done():
            try:
                writer.execute("INSERT INTO notes VALUES (?)", (written + 1,))
                written += 1
            except sqlite3.OperationalError as err:
                refused.append(str(err))
            await asyncio.sleep(0.01)
        await opening
        took = time.monotonic() - started
        # Not folded: what the log holds may sit behind an error this process never saw, so
        # durable changes wait until it could be folded.
        with pytest.raises(StorageUnavailable, match="not folded"):
            await db.change_durable(_note(-1), [_event(1)])
        reader.execute("COMMIT")
    clock.now += wal_sync.RECOVER_S  # tried again a second later: folded first, then taken
    assert await db.change_durable(_note(-2), [_event(2)]) == 1
    assert log_path(path).stat().st_size > 0  # the log started over with the change
    await db.close()
    assert refused == []
    # About a second of tries (OPEN_CHECKPOINT_TRIES): folding with the lock held while it
    # waited for the reader took 11 s, the writes waiting behind it each time.
    assert took < 5
    assert written > 10  # the writes went on during the open's second of tries
    assert _notes(path) == [-2, *range(written + 1)]


async def test_a_log_that_cannot_be_synced_afresh_yet_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bridge.sqlite3"
    db = await _opened(path)
    syncs = Syncs(monkeypatch)
    clock = _Clock(monkeypatch)
    syncs.fail(errno.EIO, log_path(path))  # the log's syncs fail, the file's do not
    with pytest.raises(StorageUnavailable, match="EIO"):
        await db.change_durable(_note(1), [_event(1)])
    clock.now += wal_sync.RECOVER_S  # folded, but the log's sync still fails: refused
    with pytest.raises(StorageUnavailable, match="EIO"):
        await db.change_durable(_note(2), [_event(2)])
    syncs.error = None
    clock.now += wal_sync.RECOVER_S  # the disk works again: taken
    assert await db.change_durable(_note(3), [_event(3)]) == 1
    assert _notes(path) == [1, 3]
    await db.close()


async def test_a_database_file_that_lost_writes_is_never_healed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A failed sync of the log, then the database file itself fails to sync (the pages a
    checkpoint wrote into it may be lost): a fold that succeeds later proves nothing about
    them, so durable changes stay refused, and the operator is told to check the disk."""
    path = tmp_path / "bridge.sqlite3"
    db = await _opened(path)
    syncs = Syncs(monkeypatch)
    clock = _Clock(monkeypatch)
    syncs.fail(errno.EIO)
    with pytest.raises(StorageUnavailable, match="EIO"):
        await db.change_durable(_note(1), [_event(1)])
    syncs.fail(errno.EIO, path)  # only the database file's syncs fail now
    clock.now += wal_sync.RECOVER_S
    with (
        caplog.at_level(logging.ERROR, logger="store_bridge.wal_sync"),
        pytest.raises(StorageUnavailable, match="database file not synced"),
    ):
        await db.change_durable(_note(2), [_event(2)])
    assert "check the disk, then restart the bridge" in caplog.text
    syncs.error = None
    clock.now += wal_sync.RECOVER_S
    with pytest.raises(StorageUnavailable, match="database file not synced"):
        await db.change_durable(_note(3), [_event(3)])
    assert await db.group(_note(4), [_event(4)], durable=False) == 1  # the rest goes on
    await db.close()


def test_a_real_failure_after_an_unfolded_open_is_told(tmp_path: Path) -> None:
    """An open that could not fold the log only waits; an I/O error after it is a failure of
    its own: logged, and told (the checkout process ends on it)."""
    path = tmp_path / "bridge.sqlite3"
    with closing(store_schema.connect(path)) as db:
        db.execute("CREATE TABLE notes (n INTEGER)")
        told: list[str] = []
        wal = WalSync(path)
        wal.on_failure = lambda: told.append(wal.failed or "")
        wal.sync_now(folded=False)
        assert (wal.failed, told) == (wal_sync.NOT_FOLDED, [])
        err = sqlite3.OperationalError("disk I/O error")
        err.sqlite_errorcode = sqlite3.SQLITE_IOERR_FSYNC
        wal.io_error(err)
        assert told == ["log not synced (EIO)"]
        wal.close()
