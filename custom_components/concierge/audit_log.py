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

The log is segmented (`audit_segments.py`): at load only the live segment's tail is
read, so setup takes as long for a million records as for a thousand. A torn tail
(power loss during a write) is cut off, its bytes kept next to the log
(`<name>.torn-<UTC time>`) and reported (repair, with line and sequence number). A
damaged line before the last whole record is left in place; the live segment is checked
for such lines just after load (in the background) and they are reported; the chain
continues from the last whole record and verification fails on them. Records the site's
stored head counts but the log does not hold (the process stopped with records queued,
or the tail was cut off) are declared lost by a durable gap record, so verification
reports them forever.

Verification and export read the whole chain record by record without holding the
writer up: they read up to the end the log had when they started, then the records that
were still waiting then. Verification runs in a process of its own
(`audit_verify_process.py`), so it never competes with an access event for the
interpreter, and in a session of its own at idle priority, so it does not take the CPU
an access event waits for; if that process cannot start, it runs in the executor (a
warning says so).
Export runs in the executor. A closed segment is compressed in the background.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .audit_file import LogFile, log_path
from .audit_notices import AuditNotices
from .audit_segments import SEGMENT_BYTES, LogEnd
from .audit_verify_process import VerifyProcessError, verify_in_process
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
from .core.audit_scan import TornTail, records_of
from .core.events import AccessEvent

_LOGGER = logging.getLogger(__name__)

type CallLater = Callable[[HomeAssistant, float, Callable[[datetime], None]], CALLBACK_TYPE]
"""Schedules a callback after a delay in seconds; returns its cancel function."""


class AuditLog:
    """The append-only, hash-chained log of a site's access events."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        *,
        call_later: CallLater = async_call_later,
        segment_bytes: int = SEGMENT_BYTES,
        compress: bool = True,
    ) -> None:
        """Prepare the log under Home Assistant's storage folder.

        The live segment is closed once it holds `segment_bytes`; closed segments are
        gzip-compressed (all but the newest) unless `compress` is False.
        """
        self._hass = hass
        self._entry_id = entry_id
        self._file = LogFile(log_path(hass, entry_id), segment_bytes)
        self._compress = compress
        self._upkeep: asyncio.Task[None] | None = None
        """Compressing closed segments, or checking the live one after load."""
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
        """The live segment (the file appended to)."""
        return self._file.path

    @property
    def folder(self) -> Path:
        """Where the closed segments are kept."""
        return self._file.folder

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
        """Chain onto the log's last whole record; never fails on its content.

        Reads only the live segment's tail. `expected_head`/`expected_count` are the head
        and sequence number the site stored (its own copy): records it counts beyond the
        log's last are declared lost by a gap record. Returns the whole records after
        `expected_count` (those the site's data does not know yet; all of them for 0).
        """
        tail = await self._hass.async_add_executor_job(self._file.tail)
        self._last = tail.last
        if tail.torn is not None:
            await self._async_cut_torn(tail.torn)
        later: list[AuditRecord] = []
        if tail.last is not None and tail.last.seq > expected_count:
            end = await self._hass.async_add_executor_job(self._file.end)
            later = await self._hass.async_add_executor_job(
                self._file.records_after, end, expected_count
            )
        if (gap := missing_at_load(tail.last, expected_count)) is not None:
            self._record_gap(gap, expected_head)
        self._unsub_final_write = self._hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
        )
        self._upkeep = self._hass.async_create_task(
            self._async_check_damage(), f"{DOMAIN} audit log check", eager_start=False
        )
        return later

    async def _async_check_damage(self) -> None:
        """Report the live segment's damaged lines (or clear the repair), after load."""
        async with self._io_lock:
            end = await self._hass.async_add_executor_job(self._file.end)
        try:
            damaged = await self._hass.async_add_executor_job(self._file.live_damage, end)
        except OSError:
            return  # removed meanwhile, or unreadable: verification will say
        self._notices.damage(damaged)

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
                    closed = await self._hass.async_add_executor_job(self._file.append, data)
                except OSError as err:
                    self._write_failed(err)
                    return
                for _ in batch:
                    self._queue.popleft()
            if closed:
                self._compress_closed()
        self._written()

    def _compress_closed(self) -> None:
        """Compress the closed segments in the background (one run at a time)."""
        if not self._compress or (self._upkeep is not None and not self._upkeep.done()):
            return
        self._upkeep = self._hass.async_create_background_task(
            self._async_compress(), f"{DOMAIN} audit log compress"
        )

    async def _async_compress(self) -> None:
        try:  # again while segments were closed meanwhile
            while await self._hass.async_add_executor_job(self._file.compress_closed):
                pass
        except OSError as err:
            self._notices.compress_failed(err)

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

    # --- a batch (before a door opens) -------------------------------------------------

    _batch_gate: asyncio.Event | None = None
    """Set ends the hold of the batch under way (see `append_batch`)."""

    def append_batch(self) -> Callable[..., Awaitable[bool]]:
        """Hold back writing the records chained from now on, to write them as one batch.

        Returns `end`: awaiting `end()` ends the hold and writes every waiting record in
        one durable write (appended, synced once); True once all of them are on disk,
        False when the disk refused them (they stay queued and are retried, as always).
        `end(wait=False)` ends the hold without waiting. Await `end` exactly once (in a
        `finally` too). A write under way is not held, and any batch's `end` ends the
        hold: records are only ever written sooner, never held longer.
        """
        if self._writer is None or self._writer.done():
            gate = self._batch_gate = asyncio.Event()

            async def _held() -> None:
                await gate.wait()
                if self._retry is None:
                    await self._async_write_queue()

            self._writer = self._hass.async_create_task(_held(), f"{DOMAIN} audit log batch")

        async def end(*, wait: bool = True) -> bool:
            if (gate := self._batch_gate) is not None:
                self._batch_gate = None
                gate.set()
            last, tried = self.count, False
            while wait and self._queue and self._queue[0].seq <= last:
                if (writer := self._writer) is None or writer.done():
                    if tried or self._retry is not None:
                        break
                    tried = True
                    self._kick()
                    continue
                await asyncio.wait([writer])
            return not self._queue or self._queue[0].seq > last

        return end

    # --- reading ---------------------------------------------------------------------

    async def _async_snapshot(self) -> tuple[LogEnd, tuple[AuditRecord, ...]]:
        """Where the log's files end and which records still wait, at one moment.

        Waits for the write under way (not for a scheduled retry), so that while the
        disk works, what was appended before is in the file; never for later writes.
        """
        if (writer := self._writer) is not None and not writer.done():
            await asyncio.wait([writer])
        async with self._io_lock:  # between two writes: the files hold whole records
            end = await self._hass.async_add_executor_job(self._file.end)
            return end, tuple(self._queue)

    async def async_read(self) -> list[AuditRecord]:
        """Every record of the chain: the files' whole ones, then the waiting.

        Holds the whole chain in memory: prefer `async_verify` and `async_export_visit`,
        which read it record by record.
        """
        end, pending = await self._async_snapshot()
        written = await self._hass.async_add_executor_job(
            lambda: list(records_of(self._file.lines(end)))
        )
        return [*written, *pending]

    async def async_verify(self, expected_head: str | None) -> ChainVerification:
        """Verify every segment and the waiting records against the head kept by the site.

        Reads record by record in a process of its own (in the executor if it cannot
        start) and never holds the writer up: records appended meanwhile are not part of
        this verification.
        """
        end, pending = await self._async_snapshot()
        try:
            return await verify_in_process(self._file.path, end, expected_head, pending)
        except VerifyProcessError as err:
            _LOGGER.warning(
                "Audit log of %s: verifying in a process of its own failed (%s); "
                "verifying in a thread instead",
                self._entry_id,
                err,
            )
        return await self._hass.async_add_executor_job(
            partial(self._file.verify, end, expected_head, pending)
        )

    async def async_export_visit(self, visit_id: str) -> dict[str, object]:
        """One visit's evidence bundle (`core.audit_bundle`), the chain read record by record."""
        end, pending = await self._async_snapshot()
        return await self._hass.async_add_executor_job(
            partial(self._file.export_visit, end, pending, visit_id)
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
        if self._upkeep is not None:
            await self._upkeep
        self._notices.stopped(len(self._queue))

    async def async_remove(self) -> None:
        """Delete the log (every segment), its torn bytes and its repairs (site deleted)."""
        if self._upkeep is not None:
            await self._upkeep
        await self._hass.async_add_executor_job(self._file.remove)
        self._notices.remove_all()
