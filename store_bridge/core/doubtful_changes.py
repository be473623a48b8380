"""Shelf changes the tracker cannot speak to: to review, never into a cart.

Two kinds: a change whose hand's moment is unknown (the lane was silent when it began), and
one made while the tracker had gone silent (nobody's absence counts then: every session
inside around it is a candidate, `everyone_inside`). A pick goes to the review queue with
its candidates (or is nobody's when there are none); a put-back goes to review only with the
candidates that could have put it back (their cart holds the SKU, or may), else it is a
``lane_anomaly``.
"""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from .cart_model import CartNews, NewsKind, ShelfChange, ShelfChangeKind
from .cart_news import change_news, review_news
from .cart_session import ShopSession
from .pick_evidence import Seen
from .review_queue import ReviewQueue


def everyone_inside(
    c: ShelfChange, sessions: Mapping[str, ShopSession], tolerance: timedelta
) -> Seen:
    """Every session inside around `c` (the tracker cannot say who was where)."""
    start, end = c.began - tolerance, c.settled + tolerance
    inside = {v for v, s in sessions.items() if s.open_at(start, end, 0.0)}
    return Seen({}, [], inside)


def doubtful(  # noqa: PLR0913 - the change, its moment and the book's parts
    c: ShelfChange,
    seen: Seen,
    known: datetime,
    why: str,
    *,
    queue: ReviewQueue,
    could_return: Callable[[str, ShelfChange], bool],
) -> list[CartNews]:
    """The hand's moment, or who was there, cannot be known: review, never a cart."""
    candidates = seen.candidates
    reason = "unknown_person" if seen.unknown else "nobody_there"
    if c.kind is ShelfChangeKind.RETURN:
        if candidates:
            reason = "wrong_lane"
        candidates = tuple(v for v in candidates if could_return(v, c))
        if not candidates:
            return [change_news(NewsKind.LANE_ANOMALY, c, known, reason=reason)]
    if not candidates:
        return [change_news(NewsKind.PICK_UNATTRIBUTED, c, known, reason=reason)]
    queue.hold(c, candidates, known)
    review = queue.to_review(queue.held[c.id], known)
    return [review_news(review, known, why)]
