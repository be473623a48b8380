"""What a visit bought, for its receipt: the receipts' `PurchaseSource` over the checkout.

A visit whose checkout is done is a `Purchase`: the lines its checkout charged
(`checkout_store.charged_lines`: name, quantity, gross unit price, tax rate), when it was
charged (the checkout's last change), its currency, the card's brand and last four digits as
the processor reported them at the capture (None for a payment that reported none), and,
when less than the total was taken (a cart above a card's hold), what was paid: the receipt
shows it and what is outstanding. A visit the store knows (a session or a cart) whose
checkout is not done yet, or failed or blocked, is `Pending` (the receipts wait, then give
up); a visit the store does not know (never, or gone with the retention) is None.
"""

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from . import checkout_store
from .core.cart_model import CartLine
from .core.checkout import Checkout, Phase
from .core.receipt import Card, ReceiptLine
from .database import Database
from .receipts import Pending, Purchase


@dataclass(frozen=True, slots=True)
class _Found:
    checkout: Checkout | None
    paid_at: float | None
    lines: tuple[CartLine, ...] | None
    known: bool


def _find(db: sqlite3.Connection, visit: str) -> _Found:
    checkout = checkout_store.find(db, visit)
    paid = db.execute("SELECT updated FROM checkouts WHERE visit = ?", (visit,)).fetchone()
    cart = db.execute("SELECT 1 FROM carts WHERE visit = ?", (visit,)).fetchone()
    session = db.execute("SELECT 1 FROM sessions WHERE visit_id = ?", (visit,)).fetchone()
    return _Found(
        checkout,
        None if paid is None else float(paid[0]),
        checkout_store.charged_lines(db, visit),  # what was charged, not the cart since
        checkout is not None or cart is not None or session is not None,
    )


def purchase_of(found: _Found) -> Purchase | Pending | None:
    """The receipt's view of what was found."""
    checkout = found.checkout
    if checkout is None or checkout.phase is not Phase.DONE or found.paid_at is None:
        return Pending() if found.known else None
    card = (
        Card(checkout.card_brand, checkout.card_last4)
        if checkout.card_brand and checkout.card_last4
        else None
    )
    lines = [
        ReceiptLine(line.name, line.quantity, line.unit_price, line.tax_rate)
        for line in found.lines or ()
    ]
    return Purchase(
        datetime.fromtimestamp(found.paid_at, UTC),
        lines,
        checkout.currency,
        card,
        checkout.captured if checkout.outstanding else None,  # above the hold: the rest owed
    )


class CheckoutPurchases:
    """The receipts' `PurchaseSource`: the bridge's database as the checkout left it."""

    def __init__(self, db: Database) -> None:
        """Read `db`."""
        self._db = db

    async def purchase(self, visit: str) -> Purchase | Pending | None:
        """The visit's purchase, `Pending()` until its checkout is done, None if unknown."""
        found = await self._db.call(lambda store: _find(store.db, visit))
        return purchase_of(found)
