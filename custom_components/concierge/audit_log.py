"""The audit log: a site's hash chain of access events, kept on disk without ever blocking.

The chain itself (records, hashes, verification, gap records) is the core's
(`core.audit`, `core.audit_scan`); the file's blocking input and output is
`audit_file.py`'s, and what the owner is told (repairs, warnings) `audit_notices.py`'s.
This is the keeper that decides when to write, retry, cut and declare records lost.

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
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .audit_file import LogFile, log_path
from .audit_notices import AuditNotices
from .const import DOMAIN
from .core.audit import (
    AuditRecord,
    ChainVerification,
    SeqRange,
    append,
    gap_record,
    missing_at_load,
    retry_delay,
    to_json_line,
)
from .core.audit_scan import LogScan, TornTail, verify_log
from .core.events import AccessEvent

type CallLater = Callable[[HomeAssistant, float, Callable[[datetime], None]], CALLBACK_TYPE]
"""Schedules a callback after a delay in seconds; returns its cancel function."""


class AuditLog:
    """The append-only, hash-chained log of a site's access events."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, *, call_later: CallLater = async_call_later
    ) -> None:
        """Prepare the log file under Home Assistant's storage folder."""
        self._hass = hass
        self._entry_id = entry_id
        self._file = LogFile(log_path(hass, entry_id))
        self._notices = AuditNotices(hass, entry_id, self._file.path)
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
        self._notices.damage(scan)
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
            kept = self._notices.torn_bytes_not_kept(torn, err)
        else:
            kept = str(aside)
        await self._hass.async_add_executor_job(self._file.cut, torn.offset)
        self._notices.torn_tail(torn, stamp, kept)

    def _record_gap(self, gap: SeqRange, lost_head: str | None) -> None:
        record = gap_record(
            self._last, gap, site=self._entry_id, time=dt_util.utcnow(),
            reason="records_lost", lost_head=lost_head,
        )  # fmt: skip
        self._notices.records_lost(gap)
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
            self._notices.records_waiting(len(self._queue), self._error)  # the number changed
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
        self._notices.write_failed(err, self._failures, len(self._queue))
        if self._closed:
            return  # no more retries; the next load declares what is left missing
        self._notices.records_waiting(len(self._queue), self._error)
        self._retry = self._call_later(self._hass, retry_delay(self._failures), self._retry_now)

    @callback
    def _retry_now(self, _now: datetime) -> None:
        self._retry = None
        self._kick()

    def _written(self) -> None:
        if not self._failures:
            return
        self._notices.written_again(self._failures)
        self._failures = 0

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
        self._notices.stopped(len(self._queue))

    async def async_remove(self) -> None:
        """Delete the log, its torn bytes and its repairs (when the site is deleted)."""
        await self._hass.async_add_executor_job(self._file.remove)
        self._notices.remove_all()
