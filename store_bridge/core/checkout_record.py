"""A checkout as stored: its phases, who pays, its fields and the reasons it records.

The record only (no decisions): the state machine that moves it is `checkout.py`, which
re-exports these names for its callers. References (the account, the customer, the payment)
stay out of its repr.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

OVER_HOLD: Final = "over_hold"
STORE_MISCONFIGURED: Final = "store_misconfigured"
AMOUNT_TOO_SMALL: Final = "amount_too_small"
MIXED_CURRENCIES: Final = "mixed_currencies"
HOLD_NOT_CAPTURABLE: Final = "hold_not_capturable"
PAYMENT_STUCK: Final = "payment_stuck"
METHOD_REPLACED: Final = "payment_method_replaced"
"""A confirmation refused for the check-in card when the customer has another one now."""


class Phase(StrEnum):
    """Where a checkout stands (stored)."""

    FINAL = "final"
    """The cart is final, its amount known; nothing exists at the processor for it."""
    CREATED = "created"
    """A payment exists (created, or the card's hold) and its id is stored; not charged."""
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"
    """The processor said the store's setup is wrong: nothing is asked until `unblocked`."""


class Kind(StrEnum):
    """Who pays: an app shopper's saved card, or a card shopper's hold at the terminal."""

    APP = "app"
    CARD = "card"


@dataclass(frozen=True, slots=True)
class Checkout:
    """One visit's checkout as stored."""

    id: str
    visit: str
    kind: Kind
    account: str
    """The session's account reference (QR `sub`, or the card's hold): never in events."""
    customer: str | None
    """An app shopper's processor customer (QR `cus`): never in events."""
    total: int
    """What the cart's lines come to, in minor units."""
    currency: str
    items: int = 0
    phase: Phase = Phase.FINAL
    payment: str | None = None
    """The processor's payment reference, once stored (a card's hold from the start)."""
    hold: int | None = None
    """A card shopper's authorised amount, once retrieved."""
    look: bool = False
    """Retrieve the payment before anything else (after a crash or an `Unknown`)."""
    attempts: int = 0
    """Calls in a row that answered `Unavailable`, `Unknown` or still processing."""
    retry_at: datetime | None = None
    captured: int = 0
    outstanding: int = 0
    """What the account owes after this checkout (declined, or above the hold)."""
    reason: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    alerted: bool = False
    """The operator was alerted that it is blocked (once per checkout, restarts included)."""
    looks: int = 0
    """Looks in a row at a payment in a state it cannot move on from (`MAX_LOOKS`)."""

    def __repr__(self) -> str:
        """Without the account, customer and payment references."""
        return (
            f"Checkout(id={self.id!r}, kind={self.kind.value!r}, phase={self.phase.value!r}, "
            f"total={self.total}, attempts={self.attempts})"
        )

    @property
    def finished(self) -> bool:
        """Nothing more to do at the processor."""
        return self.phase in {Phase.DONE, Phase.FAILED}

    @property
    def stopped(self) -> bool:
        """Nothing is asked of the processor now (finished, or blocked for the operator)."""
        return self.finished or self.phase is Phase.BLOCKED
