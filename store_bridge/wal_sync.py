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
  the disk still failing: refused, and tried again later. The database file itself is synced
  then too, through a descriptor kept since the open: if that fails, the file lost writes a
  checkpoint took as done, nothing heals it (`lost`), and durable changes stay refused until
  the disk was checked and the bridge restarted. Every open folds the log so too
  (`Database.open`: a restart is no proof either); an open that could not fold it (a reader
  in the way) takes durable changes only once `recover` could.
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


NOT_FOLDED: Final = "log not folded at open"
"""Why durable changes wait after an open that could not fold the log (not an error)."""
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
        self.lost: str | None = None
        """Why the database file itself was found to have lost writes (nothing heals it)."""
        self._file: int | None = None
        """The database file, open since the database's open (its write-back errors)."""
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

    def sync_now(self, *, folded: bool) -> None:
        """Open the log and the file, and sync the log (at the database's open, in its thread).

        What the log holds is on disk before it is used. `folded`: whether SQLite folded
        the log into the file first. If not (a reader of the other process was in the way),
        what the log holds may sit behind a write-back error this process never saw: durable
        changes wait until the log was folded (`recover`, tried by the first of them). Raises
        `SyncFailed`, and keeps the failure, if it cannot be synced.
        """
        if self.failed is not None:
            raise SyncFailed(self.failed)
        try:
            if self._file is None:
                with contextlib.suppress(FileNotFoundError):  # no file: nothing written yet
                    self._file = os.open(
                        os.path.realpath(self._database), os.O_RDONLY | os.O_CLOEXEC
                    )
            if self._handle is None:
                self._handle = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # no log yet: the first commit makes it, and the first sync opens it
        except OSError as err:
            raise self._fail(err) from err
        failure = self._sync()
        if failure is not None:
            raise failure
        if not folded:
            self.failed, self._next_recovery = NOT_FOLDED, 0.0

    def io_error(self, err: BaseException) -> None:
        """SQLite failed a commit or a sync of ours: an I/O error is kept as a failed sync."""
        code = getattr(err, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_IOERR:
            self._fail(OSError(errno.EIO, f"SQLite: {getattr(err, 'sqlite_errorname', 'IOERR')}"))

    def recover(self, fold: Callable[[], bool]) -> bool:
        """After a failed sync: write the log afresh, and take durable changes again.

        A new descriptor of the log is opened first (a write-back error from then on is
        reported to it). `fold` has SQLite write the whole log into the database file, sync
        it and empty the log (True), or says a reader was in the way (False). The database
        file is then synced through the descriptor kept since the open: an error there means
        the file itself lost writes SQLite took as done, and nothing heals that (`lost`:
        refused until the disk is checked and the bridge restarted). Then the log is synced
        through the new descriptor. True when durable changes are taken again; tried at most
        every `RECOVER_S` (in the database thread, outside a transaction).
        """
        if self.failed is None:
            return True
        now = time.monotonic()
        if self.lost is not None or now < self._next_recovery:
            return False
        self._next_recovery = now + RECOVER_S
        handle = None
        try:
            handle = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
            if not fold():
                _close(handle)
                return False
            if self._file is not None:
                try:
                    os.fsync(self._file)
                except OSError as err:
                    self._lose(err)
                    _close(handle)
                    return False
            os.fsync(handle)
            _sync_directory(self.path.parent)
        except (OSError, sqlite3.Error) as err:
            _LOGGER.debug("The database's log cannot be written afresh yet: %s", err)
            if handle is not None:
                _close(handle)
            return False
        with self._handle_lock:
            old, self._handle = self._handle, handle
            self._synced_directory = True
            was, self.failed = self.failed, None
        if old is not None:
            _close(old)
        if was != NOT_FOLDED:
            _LOGGER.warning("The database's log is written to disk again: durable changes go on")
        return True

    def _lose(self, err: OSError) -> None:
        self.lost = f"database file not synced ({errno.errorcode.get(err.errno or 0, 'error')})"
        self.failed = self.lost
        _LOGGER.error(
            "The database file could not be written to disk (%s) after a failed sync of its "
            "log: durable changes are refused; check the disk, then restart the bridge",
            err.strerror or type(err).__name__,
        )

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
            file, self._file = self._file, None
        for descriptor in (handle, file):  # every sync through them was told already
            if descriptor is not None:
                _close(descriptor)

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
        handle = self._handle
        try:
            with self._handle_lock:
                if self._handle is not handle:  # written afresh meanwhile: sync the new one
                    handle = self._handle
                os.fsync(handle)
            if (failed := self._latched()) is not None:  # SQLite saw an I/O error meanwhile:
                return SyncFailed(failed)  # it may be ours
            if not self._synced_directory:
                _sync_directory(self.path.parent)
                self._synced_directory = True
        except OSError as err:
            with self._handle_lock:
                retired = self._handle is not handle
            if retired:  # the log was written afresh meanwhile: this one's error is past
                return SyncFailed("log not synced")
            return self._fail(err)
        self.syncs += 1
        return None

    def _latched(self) -> str | None:
        """Why a sync failed, as another thread may have found meanwhile (`io_error`)."""
        return self.failed

    def _fail(self, err: OSError) -> SyncFailed:
        if self.failed not in {None, NOT_FOLDED}:  # an open's unfolded log is no error: told
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


def _close(descriptor: int) -> None:
    with contextlib.suppress(OSError):
        os.close(descriptor)


def _sync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
