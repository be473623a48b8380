"""The carts' writer: the carts, the review queue and the cart events, stored together.

One write at a time (the carts' write loop, an operator's review decision and the stop take
turns): the carts that changed since they were last stored — with the time their session
left (none for a session closed after the longest stay inside: checkout never takes it) and
whether they are final —, the review queue with the held picks (they come back as reviews
after a restart) when it changed, and the events, in one transaction through the ledger, in
order. On any failure (a bug, a cancellation) the events go back to the front of those
waiting, and what was not stored is written with the next write. Final carts leave memory
once stored (`forget`), never while the ledger holds writes back (the database is down).
"""

import asyncio
from collections.abc import Callable, Collection, Mapping
from datetime import datetime

from . import cart_store
from .cart_store import StoredCart
from .core.attribution import CartBook
from .core.cart_model import Review
from .events import Wire
from .ledger import Ledger


class CartWriter:
    """What the carts hand to the database, and what it last stored of them."""

    def __init__(self, ledger: Ledger, book: CartBook) -> None:
        """Store `book`'s carts and reviews through `ledger`."""
        self._ledger = ledger
        self._book = book
        self.events: list[Wire] = []
        """Cart events not yet handed to the database (or to its backlog)."""
        self.saved: dict[str, StoredCart] = {}
        """Each cart as it was last stored."""
        self.saved_reviews: tuple[Review, ...] = ()
        self._writing = asyncio.Lock()

    async def write(
        self,
        closed: Mapping[str, datetime],
        uncharged: Collection[str],
        final: Callable[[str, datetime], bool],
        forget: Callable[[str], None],
    ) -> None:
        """Write the changed carts and reviews with the events, in one transaction.

        `closed`: when each closed session left; `uncharged`: the closed ones stored without
        that time; `final(visit, now)`: whether a closed cart changes no more; `forget(visit)`:
        a final cart, stored, leaves memory.
        """
        async with self._writing:
            events, self.events = self.events, []
            try:
                await self._write_now(events, closed, uncharged, final, forget)
            except BaseException:
                self.events[:0] = events
                raise

    async def _write_now(
        self,
        events: list[Wire],
        closed: Mapping[str, datetime],
        uncharged: Collection[str],
        final: Callable[[str, datetime], bool],
        forget: Callable[[str], None],
    ) -> None:
        now = self._ledger.clock()
        ended = {visit for visit in closed if final(visit, now)}
        current = {
            cart.visit: StoredCart(
                cart,
                None if cart.visit in uncharged else closed.get(cart.visit),
                cart.visit in ended,
            )
            for cart in self._book.carts()
        }
        changed = [stored for visit, stored in current.items() if self.saved.get(visit) != stored]
        reviews = self._book.reviews() + self._book.held()  # held picks survive a restart
        queue = None if reviews == self.saved_reviews else reviews
        if events or changed or queue is not None:
            await self._ledger.write(
                lambda store: store.change(
                    lambda db: cart_store.save(db, changed, queue, now), events
                ),
                events,
            )
            self.saved.update((stored.cart.visit, stored) for stored in changed)
            self.saved_reviews = reviews
        if len(self._ledger.backlog):
            return  # held until the database is back: final carts stay in memory till then
        for visit in ended:
            self.saved.pop(visit, None)
            forget(visit)
