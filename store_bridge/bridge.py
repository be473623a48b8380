"""The bridge: credentials in, gate commands out, every step an access event.

One store's parts, wired: what it knows and records (`ledger.py`), the entry path
(`entry.py`, fail-secure), the exit path (`egress.py`, fail-safe egress), the gates'
signals, and the upkeep of storage (held writes retried every second, old records purged
every hour, `retention.py`), and, with shelf lanes, the virtual carts (`carts.py`) and their
MQTT feed (`shelf_feed.py`); with `[payments]`, the checkout (`checkout_runner.py`) and its
part of the status (`checkout_status.py`) and the app shoppers' saved payment methods
found after their check-in (`saved_methods.py`), and with `[mail]` the receipts
(`receipts.py`, started and stopped with the API by `service.running`). The bridge starts
and stops them and answers the status.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from . import retention
from .activity import Activity
from .bridge_types import Decision, GateInfo, StoreSettings, UnknownGateError
from .card_debts import CardDebts
from .carts import Carts
from .checkout_remote import CheckoutRemote
from .checkout_runner import CheckoutRunner
from .checkout_status import CheckoutStatus
from .core.store import Session
from .database import Database
from .egress import ExitPath
from .entry import EntryPath
from .gates.base import GateRole, GateSignal, SignalKind
from .ledger import COUNTERS, Ledger
from .outbox import Backlog, Publisher
from .purge_counts import Purged
from .receipts import Receipts
from .saved_methods import SavedMethods
from .shelf_config import ShelfConfig
from .shelf_feed import ShelfFeed
from .storage import StorageUnavailable
from .vocabulary import STATUS_VERSION, EventType, Outcome

__all__ = [
    "BACKLOG_RETRY_S",
    "COUNTERS",
    "PURGE_EVERY_S",
    "Bridge",
    "Decision",
    "GateInfo",
    "StoreSettings",
    "UnknownGateError",
]

_LOGGER = logging.getLogger(__name__)

PURGE_EVERY_S: Final = 3600.0
BACKLOG_RETRY_S: Final = 1.0


class Bridge:
    """One store: its gates, sessions, occupancy, storage and publisher."""

    def __init__(  # noqa: PLR0913 - a store's parts
        self,
        settings: StoreSettings,
        db: Database,
        gates: Mapping[str, GateInfo],
        publisher: Publisher | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        shelf: ShelfConfig | None = None,
    ) -> None:
        """Wire the parts; `start` brings them up. `shelf`: lanes, catalogue and tracker."""
        self.settings = settings
        self.db = db
        self.gates = dict(gates)
        self.clock = clock
        self._ledger = Ledger(settings, db, publisher, clock)
        self._entry = EntryPath(self._ledger, self.gates, self._owes, self._card_owes)
        self._exit = ExitPath(self._ledger, self.gates)
        self.carts = None if shelf is None else Carts(shelf, self._ledger)
        """The virtual carts (None: the store has no shelf sensors)."""
        self.shelf_feed: ShelfFeed | None = None
        """The lanes' and tracker's MQTT feed (`service.py` sets it with a broker)."""
        self.checkout: CheckoutRunner | None = None
        """Final carts charged (`service.py` sets it with `[payments]`)."""
        self.checkout_remote: CheckoutRemote | None = None
        """Or, for `serve`, charged in a process of its own (`checkout_remote.py`; started and
        stopped by `service.running`)."""
        self.card_debts: CardDebts | None = None
        """A card's debts, by its keyed fingerprint (`service.py` sets it with `[payments]`)."""
        self.checkout_status: CheckoutStatus | None = None
        """The status' `checkout` object (`service.py` sets it with the checkout)."""
        self.receipts: Receipts | None = None
        """Receipts on request (`service.py` sets it with `[mail]`)."""
        self.saved_methods: SavedMethods | None = None
        """App shoppers' saved payment methods, looked up after their check-in (`service.py`
        sets it with `[payments]`; told of each session opened once `start` ran)."""
        self._purge_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- what the ledger knows ---------------------------------------------------------

    @property
    def publisher(self) -> Publisher | None:
        """The MQTT publisher (None: events stay in the database)."""
        return self._ledger.publisher

    @publisher.setter
    def publisher(self, publisher: Publisher | None) -> None:
        self._ledger.publisher = publisher

    @property
    def occupancy(self) -> int:
        """How many people are inside."""
        return self._ledger.occupancy

    @property
    def inside(self) -> dict[str, Session]:
        """The sessions inside, by visit id."""
        return self._ledger.inside

    @property
    def counters(self) -> dict[str, int]:
        """Since the bridge started: sessions, refusals and people (`Ledger.counters`)."""
        return self._ledger.counters

    @property
    def denials(self) -> dict[str, int]:
        """Refusals since the bridge started, by reason."""
        return self._ledger.denials

    @property
    def activity(self) -> Activity:
        """Recent events, for the status page."""
        return self._ledger.activity

    @property
    def backlog(self) -> Backlog:
        """Changes and events held in memory until the database is back."""
        return self._ledger.backlog

    @property
    def ledger(self) -> Ledger:
        """What the bridge knows and records (for the checkout runner)."""
        return self._ledger

    async def _owes(self, account: str) -> bool:
        if self.checkout_remote is not None:  # the checkout process's debts, as stored
            return await self.checkout_remote.owes(account)
        return self.checkout is not None and self.checkout.owes(account)

    async def _card_owes(self, hold: str) -> bool:
        return self.card_debts is not None and await self.card_debts.owes(hold)

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Open storage, load who is inside, start gates and the publisher."""
        snapshot = await self.db.open()
        self._ledger.occupancy = snapshot.occupancy
        self.counters["inside_at_start"] = snapshot.occupancy
        for session in await self.db.call(lambda store: store.inside()):
            self._ledger.remember(session)
        if self.carts is not None:
            await self.carts.start()
        if self.checkout is not None:
            await self.checkout.start()
        if self.checkout_status is not None:
            await self.checkout_status.start()
        if self.saved_methods is not None and self.saved_methods not in self._ledger.watchers:
            self._ledger.watchers.append(self.saved_methods)
        if self.card_debts is not None:  # a store that takes cards: its replay records keyed now
            await self._entry.prepare()
        for info in self.gates.values():
            await info.gate.start(self.on_signal)
        if self.publisher is not None:
            self.publisher.start()
        if self.shelf_feed is not None:
            self.shelf_feed.start()
        self._purge_task = asyncio.create_task(self._purge_loop(), name="store-bridge-purge")
        _LOGGER.info(
            "Store %s ready: %d gates, %d inside, %d events waiting",
            self.settings.site,
            len(self.gates),
            self.occupancy,
            snapshot.pending,
        )

    async def stop(self) -> None:
        """Stop gates, publisher and storage."""
        if self._purge_task is not None:
            self._purge_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purge_task
        if self.shelf_feed is not None:
            await self.shelf_feed.stop()
        for info in self.gates.values():
            await info.gate.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._stop_lookups()
        if self.checkout_status is not None:
            await self.checkout_status.stop()
        if self.checkout is not None:
            await self.checkout.stop()
        if self.carts is not None:
            await self.carts.stop()
        if self.publisher is not None:
            await self.publisher.stop()
        if len(self.backlog) and not await self.backlog.flush(self.db):
            _LOGGER.error("Stopping with %d events the database did not take", len(self.backlog))
        await self.db.close()

    async def _stop_lookups(self) -> None:
        """Saved payment methods still looked up stay unknown (the checkout looks then)."""
        if self.saved_methods is not None:
            await self.saved_methods.stop()

    async def _purge_loop(self) -> None:
        """Retry held writes every second; purge old records every hour.

        A log that failed to sync is written afresh as soon as it can be (`Database.heal`),
        not only when the next check-in needs it.
        """
        last_purge = time.monotonic()
        while True:
            await asyncio.sleep(BACKLOG_RETRY_S)
            if self.db.log_failed:
                with contextlib.suppress(StorageUnavailable):
                    await self.db.heal()
            if len(self.backlog) and await self.backlog.flush(self.db):
                _LOGGER.warning("Storage is back; the events held in memory are written")
                self._ledger.wake_publisher()
            if time.monotonic() - last_purge >= PURGE_EVERY_S:
                last_purge = time.monotonic()
                await self.purge()

    async def purge(self) -> Purged:
        """Drop what is past the retention, in batches (`retention.py`)."""
        try:
            purged = await retention.purge(
                self.db,
                retention.due(
                    self.clock(),
                    self.settings.retention_days,
                    charges=self.checkout is not None or self.checkout_remote is not None,
                ),
            )
        except StorageUnavailable:
            return Purged()
        if purged.rows:
            _LOGGER.info(
                "Purged %d events, %d sessions, %d carts, %d used QR ids, %d checkouts and "
                "refunds and %d receipt requests and codes past the retention in %d batches; "
                "%d pages given back",
                purged.events,
                purged.sessions,
                purged.carts,
                purged.used_codes,
                purged.checkouts,
                purged.receipts,
                purged.batches,
                purged.pages_freed,
            )
        return purged

    # --- entry and exit ----------------------------------------------------------------

    async def check_in_qr(self, gate_id: str, token: str) -> Decision:
        """A shopper shows the app's QR code at an entry gate (`entry.py`)."""
        return await self._entry.check_in_qr(gate_id, token)

    async def check_in_card(self, gate_id: str, token: str) -> Decision:
        """A card-terminal adapter reports a card tap at an entry gate (`entry.py`)."""
        return await self._entry.check_in_card(gate_id, token)

    async def exit(
        self, gate_id: str, *, visit_id: str | None = None, track_id: str | None = None
    ) -> Decision:
        """Let someone out. The gate opens first, whatever else is down (`egress.py`)."""
        return await self._exit.exit(gate_id, visit_id=visit_id, track_id=track_id)

    # --- gate signals ------------------------------------------------------------------

    def on_signal(self, signal: GateSignal) -> None:
        """A gate reported something (called on the event loop)."""
        info = self.gates.get(signal.gate_id)
        if info is None:
            return
        if signal.kind is SignalKind.CREDENTIAL:
            if signal.value is not None and info.gate.role is GateRole.ENTRY:
                self._spawn(self.check_in_qr(signal.gate_id, signal.value))
            elif info.gate.role is GateRole.EXIT:
                self._spawn(self.exit(signal.gate_id))
            return
        kind = EventType.DOOR_OPENED if signal.kind is SignalKind.OPENED else EventType.DOOR_CLOSED
        passing = self._ledger.passing
        visit = passing.get(signal.gate_id)
        if signal.kind is SignalKind.CLOSED:
            passing.pop(signal.gate_id, None)
        event = self._ledger.event(kind, Outcome.INFO, portal=signal.gate_id, visit=visit)
        self._spawn(self._ledger.add_event(event))

    def _spawn(self, work: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- status ------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """The retained status for subscribers (no personal data)."""
        shelf = {} if self.carts is None else {"shelf": self.carts.status()}
        current = None if self.checkout_status is None else self.checkout_status.current
        checkout = {} if current is None else {"checkout": current}
        return {
            "v": STATUS_VERSION,
            "site": self.settings.site,
            "name": self.settings.name,
            "online": True,
            "capacity": self.settings.capacity,
            "occupancy": self.occupancy,
            "gates": [
                {"id": gate_id, "name": info.name, "role": info.gate.role.value}
                for gate_id, info in self.gates.items()
            ],
            **shelf,
            **checkout,
        }
