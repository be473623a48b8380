"""Put-backs: whose cart an item put back into its lane leaves, or why none does.

A put-back (a settled change that adds whole units to a lane) leaves the cart that holds
the SKU when its returner is clear: of the sessions at the lane, exactly one could have
returned it (its cart holds the SKU, or a pick held for it could be where the item came
from) and no unknown person was there. A returner whose cart does not hold it is a
``lane_anomaly`` (``wrong_lane``) and no cart changes; a put-back several carts could have
made is held and reviewed like a pick (`CartBook` holds it). A put-back by a session whose
cart does not hold the SKU but that one held pick could have given it first charges that pick,
then takes the item out again; with several such picks it is unsure (``put_back_unsure``) and
the picks carry a note of it.
"""

from collections.abc import Callable, Mapping
from datetime import datetime

from .cart_model import CartNews, NewsKind, ShelfChange
from .cart_news import change_news
from .cart_session import ShopSession
from .pick_evidence import Seen
from .review_queue import ReviewQueue

type Picked = Callable[[ShopSession, ShelfChange, datetime, str | None], CartNews]
"""Put a pick into a session's cart (with the reason of its news)."""
type Hold = Callable[[ShelfChange, tuple[str, ...], datetime, str], CartNews]
"""Hold a change for evidence among its candidates (with the reason of its news)."""


class PutBacks:
    """The cart book's put-backs: its sessions and held picks, read and changed."""

    def __init__(
        self,
        sessions: Mapping[str, ShopSession],
        queue: ReviewQueue,
        picked: Picked,
        hold: Hold,
    ) -> None:
        """Work on the book's `sessions` and `queue`; picks and holds go through the book."""
        self._sessions = sessions
        self._queue = queue
        self._picked = picked
        self._hold = hold

    def could_return(self, visit: str, c: ShelfChange) -> bool:
        """Whether `visit` holds `c`'s SKU, or may through a held pick."""
        return self._sessions[visit].holds(c.sku) > 0 or self._queue.may_hold(visit, c)

    def maker(self, c: ShelfChange, seen: Seen) -> str | None:
        """The one session that can have put `c` back, if it is clear."""
        able = [v for v in seen.candidates if self.could_return(v, c)]
        return able[0] if len(able) == 1 and not seen.unknown else None

    def decide(self, c: ShelfChange, seen: Seen, known: datetime) -> list[CartNews]:
        """A put-back whose moment and whose tracker picture are known."""
        candidates = seen.candidates
        if not candidates:
            reason = "unknown_person" if seen.unknown else "nobody_there"
            return [change_news(NewsKind.LANE_ANOMALY, c, known, reason=reason)]
        able = [v for v in candidates if self.could_return(v, c)]
        if not able:
            return [change_news(NewsKind.LANE_ANOMALY, c, known, reason="wrong_lane")]
        if len(able) == 1 and not seen.unknown:
            return self.returned(self._sessions[able[0]], c, known)
        return [self._hold(c, tuple(able), known, "put_back")]

    def returned(self, session: ShopSession, c: ShelfChange, at: datetime) -> list[CartNews]:
        """`session` put `c` back: out of its cart, or out of the one held pick it came from."""
        news: list[CartNews] = []
        if not session.holds(c.sku):
            held = self._queue.picks_at(session.visit, c)
            if len(held) != 1:
                for h in held:
                    h.notes.append(f"put_back:{c.id}:{session.visit}")
                return [change_news(NewsKind.LANE_ANOMALY, c, at, reason="put_back_unsure")]
            pick = held[0]
            self._queue.release(pick)
            news.append(self._picked(session, pick.change, at, "put_back"))
        taken = session.remove(c.sku, c.quantity, c.id)
        news.append(change_news(NewsKind.ITEM_RETURNED, c, at, visit=session.visit, quantity=taken))
        if taken < c.quantity:
            news.append(change_news(NewsKind.LANE_ANOMALY, c, at, reason="more_than_taken"))
        return news
