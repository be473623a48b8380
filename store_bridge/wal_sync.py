"""The write-ahead log synced to disk in a thread of its own, for changes already committed.

A durable change (`Database.change_durable`) is committed by the database thread like any
other (``synchronous=NORMAL``: its frames are written to the log, not synced), and its caller
is handed here. This thread syncs the log file (open, ``fsync``, close: on Linux ``fsync``
writes the file's data wherever it was written from) and then tells every caller whose
commit had finished before that sync began: one sync for all that wait, while the database
thread goes on with the next jobs. A caller is never told before its commit is on disk.

- The log starts over after a checkpoint (SQLite writes it again from its start, the same
  file): with ``synchronous=NORMAL`` SQLite syncs the log before a checkpoint copies it into
  the database file and syncs the database file after, so a commit that was checkpointed
  before this sync is on disk either way.
- No log file: SQLite deletes it only when its last connection closes, after checkpointing
  it (synced as above) into the database file; what it held is on disk.
- The first sync of a log file (a new one, by its inode) syncs its directory too, so that
  the file itself is found after a power cut (as SQLite's own first sync of a log does).
- A sync that fails (``EIO``, ``ENOSPC`` …): every caller waiting for it gets `SyncFailed`.
  After a failed ``fsync`` Linux may drop the pages it could not write and report success
  to the next one, so the failure is kept: every durable change after it is refused
  (`failed`) until the bridge restarts and the file is opened, and synced (`sync_now`),
  again.
- `close`: the callers still waiting are synced and told first, then the thread ends.
"""

import errno
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)


class SyncFailed(Exception):  # noqa: N818 - named after the condition
    """The log could not be synced: the change may not be on disk."""


type Waiting = tuple[Future[Any], Any]
"""A committed change's caller and the result it gets once the log is on disk."""


class WalSync:
    """Syncs one database file's write-ahead log for the changes committed before each sync."""

    def __init__(self, database: Path | str, name: str = "store-bridge-wal-sync") -> None:
        """The log of `database` (its ``-wal`` file); the thread starts with the first caller."""
        self.path = Path(f"{os.fspath(database)}-wal").absolute()
        self._name = name
        self._waiting: list[Waiting] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._inode: int | None = None
        """The log file last synced (its directory was synced with its first sync)."""
        self.failed: str | None = None
        """Why a sync failed (then every durable change is refused), or None."""
        self.syncs = 0
        """Syncs of the log made (each for every caller committed before it began)."""

    def after_commit(self, committed: Sequence[Waiting]) -> None:
        """Changes committed: each future gets its result once the log is on disk."""
        if not committed:
            return
        with self._ready:
            refused = self.failed or ("closed" if self._closed else None)
            if refused is None:
                self._waiting.extend(committed)
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._serve, name=self._name, daemon=True
                    )
                    self._thread.start()
                self._ready.notify()
                return
        for done, _value in committed:
            done.set_exception(SyncFailed(refused))

    def sync_now(self) -> None:
        """Sync the log in this thread (at open: what it holds is on disk before it is used).

        Raises `SyncFailed`, and keeps the failure, if it cannot be synced.
        """
        failure = self._sync()
        if failure is not None:
            raise failure

    def close(self) -> None:
        """Sync for the callers still waiting and tell them, then end the thread."""
        with self._ready:
            self._closed = True
            thread = self._thread
            self._ready.notify()
        if thread is not None:
            thread.join()

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not (self._waiting or self._closed):
                    self._ready.wait()
                if not self._waiting:
                    return
                batch, self._waiting = self._waiting, []
            failure = self._sync()  # every change in `batch` was committed before this began
            for done, value in batch:
                if failure is None:
                    done.set_result(value)
                else:
                    done.set_exception(failure)

    def _sync(self) -> SyncFailed | None:
        """Sync the log (and its directory, the first time): None, or why it failed."""
        if self.failed is not None:
            return SyncFailed(self.failed)
        try:
            handle = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None  # checkpointed into the database file, synced, and deleted by SQLite
        except OSError as err:
            return self._fail(err)
        try:
            inode = os.fstat(handle).st_ino
            os.fsync(handle)
            if inode != self._inode:
                _sync_directory(self.path.parent)
                self._inode = inode
        except OSError as err:
            return self._fail(err)
        finally:
            os.close(handle)
        self.syncs += 1
        return None

    def _fail(self, err: OSError) -> SyncFailed:
        self.failed = f"log not synced ({errno.errorcode.get(err.errno or 0, 'error')})"
        _LOGGER.error(
            "The database's log could not be written to disk (%s): durable changes are refused "
            "until the bridge restarts",
            err.strerror or type(err).__name__,
        )
        return SyncFailed(self.failed)


def _sync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
