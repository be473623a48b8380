"""The audit log file: a site's hash chain of access events, written without ever blocking.

The chain itself (records, hashes, verification, gap records, reading a damaged file) is
the core's (`core.audit`); this is the shell that keeps it in a JSON-lines file under
Home Assistant's storage folder.

What a safety action sees: `async_append` chains the event in memory at once and returns;
the record is queued and written (appended, flushed, synced) in order by one writer task.
A write that fails (a full disk, an I/O error) never reaches the caller: the file is cut
back to where it ended, so no partial line stays; the records stay queued in memory; one
retry chain writes them later (1, 5, 30, 60 s, then every 5 minutes) and a repair issue
says how many records wait until they are written. Unloading tries one last time.

At load the file is read without raising. A torn tail (power loss during a write) is cut
off, its bytes kept next to the log (`<name>.torn-<UTC time>`) and reported (repair, with
line and sequence number). A damaged line before the last whole record is left in place
and reported; the chain continues from the last whole record and verification fails on
it. Records the site's stored head counts but the file does not hold (the process
stopped with records queued, or the tail was cut off) are declared lost by a durable gap
record, so verification reports them forever.
"""

import asyncio
import contextlib
import errno
import logging
import os
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .core.audit import (
    AuditRecord,
    ChainVerification,
    LogScan,
    SeqRange,
    TornTail,
    append,
    gap_record,
    missing_at_load,
    retry_delay,
    scan_log,
    to_json_line,
    verify_log,
)
from .core.events import AccessEvent

_LOGGER = logging.getLogger(__name__)

type CallLater = Callable[[HomeAssistant, float, Callable[[datetime], None]], CALLBACK_TYPE]
"""Schedules a callback after a delay in seconds; returns its cancel function."""

ISSUE_WRITE_FAILED = "audit_write_failed"
ISSUE_TORN_TAIL = "audit_torn_tail"
ISSUE_DAMAGED = "audit_damaged"
ISSUE_RECORDS_LOST = "audit_records_lost"
ISSUE_KEYS = (ISSUE_WRITE_FAILED, ISSUE_TORN_TAIL, ISSUE_DAMAGED, ISSUE_RECORDS_LOST)

MAX_LOGGED_BYTES = 2000
"""Torn bytes that cannot be kept in a file are logged, up to this many."""


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


class AuditLog:
    """The append-only, hash-chained log of a site's access events."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, *, call_later: CallLater = async_call_later
    ) -> None:
        """Prepare the log file under Home Assistant's storage folder."""
        self._hass = hass
        self._entry_id = entry_id
        self._file = LogFile(log_path(hass, entry_id))
        self._call_later = call_later
        self._last: AuditRecord | None = None
        self._queue: deque[AuditRecord] = deque()
        """Chained records not written yet, oldest first."""
        # The writer holds this while a write is under way; readers take it to see the
        # file and the queue at one moment (every record exactly once).
        self._io_lock = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None
        self._retry: CALLBACK_TYPE | None = None
        self._failures = 0
        self._error = ""
        self._closed = False
        self._unsub_final_write: CALLBACK_TYPE | None = None

    @property
    def path(self) -> Path:
        """The log file."""
        return self._file.path

    @property
    def head(self) -> str | None:
        """The hash of the newest record (written or waiting)."""
        return self._last.hash if self._last else None

    @property
    def count(self) -> int:
        """The sequence number of the newest record (written or waiting; lost ones count)."""
        return self._last.seq if self._last else 0

    @property
    def pending(self) -> int:
        """How many records wait to be written."""
        return len(self._queue)

    @property
    def failures(self) -> int:
        """Failed writes in a row (0 while writing works)."""
        return self._failures

    # --- loading ---------------------------------------------------------------------

    async def async_load(
        self, expected_head: str | None = None, expected_count: int = 0
    ) -> list[AuditRecord]:
        """Read the log and chain onto its last whole record; never fails on its content.

        `expected_head`/`expected_count` are the head and sequence number the site stored
        (its own copy): records it counts beyond the log's last are declared lost by a gap
        record. Returns the whole records read.
        """
        scan = await self._hass.async_add_executor_job(self._file.scan)
        self._last = scan.last
        if scan.torn is not None:
            await self._async_cut_torn(scan.torn)
        self._report_damage(scan)
        if (gap := missing_at_load(scan.last, expected_count)) is not None:
            self._record_gap(gap, expected_head)
        self._unsub_final_write = self._hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
        )
        return list(scan.records)

    async def _async_cut_torn(self, torn: TornTail) -> None:
        stamp = dt_util.utcnow().strftime("%Y%m%dT%H%M%SZ")
        try:
            aside = await self._hass.async_add_executor_job(self._file.set_aside, torn.data, stamp)
        except OSError as err:
            kept = f"the Home Assistant log ({err.strerror})"
            _LOGGER.warning(
                "Audit log %s: the torn bytes could not be kept in a file (%s); they were: %r",
                self.path, err, torn.data[:MAX_LOGGED_BYTES],
            )  # fmt: skip
        else:
            kept = str(aside)
        await self._hass.async_add_executor_job(self._file.cut, torn.offset)
        _LOGGER.warning(
            "Audit log %s: line %d (record %d) was cut short, probably by a power loss; "
            "the log is cut back to the last whole record and the %d torn bytes are kept in %s",
            self.path, torn.line, torn.seq, len(torn.data), kept,
        )  # fmt: skip
        self._repair(
            f"{ISSUE_TORN_TAIL}_{self._entry_id}_{stamp}",
            translation_key="audit_torn_tail",
            severity=ir.IssueSeverity.WARNING,
            placeholders={
                "site": self._site_name(),
                "line": str(torn.line),
                "seq": str(torn.seq),
                "file": kept,
            },
            persistent=True,
        )

    def _report_damage(self, scan: LogScan) -> None:
        issue_id = f"{ISSUE_DAMAGED}_{self._entry_id}"
        if not scan.damaged:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
            return
        first = scan.damaged[0]
        _LOGGER.warning(
            "Audit log %s: %d line(s) hold no record (first: line %d, where record %d would "
            "be); they are left in place, the chain goes on from the last whole record, and "
            "verification reports them",
            self.path, len(scan.damaged), first.line, first.seq,
        )  # fmt: skip
        self._repair(
            issue_id,
            translation_key="audit_damaged",
            severity=ir.IssueSeverity.ERROR,
            placeholders={
                "site": self._site_name(),
                "line": str(first.line),
                "seq": str(first.seq),
                "count": str(len(scan.damaged)),
                "file": str(self.path),
            },
        )

    def _record_gap(self, gap: SeqRange, lost_head: str | None) -> None:
        record = gap_record(
            self._last, gap, site=self._entry_id, time=dt_util.utcnow(),
            reason="records_lost", lost_head=lost_head,
        )  # fmt: skip
        _LOGGER.warning(
            "Audit log %s: records %d to %d are missing (the log ends before them, the "
            "site's stored head counts them); a gap record says so",
            self.path, gap.first, gap.last,
        )  # fmt: skip
        self._repair(
            f"{ISSUE_RECORDS_LOST}_{self._entry_id}_{gap.first}",
            translation_key="audit_records_lost",
            severity=ir.IssueSeverity.ERROR,
            placeholders={
                "site": self._site_name(),
                "count": str(gap.count),
                "first": str(gap.first),
                "last": str(gap.last),
            },
            persistent=True,
        )
        self._enqueue(record)

    # --- appending -------------------------------------------------------------------

    async def async_append(self, event: AccessEvent) -> AuditRecord:
        """Chain an event now and queue its record for writing; never waits for the disk.

        Never raises for storage errors: a record that cannot be written is kept and
        retried, and a repair says so.
        """
        record = append(self._last, event)
        self._enqueue(record)
        return record

    def _enqueue(self, record: AuditRecord) -> None:
        self._last = record
        self._queue.append(record)
        if self._failures:
            self._raise_write_issue()  # the number waiting changed
        self._kick()

    @callback
    def _kick(self) -> None:
        """Start the writer, unless it runs or a retry is scheduled."""
        if not self._queue or self._retry is not None:
            return
        if self._writer is not None and not self._writer.done():
            return
        self._writer = self._hass.async_create_task(
            self._async_write_queue(), f"{DOMAIN} audit log write", eager_start=True
        )

    async def _async_write_queue(self) -> None:
        while self._queue:
            async with self._io_lock:
                batch = list(self._queue)
                data = "".join(f"{to_json_line(r)}\n" for r in batch).encode(
                    "utf-8", "surrogatepass"
                )
                try:
                    await self._hass.async_add_executor_job(self._file.append, data)
                except OSError as err:
                    self._write_failed(err)
                    return
                for _ in batch:
                    self._queue.popleft()
        self._written()

    def _write_failed(self, err: OSError) -> None:
        self._failures += 1
        self._error = err.strerror or type(err).__name__
        if self._failures == 1:
            _LOGGER.warning(
                "Could not write the audit log %s: %s; %d record(s) are kept in memory and "
                "written as soon as the disk takes them",
                self.path, err, len(self._queue),
            )  # fmt: skip
        else:
            _LOGGER.debug("Audit log still not writable (attempt %d): %s", self._failures, err)
        if self._closed:
            return  # no more retries; the next load declares what is left missing
        self._raise_write_issue()
        self._retry = self._call_later(self._hass, retry_delay(self._failures), self._retry_now)

    @callback
    def _retry_now(self, _now: datetime) -> None:
        self._retry = None
        self._kick()

    def _written(self) -> None:
        if not self._failures:
            return
        _LOGGER.info(
            "The audit log %s is written again, after %d failed attempt(s)",
            self.path, self._failures,
        )  # fmt: skip
        self._failures = 0
        ir.async_delete_issue(self._hass, DOMAIN, f"{ISSUE_WRITE_FAILED}_{self._entry_id}")

    def _repair(
        self,
        issue_id: str,
        *,
        translation_key: str,
        severity: ir.IssueSeverity,
        placeholders: dict[str, str],
        persistent: bool = False,
    ) -> None:
        """Raise (or update) one of the log's repairs; none can be fixed from the UI."""
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=persistent,
            severity=severity,
            translation_key=translation_key,
            translation_placeholders=placeholders,
        )

    def _raise_write_issue(self) -> None:
        self._repair(
            f"{ISSUE_WRITE_FAILED}_{self._entry_id}",
            translation_key="audit_write_failed",
            severity=ir.IssueSeverity.ERROR,
            placeholders={
                "site": self._site_name(),
                "pending": str(len(self._queue)),
                "error": self._error,
                "file": str(self.path),
            },
        )

    # --- reading ---------------------------------------------------------------------

    async def _async_snapshot(self) -> tuple[LogScan, tuple[AuditRecord, ...]]:
        """The file and the records still waiting, at one moment.

        Waits for the writer while it runs (not for a scheduled retry), so that while the
        disk works, what was appended before is in the file.
        """
        while (writer := self._writer) is not None and not writer.done():
            await asyncio.wait([writer])
        async with self._io_lock:
            scan = await self._hass.async_add_executor_job(self._file.scan)
            return scan, tuple(self._queue)

    async def async_read(self) -> list[AuditRecord]:
        """Every record of the chain (for export): the file's whole ones, then the waiting.

        Waits for a write under way, so the records read end where the chain ends.
        """
        scan, pending = await self._async_snapshot()
        return [*scan.records, *pending]

    async def async_verify(self, expected_head: str | None) -> ChainVerification:
        """Verify the file and the waiting records against the head kept by the site."""
        scan, pending = await self._async_snapshot()
        # Hashing a long chain takes a while: keep it off the event loop.
        return await self._hass.async_add_executor_job(
            partial(verify_log, scan, expected_head, pending)
        )

    # --- closing ---------------------------------------------------------------------

    async def _async_final_write(self, _event: Event) -> None:
        self._unsub_final_write = None
        await self.async_close()

    async def async_close(self) -> None:
        """Stop retrying and try one last write (on unload and when Home Assistant stops).

        Records that still cannot be written are declared lost at the next load (the
        site's stored head counts them).
        """
        self._closed = True
        if self._retry is not None:
            self._retry()
            self._retry = None
        if self._unsub_final_write is not None:
            self._unsub_final_write()
            self._unsub_final_write = None
        if self._writer is not None:
            await self._writer
        self._kick()  # one last attempt (no retry is scheduled any more)
        if self._writer is not None:
            await self._writer
        if self._queue:
            _LOGGER.warning(
                "Audit log %s: %d record(s) could not be written before stopping; the next "
                "start records them as missing",
                self.path, len(self._queue),
            )  # fmt: skip
        ir.async_delete_issue(self._hass, DOMAIN, f"{ISSUE_WRITE_FAILED}_{self._entry_id}")

    async def async_remove(self) -> None:
        """Delete the log, its torn bytes and its repairs (when the site is deleted)."""
        await self._hass.async_add_executor_job(self._file.remove)
        registry = ir.async_get(self._hass)
        for domain, issue_id in list(registry.issues):
            if domain == DOMAIN and any(
                issue_id.startswith(f"{key}_{self._entry_id}") for key in ISSUE_KEYS
            ):
                ir.async_delete_issue(self._hass, DOMAIN, issue_id)

    def _site_name(self) -> str:
        entry = self._hass.config_entries.async_get_entry(self._entry_id)
        return entry.title if entry is not None else self._entry_id
