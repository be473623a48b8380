"""Which of a store's event types belong to a gate, and which to the store (no HA).

A store bridge's types (`STORE_EVENT_TYPES`, `schema/store-topics.json`) up to
`occupancy_changed` happen at a gate; the virtual cart's and the checkout's name no gate.
Of the store-wide ones, a few ask something of someone and fire an event entity (the
alert types); the rest happen many times a day and stay on the bus and in the audit chain.
`core.stores` re-exports these for its callers.
"""

from .events import AccessEventType
from .vocabulary import STORE_EVENT_TYPES

__all__ = [
    "CHECKOUT_ALERT_TYPES",
    "CHECKOUT_EVENT_TYPES",
    "GATE_EVENT_TYPES",
    "SHELF_ALERT_TYPES",
    "SHELF_EVENT_TYPES",
]

SHELF_EVENT_TYPES: frozenset[AccessEventType] = frozenset(
    {
        AccessEventType.TRACK_BOUND,
        AccessEventType.SESSION_UNBOUND,
        AccessEventType.ITEM_PICKED,
        AccessEventType.ITEM_RETURNED,
        AccessEventType.PICK_AMBIGUOUS,
        AccessEventType.PICK_REVIEW,
        AccessEventType.REVIEW_RESOLVED,
        AccessEventType.PICK_UNATTRIBUTED,
        AccessEventType.LANE_ANOMALY,
    }
)
"""The virtual cart's events: the store's, at no gate."""

_GATE_TYPES_END = STORE_EVENT_TYPES.index(AccessEventType.OCCUPANCY_CHANGED) + 1
"""The store's types up to `occupancy_changed` are a gate's; the later ones are store-wide."""

CHECKOUT_EVENT_TYPES: tuple[AccessEventType, ...] = tuple(
    kind for kind in STORE_EVENT_TYPES[_GATE_TYPES_END:] if kind not in SHELF_EVENT_TYPES
)
"""The checkout's events (payments, refunds, receipts, erasures): the store's, at no gate."""

GATE_EVENT_TYPES: tuple[AccessEventType, ...] = tuple(
    kind
    for kind in STORE_EVENT_TYPES
    if kind not in SHELF_EVENT_TYPES and kind not in CHECKOUT_EVENT_TYPES
)
"""What a store gate's event entity offers (the store's events but the cart's and checkout's)."""

_CHECKOUT_ALERTS = frozenset(
    {"payment_failed", "account_settled", "refund_issued", "receipt_failed", "account_erased"}
)
CHECKOUT_ALERT_TYPES: tuple[AccessEventType, ...] = tuple(
    kind for kind in CHECKOUT_EVENT_TYPES if kind.value in _CHECKOUT_ALERTS
)
"""What the store's payments event entity offers: what someone may have to act on or answer
for — a failed payment (an account now owes), an account settled, a refund, a receipt that
could not be sent, an account's data erased.

Not every payment: a checkout started, a payment captured, a hold released and a receipt sent
happen once per shopper and need nobody; the sales sensors sum them, and they are on the bus
and in the audit chain."""

SHELF_ALERT_TYPES: tuple[AccessEventType, ...] = (
    AccessEventType.PICK_REVIEW,
    AccessEventType.REVIEW_RESOLVED,
    AccessEventType.PICK_UNATTRIBUTED,
    AccessEventType.LANE_ANOMALY,
    AccessEventType.SESSION_UNBOUND,
)
"""What the store's shelf event entity offers: what someone may have to act on.

Not every pick: an item picked or returned, a track bound and a pick held for evidence
happen many times a minute in a busy store and need nobody; they are on the bus and in the
audit chain, and each cart's state is the bridge's (its API and status page)."""
