"""The audit log's files: their blocking input and output (run in the executor).

A site's chain is kept as JSON lines, in segments (`audit_segments.py`): appends go to
the live one, `.storage/concierge.<entry>.audit.jsonl`. An append is written, flushed
and synced, or else cut back at once (and, if even that fails, before the next write),
so only whole records stay in the file. Once the live segment holds `segment_bytes`, it
is closed (moved, unchanged, into `concierge.<entry>.audit/`) and the next append starts
a new one; closed segments but the newest are then gzip-compressed (written aside,
synced, renamed, and only then the plain one removed). Torn bytes found at load are kept
in a new file next to the log (`<name>.torn-<UTC time>`). What the bytes hold is read by
`core.audit_scan`; when to write is `audit_log.AuditLog`'s call.
"""

import contextlib
import errno
import gzip
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from homeassistant.core import HomeAssistant

from .audit_segments import (
    SEGMENT_BYTES,
    LogEnd,
    Tail,
    archive_folder,
    closed_segments,
    last_closed,
    log_end,
    read_lines,
    read_tail,
    records_after,
    segment_path,
)
from .const import DOMAIN
from .core.audit import AuditRecord, ChainVerification
from .core.audit_bundle import VisitBundler
from .core.audit_scan import DamagedLine, LineReader, LogVerifier, records_of

COMPRESS_LEVEL = 6


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

    def __init__(self, path: Path, segment_bytes: int = SEGMENT_BYTES) -> None:
        """Use the live segment at `path` (created by the first write)."""
        self.path = path
        self.folder = archive_folder(path)
        self.segment_bytes = segment_bytes
        self._cut: tuple[int, int, int] | None = None
        """(device, inode, size): cut that file back to that size before writing."""

    # --- reading (never holds the writer up) -------------------------------------------

    def tail(self) -> Tail:
        """The last whole record and a torn tail: all that setup reads."""
        return read_tail(self.path)

    def end(self) -> LogEnd:
        """The log's files and the live segment's whole length, now (between two writes)."""
        cut_to = None
        if self._cut is not None:
            info = self.path.stat() if self.path.exists() else None
            if info is not None and (info.st_dev, info.st_ino) == self._cut[:2]:
                cut_to = self._cut[2]
        return log_end(self.path, cut_to)

    def lines(self, end: LogEnd) -> Iterator[bytes]:
        """Every line up to `end`, oldest segment first."""
        return read_lines(self.path, end)

    def records_after(self, end: LogEnd, seq: int) -> list[AuditRecord]:
        """The whole records after `seq` (reads only the segments that hold them)."""
        return records_after(self.path, end, seq)

    def live_damage(self, end: LogEnd) -> tuple[DamagedLine, ...]:
        """The live segment's lines before its last whole record that hold no record."""
        live = LogEnd((), end.live_number, end.live_size, end.live_id)
        last = last_closed(self.path) if end.closed else None
        reader = LineReader(seq_before=last.seq if last is not None else 0)
        for raw in read_lines(self.path, live):
            reader.line(raw)
        return tuple(reader.damaged)

    def verify(
        self, end: LogEnd, expected_head: str | None, pending: tuple[AuditRecord, ...]
    ) -> ChainVerification:
        """Verify every line up to `end`, then the records waiting after them."""
        verifier = LogVerifier()
        for raw in self.lines(end):
            verifier.line(raw)
        return verifier.result(expected_head, pending)

    def export_visit(
        self, end: LogEnd, pending: tuple[AuditRecord, ...], visit_id: str
    ) -> dict[str, object]:
        """One visit's bundle, from every record up to `end` and those waiting."""
        bundler = VisitBundler(visit_id)
        for record in itertools.chain(records_of(self.lines(end)), pending):
            bundler.add(record)
        return bundler.bundle()

    # --- writing -------------------------------------------------------------------------

    def append(self, data: bytes) -> bool:
        """Append `data` durably, or raise OSError with the file as it was.

        Returns whether the live segment was closed after it (it was full).
        """
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
                if info.st_size == 0:
                    _sync_folder(self.path.parent)  # a new live segment: its name too
            except OSError:
                self._cut = (info.st_dev, info.st_ino, info.st_size)
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, info.st_size)
                    self._cut = None
                    os.fsync(fd)
                raise
            size = info.st_size + len(data)
        finally:
            os.close(fd)
        return size >= self.segment_bytes and self._close_segment()

    def _close_segment(self) -> bool:
        """Move the live segment into the folder of closed ones (False: not now)."""
        try:
            self.folder.mkdir(exist_ok=True)
            closed = closed_segments(self.folder)
            target = segment_path(self.folder, closed[-1] + 1 if closed else 1)
            if target.exists() or target.with_name(f"{target.name}.gz").exists():
                return False
            self.path.rename(target)
            _sync_folder(self.folder)
            _sync_folder(self.path.parent)
        except OSError:
            return False  # the live segment goes on; the next append tries again
        return True

    def compress_closed(self) -> int:
        """Compress the closed segments but the newest one; returns how many."""
        closed = closed_segments(self.folder)
        done = 0
        for number in closed[:-1]:
            plain = segment_path(self.folder, number)
            if not plain.exists():
                continue
            packed = plain.with_name(f"{plain.name}.gz")
            aside = plain.with_name(f"{plain.name}.gz.tmp")
            with plain.open("rb") as source, aside.open("wb") as raw:
                with gzip.GzipFile(
                    filename="", mode="wb", fileobj=raw, compresslevel=COMPRESS_LEVEL, mtime=0
                ) as packing:
                    shutil.copyfileobj(source, packing, 1 << 20)
                raw.flush()
                os.fsync(raw.fileno())
            aside.replace(packed)
            _sync_folder(self.folder)
            plain.unlink()
            done += 1
        return done

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
        """Delete the log (every segment) and the torn bytes kept next to it."""
        self.path.unlink(missing_ok=True)
        for aside in self.path.parent.glob(f"{self.path.name}.torn-*"):
            aside.unlink(missing_ok=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
