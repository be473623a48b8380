"""The syncs a test's process asks of the disk, seen at the edge of the world (``os.fsync``).

`Syncs` replaces ``os.fsync`` for one test (``monkeypatch``): each call is recorded, by the
path of the file (or directory) it syncs, in a shared `log` that a test may also hand to
SQLite's statement trace and to a processor, so that their order can be read. It can hold a
sync (`hold`: the next syncs wait until `release`) or fail it (`fail`: ``OSError`` with the
errno given, as a disk that cannot write). SQLite's own syncs (``synchronous=FULL`` commits,
checkpoints) are made in C and are not seen here.
"""

import errno
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest


class Syncs:
    """``os.fsync`` recorded (and held or failed when told)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, log: list[object] | None = None) -> None:
        """Replace ``os.fsync`` for the test; `log`: where each sync is appended."""
        self.log: list[object] = [] if log is None else log
        self._real: Callable[[int], None] = os.fsync
        self._free = threading.Event()
        self._free.set()
        self.waiting = threading.Event()
        """Set while a held sync waits for `release`."""
        self.error: int | None = None
        self.failing: str | None = None
        monkeypatch.setattr(os, "fsync", self._fsync)

    def _fsync(self, handle: int) -> None:
        path = str(Path(f"/proc/self/fd/{handle}").readlink())
        if not self._free.is_set():
            self.waiting.set()
            assert self._free.wait(10), "a held sync was never released"
        if self.error is not None and (self.failing is None or path == self.failing):
            self.log.append(("fsync failed", path))
            raise OSError(self.error, os.strerror(self.error), path)
        self._real(handle)
        self.log.append(("fsync", path))

    def hold(self) -> None:
        """The next syncs wait (in their thread) until `release`."""
        self.waiting.clear()
        self._free.clear()

    def release(self) -> None:
        """Let the held syncs go on."""
        self._free.set()

    def fail(self, code: int = errno.EIO, path: Path | str | None = None) -> None:
        """Every sync from now on fails with `code` (only those of the file `path`, if given)."""
        self.error = code
        self.failing = None if path is None else str(Path(path).resolve())

    def of(self, path: Path | str, suffix: str = "-wal") -> list[object]:
        """The syncs of `path`'s log (or of `path` + `suffix`: "" for `path` itself), in order."""
        name = f"{Path(path).resolve()}{suffix}"
        return [entry for entry in self.log if isinstance(entry, tuple) and entry[1] == name]
