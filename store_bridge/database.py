"""The bridge's SQLite file for the event loop: `Store` behind one thread (`db_thread.py`).

`Database.call` runs a function in the database's thread, ahead of any upkeep that waits,
and `Database.upkeep` runs one step of upkeep when no other job waits. Changes that wait
together are committed as one group (`Database.group`, `group_commit.py`); a durable one's
caller goes on once the log is synced, in a thread of its own (`wal_sync.py`). The open
folds the log into the file first (`store_schema.fold_log`), so that what a crash or a
failed sync left in it is written anew. Any SQLite failure surfaces as `StorageUnavailable`.
"""

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Final

from .db_thread import DbThread, Lane
from .events import Wire
from .group_commit import Change, Closed, Groups, Result, run_group
from .storage import Snapshot, StorageUnavailable, Store
from .store_schema import fold_log
from .wal_sync import SyncFailed, WalSync

OPEN_CHECKPOINT_TRIES: Final = 40
"""How often the open tries to fold the log into the file while a reader is in the way
(never waiting with the lock held; 25 ms apart: a second in all). Not folded: the log is
synced as it stands, and durable changes wait until it could be folded (`WalSync.recover`)."""


class Database:
    """`Store` behind one thread, for the event loop: gate jobs first, upkeep after them."""

    def __init__(self, path: Path | str) -> None:
        """Remember where the file is; `open` opens it."""
        self.path = path
        self._thread = DbThread("store-bridge-db")
        self._wal = WalSync(path)
        self._store: Store | None = None
        self._groups = Groups(
            lambda: self._store, self._wal, lambda job: self._thread.submit(Lane.FOREGROUND, job)
        )

    def on_sync_failed(self, tell: Callable[[], None]) -> None:
        """Have `tell` called (in a thread of the database's) when a sync of its log fails.

        From then on every durable change is refused (`wal_sync.py`).
        """
        self._wal.on_failure = tell

    @property
    def log_failed(self) -> bool:
        """Whether durable changes are refused after a failed sync of the log (`wal_sync.py`)."""
        return self._wal.failed is not None

    async def heal(self) -> bool:
        """Try to write the log afresh after a failed sync (an upkeep step); True once done."""
        return await self.upkeep(lambda store: store.log_writable())

    @property
    def groups(self) -> int:
        """Groups committed with a durable change (each waits for one sync of the log)."""
        return self._groups.count

    async def open(self) -> Snapshot:
        """Open the file in the database thread, sync its log and read the start state."""

        def work() -> Snapshot:
            self._store = Store(self.path, self._wal)
            # What a crash (or a failed sync) left in the log is written afresh into the file
            # and synced (a reader of the other process in the way: the log is synced instead).
            folded = False
            for _ in range(OPEN_CHECKPOINT_TRIES):
                if folded := fold_log(self._store.db):  # never waits with the lock held
                    break
                time.sleep(0.025)
            self._wal.sync_now(folded=folded)  # on disk before it is used
            return self._store.snapshot()

        return await self._run(work)

    async def call[T](self, work: Callable[[Store], T]) -> T:
        """Run `work(store)` in the database thread, before any upkeep that waits."""
        return await self._run(self._bound(work))

    async def change_each(self, changes: Sequence[Change]) -> list[Result]:
        """`changes` in one transaction, each undone alone if it raises (`group_commit.py`).

        Not waiting for the disk; `StorageUnavailable` (nothing stored) if the commit fails.
        """
        return await self.call(lambda store: run_group(store, changes))

    async def change_durable[T](
        self, work: Callable[[sqlite3.Connection], T], events: Sequence[Wire]
    ) -> T:
        """`work` and `events` in one transaction, on disk when this returns (`group`)."""
        return await self.group(work, events, durable=True)

    async def group[T](
        self, work: Callable[[sqlite3.Connection], T], events: Sequence[Wire], *, durable: bool
    ) -> T:
        """`work` and `events` committed with the other changes waiting (`group_commit.py`).

        `durable`: on disk when this returns (the log synced for all of them in a thread of its
        own, `wal_sync.py`). An exception `work` raises undoes this change alone.
        """
        result: T = await _answer(self._groups.add(Change(work, events), durable=durable))
        return result

    async def upkeep[T](self, work: Callable[[Store], T]) -> T:
        """Run `work(store)` in the database thread once no other job waits (`db_thread.py`).

        For one short step of upkeep (a purge batch, a checkpoint): a check-in that arrives
        while it runs waits for this step only.
        """
        return await self._run(self._bound(work), Lane.UPKEEP)

    @property
    def waiting(self) -> int:
        """Jobs queued for the database thread that have not started yet."""
        return self._thread.waiting

    def _bound[T](self, work: Callable[[Store], T]) -> Callable[[], T]:
        def bound() -> T:
            if self._store is None:
                raise StorageUnavailable("closed")
            try:
                return work(self._store)
            except sqlite3.Error as err:  # a checkpoint's, a purge's: an I/O error counts too
                self._wal.io_error(err)
                raise

        return bound

    async def _run[T](self, work: Callable[[], T], lane: Lane = Lane.FOREGROUND) -> T:
        try:
            done = self._thread.submit(lane, work)
        except RuntimeError as err:  # the thread was shut down
            raise StorageUnavailable("closed") from err
        return await _answer(done)

    async def close(self) -> None:
        """Close the file and end the threads (the changes waiting for a sync are told first)."""

        def work() -> None:
            self._wal.close()  # committed changes synced and their callers told
            if self._store is not None:
                self._store.close()
                self._store = None

        try:
            await self._run(work)
        finally:
            self._thread.shutdown()  # nothing is left to run: this only joins it


async def _answer[T](done: Future[T]) -> T:
    """What a job of the database's threads answered; its failures as `StorageUnavailable`."""
    try:
        return await asyncio.wrap_future(done)
    except sqlite3.Error as err:
        raise StorageUnavailable(type(err).__name__) from err
    except (SyncFailed, Closed) as err:
        raise StorageUnavailable(str(err)) from err
