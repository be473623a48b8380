"""Refunds at the processor, each at most once (`core/refund.py` decides; this does the I/O).

The checkout runner hands it a visit's captured checkout and an amount (`refund`): it is sent
once and the answer returned (the operator's request does not wait longer); a refund to be
retried (unreachable), looked up (its answer lost) or looked at (pending) goes on in a task.
Each state is stored before the processor is called again (one refund per visit, unique in
the database); `SENDING` is on disk (`Database.change_durable`) before the refund is sent,
so a power cut cannot forget that it may have gone. A refund whose answer was lost (a
timeout, a server error, a crash mid-send) is looked up among its payment's refunds
(`list_refunds`, by the key it was sent with) and sent again only if it is not there; a
refund still pending at the processor is looked at (`retrieve_refund`) after a backoff until
the processor says it is done or failed. `start` resumes what the database holds. A refund
done is counted in the day's totals in the same transaction as its `refund_issued` event.

The operator closes an uncertain refund (`settle`: refunded or not, as the processor's
dashboard shows), stored durably before it answers; a refund closed as refunded is counted
and announced as any refund done. Every write is a compare-and-set on the visit's refund
(`checkout_store.refund_overtaken`): a lookup answered after the operator closed the refund
is dropped (its task ends), and an operator's close after the processor answered is refused
with the refund as the processor left it. Never both, exactly once.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import tzinfo
from typing import Any

from . import checkout_store
from .checkout_commits import AlreadyTaken
from .core import refund as refunds
from .core.checkout import Checkout, Phase
from .core.refund import Refund, RefundPhase, RefundRefused, Settlement
from .core.retry_policy import RetryPolicy
from .events import Wire
from .ledger import Ledger
from .payments import ListedRefund, Processor, RefundAnswer, Unavailable
from .storage import StorageUnavailable
from .vocabulary import EventType, Outcome

_LOGGER = logging.getLogger(__name__)

STORE_RETRY_S = 1.0
"""Seconds before a refund's state that could not be stored durably is stored again."""

type Commit = Callable[[Callable[[Any], object], list[Wire]], Awaitable[object]]
"""Store a change with its events in one transaction, retried until the database takes it."""


class RefundRunner:
    """The store's refunds: asked for by the operator, sent once, looked at until known."""

    def __init__(  # noqa: PLR0913 - the refunds' collaborators
        self,
        ledger: Ledger,
        processor: Processor,
        *,
        policy: RetryPolicy,
        commit: Commit,
        zone: tzinfo,
        spawn: Callable[[str, Awaitable[object]], None],
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        """Refund through `processor`; `commit` stores; `spawn` runs a resumed refund.

        `changed` is told after each stored state (the status counts uncertain refunds).
        """
        self._ledger = ledger
        self._processor = processor
        self._policy = policy
        self._commit = commit
        self._zone = zone
        self._spawn = spawn
        self._changed = changed
        self._lock = asyncio.Lock()

    async def resume(self, stored: list[Refund]) -> None:
        """Go on with the refunds the database holds (a refund caught mid-send: uncertain)."""
        for refund in stored:
            resumed = refunds.resumed(refund, self._ledger.clock())
            if resumed != refund:
                await self._store(resumed, [])
            if refunds.pending(resumed):
                self._spawn(resumed.id, self._run(resumed))

    async def refund(self, checkout: Checkout | None, visit: str, amount: int) -> Refund:
        """Refund `amount` of `visit`'s captured payment, once (`RefundRefused` with a code)."""
        async with self._lock:
            if checkout is None or checkout.phase is not Phase.DONE or not checkout.captured:
                raise RefundRefused("nothing_captured")
            existing = await self._find(visit)
            if existing is not None and refunds.blocks(existing):
                raise RefundRefused("already_refunded")
            if not 0 < amount <= checkout.captured:
                raise RefundRefused("amount_too_large")
            assert checkout.payment is not None  # noqa: S101 - captured: it has one
            refund = Refund(
                id=refunds.next_id(visit, existing),
                visit=visit,
                payment=checkout.payment,
                amount=amount,
                currency=checkout.currency,
            )
            await self._store(refund, [], expected=existing)
        answered = await self._once(refund)
        if answered is not None and refunds.pending(answered):
            self._spawn(answered.id, self._run(answered))  # retried or looked at from here on
        return answered or refund  # (None: overtaken; a fresh refund cannot be closed yet)

    async def settle(self, visit: str, outcome: Settlement) -> tuple[Refund | None, bool]:
        """The operator closed `visit`'s uncertain refund: stored durably, then answered.

        The refund as it stands (None: the visit has none), and whether it was closed: not if
        it is not uncertain (the processor answered first, or it is still to be sent).
        """
        async with self._lock:
            while True:
                found = await self._find(visit)
                closed = None if found is None else refunds.settled(found, outcome)
                if closed is None:
                    return found, False
                if await self._store(closed, self._news(closed), expected=found):
                    _LOGGER.info("Refund %s closed by the operator: %s", closed.id, outcome.value)
                    return closed, True
                # a lookup's answer came between the read and the write: read it again

    async def _find(self, visit: str) -> Refund | None:
        return await self._ledger.db.call(lambda s: checkout_store.find_refund(s.db, visit))

    async def _run(self, refund: Refund) -> None:
        """Send a requested refund, or look one up or at, until the outcome is known."""
        current: Refund | None = refund
        while current is not None and refunds.pending(current):
            current = await self._once(current)

    async def _once(self, refund: Refund) -> Refund | None:
        """One call at the processor (after the backoff), its outcome stored.

        None: overtaken (the operator closed it meanwhile): nothing more to do.
        """
        if refund.retry_at is not None:
            delay = (refund.retry_at - self._ledger.clock()).total_seconds()
            await asyncio.sleep(max(0.0, delay))
        answer: RefundAnswer
        if refunds.lists(refund):  # its answer was lost: is it there?
            listed: list[ListedRefund] | Unavailable = await self._processor.list_refunds(
                refund.payment
            )
            refund = refunds.found(refund, listed, self._ledger.clock(), self._policy)
            return refund if await self._store(refund, self._news(refund)) else None
        if (reference := refunds.looks(refund)) is not None:
            answer = await self._processor.retrieve_refund(reference)
        else:
            refund = refunds.sending(refund)
            if not await self._store(refund, [], durable=True):  # before it may go
                return None
            answer = await self._processor.refund(
                refund.payment, amount=refund.amount, idempotency_key=refunds.key(refund)
            )
        refund = refunds.advance(refund, answer, self._ledger.clock(), self._policy)
        return refund if await self._store(refund, self._news(refund)) else None

    def _news(self, refund: Refund) -> list[Wire]:
        if refund.phase is not RefundPhase.DONE:
            return []
        data = {"amount": refund.amount, "currency": refund.currency}
        return [
            self._ledger.event(EventType.REFUND_ISSUED, Outcome.OK, visit=refund.visit, data=data)
        ]

    async def _store(
        self,
        refund: Refund,
        events: list[Wire],
        *,
        durable: bool = False,
        expected: Refund | None = None,
    ) -> bool:
        """Write `refund` with `events`; False (nothing written) if it was overtaken.

        `expected`: written only if the visit's refund is still exactly that one (the
        operator's close; a new refund replacing one closed as never made, which is deleted
        in the same transaction); otherwise only if it is this refund and not over.
        """
        written = await self._write(refund, events, durable=durable, expected=expected)
        if written:
            self._changed()  # the status counts uncertain refunds (republished at most 1/s)
        return written

    async def _write(
        self, refund: Refund, events: list[Wire], *, durable: bool, expected: Refund | None
    ) -> bool:
        now = self._ledger.clock()
        day = checkout_store.sales_day(now, self._zone)
        overtaken: list[bool] = []

        def work(db: Any) -> None:  # noqa: ANN401
            if expected is None:
                taken = checkout_store.refund_overtaken(db, refund)
            else:
                taken = checkout_store.find_refund(db, refund.visit) != expected
            if taken:  # the processor or the operator came first: roll back
                overtaken.append(True)
                raise AlreadyTaken
            if expected is not None and expected.id != refund.id:
                checkout_store.delete_refund(db, expected.id)
            checkout_store.save_refund(db, refund, now)
            if events:  # done: counted in the day's totals with its event
                checkout_store.add_refunded(db, day, refund.currency, refund.amount)

        if not durable:  # (the commit is durable, but need not be alone on disk)
            await self._commit(work, events)
            return not overtaken
        while True:  # nothing is sent until it is on disk
            try:
                await self._ledger.db.call(lambda s: s.change(work, events, durable=True))
            except AlreadyTaken:
                return False
            except StorageUnavailable:
                await asyncio.sleep(STORE_RETRY_S)
                continue
            return True
