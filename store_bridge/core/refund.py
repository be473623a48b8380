"""A refund as a state machine: at most once, whatever crashes (no I/O here).

One refund per visit, of at most what its checkout captured, asked for by the operator
(`POST /v1/visits/<visit>/refund`, an amount or items of the cart). The shell persists
each state before it calls the processor:

- `REQUESTED`: stored, nothing sent. The shell stores `SENDING` (durably) before it sends.
- `SENDING` (as loaded after a crash) or an answer that may or may not have taken effect
  (`Unknown` without a reference: a lost answer, a timeout, a server error): the refund may
  exist at the processor. It is never sent again blindly: `UNCERTAIN` (``answer_lost``), and
  the shell `lists` the payment's refunds (`Processor.list_refunds`) after a backoff. The
  refund sent with this refund's `key` decides (done, pending: looked at, failed); none
  there means nothing was refunded: `REQUESTED` again, sent after the backoff. The key is
  sent too, but not relied on.
- `Unavailable` (nothing happened): `REQUESTED` again, retried after the checkout's backoff.
- `RefundDone`: `DONE`, `refund_issued`; `Declined`: `FAILED`; `Misconfigured` (the store's
  request was wrong, e.g. more than can be refunded: nothing happened): `FAILED` with its code.
- An `Unknown` that names the processor's refund (it exists, not finished: pending) is
  `UNCERTAIN` too, but the shell `looks` at it (`retrieve_refund`) after a backoff until the
  processor says it is done or failed. A refund the processor no longer knows (or a payment
  whose refunds it will not list) is left to the operator (`retry_at` None), counted in the
  status as uncertain.

A refund still uncertain `STUCK_AFTER` after the operator asked for it is *stuck*
(`stuck_before`): the status counts those apart (`refunds_stuck`), so that the operator is
told; the bridge goes on looking it up all the same.

The operator closes an uncertain refund once they looked it up in the processor's dashboard
(`settled`, ``POST /v1/visits/<visit>/refund/settle``): `Settlement.REFUNDED` makes it `DONE`
(counted and announced as any refund done), `Settlement.NOT_REFUNDED` makes it `FAILED`
(nothing refunded), both with the reason ``settled_by_operator``. Only an uncertain refund
can be closed so: one the processor answered meanwhile keeps the processor's answer. After a
failed refund (declined, refused, failed at the processor, or closed as `NOT_REFUNDED`) a new
refund may be asked for (`blocks`); it carries a new id, hence a new key (`next_id`), so that
the old request, should it turn up at the processor after all, is never taken for the new one.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ..payments import (
    Declined,
    ListedRefund,
    Misconfigured,
    RefundAnswer,
    RefundDone,
    RefundStatus,
    Unavailable,
    Unknown,
)
from .cart_model import CartLine
from .retry_policy import RetryPolicy

STUCK_AFTER: Final = timedelta(hours=1)
"""How long after it was asked for a refund may stay uncertain before the operator is told.

Reckoned from the request (the refund's `created`), not from when it last became uncertain:
a refund whose answers keep getting lost flips between uncertain and sent again, and must not
start its hour afresh each time. The bound: a lost answer is normally found at the first
lookup, seconds later, and the lookups back off to at most a minute (`RetryPolicy`), so by
then the bridge has asked some sixty times; a processor outage or a card refund pending
longer than that is no longer a hiccup the bridge rides out alone. An hour still tells the
operator the same shift, while the shopper can be told; a shorter bound would raise a repair
for every short outage, which would teach the operator to ignore it."""


def stuck_before(now: datetime) -> datetime:
    """Refunds asked for before this instant and still uncertain at `now` are stuck."""
    return now - STUCK_AFTER


class RefundPhase(StrEnum):
    """Where a refund stands (stored)."""

    REQUESTED = "requested"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"
    UNCERTAIN = "uncertain"


@dataclass(frozen=True, slots=True)
class Refund:
    """One visit's refund as stored."""

    id: str
    visit: str
    payment: str
    """The captured payment's reference: never in events."""
    amount: int
    currency: str
    phase: RefundPhase = RefundPhase.REQUESTED
    attempts: int = 0
    retry_at: datetime | None = None
    refund: str | None = None
    """The processor's refund reference: never in events."""
    reason: str | None = None

    def __repr__(self) -> str:
        """Without the references."""
        return f"Refund(id={self.id!r}, amount={self.amount}, phase={self.phase.value!r})"


class Settlement(StrEnum):
    """What the operator found in the processor's dashboard for an uncertain refund."""

    REFUNDED = "refunded"
    NOT_REFUNDED = "not_refunded"


SETTLED_BY_OPERATOR: Final = "settled_by_operator"
"""The reason of a refund the operator closed (`settled`)."""


class RefundRefused(ValueError):  # noqa: N818 - named after the outcome
    """A refund that cannot be asked for; the message is a reason code."""


def items_amount(lines: tuple[CartLine, ...], items: list[tuple[str, int]]) -> int:
    """What the given (sku, quantity) items of a cart come to; refuses items not in it."""
    bought = {line.sku: line for line in lines}
    wanted: dict[str, int] = {}
    for sku, quantity in items:
        wanted[sku] = wanted.get(sku, 0) + quantity
    total = 0
    for sku, quantity in wanted.items():
        line = bought.get(sku)
        if line is None or not 0 < quantity <= line.quantity:
            raise RefundRefused("not_in_cart")
        total += quantity * line.unit_price
    return total


def settled(refund: Refund, outcome: Settlement) -> Refund | None:
    """An uncertain refund closed by the operator (None: it is not uncertain, nothing to close)."""
    if refund.phase is not RefundPhase.UNCERTAIN:
        return None
    phase = RefundPhase.DONE if outcome is Settlement.REFUNDED else RefundPhase.FAILED
    return replace(refund, phase=phase, reason=SETTLED_BY_OPERATOR, retry_at=None)


def blocks(refund: Refund) -> bool:
    """Whether a visit's refund keeps a new one from being asked for.

    A failed one does not: the processor declined it, refused the request, or said it
    failed, or the operator found it was never made (closed as `NOT_REFUNDED`); no money
    moved. Any other may have moved money, or still may.
    """
    return refund.phase is not RefundPhase.FAILED


def next_id(visit: str, previous: Refund | None) -> str:
    """The id of a visit's new refund: ``rf-<visit>``, then ``rf-<visit>~2``, ``~3``, and so on."""
    first = f"rf-{visit}"
    if previous is None:
        return first
    _, _, count = previous.id.partition(f"{first}~")
    return f"{first}~{int(count or 1) + 1}"


def sending(refund: Refund) -> Refund:
    """What is stored just before the refund is sent."""
    return replace(refund, phase=RefundPhase.SENDING)


def key(refund: Refund) -> str:
    """The idempotency key the refund is sent with (and found again by, `lists`)."""
    return f"{refund.id}:refund"


def resumed(refund: Refund, now: datetime) -> Refund:
    """A refund as loaded after a restart: one that was being sent is uncertain (looked up)."""
    if refund.phase is RefundPhase.SENDING:
        return replace(refund, phase=RefundPhase.UNCERTAIN, reason="answer_lost", retry_at=now)
    return refund


def looks(refund: Refund) -> str | None:
    """The processor's refund to look at now (`retrieve_refund`), if the shell should."""
    if refund.phase is RefundPhase.UNCERTAIN and refund.retry_at is not None:
        return refund.refund
    return None


def lists(refund: Refund) -> bool:
    """Whether the shell should look the refund up among its payment's (`list_refunds`)."""
    return (
        refund.phase is RefundPhase.UNCERTAIN
        and refund.retry_at is not None
        and refund.refund is None
    )


def pending(refund: Refund) -> bool:
    """Whether the shell still has something to do for this refund (send, look, list)."""
    return refund.phase is RefundPhase.REQUESTED or (
        refund.phase is RefundPhase.UNCERTAIN and refund.retry_at is not None
    )


def found(
    refund: Refund,
    listed: list[ListedRefund] | Unavailable,
    now: datetime,
    policy: RetryPolicy | None = None,
) -> Refund:
    """The refund after its payment's refunds were listed (`lists`): what is there decides."""
    policy = policy or RetryPolicy()
    attempts = refund.attempts + 1
    later = now + policy.delay(refund.id, attempts)
    if isinstance(listed, Misconfigured):  # the processor will not say: the operator looks
        return replace(refund, reason=listed.reason, retry_at=None)
    if isinstance(listed, Unavailable):
        return replace(refund, attempts=attempts, retry_at=later)
    mine = [item for item in listed if item.key == key(refund)]
    if not mine:  # nothing was refunded: it may be sent (once more, after the backoff)
        return replace(
            refund, phase=RefundPhase.REQUESTED, reason=None, attempts=attempts, retry_at=later
        )
    there = mine[0]  # newest first; one key, one refund
    if there.status is RefundStatus.DONE:
        return advance(refund, RefundDone(there.refund, there.amount), now, policy)
    if there.status is RefundStatus.FAILED:
        return replace(
            refund, phase=RefundPhase.FAILED, refund=there.refund, reason="failed", retry_at=None
        )
    return advance(refund, Unknown("pending", refund.payment, there.refund), now, policy)


def advance(  # noqa: PLR0911 - one outcome per kind of answer
    refund: Refund, answer: RefundAnswer, now: datetime, policy: RetryPolicy | None = None
) -> Refund:
    """The refund after the processor answered a send (`SENDING`) or a look (`UNCERTAIN`)."""
    policy = policy or RetryPolicy()
    looking = refund.phase is RefundPhase.UNCERTAIN
    attempts = refund.attempts + 1
    later = now + policy.delay(refund.id, attempts)
    match answer:
        case RefundDone(refund=reference, amount=amount):
            done = replace(refund, phase=RefundPhase.DONE, refund=reference, amount=amount)
            return replace(done, reason=None, retry_at=None)
        case Misconfigured(reason=code):
            if looking:  # the processor does not know it (any more): the operator looks
                return replace(refund, reason=code, retry_at=None)
            return replace(refund, phase=RefundPhase.FAILED, reason=code, retry_at=None)
        case Unavailable():
            if looking:
                return replace(refund, attempts=attempts, retry_at=later)
            return replace(refund, phase=RefundPhase.REQUESTED, attempts=attempts, retry_at=later)
        case Unknown(refund=reference):
            known = reference or refund.refund
            if known is None:  # it may exist: its payment's refunds are looked up first
                lost = replace(refund, phase=RefundPhase.UNCERTAIN, reason="answer_lost")
                return replace(lost, attempts=attempts, retry_at=later)
            return replace(
                refund,
                phase=RefundPhase.UNCERTAIN,
                refund=known,
                reason="pending",
                attempts=attempts,
                retry_at=later,
            )
        case Declined(code=code):
            return replace(refund, phase=RefundPhase.FAILED, reason=code, retry_at=None)
