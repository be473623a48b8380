"""The cart book's news about a shelf change or a review (ids, SKUs and quantities only)."""

from datetime import datetime

from .cart_model import CartNews, NewsKind, Review, ShelfChange


def change_news(  # noqa: PLR0913 - a news item's fields
    kind: NewsKind,
    c: ShelfChange,
    at: datetime,
    *,
    visit: str | None = None,
    quantity: int | None = None,
    candidates: int = 0,
    review: str | None = None,
    reason: str | None = None,
) -> CartNews:
    """News about `c` (its lane, SKU, quantity and id)."""
    return CartNews(
        kind,
        at,
        visit=visit,
        lane=c.lane,
        sku=c.sku,
        quantity=c.quantity if quantity is None else quantity,
        change=c.id,
        candidates=candidates,
        reason=reason,
        review=review,
    )


def review_news(review: Review, at: datetime, reason: str) -> CartNews:
    """``pick_review``: `review`'s change waits for an operator (`reason`: why now)."""
    return change_news(
        NewsKind.PICK_REVIEW,
        review.change,
        at,
        candidates=len(review.candidates),
        review=review.id,
        reason=reason,
    )


def expired_news(review: Review, at: datetime) -> CartNews:
    """``pick_unattributed``: nobody decided `review` in time; nobody is charged for it."""
    return change_news(
        NewsKind.PICK_UNATTRIBUTED,
        review.change,
        at,
        candidates=len(review.candidates),
        review=review.id,
        reason="review_expired",
    )
