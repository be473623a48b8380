"""What the bridge knows and records: who is inside, the occupancy, its counts and refusals.

Occupancy and the sessions inside live in memory (loaded from the database at start) so
that decisions never wait for storage. A change and its events are written together, or
held in memory (in order, behind what already waits) until the database is back. Whoever
follows sessions (the carts, `carts.py`) hears when one opens (its gate opened) and closes.
"""

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, Protocol

from .activity import Activity
from .bridge_types import Decision, StoreSettings
from .core.store import Session, occupancy_data
from .database import Database
from .events import Wire, make_event
from .outbox import Backlog, Publisher
from .storage import StorageUnavailable, Store
from .vocabulary import EventType, Outcome, Source

_LOGGER = logging.getLogger(__name__)

COUNTERS: Final = (
    "checked_in",
    "checked_out",
    "denied",
    "inside_at_start",
    "people_in",
    "people_checked_out",
    "people_unrecognised",
)


class SessionWatcher(Protocol):
    """Told when a shopping session opens (its entry gate opened) and when it leaves."""

    def session_opened(self, session: Session, at: datetime) -> None:
        """A session came in."""

    def session_closed(self, session: Session, at: datetime) -> None:
        """A session left the store."""


class Ledger:
    """The store's state in memory, and the one way its changes reach the database."""

    def __init__(
        self,
        settings: StoreSettings,
        db: Database,
        publisher: Publisher | None,
        clock: Callable[[], datetime],
    ) -> None:
        """Start empty; the bridge loads who is inside at start."""
        self.settings = settings
        self.db = db
        self.publisher = publisher
        self.clock = clock
        self.occupancy = 0
        self.inside: dict[str, Session] = {}
        self.by_track: dict[str, str] = {}
        self.passing: dict[str, str | None] = {}
        """The visit last let through each gate, until its door closes."""
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        """Since the bridge started: sessions (`checked_in`, `checked_out`), refusals, and
        people: `inside_at_start` + `people_in` - `people_checked_out` - `people_unrecognised`
        is always the occupancy (a party counts as its size; an exit nobody was recognised at
        lowers the occupancy by one and leaves that shopper's session open)."""
        self.denials: dict[str, int] = {}
        self.activity = Activity(clock())
        self.backlog = publisher.backlog if publisher is not None else Backlog()
        self.watchers: list[SessionWatcher] = []

    def opened(self, session: Session) -> None:
        """Tell the watchers that a session came in (its entry gate opened)."""
        for watcher in self.watchers:
            try:
                watcher.session_opened(session, self.clock())
            except Exception:  # the gate has opened: a watcher's bug must not undo that
                _LOGGER.exception("A session watcher failed on %s", session.visit_id)

    def closed(self, session: Session) -> None:
        """Tell the watchers that a session left."""
        for watcher in self.watchers:
            try:
                watcher.session_closed(session, self.clock())
            except Exception:  # the exit has opened: a watcher's bug must not undo that
                _LOGGER.exception("A session watcher failed on %s", session.visit_id)

    def remember(self, session: Session) -> None:
        """A session is inside."""
        self.inside[session.visit_id] = session
        self.by_track[session.track_id] = session.visit_id

    def forget(self, session: Session) -> None:
        """A session is no longer inside."""
        self.inside.pop(session.visit_id, None)
        self.by_track.pop(session.track_id, None)

    def event(self, kind: EventType, outcome: Outcome, **values: Any) -> Wire:  # noqa: ANN401
        """An access event of this store, now."""
        return make_event(
            site=self.settings.site, type=kind, outcome=outcome, when=self.clock(), **values
        )

    def occupancy_event(self) -> Wire:
        """The occupancy as it is now."""
        return self.event(
            EventType.OCCUPANCY_CHANGED,
            Outcome.INFO,
            data=occupancy_data(self.occupancy, self.settings.capacity),
        )

    def wake_publisher(self) -> None:
        """Tell the publisher there is something to send."""
        if self.publisher is not None:
            self.publisher.wake()

    async def write(self, write: Callable[[Store], object], events: list[Wire]) -> None:
        """Write a change with its events, or hold both until the database is back."""
        self.activity.saw(events, self.clock())
        if len(self.backlog) and not await self.backlog.flush(self.db):
            self.backlog.add(write, events)  # keep the order: behind what already waits
            self.wake_publisher()
            return
        try:
            await self.db.call(write)
        except StorageUnavailable as err:
            _LOGGER.warning("Storage unavailable (%s); %d events wait in memory", err, len(events))
            self.backlog.add(write, events)
        self.wake_publisher()

    async def add_event(self, event: Wire) -> None:
        """Record one event on its own."""
        await self.write(lambda store: store.add_events([event]), [event])

    async def deny(self, gate: str, source: Source, reason: str, started: float) -> Decision:
        """Refuse a request: count it, record `access_denied`, the gate stays shut."""
        self.counters["denied"] += 1
        self.denials[reason] = self.denials.get(reason, 0) + 1
        event = self.event(
            EventType.ACCESS_DENIED, Outcome.DENIED, portal=gate, reason=reason, source=source
        )
        elapsed = (time.perf_counter() - started) * 1000
        await self.add_event(event)
        return Decision(
            gate=gate,
            opened=False,
            outcome=Outcome.DENIED,
            reason=reason,
            occupancy=self.occupancy,
            decided_ms=elapsed,
        )
