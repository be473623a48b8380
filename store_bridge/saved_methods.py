"""An app shopper's saved payment method, found in the background after the check-in.

An app shopper's checkout charges the card the processor's customer (the QR's ``cus``
claim) has saved. Finding it costs one or two reads at the processor; made at checkout, they
are round trips more per payment. So, once an app shopper's entry gate has opened
(`Ledger.opened`: this is a `SessionWatcher`), the processor is asked which method the
customer has saved (`Processor.saved_method`), in a task of its own: the gate never waits for
it, at most `LOOKUPS_AT_ONCE` are at the processor at once and at most `MAX_WAITING` wait
(more are not looked up). The method found is stored on the session's row
(`sessions.payment_method`) in a small transaction of its own, as upkeep (a check-in's write
goes first); the checkout creates the payment with it (`checkout_calls.py`).

A lookup that fails (the processor unreachable, an answer it may not have finished, more than
`LOOKUP_TIMEOUT_S`), a customer with no saved method, or a database that refuses the write
leave the session without one: the checkout looks it up then, as it would without this. Those
are counted (`unresolved`, by why) and logged at debug level only, never with a reference.

The method id is a processor reference: it is never in an event, a log line or the status; it
leaves with the session (the retention, an account's erasure) and the privacy export shows
it (`privacy.py`).
"""

import asyncio
import contextlib
import logging
import sqlite3
from collections import Counter
from datetime import datetime
from typing import Final

from .core.store import Session
from .database import Database
from .payments import Processor, SavedMethod
from .storage import StorageUnavailable

_LOGGER = logging.getLogger(__name__)

LOOKUPS_AT_ONCE: Final = 4
LOOKUP_TIMEOUT_S: Final = 5.0
MAX_WAITING: Final = 1000


def store_method(db: sqlite3.Connection, visit: str, customer: str, method: str) -> bool:
    """Keep `method` with `visit`'s session (if it still is the customer's); whether it was."""
    return (
        db.execute(
            "UPDATE sessions SET payment_method = ? WHERE visit_id = ? AND customer = ?",
            (method, visit, customer),
        ).rowcount
        > 0
    )


def stored_method(db: sqlite3.Connection, checkout: str, customer: str) -> str | None:
    """The method found at check-in for `checkout`'s visit, if it is `customer`'s (else None)."""
    row = db.execute(
        "SELECT s.payment_method FROM checkouts c JOIN sessions s ON s.visit_id = c.visit "
        "WHERE c.id = ? AND s.customer = ?",
        (checkout, customer),
    ).fetchone()
    return None if row is None else row[0]


def forget_method(db: sqlite3.Connection, checkout: str) -> None:
    """Drop the method kept for `checkout`'s visit (the processor no longer accepts it)."""
    db.execute(
        "UPDATE sessions SET payment_method = NULL "
        "WHERE visit_id = (SELECT visit FROM checkouts WHERE id = ?)",
        (checkout,),
    )


class SavedMethods:
    """Looks up app shoppers' saved payment methods after their check-in; keeps them."""

    def __init__(
        self,
        db: Database,
        processor: Processor,
        *,
        at_once: int = LOOKUPS_AT_ONCE,
        timeout_s: float = LOOKUP_TIMEOUT_S,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        """Ask `processor`, store in `db`; at most `at_once` lookups at the processor."""
        self._db = db
        self._processor = processor
        self._slots = asyncio.Semaphore(at_once)
        self._timeout_s = timeout_s
        self._max_waiting = max_waiting
        self._tasks: set[asyncio.Task[None]] = set()
        self.found = 0
        """Sessions whose method was found and stored."""
        self.unresolved: Counter[str] = Counter()
        """Lookups that left a session without a method, by why (no reference)."""

    @property
    def pending(self) -> int:
        """Lookups started and not finished."""
        return len(self._tasks)

    # --- SessionWatcher ----------------------------------------------------------------

    def session_opened(self, session: Session, at: datetime) -> None:  # noqa: ARG002
        """An app shopper with a processor customer came in: look their method up."""
        if session.customer:
            self.look_up(session.visit_id, session.customer)

    def session_closed(self, session: Session, at: datetime) -> None:
        """Nothing: a lookup under way goes on (the checkout reads what it stored)."""

    # --- the lookups -------------------------------------------------------------------

    def look_up(self, visit: str, customer: str) -> None:
        """Start finding `customer`'s saved method for `visit` (returns at once)."""
        if len(self._tasks) >= self._max_waiting:
            self._unresolved("too many waiting")
            return
        task = asyncio.get_running_loop().create_task(
            self._look_up(visit, customer), name="store-bridge-saved-method"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Cancel the lookups under way (their sessions stay without a method)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def settled(self) -> None:
        """Wait until no lookup is under way (tests, the benchmark)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _look_up(self, visit: str, customer: str) -> None:
        async with self._slots:
            try:
                async with asyncio.timeout(self._timeout_s):
                    answer = await self._processor.saved_method(customer)
            except TimeoutError:
                self._unresolved("timeout")
                return
            except Exception as err:  # noqa: BLE001 - the checkout looks then; nothing lost
                self._unresolved(type(err).__name__)
                return
        if not isinstance(answer, SavedMethod):
            self._unresolved(type(answer).__name__.lower())
            return
        method = answer.method
        if method is None:
            self._unresolved("none saved")
            return
        try:
            stored = await self._db.upkeep(
                lambda store: store.change(lambda db: store_method(db, visit, customer, method), [])
            )
        except StorageUnavailable:
            self._unresolved("storage unavailable")
            return
        if stored:
            self.found += 1
        else:
            self._unresolved("session gone")

    def _unresolved(self, why: str) -> None:
        self.unresolved[why] += 1
        _LOGGER.debug("A saved payment method was not found at check-in (%s)", why)
