"""What stands at a site's HTTP door: its addresses, rate limits and used courier tokens.

Kept apart from the HTTP views so that the site can build it without importing them.
The gatekeeper is the only owner of the courier replay cache and of its file,
`.storage/concierge.<entry>.replay`: it records a token and writes that file before
the door may open, so a crash right after an unlock cannot let the same token in again.
The file is small (hashed ids of tokens not yet expired), so the write costs a courier
little; the site's own data is not written for it. A file that cannot be read fails
secure: tokens valid before the start are refused for as long as they could live.

Refusals of requests not proven genuine are counted here (`core/refusal_tally.py`), not
recorded one by one: each reason's summary is recorded when its interval closes (a timer),
and whatever is pending when the site unloads or Home Assistant stops.
"""

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.file import WriteError

from .const import DOMAIN
from .core.clock import seconds_until
from .core.courier_tokens import CourierClaims
from .core.deny import DenyReason, TokenRejected
from .core.errors import StoredDataError
from .core.events import Source
from .core.rate_limit import RateLimiter
from .core.refusal_tally import RefusalSummary, RefusalTally
from .core.replay_cache import ReplayCache
from .core.token_checks import DEFAULT_LEEWAY_S

_LOGGER = logging.getLogger(__name__)

COURIER_URL = "/api/concierge/{site}/courier"
GUEST_URL = "/api/concierge/{site}/guest"

REPLAY_STORE_VERSION = 1

type RecordSummary = Callable[[RefusalSummary], Awaitable[None]]
"""Records one summary of refusals as an access event (the site's)."""


def replay_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """The file of a site's used courier tokens (written at once, atomically)."""
    return Store(
        hass, REPLAY_STORE_VERSION, f"{DOMAIN}.{entry_id}.replay", private=True, atomic_writes=True
    )


class Gatekeeper:
    """Per-site request state: rate limits (per client, per carrier) and the replay cache.

    `clients` is the budget of requests not yet proven (per remote address): every
    request spends from it, and a correctly signed courier token that is not a replay
    gets it back, so a carrier's couriers never run out of it; `carriers` is the budget
    of each verified carrier.
    """

    __slots__ = (
        "_distrust_before",
        "_hass",
        "_record",
        "_replay",
        "_store",
        "_tally",
        "_timer",
        "_unsub_stop",
        "_write_lock",
        "carriers",
        "clients",
    )

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare a site's gatekeeper; `async_load` reads the used tokens."""
        self.clients = RateLimiter()
        self.carriers = RateLimiter()
        self._hass = hass
        self._replay = ReplayCache()
        self._store = replay_store(hass, entry_id)
        self._write_lock = asyncio.Lock()
        self._distrust_before: datetime | None = None
        self._tally = RefusalTally()
        self._record: RecordSummary | None = None
        self._timer: CALLBACK_TYPE | None = None
        self._unsub_stop: CALLBACK_TYPE | None = None

    async def async_load(self, earlier: Mapping[str, Any] | None = None) -> None:
        """Read the used tokens from the file, and take in `earlier` ones.

        Earlier versions kept them in the site's data: they are written to the file at
        once (the site's data may then drop them).
        """
        existed = await self._hass.async_add_executor_job(Path(self._store.path).is_file)
        stored = await self._store.async_load()  # Home Assistant sets a damaged file aside
        cache = ReplayCache()
        readable = stored is not None or not existed
        for data in (stored, earlier):
            if not data:
                continue
            try:
                cache.update(ReplayCache.from_dict(data))
            except StoredDataError:
                readable = False
        self._replay = cache
        if not readable:
            # A token used just before may be missing: refuse every token that could be.
            self._distrust_before = dt_util.utcnow() + timedelta(seconds=DEFAULT_LEEWAY_S)
            _LOGGER.warning(
                "The record of used courier tokens (%s) could not be read: courier tokens "
                "that became valid before now are refused until they expire",
                self._store.key,
            )
        if earlier or not readable:
            await self._store.async_save(self._replay.to_dict())

    @property
    def used_tokens(self) -> int:
        """How many courier token ids are remembered (for diagnostics)."""
        return len(self._replay)

    def admit_client(self, client: str, now: datetime) -> bool:
        """Spend one unproven request of `client` (a remote address); False when none is left."""
        return self.clients.allow(client, now)

    def replay_refusal(self, claims: CourierClaims) -> DenyReason | None:
        """`replayed` if the token was used before, or may have been; None otherwise.

        Only looks: nothing is recorded or charged (the Access panel's token check).
        """
        distrusted = self._distrust_before is not None and claims.not_before < self._distrust_before
        return DenyReason.REPLAYED if distrusted or self._replay.used(claims) else None

    async def async_admit_courier(self, claims: CourierClaims, client: str, now: datetime) -> None:
        """Let a verified courier token through once, or raise `TokenRejected`.

        `replayed` if it was used before, or may have been (valid before a start that
        found the record unreadable); the request stays counted against `client`.
        Otherwise `client` gets its request back and the carrier's budget is spent
        (`rate_limited` when it is empty, the token stays unused). The token is then
        recorded and the record written to disk before this returns: only then may a
        door open for it. `rate_limited` too when the cache is full of live tokens.
        """
        if (replayed := self.replay_refusal(claims)) is not None:
            raise TokenRejected(replayed)
        self.clients.refund(client)
        if not self.carriers.allow(claims.carrier_id, now):
            raise TokenRejected(DenyReason.RATE_LIMITED)
        self._replay.check(claims, now)  # records it (no await since `used`: no race)
        await self._async_write_replay()

    async def _async_write_replay(self) -> None:
        """Write the used tokens now, or raise `TokenRejected(storage_unavailable)`.

        `Store.async_save` only logs a disk that refuses the write; a door must not open
        for a token whose use is not on disk, so the write is made here, where its failure
        is seen. The token stays used in memory: refused again, never opened for.
        """
        async with self._write_lock:  # one write at a time: the newest snapshot lands last
            data = {
                "version": self._store.version,
                "minor_version": self._store.minor_version,
                "key": self._store.key,
                "data": self._replay.to_dict(),
            }
            try:
                await self._store._async_write_data(data)  # noqa: SLF001 - the save that raises
            except (WriteError, OSError) as err:
                _LOGGER.error(  # noqa: TRY400 - its type says enough; no traceback
                    "%s: the record of used courier tokens could not be written (%s); "
                    "courier entry is refused until it can be",
                    self._store.key,
                    type(err).__name__,
                )
                raise TokenRejected(DenyReason.STORAGE_UNAVAILABLE) from err

    @property
    def pending_refusals(self) -> int:
        """Refusals counted and not yet recorded (for diagnostics and tests)."""
        return len(self._tally)

    async def async_count_refusal(
        self, reason: DenyReason, source: Source, client: str, now: datetime, record: RecordSummary
    ) -> None:
        """Count a refusal of an unproven request of `client` (an address) at `now`.

        Its summary is recorded with `record` (the site's, the same every time) when the
        interval closes, or on unload or stop; a summary of an interval that closed
        before `now` is recorded at once.
        """
        self._record = record
        if self._unsub_stop is None:
            self._unsub_stop = self._hass.bus.async_listen_once(
                EVENT_HOMEASSISTANT_STOP, self._async_on_stop
            )
        closed = self._tally.add(reason, source, client, now)
        if closed:
            self._cancel_timer()
        if self._timer is None and (closes := self._tally.closes_at) is not None:
            self._timer = async_call_later(
                self._hass, seconds_until(closes, now), self._async_interval_over
            )
        await self._async_write(closed)

    async def _async_interval_over(self, _fired: datetime) -> None:
        self._timer = None
        await self._async_write(self._tally.flush())

    async def _async_on_stop(self, _event: Event) -> None:
        self._unsub_stop = None
        self._cancel_timer()
        await self._async_write(self._tally.flush())

    async def _async_write(self, summaries: list[RefusalSummary]) -> None:
        if self._record is not None:
            for summary in summaries:
                await self._record(summary)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None

    async def async_close(self) -> None:
        """Record the pending summaries and stop the timer (on unload)."""
        self._cancel_timer()
        if self._unsub_stop is not None:
            self._unsub_stop()
            self._unsub_stop = None
        await self._async_write(self._tally.flush())


async def async_remove_replay(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a site's file of used courier tokens (when the site is deleted)."""
    await replay_store(hass, entry_id).async_remove()


def new_link_secret() -> str:
    """A fresh 256-bit key for signing a site's guest links (hex)."""
    return secrets.token_hex(32)
