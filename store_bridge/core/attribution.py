"""The cart book: which session took what, from anonymous tracks and settled shelf changes.

A pick at a lane belongs to the session whose bound track was in the lane's zone at the
pick's `began`, give or take `tolerance_s`. The tracker may report later than the shelf, so a
change waits until the tracker's picture covers it (`AttributionTuning`). Then:

- one session there and nobody else: the item goes in its cart (``item_picked``);
- nobody there: ``pick_unattributed`` (shrink);
- otherwise (several sessions, or a person no session owns): ``pick_ambiguous``, held with
  its candidates until evidence decides it — a put-back of that SKU at that lane by the one
  candidate who could only have taken it from this pick, or a candidate's track turning out
  to be the only one bound where an unknown person was — or, after
  `ambiguity_deadline_s`, ``pick_review`` (the operator's queue, `resolve`); a review no
  operator decided within `review_deadline_s` is charged to nobody (``pick_unattributed``,
  ``review_expired``).

A candidate that had left the zone before the pick began (by more than the half second the
clocks may still disagree, and stayed away until it settled) is ruled out when the one
remaining candidate stood there from began to settled; nobody is ever ruled in by guessing.
A put-back leaves the cart that holds the SKU when its returner is clear; a returner whose
cart does not hold it is a ``lane_anomaly`` (``wrong_lane``) and no cart changes; a put-back
several carts could have made is held and reviewed like a pick (`change_decisions.py` decides
a due change, `put_backs.py` put-backs). A session whose people surely left through an exit
zone is closed there (``session_unbound``, reason ``exit_zone``, at the moment it left:
`exit_zones.py`); a session closed once stays closed at that moment.
"""

import heapq
import itertools
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from .attribution_tuning import AttributionTuning
from .cart_model import (
    Cart,
    CartNews,
    LaneSpec,
    NewsKind,
    Product,
    Review,
    ShelfChange,
    ShelfChangeKind,
    TrackPhase,
    TrackSighting,
)
from .cart_news import change_news, expired_news, review_news
from .cart_session import ShopSession
from .change_decisions import ChangeDecisions
from .exit_zones import left_through
from .gate_binding import Binder
from .review_queue import Held, ReviewQueue
from .track_table import TrackTable

__all__ = ["AttributionTuning", "CartBook"]

RESTORED = datetime(2000, 1, 1, tzinfo=UTC)
"""When a restored session is taken to have opened (its real check-in is not kept here)."""


class CartBook:
    """Every session's cart and the review queue, fed tracks, shelf changes and time."""

    def __init__(
        self,
        products: Mapping[str, Product],
        lanes: Mapping[str, LaneSpec],
        tuning: AttributionTuning = AttributionTuning(),  # noqa: B008 - frozen
        exit_zones: Collection[str] = (),
    ) -> None:
        """Price picks from `products`; take changes of `lanes` only.

        `exit_zones`: the tracker's zones in front of the exits (`core/exit_zones.py`).
        """
        self._products = products
        self._exits = frozenset(exit_zones)
        self._lanes = lanes
        self._tuning = tuning
        self._tol = timedelta(seconds=tuning.tolerance_s)
        self._table = TrackTable(timedelta(seconds=tuning.tracker_silence_s))
        self._sessions: dict[str, ShopSession] = {}
        self._orphans: set[str] = set()
        self._binder = Binder(self._table, self._sessions, tuning, self._bound, self._unbound)
        self._waiting: list[tuple[datetime, int, ShelfChange]] = []
        self._order = itertools.count()
        self._queue = ReviewQueue()
        self._changes = ChangeDecisions(
            products=products,
            sessions=self._sessions,
            orphans=self._orphans,
            table=self._table,
            owner=self._binder.owner,
            queue=self._queue,
            tuning=tuning,
            now=lambda: self._now,
        )
        self._rebound = False
        self._now: datetime | None = None
        self._ignored: Counter[str] = Counter()

    # --- what the shell tells it -------------------------------------------------------

    def session_opened(self, visit: str, *, zone: str, party: int, at: datetime) -> list[CartNews]:
        """A session checked in at an entry gate whose tracker zone is `zone`."""
        if visit in self._sessions:
            self._ignored["known_visit"] += 1
            return []
        session = ShopSession(visit, zone, max(party, 1), at)
        self._sessions[visit] = session
        self._orphans.add(visit)
        self._binder.open(session)
        return self._advance()

    def session_closed(self, visit: str, at: datetime) -> list[CartNews]:
        """A session left the store; its cart stays (for checkout) until `forget`."""
        session = self._sessions.get(visit)
        if session is None:
            self._ignored["unknown_visit"] += 1
            return []
        if session.closed is not None:
            self._ignored["closed_visit"] += 1  # the first close stands (an exit zone's)
            return []
        session.closed = at
        self._binder.drop(visit)
        return self._advance()

    def sighting(self, s: TrackSighting) -> list[CartNews]:
        """The tracker saw a person track (already stripped to id, camera, zones, time)."""
        known = self._known()
        oldest = None if known is None else known - timedelta(seconds=self._tuning.history_s)
        track = self._table.observe(s, oldest=oldest)
        if track is None:
            return []
        if s.phase is TrackPhase.END:
            self._binder.ended(track)
        return self._advance()

    def shelf_change(self, c: ShelfChange) -> list[CartNews]:
        """A lane's weight settled at a new value."""
        if c.lane not in self._lanes:
            self._ignored["unknown_lane"] += 1
            return []
        if c.kind is ShelfChangeKind.ANOMALY:
            return [change_news(NewsKind.LANE_ANOMALY, c, c.settled, reason="not_whole_units")]
        if c.sku not in self._products or c.quantity <= 0:
            self._ignored["unknown_product" if c.quantity > 0 else "no_units"] += 1
            return []
        ready = max(c.began + self._tol, c.settled)
        heapq.heappush(self._waiting, (ready, next(self._order), c))
        return self._advance()

    def tick(self, now: datetime) -> list[CartNews]:
        """Time passed (the shell calls this every second): waits and deadlines run out."""
        if self._now is None or now > self._now:
            self._now = now
        news = self._advance()
        known = self._known() or now
        cutoff = known - timedelta(seconds=self._tuning.history_s)
        self._binder.forget_tracks(self._table.prune(cutoff, keep=set(self._binder.owner)))
        self._binder.prune(cutoff)
        return news

    def resolve(self, review_id: str, visit: str | None, at: datetime) -> list[CartNews]:
        """An operator decided a review: the change was `visit`'s, or nobody's (None).

        Raises `KeyError` for an unknown review, `ValueError` for a visit that is not one of
        its candidates (or no longer held here).
        """
        review = self._queue.reviews[review_id]
        if visit is not None and (visit not in review.candidates or visit not in self._sessions):
            raise ValueError(f"{visit} is not a candidate of review {review_id}")
        self._queue.close(review)
        change = review.change
        news = [
            change_news(
                NewsKind.REVIEW_RESOLVED,
                change,
                at,
                visit=visit,
                review=review_id,
                reason=None if visit is not None else "nobody",
            )
        ]
        if visit is not None:
            session = self._sessions[visit]
            if change.kind is ShelfChangeKind.PICK:
                news.append(self._changes.picked(session, change, at, "review"))
            else:
                news += self._changes.returns.returned(session, change, at)
        return news

    def forget(self, visit: str) -> None:
        """Drop a closed session (the shell has stored its cart): memory stays bounded."""
        session = self._sessions.pop(visit, None)
        if session is None:
            return
        self._orphans.discard(visit)
        self._queue.forget(visit)
        self._binder.forget(visit)
        for track in session.tracks:
            self._binder.owner.pop(track, None)

    def restore(
        self, cart: Cart, reviews: Iterable[Review] = (), *, closed: datetime | None = None
    ) -> list[Review]:
        """Take back a cart (and reviews) stored before a restart; its tracks are gone.

        `closed`: when its session left (it is no candidate for anything after). Changes that
        were held when the bridge stopped (`held`) come back as reviews: without the tracks,
        no evidence can decide them. Returns those (each once).
        """
        session = self._sessions.get(cart.visit)
        if session is None:
            session = ShopSession(cart.visit, "", 1, RESTORED)
            self._sessions[cart.visit] = session
            self._orphans.add(cart.visit)
        session.lines = {line.sku: line for line in cart.lines}
        if closed is not None:
            session.closed = closed
        return self._queue.restore(reviews)

    def expire_reviews(self, before: datetime) -> tuple[Review, ...]:
        """Drop the reviews waiting since before `before` (past the retention), undecided."""
        return tuple(self._queue.expire(before))

    # --- what it answers ---------------------------------------------------------------

    def cart(self, visit: str) -> Cart | None:
        """A session's cart, or None for a visit it does not hold."""
        session = self._sessions.get(visit)
        if session is None:
            return None
        return session.cart(held=self._queue.held_for(visit), bound=self._binder.bound(session))

    def carts(self) -> tuple[Cart, ...]:
        """Every cart it holds (open and closed sessions not yet forgotten)."""
        return tuple(c for v in self._sessions if (c := self.cart(v)) is not None)

    def reviews(self) -> tuple[Review, ...]:
        """The review queue, oldest first."""
        return tuple(self._queue.reviews.values())

    def held(self) -> tuple[Review, ...]:
        """The changes held for evidence, as the reviews they become over a restart."""
        return self._queue.pending()

    @property
    def ignored(self) -> int:
        """Input ignored since start (late, repeated or unknown tracker messages, …)."""
        return sum(self.ignored_by_reason.values())

    @property
    def ignored_by_reason(self) -> dict[str, int]:
        """The same, by reason."""
        return dict(self._table.ignored + self._ignored)

    def sizes(self) -> dict[str, int]:
        """How much it holds (memory stays bounded: the shell may report these)."""
        return {
            "sessions": len(self._sessions),
            "tracks": len(self._table.tracks),
            "sightings": sum(len(t.times) for t in self._table.tracks.values()),
            "bound_tracks": len(self._binder.owner),
            "waiting": len(self._waiting),
            "held": len(self._queue.held),
            "reviews": len(self._queue.reviews),
            "zones": len(self._table.by_zone),
            "adopted_tracks": self._table.adopted,
            **self._binder.sizes(),
        }

    # --- inside ------------------------------------------------------------------------

    def _known(self) -> datetime | None:
        """Up to when the tracker's picture is taken as complete."""
        newest, now = self._table.newest, self._now
        lag, wait = self._tuning.tracker_lag_s, self._tuning.tracker_wait_s
        marks = [t - timedelta(seconds=s) for t, s in ((newest, lag), (now, wait)) if t]
        return max(marks) if marks else None

    def _left(self, visit: str, known: datetime) -> datetime | None:
        """Close `visit` if its people surely left through an exit zone: when they did."""
        session = self._sessions[visit]
        try:  # a fault leaves it open (the gate closes it), the tick's other news goes out
            at = left_through(
                session,
                gone=self._binder.gone.get(visit, ()),
                table=self._table,
                owner=self._binder.owner,
                sessions=self._sessions,
                exits=self._exits,
                tuning=self._tuning,
                others_unbound=self._unbound(visit),
                now=known,
            )
        except Exception:  # noqa: BLE001 - a missed close is safe, a lost tick's news is not
            self._ignored["exit_zone_failed"] += 1
            return None
        if at is not None:
            session.closed = at
            self._binder.drop(visit)
        return at

    def _unbound(self, visit: str) -> bool:
        """Whether an open session other than `visit` is without a track (or still waiting)."""
        return any(
            other != visit and self._sessions[other].closed is None for other in self._orphans
        )

    def _bound(self, session: ShopSession) -> None:
        self._orphans.discard(session.visit)
        self._rebound = True

    def _advance(self) -> list[CartNews]:
        known = self._known()
        if known is None:
            return []
        news = self._binder.advance(known)
        for index, item in enumerate(news):
            if item.kind is NewsKind.SESSION_UNBOUND and item.visit is not None:
                self._orphans.add(item.visit)
                if item.reason == "track_lost" and (left := self._left(item.visit, known)):
                    news[index] = replace(item, at=left, reason="exit_zone")
        if self._rebound:
            self._rebound = False
            for held in list(self._queue.held.values()):
                news += self._changes.reconsider(held, known)
        while self._waiting and self._waiting[0][0] <= known:
            news += self._changes.decide(heapq.heappop(self._waiting)[2], known)
        deadline = timedelta(seconds=self._tuning.ambiguity_deadline_s)
        for held in self._queue.due(known - deadline):
            news.append(self._to_review(held, known))
        expired = known - timedelta(seconds=self._tuning.review_deadline_s)
        news += [expired_news(review, known) for review in self._queue.expire(expired)]
        return news

    def _to_review(self, held: Held, at: datetime) -> CartNews:
        review = self._queue.to_review(held, at)
        return review_news(review, at, "deadline")
