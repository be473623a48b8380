"""What the checkout asks of a payment processor, and what a processor can answer.

A processor adapter (`stripe_processor.py` for Stripe; `fake_processor.py`, the demo's
embedded one) implements `Processor`. Every call that leaves the process can fail, answer
late, answer twice or die with the process, so each answer is one of:

- `Accepted`: the processor did it; `payment` is its reference (``pi_…``) and `state` what
  it says the payment now is.
- `Declined`: a hard refusal for this payment method (``card_declined`` …): retrying will
  not help; the account owes the amount until settled.
- `Unavailable`: the processor could not be reached or said "try later" before doing
  anything (connection refused, 5xx before processing, rate limited): safe to retry.
- `Unknown`: the request may or may not have taken effect (the connection dropped after
  sending, a timeout). The caller must look (`retrieve`) before doing anything else; it
  never assumes the hopeful outcome. A refund the processor has not finished (pending)
  is `Unknown` too, with its `refund` reference: look again later (`retrieve_refund`). A
  refund whose answer was lost (an `Unknown` without a reference) is looked up among the
  payment's refunds (`list_refunds`) before anything is sent again.
- `Misconfigured`: the processor refused the request because the store's setup or the
  request itself is wrong (an unknown customer or payment, an amount below the processor's
  minimum or above what can be captured or refunded, an invalid parameter or currency, a
  key that is refused). Nothing happened, as with `Unavailable` (of which it is a kind, so
  a caller that knows only `Unavailable` stays safe), but retrying the same request will
  not help until the operator fixes it: alert the operator, do not blame the shopper (it
  is not a `Declined`), do not retry blindly.

The checkout never relies on idempotency keys alone (it stores the payment's reference
before confirming it and retrieves it after a crash), but sends them as well.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class PaymentState(StrEnum):
    """Where a payment stands at the processor."""

    CREATED = "created"
    """Exists, not confirmed: no money moves unless it is confirmed."""
    AUTHORISED = "authorised"
    """A hold on the card (confirmed with manual capture), not captured."""
    CAPTURED = "captured"
    """The money is taken (confirmed and captured)."""
    CANCELLED = "cancelled"
    PROCESSING = "processing"
    """The processor is still deciding."""
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Accepted:
    """The processor did it."""

    payment: str = field(repr=False)
    state: PaymentState
    amount: int = 0
    """Captured (or authorised) amount in minor units, as the processor reports it."""
    card_brand: str | None = None
    card_last4: str | None = None
    card_fingerprint: str | None = field(default=None, repr=False, compare=False)
    """The processor's stable fingerprint of the card (the same card, whatever the tap), if
    it says: only ever stored keyed (`card_debts.py`), never logged."""


@dataclass(frozen=True, slots=True)
class Declined:
    """A hard refusal: retrying will not help."""

    code: str
    payment: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Nothing happened; try again later."""

    reason: str


@dataclass(frozen=True, slots=True)
class Misconfigured(Unavailable):
    """The store's setup or request is wrong: nothing happened, and retrying will not help.

    Alert the operator; do not blame the shopper; do not retry blindly. `code` is the
    processor's (``resource_missing``, ``amount_too_small``, ``api_key_invalid`` …).
    """

    payment: str | None = field(default=None, repr=False)

    @property
    def code(self) -> str:
        """The processor's code for what is wrong (the same as `reason`)."""
        return self.reason


@dataclass(frozen=True, slots=True)
class Unknown:
    """It may have happened: retrieve before anything else."""

    reason: str
    payment: str | None = field(default=None, repr=False)
    refund: str | None = field(default=None, repr=False)
    """A refund that exists but has not finished (look again with `retrieve_refund`)."""


type Answer = Accepted | Declined | Misconfigured | Unavailable | Unknown


@dataclass(frozen=True, slots=True)
class SavedMethod:
    """A customer's saved payment method, as the processor names it (None: none is saved).

    A processor reference (``pm_…``): kept with the session only, never in an event, a log
    line or the status.
    """

    method: str | None = field(repr=False)


type MethodAnswer = SavedMethod | Misconfigured | Unavailable | Unknown
"""What `Processor.saved_method` answers: the method, or why the processor did not say."""


@dataclass(frozen=True, slots=True)
class RefundDone:
    """The processor refunded."""

    refund: str
    amount: int


type RefundAnswer = RefundDone | Declined | Misconfigured | Unavailable | Unknown


class RefundStatus(StrEnum):
    """Where a refund the processor lists stands."""

    DONE = "done"
    PENDING = "pending"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ListedRefund:
    """One of a payment's refunds, as the processor lists it (`Processor.list_refunds`)."""

    refund: str
    amount: int
    status: RefundStatus
    key: str | None = None
    """The idempotency key it was sent with, as the adapter stored it with the refund (its
    metadata): which of the bridge's refunds it is. None for a refund made elsewhere."""

    def __repr__(self) -> str:
        """Without the reference."""
        return f"ListedRefund(amount={self.amount}, status={self.status.value!r})"


class Processor(Protocol):
    """A payment processor, as the checkout uses it. Amounts in minor units."""

    async def saved_method(self, customer: str) -> MethodAnswer:
        """The payment method `customer` has saved (its default, else its first card).

        Asked at an app shopper's check-in (`saved_methods.py`), so that the checkout need not
        look. A read: it changes nothing at the processor.
        """
        ...

    async def create_payment(  # noqa: PLR0913 - one payment's parts
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        reference: str,
        idempotency_key: str,
        payment_method: str | None = None,
    ) -> Answer:
        """Create, NOT confirm, an off-session payment of a saved customer's method.

        `reference` is the bridge's own (the checkout id), stored in the payment's metadata.
        `payment_method`: the customer's saved method as found at check-in; None: the
        processor's adapter finds it now (`saved_method`). A method the processor no longer
        accepts for the customer is refused (`Misconfigured`, ``resource_missing`` …), never
        charged to another.
        """
        ...

    async def confirm_payment(self, payment: str, *, idempotency_key: str) -> Answer:
        """Confirm a created payment (the money moves)."""
        ...

    async def retrieve(self, payment: str) -> Answer:
        """What the processor says a payment is now (`Unavailable` if unreachable)."""
        ...

    async def capture_hold(self, payment: str, *, amount: int, idempotency_key: str) -> Answer:
        """Capture `amount` (at most the hold) of an authorised card payment."""
        ...

    async def cancel_hold(self, payment: str, *, idempotency_key: str) -> Answer:
        """Release an authorised hold (nothing is charged)."""
        ...

    async def refund(self, payment: str, *, amount: int, idempotency_key: str) -> RefundAnswer:
        """Refund `amount` of a captured payment.

        The adapter stores `idempotency_key` with the refund (`ListedRefund.key`).
        `RefundDone` only once the processor says the money went back (the amount it
        reports); a refund still pending is `Unknown` with its `refund` reference; a refund
        that failed or was cancelled is `Declined` (the processor's failure reason).
        """
        ...

    async def retrieve_refund(self, refund: str) -> RefundAnswer:
        """What the processor says a refund is now, as `refund` answers (after an `Unknown`).

        `Unavailable` if the processor cannot be reached.
        """
        ...

    async def list_refunds(self, payment: str) -> list[ListedRefund] | Unavailable:
        """Every refund of `payment` the processor holds (after a refund's answer was lost).

        The bridge sends a refund again only if none of these carries its key: the key alone
        is not relied on. `Unavailable` (or `Misconfigured`) if they cannot be read.
        """
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
