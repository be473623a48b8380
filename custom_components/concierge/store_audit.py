"""A store's audit chain: every event it accepts, appended in the order they arrived.

An append never blocks the message that brought the event: it runs as a task, and a
record the disk does not take waits in memory (`AuditLog`; a repair says so). The
chain's head is kept in the store's data (`site_storage`), saved soon after each append,
at once on close, so a cut tail is found at the next load.
"""

import asyncio

from homeassistant.core import HomeAssistant

from .audit_log import AuditLog
from .const import DOMAIN
from .core.audit import ChainVerification
from .core.events import AccessEvent
from .site_storage import SiteData, decode, encode, site_store

SAVE_DELAY = 1


class StoreAudit:
    """The audit chain of one store site, and the stored head it is checked against."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the chain; `async_load` reads it."""
        self.hass = hass
        self.log = AuditLog(hass, entry_id)
        self._store = site_store(hass, entry_id)
        self._data = SiteData()
        self._recording: set[asyncio.Task[None]] = set()

    async def async_load(self) -> None:
        """Read the stored head, then the chain (which may be ahead of it)."""
        self._data = decode(await self._store.async_load())
        await self.log.async_load(self._data.audit_head, self._data.audit_count)
        if self.log.count > self._data.audit_count:
            # The log is ahead of the stored head (saved late, or a gap record added).
            self._data.audit_head = self.log.head
            self._data.audit_count = self.log.count

    def record(self, event: AccessEvent) -> None:
        """Append an event to the chain (in the order they arrived)."""
        task = self.hass.async_create_background_task(
            self._async_record(event), f"{DOMAIN} store audit", eager_start=True
        )
        if not task.done():
            self._recording.add(task)
            task.add_done_callback(self._recording.discard)

    async def _async_record(self, event: AccessEvent) -> None:
        # Never fails: a record the disk does not take waits in memory (and a repair says so).
        await self.log.async_append(event)
        self._data.audit_head = self.log.head
        self._data.audit_count = self.log.count
        self._store.async_delay_save(lambda: encode(self._data), SAVE_DELAY)

    async def async_drain(self) -> None:
        """Wait for the appends under way (a finished one may not be discarded yet)."""
        while pending := {task for task in self._recording if not task.done()}:
            await asyncio.wait(pending)

    async def async_verify(self) -> ChainVerification:
        """Check the chain against the head kept in storage (after the appends under way)."""
        await self.async_drain()
        return await self.log.async_verify(self._data.audit_head)

    async def async_close(self) -> None:
        """Finish the appends, close the chain and write its head."""
        await self.async_drain()
        await self.log.async_close()
        await self._store.async_save(encode(self._data))
