"""The virtual carts in the bridge: the one owner of the cart book and the shelf lanes.

Shelf readings (ESPHome load cells, grams as text) and tracker messages (Frigate's event
JSON) come in through `on_lane_message` and `on_tracker_message`, from the MQTT feed
(`shelf_feed.py`) or the demo; sessions open and close through the ledger
(`ledger.SessionWatcher`). Each lane's `LaneWatch` (`core/lanes.py`, kept by
`shelf_lanes.py`) turns readings into settled shelf changes; the `CartBook`
(`core/attribution.py`) binds tracks to sessions and attributes changes; every piece of
news it gives becomes an access event (`cart_events.py`), recorded through the ledger with
the carts and the review queue as they then stand (`cart_store.py`), in one transaction, in
order, by one writer (`cart_writer.py`). The book is ticked every `TICK_S` (deadlines; lanes
gone silent are reported stale, in one warning for all that went silent at once; a lane
that never reported waits for its first reading for the stale time after the start, without
a warning), and the retained status is published again when the `shelf` counts changed (at
most once a tick). Picks held for evidence are stored with the review queue; after a
restart, without the tracks that could decide them, they wait in the review queue
(`pick_review`, reason ``restart``); no pick is lost. Reviews older than the retention leave
the queue (`cart_store.purge_batch` deletes their rows).

A session closes at its exit gate, or where its tracks left through an exit zone (the book
says ``session_unbound`` with reason ``exit_zone``, `core/exit_zones.py`): then its cart is
charged as at the gate, and a later gate exit changes nothing (the first close stands). One
inside for longer than `max_session_s` is closed without a charge (`abandoned`).

Bad input is ignored, counted (`ignored`, by reason) and logged without its content: a
tracker message may carry a face-recognition name (`sub_label`), a snapshot or a box, and
none of it is kept, logged, stored or published (`core/tracks.py` keeps only the track id,
camera, zones and time). A closed session's cart is kept (for checkout) until nothing of it
waits for evidence or review; then it is stored as final and leaves memory.
"""

import asyncio
import contextlib
import logging
import sqlite3
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from . import cart_store
from .cart_events import news_event
from .cart_store import StoredCart
from .cart_writer import CartWriter
from .core.attribution import CartBook
from .core.cart_model import Cart, CartNews, NewsKind, Review
from .core.cart_news import review_news
from .core.store import Session
from .core.tracker_clock import TrackerClock
from .core.tracks import TrackMessageError, parse_frigate
from .ledger import Ledger
from .shelf_config import ShelfConfig
from .shelf_lanes import ShelfLanes
from .storage import StorageUnavailable

_LOGGER = logging.getLogger(__name__)

TICK_S: Final = 1.0
FINAL_AFTER: Final = timedelta(seconds=30)
"""How long after its session left a cart may still change: a pick settles, and its tracker
messages arrive, a little after the shopper walked on."""


class CheckoutStarted(Exception):  # noqa: N818 - what happened, as the API says it
    """A checkout has taken the cart: a review may no longer change it."""


class Carts:
    """Every session's cart, the review queue and the lanes, as the bridge runs them."""

    def __init__(self, shelf: ShelfConfig, ledger: Ledger) -> None:
        """Follow `ledger`'s sessions; `start` restores what the database holds."""
        self.shelf = shelf
        self._ledger = ledger
        self._book = CartBook(shelf.products, shelf.lanes, shelf.tuning, shelf.exit_zones)
        self._lanes = ShelfLanes(shelf, self._ignore)
        self.ignored: Counter[str] = Counter()
        """Input ignored since start, by reason."""
        self.anomalies = 0
        self.unattributed = 0
        self._closed: dict[str, datetime] = {}
        """Sessions that left, whose carts are not final yet: when they left."""
        self._writer = CartWriter(ledger, self._book)
        self._shown: dict[str, int | None] | None = None
        """The `shelf` counts the retained status last showed."""
        self._tracker_clock = TrackerClock()
        self.abandoned = 0
        """Sessions closed here after `max_session_s` inside (never charged)."""
        self._abandoned: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        ledger.watchers.append(self)

    # --- what comes in -----------------------------------------------------------------

    def on_lane_message(self, topic: str, payload: bytes, at: datetime | None = None) -> None:
        """A lane's weight sensor published a reading (grams, as text)."""
        change = self._lanes.reading(topic, payload, at or self._ledger.clock())
        if change is not None:
            self._publish(self._book.shelf_change(change))

    def on_tracker_message(self, payload: bytes) -> None:
        """The person tracker published an event (Frigate's shape)."""
        try:
            sighting = parse_frigate(payload)
        except TrackMessageError:
            self._ignore("malformed_track", "a tracker message that cannot be read")
            return
        if sighting is None:
            return  # not a person: not ours
        cameras = self.shelf.cameras
        if cameras is not None and sighting.camera not in cameras:
            self._ignore("other_camera", "a track of a camera the store does not use")
            return
        offset = self._tracker_clock.offset
        moved = self._tracker_clock.to_bridge(sighting.at, self._ledger.clock())
        if self._tracker_clock.offset != offset:
            _LOGGER.warning(
                "The tracker's frame times are %+.1f s off the bridge's clock; moved by that",
                self._tracker_clock.offset.total_seconds(),
            )
        sighting = replace(sighting, at=moved)
        before = self._book.ignored
        news = self._book.sighting(sighting)
        if self._book.ignored > before:
            self._ignore("late_track", "a late, repeated or unknown tracker message")
        self._publish(news)

    def session_opened(self, session: Session, at: datetime) -> None:
        """A session came in through its entry gate (`ledger.SessionWatcher`)."""
        zone = self.shelf.entry_zones.get(session.entry_gate, session.entry_gate)
        news = self._book.session_opened(session.visit_id, zone=zone, party=session.party, at=at)
        self._publish(news, changed=True)

    def session_closed(self, session: Session, at: datetime) -> None:
        """A session left the store: its cart stays for checkout."""
        if session.visit_id in self._closed:
            return  # closed already (through an exit zone, or the longest stay): that stands
        self._closed[session.visit_id] = at
        self._publish(self._book.session_closed(session.visit_id, at), changed=True)

    async def resolve(self, review_id: str, visit: str | None) -> None:
        """An operator decided a review: the pick is `visit`'s, or nobody's (None).

        Returns once the decision is stored with its events (or held with them while the
        database is down). Raises `KeyError` for an unknown review, `ValueError` for a visit
        that was not one of its candidates and `CheckoutStarted` when a checkout has taken
        `visit`'s cart already (its total is being charged: it changes no more).
        """
        if not any(r.id == review_id for r in self._book.reviews()):
            raise KeyError(review_id)
        if visit is not None:
            stored = await self._ledger.db.call(lambda store: cart_store.taken(store.db, visit))
            if stored:
                raise CheckoutStarted(visit)
        self._publish(self._book.resolve(review_id, visit, self._ledger.clock()), changed=True)
        await self._write()

    # --- what it answers ---------------------------------------------------------------

    def cart(self, visit: str) -> Cart | None:
        """A session's cart while the bridge holds it in memory."""
        return self._book.cart(visit)

    async def find(self, visit: str) -> Cart | None:
        """A session's cart, from memory or (after it left memory) the database."""
        cart = self._book.cart(visit)
        if cart is not None:
            return cart
        stored = await self._ledger.db.call(lambda store: cart_store.find(store.db, visit))
        return None if stored is None else stored.cart

    def open_carts(self) -> list[Cart]:
        """The carts of the sessions inside."""
        return [cart for cart in self._book.carts() if cart.visit not in self._closed]

    def reviews(self) -> tuple[Review, ...]:
        """The picks waiting for an operator, oldest first."""
        return self._book.reviews()

    @property
    def stale(self) -> set[str]:
        """Lanes silent for longer than their timeout, now."""
        return self._lanes.stale

    @property
    def running(self) -> bool:
        """Whether it ticks and writes in the background (between `start` and `stop`)."""
        return bool(self._tasks)

    @property
    def unwritten(self) -> int:
        """Cart events not yet handed to the database (or to its backlog)."""
        return len(self._writer.events)

    def sizes(self) -> dict[str, int]:
        """How much the cart book holds (sessions, tracks, sightings, held picks, …)."""
        return self._book.sizes()

    @property
    def tracker_offset_s(self) -> int | None:
        """The tracker clock's offset applied to its frame times (whole seconds), or None."""
        offset = self._tracker_clock.offset.total_seconds()
        return round(offset) if offset else None

    def status(self) -> dict[str, int | None]:
        """The status' `shelf` object: carts, review, lanes and tracker now, the rest since start.

        `abandoned` counts since start like the others (a restart starts every count afresh;
        no day boundary, no stored count): a rise is what an operator looks for.
        """
        return {
            "carts": len(self.open_carts()),
            "review": len(self._book.reviews()),
            "anomalies": self.anomalies,
            "unattributed": self.unattributed,
            "stale_lanes": len(self.stale),
            "ignored": sum(self.ignored.values()),
            "abandoned": self.abandoned,
            "tracker_offset_s": self.tracker_offset_s,
        }

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Restore the carts and reviews the database holds; start ticking and writing."""
        inside = self._ledger.inside
        try:
            carts, reviews, ended = await self._ledger.db.call(
                lambda store: _restorable(store.db, set(inside))
            )
        except StorageUnavailable as err:
            _LOGGER.warning("The stored carts cannot be read (%s); starting with none", err)
            carts, reviews, ended = [], [], set()
        now = self._ledger.clock()
        restored: set[str] = set()
        was_held: list[Review] = []
        for stored in carts:
            visit = stored.cart.visit
            closed = None
            if stored.closed is not None or visit not in self._ledger.inside:
                self._closed[visit] = closed = stored.closed or now
            # a review is taken once, by its id; held picks come back as reviews
            was_held += self._book.restore(stored.cart, reviews, closed=closed)
            self._writer.saved[visit] = stored
            restored.add(visit)
        longest = timedelta(seconds=self.shelf.tuning.max_session_s)
        for visit in inside.keys() - restored - ended:  # ended: left through an exit zone
            if now - inside[visit].entered <= longest:  # else: abandoned before
                self._book.restore(Cart(visit))
        self._writer.saved_reviews = () if was_held else self._book.reviews()
        self._publish([review_news(review, now, "restart") for review in was_held])
        self._tasks = [
            asyncio.create_task(self._tick_loop(), name="store-bridge-cart-ticks"),
            asyncio.create_task(self._write_loop(), name="store-bridge-cart-writer"),
        ]
        _LOGGER.info(
            "Shelves: %d lanes, %d carts and %d reviews restored",
            len(self._lanes),
            len(carts),
            len(reviews),
        )

    async def stop(self) -> None:
        """Stop ticking; write what changed."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._write()

    # --- inside ------------------------------------------------------------------------

    def _ignore(self, reason: str, what: str, count: int = 1) -> None:
        """Count ignored input; the first of each reason is a warning, the rest debug."""
        first = not self.ignored[reason]
        self.ignored[reason] += count
        _LOGGER.log(
            logging.WARNING if first else logging.DEBUG,
            "Ignored %s (%d so far)",
            what,
            self.ignored[reason],
        )

    def _publish(self, news: list[CartNews], *, changed: bool = False) -> None:
        """Record what the book said; `changed`: carts changed even without news."""
        site = self._ledger.settings.site
        for item in news:
            if item.kind is NewsKind.LANE_ANOMALY:
                self.anomalies += 1
            elif item.kind is NewsKind.PICK_UNATTRIBUTED:
                self.unattributed += 1
            elif item.reason == "exit_zone" and item.visit is not None:  # closed as at the gate
                self._closed.setdefault(item.visit, item.at)
                _LOGGER.info("A shopper left through an exit zone: the cart closes as at the gate")
            try:
                self._writer.events.append(news_event(item, site=site))
            except Exception as err:  # noqa: BLE001 - one bad item must not drop the rest
                self._ignore("bad_news", f"{item.kind.value} news that makes no event ({err!r})")
        if news or changed:
            self._wake.set()

    def tick(self, now: datetime) -> None:
        """Deadlines, stale lanes, old reviews and closed carts that became final."""
        self._publish(self._book.tick(now))
        keep = now - timedelta(days=self._ledger.settings.retention_days)
        if self._book.expire_reviews(keep):
            self._wake.set()
        self._lanes.watch(now)
        self._abandon(now)
        if any(self._final(visit, now) for visit in self._closed):
            self._wake.set()
        shown = self.status()
        if shown != self._shown:  # Home Assistant reads the counts from the retained status
            self._shown = shown
            self._ledger.wake_publisher()

    def _abandon(self, now: datetime) -> None:
        """Close the sessions inside for longer than `max_session_s`: never charged.

        Someone who left through an exit that could not tell who they were stays inside in
        the ledger; here their cart stops changing and leaves memory, stored without a
        closing time so that checkout never takes it (an operator can look it up).
        """
        longest = timedelta(seconds=self.shelf.tuning.max_session_s)
        for visit, session in self._ledger.inside.items():
            if now - session.entered <= longest or visit in self._closed:
                continue
            if self._book.cart(visit) is None:
                continue
            self.abandoned += 1
            self._abandoned.add(visit)
            self._closed[visit] = now - FINAL_AFTER
            _LOGGER.warning("A session inside for over %s is closed without charge", longest)
            self._publish(self._book.session_closed(visit, now), changed=True)

    def _final(self, visit: str, now: datetime) -> bool:
        left = self._closed.get(visit)
        if left is None or now - left < FINAL_AFTER:
            return False
        cart = self._book.cart(visit)  # `held` counts its held picks and its reviews
        return cart is None or cart.held == 0

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            try:
                self.tick(self._ledger.clock())
            except Exception:  # a bug must not stop the deadlines for good
                _LOGGER.exception("The carts' tick failed")

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._write()
            except Exception:  # the next change tries again, with everything since
                _LOGGER.exception("The carts could not be written")

    async def _write(self) -> None:
        """Write what changed with the events (`cart_writer.py`); final carts leave memory."""
        await self._writer.write(self._closed, self._abandoned, self._final, self._forget)

    def _forget(self, visit: str) -> None:
        self._book.forget(visit)
        self._closed.pop(visit, None)
        self._abandoned.discard(visit)


def _restorable(
    db: sqlite3.Connection, inside: set[str]
) -> tuple[list[StoredCart], list[Review], set[str]]:
    """The carts and reviews to restore, and those sessions inside whose cart is final."""
    carts, reviews = cart_store.live(db)
    ended = {v for v in inside if (stored := cart_store.find(db, v)) is not None and stored.final}
    return carts, reviews, ended
