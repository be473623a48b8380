"""A final cart's checkout as it starts: what it charges, and its start as a stored change.

`checkout_runner.py` starts the carts it takes in batches, each batch one transaction
(`Database.change_each`): a start is undone alone if its visit has a checkout already.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import checkout_store, saved_methods
from .checkout_commits import AlreadyTaken
from .core import checkout as machine
from .core.cart_model import CartLine
from .core.checkout import Checkout


def checkout_of(cart: checkout_store.ReadyCart, currency: str) -> Checkout:
    """The checkout that charges `cart` (a mixed-currency cart: blocked, never summed).

    `currency`: the store's, for a cart without lines.
    """
    currencies = {line.currency.upper() for line in cart.lines}
    mixed = len(currencies) > 1
    return machine.start(
        visit=cart.visit,
        kind=cart.kind,
        account=cart.account,
        customer=cart.customer,
        total=0 if mixed else sum(line.amount for line in cart.lines),
        currency=currencies.pop() if len(currencies) == 1 else currency,
        items=sum(line.quantity for line in cart.lines),
        mixed=mixed,
    )


def start_work(
    now: datetime, checkout: Checkout, lines: tuple[CartLine, ...], methods: dict[str, str]
) -> Callable[[Any], None]:
    """Store `checkout` (`AlreadyTaken` if its visit has one) and read its saved card.

    The card found at check-in goes into `methods` (by checkout) only once the start is stored:
    it is read in the start's own transaction.
    """

    def work(db: Any) -> None:  # noqa: ANN401
        if not checkout_store.start(db, checkout, now, lines):
            raise AlreadyTaken
        method = checkout.customer and saved_methods.stored_method(
            db, checkout.id, checkout.customer
        )
        if method:
            methods[checkout.id] = method

    return work
