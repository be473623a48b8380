"""A checkout's changes stored: its state and its events in one transaction, then published.

Every change of `checkout_runner.py` (and of the operators' retry) goes through `commit`:
the work and the events in one transaction (committed together with the other changes
waiting: `group_commit.py`), durable (on disk before it returns: `wal_sync.py`) unless asked
otherwise, retried while the database is down when asked to; then the activity is counted
and the publisher woken; `commit_each`: a batch of changes in one transaction. Two
rollbacks are expected, not errors: a visit that has a checkout already (`AlreadyTaken`,
raised by the work) and a payment stored for the checkout already (`PaymentStored`: the
compare-and-set of `transition`; this creation's payment is an orphan, never confirmed).
"""

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import tzinfo
from typing import Any, Final

from . import checkout_store
from .core.checkout import Checkout
from .core.checkout_news import News
from .events import Wire
from .group_commit import Change, Result
from .ledger import Ledger
from .storage import StorageUnavailable
from .vocabulary import EventType, Outcome

_LOGGER = logging.getLogger(__name__)

STORE_RETRY_S: Final = 1.0


class AlreadyTaken(Exception):  # noqa: N818 - a rollback, not an error
    """The visit has a checkout already: roll the transaction (and its events) back."""


class PaymentStored(Exception):  # noqa: N818 - a rollback, not an error
    """A payment is stored for the checkout already: this creation's is an orphan."""


class CheckoutCommits:
    """The checkout's writes to the bridge's database, with their events."""

    def __init__(self, ledger: Ledger) -> None:
        """Write through `ledger`'s database; its publisher is woken after each commit."""
        self._ledger = ledger

    def event(self, checkout: Checkout, news: News) -> Wire:
        """`news` about `checkout` as an access event."""
        return self._ledger.event(
            EventType(news.type),
            Outcome(news.outcome),
            visit=checkout.visit,
            reason=news.reason,
            data=news.data,
        )

    async def transition(
        self, before: Checkout, after: Checkout, news: list[News], *, zone: tzinfo
    ) -> int | None:
        """Store `after` with `news` (retried until the database takes it): what it owes.

        A debt (`after` just finished owing) and a capture (the day's sales in `zone`) go in
        the same transaction. None: another runner stored a payment first (nothing stored).
        """
        events = [self.event(after, item) for item in news]
        now = self._ledger.clock()
        owed = after.outstanding if after.finished and not before.finished else 0
        captured = after.captured if any(n.type == "payment_captured" for n in news) else 0
        day = checkout_store.sales_day(now, zone)

        created = before.payment is None and after.payment is not None

        def work(db: Any) -> None:  # noqa: ANN401
            if not created:
                checkout_store.update(db, before, after, now)
            elif not checkout_store.save_created(db, after, now):
                raise PaymentStored
            if owed:
                checkout_store.owe(db, after.account, owed, after.currency, now)
            if captured:  # the day's totals, with the `payment_captured` they count
                checkout_store.add_sale(db, day, after.currency, captured)

        try:  # a payment's id on disk before it may be confirmed; the rest can be looked at
            await self.commit(work, events, retry=True, durable=created)
        except PaymentStored:
            return None
        return owed

    async def commit(
        self,
        work: Callable[[Any], object],
        events: list[Wire],
        *,
        retry: bool = False,
        durable: bool = True,
    ) -> bool:
        """Write `work` and `events` in one transaction; False if the visit was taken.

        `durable`: on disk when this returns (together with the other durable changes waiting).
        `retry`: wait and try again while the database is down (else `StorageUnavailable`).
        """
        ledger = self._ledger
        while True:
            try:
                await ledger.db.group(work, events, durable=durable)
            except AlreadyTaken:
                return False
            except StorageUnavailable as err:
                if not retry:
                    raise
                _LOGGER.warning("A checkout's state cannot be stored (%s); waiting", err)
                await asyncio.sleep(STORE_RETRY_S)
                continue
            break
        ledger.activity.saw(events, ledger.clock())
        ledger.wake_publisher()
        return True

    async def commit_each(self, changes: list[Change]) -> list[bool | Exception]:
        """Each change with its events, all in one transaction (not waiting for the disk).

        For each: True (stored), False (its work raised `AlreadyTaken`: undone alone), or the
        exception that undid it alone (`StorageUnavailable` for the database's). A commit that
        fails stores none and raises `StorageUnavailable`.
        """
        ledger = self._ledger
        outcomes = await ledger.db.change_each(changes)
        events = [e for c, o in zip(changes, outcomes, strict=True) if o.stored for e in c.events]
        if events:
            ledger.activity.saw(events, ledger.clock())
            ledger.wake_publisher()
        return [_stored(outcome) for outcome in outcomes]


def _stored(outcome: Result) -> bool | Exception:
    if outcome.stored:
        return True
    if isinstance(outcome.value, AlreadyTaken):
        return False
    if isinstance(outcome.value, sqlite3.Error):
        return StorageUnavailable(type(outcome.value).__name__)
    return outcome.value  # type: ignore[no-any-return]
