"""The write-ahead log synced to disk in a thread of its own, for changes already committed.

A durable change (`Database.change_durable`) is committed by the database thread like any
other (``synchronous=NORMAL``: its frames are written to the log, not synced), and its caller
is handed here. This thread syncs the log file and then tells every caller whose commit had
finished before that sync began: one sync for all that wait, while the database thread goes
on with the next jobs. A caller is never told before its commit is on disk.

- The log is the one SQLite writes: beside the database file the path leads to, symbolic
  links followed (`log_path`), as SQLite does.
- One descriptor of the log is kept open from the database's open on (`sync_now`), and
  every sync goes through it: Linux reports a write-back error of a file once to each
  descriptor that was open when it happened, so a failure that SQLite's own sync (a
  check-in's, or the other process's) saw first is still reported here. A commit that
  SQLite itself refuses with an I/O error keeps the failure too (`io_error`).
- The log starts over after a checkpoint (SQLite writes it again from its start, the same
  file): with ``synchronous=NORMAL`` SQLite syncs the log before a checkpoint copies it into
  the database file and syncs the database file after, so a commit that was checkpointed
  before this sync is on disk either way. SQLite deletes the log only when its last
  connection closes, and ours is open: a log missing when a commit waits is a failure.
- The first sync of the log syncs its directory too, so that the file itself is found after
  a power cut (as SQLite's own first sync of a log does).
- A sync that fails (``EIO``, ``ENOSPC`` …): every caller waiting for it gets `SyncFailed`.
  After a failed ``fsync`` Linux may drop the pages it could not write and report success
  to the next one, so a sync that succeeds later proves nothing: the failure is kept, and
  every durable change after it is refused (`failed`) until the log was written afresh.
  `recover` (tried by the next durable change, at most every `RECOVER_S`) has SQLite fold
  the log into the database file (what this process holds is written anew and synced, and
  the log emptied: `store_schema.fold_log`), then syncs the log through a new descriptor;
  only then are durable changes taken again. A reader of the other process in the way, or
  the disk still failing: refused, and tried again later. Every open folds the log so too
  (`Database.open`): a restart is no proof either.
- `close`: the callers still waiting are synced and told first, then the thread ends.
"""

import contextlib
import errno
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Final

_LOGGER = logging.getLogger(__name__)


class SyncFailed(Exception):  # noqa: N818 - named after the condition
    """The log could not be synced: the change may not be on disk."""


RECOVER_S: Final = 1.0
"""How often at most a durable change tries to write the log afresh after a failed sync."""

type Waiting = tuple[Future[Any], Any]
"""A committed change's caller and the result it gets once the log is on disk."""


class WalSync:
    """Syncs one database file's write-ahead log for the changes committed before each sync."""

    def __init__(self, database: Path | str, name: str = "store-bridge-wal-sync") -> None:
        """The log of `database` (its ``-wal`` file); the thread starts with the first caller."""
        self._database = database
        self._handle: int | None = None
        self._name = name
        self._waiting: list[Waiting] = []
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._synced_directory = False
        self.failed: str | None = None
        """Why a sync failed (then every durable change is refused), or None."""
        self.syncs = 0
        """Syncs of the log made (each for every caller committed before it began)."""
        self.on_failure: Callable[[], None] | None = None
        """Called (in the thread that found it) when a sync failed."""
        self._handle_lock = threading.Lock()
        """Held while the descriptor is used or replaced."""
        self._next_recovery = 0.0

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

    @property
    def path(self) -> Path:
        """The log's file: beside the database file, symbolic links followed (as SQLite)."""
        return log_path(self._database)

    def sync_now(self) -> None:
        """Open the log and sync it in this thread (at open, before what it holds is used).

        Raises `SyncFailed`, and keeps the failure, if it cannot be synced.
        """
        if self.failed is not None:
            raise SyncFailed(self.failed)
        if self._handle is None:
            try:
                self._handle = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return  # no log yet: the first commit makes it, and the first sync opens it
            except OSError as err:
                raise self._fail(err) from err
        failure = self._sync()
        if failure is not None:
            raise failure

    def io_error(self, err: BaseException) -> None:
        """SQLite failed a commit or a sync of ours: an I/O error is kept as a failed sync."""
        code = getattr(err, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_IOERR:
            self._fail(OSError(errno.EIO, f"SQLite: {getattr(err, 'sqlite_errorname', 'IOERR')}"))

    def recover(self, fold: Callable[[], bool]) -> bool:
        """After a failed sync: write the log afresh, and take durable changes again.

        `fold` has SQLite write the whole log into the database file, sync it and empty the
        log (True), or says a reader was in the way (False). Then the log is synced through a
        new descriptor. True when durable changes are taken again; tried at most every
        `RECOVER_S` (in the database thread, outside a transaction).
        """
        if self.failed is None:
            return True
        now = time.monotonic()
        if now < self._next_recovery:
            return False
        self._next_recovery = now + RECOVER_S
        handle = None
        try:
            if not fold():
                return False
            handle = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            os.fsync(handle)
            _sync_directory(self.path.parent)
        except (OSError, sqlite3.Error) as err:
            _LOGGER.debug("The database's log cannot be written afresh yet: %s", err)
            if handle is not None:
                with contextlib.suppress(OSError):
                    os.close(handle)
            return False
        with self._handle_lock:
            old, self._handle = self._handle, handle
            self._synced_directory = True
            self.failed = None
        if old is not None:
            with contextlib.suppress(OSError):
                os.close(old)
        _LOGGER.warning("The database's log is written to disk again: durable changes go on")
        return True

    def close(self) -> None:
        """Sync for the callers still waiting and tell them, then end the thread."""
        with self._ready:
            self._closed = True
            thread = self._thread
            self._ready.notify()
        if thread is not None:
            thread.join()
        with self._ready:
            handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):  # every sync through it was told already
                os.close(handle)

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
        if self._handle is None:  # the log was made after the open: open it now
            try:
                self._handle = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError as err:  # missing too: a commit waits, so it is not where we look
                return self._fail(err)
        try:
            with self._handle_lock:
                os.fsync(self._handle)
            if (failed := self._latched()) is not None:  # SQLite saw an I/O error meanwhile:
                return SyncFailed(failed)  # it may be ours
            if not self._synced_directory:
                _sync_directory(self.path.parent)
                self._synced_directory = True
        except OSError as err:
            return self._fail(err)
        self.syncs += 1
        return None

    def _latched(self) -> str | None:
        """Why a sync failed, as another thread may have found meanwhile (`io_error`)."""
        return self.failed

    def _fail(self, err: OSError) -> SyncFailed:
        if self.failed is not None:
            return SyncFailed(self.failed)
        self.failed = f"log not synced ({errno.errorcode.get(err.errno or 0, 'error')})"
        self._next_recovery = time.monotonic() + RECOVER_S
        _LOGGER.error(
            "The database's log could not be written to disk (%s): durable changes are refused "
            "until it is written afresh",
            err.strerror or type(err).__name__,
        )
        if self.on_failure is not None:
            try:
                self.on_failure()
            except Exception:
                _LOGGER.exception("Telling of a failed sync of the database's log failed")
        return SyncFailed(self.failed)


def log_path(database: Path | str) -> Path:
    """Where SQLite keeps `database`'s write-ahead log: beside the file a link leads to."""
    return Path(f"{os.path.realpath(os.fspath(database))}-wal")


def _sync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
