"""The audit log's file: its blocking input and output (run in the executor).

A site's chain is kept as JSON lines in `.storage/concierge.<entry>.audit.jsonl`. An
append is written, flushed and synced, or else cut back at once (and, if even that
fails, before the next write), so only whole records stay in the file. Torn bytes found
at load are kept in a new file next to the log (`<name>.torn-<UTC time>`). What the
bytes hold is read by `core.audit_scan`; when to write is `audit_log.AuditLog`'s call.
"""

import contextlib
import errno
import os
from pathlib import Path

from homeassistant.core import HomeAssistant

from .const import DOMAIN
from .core.audit_scan import LogScan, scan_log


def log_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where a site's audit log lives."""
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.audit.jsonl"))


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte (a write may take only part of them), or raise OSError."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written == 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


class LogFile:
    """The file's blocking input and output (run in the executor).

    Only whole records stay in it: a write that fails is cut back at once, and when even
    that fails, before the next write (only if the file is still the same one).
    """

    def __init__(self, path: Path) -> None:
        """Use the file at `path` (created by the first write)."""
        self.path = path
        self._cut: tuple[int, int, int] | None = None
        """(device, inode, size): cut that file back to that size before writing."""

    def scan(self) -> LogScan:
        """Read and scan the whole file (missing: empty)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        return scan_log(data)

    def append(self, data: bytes) -> None:
        """Append `data` durably, or raise OSError with the file as it was."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            info = os.fstat(fd)
            if self._cut is not None:
                device, inode, size = self._cut
                if (info.st_dev, info.st_ino) == (device, inode) and info.st_size > size:
                    os.ftruncate(fd, size)
                self._cut = None
                info = os.fstat(fd)
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError:
                self._cut = (info.st_dev, info.st_ino, info.st_size)
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, info.st_size)
                    self._cut = None
                    os.fsync(fd)
                raise
        finally:
            os.close(fd)

    def cut(self, size: int) -> None:
        """Cut the file back to `size` bytes now, or else before the next write."""
        try:
            info = self.path.stat()
        except OSError:
            return
        self._cut = (info.st_dev, info.st_ino, size)
        with contextlib.suppress(OSError), self.path.open("r+b") as handle:
            handle.truncate(size)
            self._cut = None
            handle.flush()
            os.fsync(handle.fileno())

    def set_aside(self, data: bytes, stamp: str) -> Path:
        """Keep torn bytes in a new file next to the log; return its path."""
        for attempt in range(100):
            suffix = f"-{attempt + 1}" if attempt else ""
            aside = self.path.with_name(f"{self.path.name}.torn-{stamp}{suffix}")
            try:
                with aside.open("xb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
            except FileExistsError:
                continue
            return aside
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(aside))

    def remove(self) -> None:
        """Delete the log and the torn bytes kept next to it."""
        self.path.unlink(missing_ok=True)
        for aside in self.path.parent.glob(f"{self.path.name}.torn-*"):
            aside.unlink(missing_ok=True)
