"""The virtual cart's news as access events of the shared model.

The cart book (`core/attribution.py`) says what happened as `CartNews`; the shell
(`carts.py`) publishes each one through the ledger like every other event. This module is
the one mapping between the two: the news kind is the event type (the same words), the
session is the event's visit, no gate is named, and `data` carries ids, SKUs and whole
quantities only (`lane`, `sku`, `quantity`, `change`, `candidates`, `review`); the news'
reason code is the event's `reason`. Nothing about a shopper beyond the anonymous visit id
is in a cart event (no track id either: tracks are the tracker's, not the shared model's).
"""

from types import MappingProxyType
from typing import Final

from .core.cart_model import CartNews, NewsKind
from .events import InvalidEventError, Wire, make_event
from .vocabulary import EventType, Outcome, Source

OUTCOMES: Final = MappingProxyType(
    {
        NewsKind.TRACK_BOUND: Outcome.OK,
        NewsKind.SESSION_UNBOUND: Outcome.FAILED,
        NewsKind.ITEM_PICKED: Outcome.OK,
        NewsKind.ITEM_RETURNED: Outcome.OK,
        NewsKind.PICK_AMBIGUOUS: Outcome.INFO,
        NewsKind.PICK_REVIEW: Outcome.INFO,
        NewsKind.REVIEW_RESOLVED: Outcome.OK,
        NewsKind.PICK_UNATTRIBUTED: Outcome.INFO,
        NewsKind.LANE_ANOMALY: Outcome.INFO,
    }
)
"""How each kind of news went: a session that could not be bound failed; an unsure or
unattributed pick and an anomaly are information (nobody is charged); the rest went well."""

ABOUT_SESSIONS: Final = frozenset({NewsKind.TRACK_BOUND, NewsKind.SESSION_UNBOUND})
"""News about a session's track, not about a shelf change (no lane, SKU or quantity)."""

WITH_CANDIDATES: Final = frozenset({NewsKind.PICK_AMBIGUOUS, NewsKind.PICK_REVIEW})
"""News about a pick more than one session could have made."""


def news_data(news: CartNews) -> dict[str, str | int]:
    """The event's `data`: the lane, SKU, quantity, change, candidates and review it names."""
    named = {"lane": news.lane, "sku": news.sku, "change": news.change, "review": news.review}
    data: dict[str, str | int] = {key: value for key, value in named.items() if value is not None}
    if news.kind not in ABOUT_SESSIONS:
        data["quantity"] = news.quantity
    if news.kind in WITH_CANDIDATES or news.candidates:
        data["candidates"] = news.candidates
    return data


def news_event(news: CartNews, *, site: str) -> Wire:
    """The access event that says `news` (checked against the schema like every event).

    Raises `events.InvalidEventError` for news the schema cannot carry (an id or reason
    code of the wrong shape, a naive time): a programming error, never published.
    """
    if news.at.utcoffset() is None:
        msg = f"{news.kind.value}: the news' time must be aware (UTC)"
        raise InvalidEventError(msg)
    return make_event(
        site=site,
        type=EventType(news.kind.value),
        outcome=OUTCOMES[news.kind],
        when=news.at,
        visit=news.visit,
        reason=news.reason,
        source=Source.SYSTEM,
        data=news_data(news),
    )
