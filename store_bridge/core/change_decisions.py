"""A settled shelf change decided: into one cart, nobody's, held for evidence, or reviewed.

A part of the cart book (`attribution.py`), working on its sessions, tracks and review queue.
A change is decided once the tracker's picture covers it, by who stood at its lane
(`pick_evidence.py`): a pick with one sure picker goes in that cart (``item_picked``), one
with nobody there is shrink (``pick_unattributed``), one with several candidates or an unknown
person is held (``pick_ambiguous``). A put-back is decided by `put_backs.py`; a change whose
hand's moment is unknown, or made while the tracker was silent, is reviewed
(`doubtful_changes.py`), never guessed. A held change is reconsidered when a binding changed:
it may now have exactly one maker.
"""

from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta

from .attribution_tuning import AttributionTuning
from .cart_model import CartNews, NewsKind, Product, ShelfChange, ShelfChangeKind
from .cart_news import change_news
from .cart_session import ShopSession
from .doubtful_changes import doubtful, everyone_inside
from .pick_evidence import Seen, sole_picker, who_was_there
from .put_backs import PutBacks
from .review_queue import Held, ReviewQueue
from .track_table import TrackTable


class ChangeDecisions:
    """The cart book's settled changes, decided (the book says when each is due)."""

    def __init__(  # noqa: PLR0913 - the book's parts
        self,
        *,
        products: Mapping[str, Product],
        sessions: Mapping[str, ShopSession],
        orphans: AbstractSet[str],
        table: TrackTable,
        owner: Mapping[str, str],
        queue: ReviewQueue,
        tuning: AttributionTuning,
        now: Callable[[], datetime | None],
    ) -> None:
        """Read (and change, for picks and holds) the book's parts.

        `owner`: which session a track is bound to; `now`: the newest time the book was told
        (None before its first tick).
        """
        self._products = products
        self._sessions = sessions
        self._orphans = orphans
        self._table = table
        self._owner = owner
        self._queue = queue
        self._tuning = tuning
        self._now = now
        self._tol = timedelta(seconds=tuning.tolerance_s)
        self.returns = PutBacks(sessions, queue, self.picked, self.hold)
        """The put-backs (an operator's review of one is decided through them too)."""

    def decide(self, c: ShelfChange, known: datetime) -> list[CartNews]:
        """A change the tracker's picture covers (up to `known`): its news."""
        seen = self._seen(c)
        if not c.began_known:
            return self._doubtful(c, seen, known, "time_unknown")
        if self._deaf(c):
            everyone = everyone_inside(c, self._sessions, self._tol)
            return self._doubtful(c, everyone, known, "tracker_silent")
        if c.kind is ShelfChangeKind.RETURN:
            return self.returns.decide(c, seen, known)
        picker = sole_picker(c, seen)
        if picker is not None:
            reason = None if len(seen.sessions) == 1 and not seen.unknown else "others_left"
            return [self.picked(self._sessions[picker], c, known, reason)]
        candidates = seen.candidates
        if not candidates:
            reason = "unknown_person" if seen.unknown else "nobody_there"
            return [change_news(NewsKind.PICK_UNATTRIBUTED, c, known, reason=reason)]
        reason = "unknown_person" if seen.unknown or seen.orphans else "several_sessions"
        return [self.hold(c, candidates, known, reason)]

    def reconsider(self, held: Held, known: datetime) -> list[CartNews]:
        """A binding changed: a held change may now have exactly one maker."""
        c = held.change
        seen = self._seen(c)
        if c.kind is ShelfChangeKind.RETURN:
            maker = self.returns.maker(c, seen)
        else:
            maker = sole_picker(c, seen)
        if maker is None or maker not in held.candidates:
            return []
        self._queue.release(held)
        session = self._sessions[maker]
        if c.kind is ShelfChangeKind.RETURN:
            return self.returns.returned(session, c, known)
        return [self.picked(session, c, known, "evidence")]

    def picked(
        self, session: ShopSession, c: ShelfChange, at: datetime, reason: str | None
    ) -> CartNews:
        """Put the pick `c` into `session`'s cart: its news (with `reason`)."""
        session.add(self._products[c.sku], c.quantity, c.id)
        return change_news(NewsKind.ITEM_PICKED, c, at, visit=session.visit, reason=reason)

    def hold(
        self, c: ShelfChange, candidates: tuple[str, ...], at: datetime, reason: str
    ) -> CartNews:
        """Hold `c` for evidence among `candidates`: its news (with `reason`)."""
        self._queue.hold(c, candidates, at)
        return change_news(
            NewsKind.PICK_AMBIGUOUS, c, at, candidates=len(candidates), reason=reason
        )

    def _seen(self, c: ShelfChange) -> Seen:
        return who_was_there(
            c,
            table=self._table,
            owner=self._owner,
            sessions=self._sessions,
            orphans=self._orphans,
            tuning=self._tuning,
        )

    def _deaf(self, c: ShelfChange) -> bool:
        """Whether the tracker had gone silent around `c` (as seen when `c` was due)."""
        due = max(c.began + self._tol, c.settled) + timedelta(seconds=self._tuning.tracker_wait_s)
        newest = self._now()
        now = None if newest is None else min(newest, due)
        return self._table.deaf(c.began - self._tol, c.began + self._tol, now)

    def _doubtful(self, c: ShelfChange, seen: Seen, known: datetime, why: str) -> list[CartNews]:
        returns = self.returns.could_return
        return doubtful(c, seen, known, why, queue=self._queue, could_return=returns)
