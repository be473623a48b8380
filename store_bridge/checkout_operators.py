"""What an operator asks of the checkout: settle an account, refund a visit, retry a block.

And close a visit's uncertain refund once they looked it up (`settle_refund`).

A part of `CheckoutRunner` (its base class). A retry runs under the visit's lock: two
retries at once start one checkout task, never two (two tasks would create two payments).
"""

import asyncio
from datetime import datetime
from typing import Any

from . import checkout_store
from .checkout_commits import CheckoutCommits
from .checkout_refunds import RefundRunner
from .core import checkout as machine
from .core.checkout import Checkout
from .core.refund import Refund, Settlement
from .ledger import Ledger
from .vocabulary import EventType, Outcome


class CheckoutOperators:
    """Settle, refund and retry (the runner provides the rest)."""

    _ledger: Ledger
    _commits: CheckoutCommits
    _owing: set[str]
    _refunds: RefundRunner
    _workers: dict[str, asyncio.Task[Any]]
    _locks: dict[str, asyncio.Lock]

    async def find(self, visit: str) -> Checkout | None:
        """A visit's checkout, as it stands."""
        raise NotImplementedError

    def changed(self) -> None:
        """Tell the status that the counts may have changed."""
        raise NotImplementedError

    def _spawn(self, checkout: Checkout) -> bool:
        raise NotImplementedError

    def lock(self, visit: str) -> asyncio.Lock:
        """The lock of `visit`'s checkout (its task is started under it)."""
        return self._locks.setdefault(visit, asyncio.Lock())

    async def settle(self, account: str) -> dict[str, int]:
        """An operator settled what `account` owed; `account_settled` per currency."""
        owed = await self._ledger.db.call(lambda s: checkout_store.settle(s.db, account))
        events = [
            self._ledger.event(
                EventType.ACCOUNT_SETTLED,
                Outcome.OK,
                data={"amount": amount, "currency": currency},
            )
            for currency, amount in sorted(owed.items())
        ]
        if events:
            await self._ledger.write(lambda store: store.add_events(events), events)
        self._owing.discard(account)
        self.changed()
        return owed

    async def refund(self, visit: str, amount: int) -> Refund:
        """Refund `amount` of `visit`'s captured payment, once (`RefundRefused` with a code)."""
        return await self._refunds.refund(await self.find(visit), visit, amount)

    async def settle_refund(self, visit: str, outcome: Settlement) -> tuple[Refund | None, bool]:
        """Close `visit`'s uncertain refund as the processor's dashboard shows it, once.

        The refund as it stands (None: the visit has none) and whether it was closed (not:
        it is not uncertain; the processor's answer stands). `RefundRunner.settle`.
        """
        return await self._refunds.settle(visit, outcome)

    async def retry(self, visit: str) -> tuple[Checkout | None, bool]:
        """An operator fixed the store's setup: try `visit`'s blocked checkout again.

        The checkout as it stands (None: the visit has none), and whether it was retried:
        not if it is not blocked, or blocked for good (`machine.retryable`). Under the
        visit's lock and by its phase only: a blocked checkout's task that has not quite
        ended is waited for, and a second retry at once finds the checkout under way.
        """
        async with self.lock(visit):
            found = await self.find(visit)
            if found is None or not machine.retryable(found):
                return found, False
            old = self._workers.get(found.id)
            if old is not None and not old.done():  # blocked: it is ending
                await asyncio.wait([old])
            again = machine.unblocked(found)
            now: datetime = self._ledger.clock()
            await self._commits.commit(
                lambda db: checkout_store.save(db, again, now), [], retry=True
            )
            self._spawn(again)
        self.changed()
        return again, True
