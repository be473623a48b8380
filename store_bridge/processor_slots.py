"""The checkouts' calls at the payment processor: at most so many at once, started ones first.

`CheckoutSettings.concurrency` calls are at the processor at once at most. When one ends,
the slot goes to a checkout whose payment exists already (a confirmation, a capture, a look)
before one that would create a new payment; within each, in order of arrival. So the
processor gets a payment's next call soon after its creation, as a client that pays one
payment at a time would send it, and fewer payments stand created but not yet confirmed at
any moment (`bench/bench_checkout.py`, part 1: with every checkout a call in line behind all
the others' creations, the processor waited for the bridge between calls).
"""

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class ProcessorSlots:
    """`size` slots; a waiting call that continues a payment goes before a new one."""

    def __init__(self, size: int) -> None:
        """At most `size` calls at once."""
        self._free = size
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def slot(self, *, first: bool) -> AsyncIterator[None]:
        """Hold a slot for one call; `first`: it continues a payment (goes before new ones)."""
        if self._free > 0 and not self._waiting:
            self._free -= 1
        else:
            turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (0 if first else 1, next(self._order), turn))
            try:
                await turn
            except asyncio.CancelledError:
                if turn.done() and not turn.cancelled():  # given the slot, then cancelled
                    self._release()
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the slot to the first call waiting (one given up is passed over), or free it."""
        while self._waiting:
            _first, _n, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self._free += 1
