"""The demo's embedded payment processor: `payments.Processor` in memory, no network.

Deterministic: payments are ``pi_fake_000001``, ``pi_fake_000002`` … in the order they are
created, refunds ``re_fake_…``; every saved card is a Visa ending in 4242 unless told
otherwise. It behaves as the Stripe adapter answers (`stripe_processor.py`): a payment is
created, then confirmed (captured at once) or, for a card tap at the entry
(`authorise_hold`), held and later captured (at most the hold) or cancelled; a call on a
payment in the wrong state answers `Unknown` (look first). The store's mistakes answer
`Misconfigured`, never `Declined`: an unknown payment or refund (``resource_missing``), a
capture or refund above what is there (``amount_too_large``), an amount of nothing
(``amount_too_small``). A customer without a saved card (`remove_card`) is `Declined`
(``no_payment_method``). Each saved card has a payment method id (``pm_fake_…``, a new one
for each `save_card`): `saved_method` names it, and a payment created with a method the
customer no longer has (replaced or removed since) is refused as Stripe refuses it
(`Misconfigured`, ``resource_missing``). `method_lookups` counts the times it was asked which
method a customer has saved. A refund is done at once unless told otherwise (`refunds_end`).

It can be told

- to decline a customer (`decline`): confirmations answer `Declined`, and the payment is
  FAILED, as Stripe reports a declined one;
- to be down (`down = True`): every call answers `Unavailable` and changes nothing;
- to be misconfigured (`misconfigured = "api_key_invalid"`, say): every call answers
  `Misconfigured` with that code and changes nothing, as with a key Stripe refuses;
- to lose answers (`lose_answers`): the next calls that change something take effect, but
  answer `Unknown`, as when a connection drops after the request was sent;
- how new refunds end (`refunds_end`): ``pending`` or ``requires_action`` (answered
  `Unknown` with the refund's reference, until `settle_refund`), ``failed`` or ``canceled``
  (`Declined` with the failure reason; the money stays captured).

It logs nothing (no customer reference, no card, no key to leak).

Idempotency keys are recorded (`keys`), not honoured, as localstripe does: the checkout
must not rely on them.
"""

from dataclasses import dataclass, field

from .payments import (
    Accepted,
    Answer,
    Declined,
    ListedRefund,
    MethodAnswer,
    Misconfigured,
    PaymentState,
    RefundAnswer,
    RefundDone,
    RefundStatus,
    SavedMethod,
    Unavailable,
    Unknown,
)

_UNEXPECTED = "payment_intent_unexpected_state"
_MISSING = "resource_missing"
_TOO_LARGE = "amount_too_large"
_TOO_SMALL = "amount_too_small"
_REFUND_STATUSES = frozenset({"succeeded", "pending", "requires_action", "failed", "canceled"})
_REFUND_ENDED = frozenset({"failed", "canceled"})


@dataclass(slots=True)
class FakePayment:
    """One payment as the fake processor holds it."""

    id: str
    amount: int
    currency: str
    state: PaymentState
    customer: str | None = None
    reference: str | None = None
    captured: int = 0
    refunded: int = 0
    card_brand: str = "visa"
    card_last4: str = "4242"
    card_fingerprint: str | None = None


@dataclass(slots=True)
class _Card:
    brand: str = "visa"
    last4: str = "4242"
    method: str | None = None
    """Its payment method id (None: the customer's first card, ``pm_fake_<customer>``)."""


@dataclass(frozen=True, slots=True)
class _RefundState:
    status: str = "succeeded"
    failure_reason: str | None = None


@dataclass
class FakeProcessor:
    """An in-memory processor for the demo (and for tests that need no Stripe)."""

    down: bool = False
    """While True every call answers `Unavailable` and changes nothing."""
    misconfigured: str | None = None
    """While set every call answers `Misconfigured` with this code and changes nothing."""
    payments: dict[str, FakePayment] = field(default_factory=dict)
    refunds: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Refund id → (payment id, amount)."""
    keys: list[str] = field(default_factory=list)
    """Every idempotency key received, oldest first."""
    calls: int = 0
    """Calls answered (whatever the answer)."""
    method_lookups: int = 0
    """Times it was asked (or had to find) which payment method a customer has saved."""
    _declines: dict[str, str] = field(default_factory=dict)
    _cards: dict[str, _Card] = field(default_factory=dict)
    _no_card: set[str] = field(default_factory=set)
    _cards_saved: int = 0
    _lost: int = 0
    _refund_states: dict[str, _RefundState] = field(default_factory=dict)
    _new_refunds: _RefundState = field(default_factory=_RefundState)
    _refund_keys: dict[str, str] = field(default_factory=dict)

    # --- what a test or the demo tells it ----------------------------------------------

    def decline(self, customer: str, code: str = "card_declined") -> None:
        """Decline every confirmation of `customer`'s payments with `code`."""
        self._declines[customer] = code

    def accept(self, customer: str) -> None:
        """Stop declining `customer`."""
        self._declines.pop(customer, None)

    def save_card(self, customer: str, *, brand: str, last4: str) -> None:
        """The card saved for `customer` (default: a Visa ending in 4242)."""
        self._cards_saved += 1
        self._cards[customer] = _Card(brand, last4, f"pm_fake_{self._cards_saved:06d}")
        self._no_card.discard(customer)

    def remove_card(self, customer: str) -> None:
        """`customer` has no saved card: a payment answers `Declined` (no_payment_method)."""
        self._no_card.add(customer)

    def refunds_end(self, status: str = "succeeded", failure_reason: str | None = None) -> None:
        """How the refunds made from now on end (``succeeded``, ``pending`` …)."""
        if status not in _REFUND_STATUSES:
            raise ValueError(f"not a refund status: {status}")
        self._new_refunds = _RefundState(status, failure_reason)

    def settle_refund(
        self, refund: str, status: str = "succeeded", failure_reason: str | None = None
    ) -> None:
        """A refund that was pending ends (``succeeded``, ``failed`` or ``canceled``)."""
        state = self._refund_states[refund]
        if status in _REFUND_ENDED and state.status not in _REFUND_ENDED:
            payment, amount = self.refunds[refund]
            self.payments[payment].refunded -= amount  # the money stays captured
        self._refund_states[refund] = _RefundState(status, failure_reason)

    def lose_answers(self, count: int = 1) -> None:
        """The next `count` calls that change something take effect but answer `Unknown`."""
        self._lost += count

    def authorise_hold(
        self,
        amount: int,
        currency: str,
        *,
        brand: str = "visa",
        last4: str = "4242",
        fingerprint: str | None = None,
    ) -> str:
        """What a card terminal does at the entry: hold `amount`; returns the payment id.

        `fingerprint`: the card's, as the processor reports it (the same card, the same one).
        """
        payment = self._new(amount, currency, PaymentState.AUTHORISED)
        payment.card_brand, payment.card_last4 = brand, last4
        payment.card_fingerprint = fingerprint
        return payment.id

    def captured_total(self) -> int:
        """Everything captured so far, less refunds (minor units, all currencies)."""
        return sum(p.captured - p.refunded for p in self.payments.values())

    # --- payments.Processor ------------------------------------------------------------

    async def saved_method(self, customer: str) -> MethodAnswer:
        """The payment method `customer` has saved (None: none)."""
        if (refused := self._refused(None)) is not None:
            return refused
        self.method_lookups += 1
        return SavedMethod(self._method(customer))

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
        """Create an unconfirmed payment of `customer`'s saved card (or `payment_method`)."""
        if (refused := self._refused(idempotency_key)) is not None:
            return refused
        saved = self._method(customer)
        if payment_method is None:
            self.method_lookups += 1
        elif payment_method != saved:  # detached or replaced since it was found
            return Misconfigured(_MISSING)
        if saved is None:
            return Declined("no_payment_method")
        if amount <= 0:
            return Misconfigured(_TOO_SMALL)
        payment = self._new(amount, currency.lower(), PaymentState.CREATED)
        card = self._cards.get(customer, _Card())
        payment.customer, payment.reference = customer, reference
        payment.card_brand, payment.card_last4 = card.brand, card.last4
        if self._lose():
            return Unknown("connection lost")  # the answer, and with it the id, is lost
        return self._view(payment)

    async def confirm_payment(self, payment: str, *, idempotency_key: str) -> Answer:
        """Confirm a created payment: captured, or declined for a declined customer."""
        if (refused := self._refused(idempotency_key)) is not None:
            return refused
        found = self.payments.get(payment)
        if found is None:
            return Misconfigured(_MISSING, payment)
        if found.state is not PaymentState.CREATED:
            return Unknown(_UNEXPECTED, payment)
        code = self._declines.get(found.customer or "")
        if code is not None:
            found.state = PaymentState.FAILED
            return Declined(code, payment)
        found.state, found.captured = PaymentState.CAPTURED, found.amount
        return self._answer(found)

    async def retrieve(self, payment: str) -> Answer:
        """The payment as it stands."""
        if (refused := self._refused(None)) is not None:
            return refused
        found = self.payments.get(payment)
        if found is None:
            return Misconfigured(_MISSING, payment)
        return self._view(found)

    async def capture_hold(self, payment: str, *, amount: int, idempotency_key: str) -> Answer:
        """Capture `amount` (at most the hold) of a held payment."""
        if (refused := self._refused(idempotency_key)) is not None:
            return refused
        found = self.payments.get(payment)
        if found is None:
            return Misconfigured(_MISSING, payment)
        if found.state is not PaymentState.AUTHORISED:
            return Unknown(_UNEXPECTED, payment)
        if amount < 0:
            return Misconfigured(_TOO_SMALL, payment)
        if amount > found.amount:
            return Misconfigured(_TOO_LARGE, payment)
        found.state, found.captured = PaymentState.CAPTURED, amount
        return self._answer(found)

    async def cancel_hold(self, payment: str, *, idempotency_key: str) -> Answer:
        """Release a hold (or cancel an unconfirmed payment)."""
        if (refused := self._refused(idempotency_key)) is not None:
            return refused
        found = self.payments.get(payment)
        if found is None:
            return Misconfigured(_MISSING, payment)
        if found.state not in {PaymentState.AUTHORISED, PaymentState.CREATED}:
            return Unknown(_UNEXPECTED, payment)
        found.state = PaymentState.CANCELLED
        return self._answer(found)

    async def refund(self, payment: str, *, amount: int, idempotency_key: str) -> RefundAnswer:
        """Refund `amount` of a captured payment; it ends as `refunds_end` says."""
        if (refused := self._refused(idempotency_key)) is not None:
            return refused
        found = self.payments.get(payment)
        if found is None:
            return Misconfigured(_MISSING, payment)
        if (wrong := _not_refundable(found, amount)) is not None:
            return wrong
        refund = f"re_fake_{len(self.refunds) + 1:06d}"
        self.refunds[refund] = (payment, amount)
        self._refund_keys[refund] = idempotency_key
        state = self._new_refunds
        self._refund_states[refund] = state
        if state.status not in _REFUND_ENDED:
            found.refunded += amount
        if self._lose():
            return Unknown("connection lost", payment)
        return self._refund_view(refund)

    async def retrieve_refund(self, refund: str) -> RefundAnswer:
        """The refund as it stands."""
        if (refused := self._refused(None)) is not None:
            return refused
        if refund not in self.refunds:
            return Misconfigured(_MISSING)
        return self._refund_view(refund)

    async def list_refunds(self, payment: str) -> list[ListedRefund] | Unavailable:
        """The payment's refunds, newest first, with the keys they were sent with."""
        if (refused := self._refused(None)) is not None:
            return refused
        if payment not in self.payments:
            return Misconfigured(_MISSING, payment)
        listed = []
        for refund, (paid, amount) in reversed(self.refunds.items()):
            if paid != payment:
                continue
            status = self._refund_states[refund].status
            if status == "succeeded":
                kind = RefundStatus.DONE
            else:
                kind = RefundStatus.FAILED if status in _REFUND_ENDED else RefundStatus.PENDING
            listed.append(ListedRefund(refund, amount, kind, self._refund_keys.get(refund)))
        return listed

    async def close(self) -> None:
        """Nothing to release."""

    # --- helpers -----------------------------------------------------------------------

    def _new(self, amount: int, currency: str, state: PaymentState) -> FakePayment:
        payment = FakePayment(f"pi_fake_{len(self.payments) + 1:06d}", amount, currency, state)
        self.payments[payment.id] = payment
        return payment

    def _refused(self, key: str | None) -> Unavailable | None:
        """Count a call (and its idempotency key); `Unavailable` while down or misconfigured."""
        self.calls += 1
        if self.down:
            return Unavailable("unreachable")
        if self.misconfigured is not None:
            return Misconfigured(self.misconfigured)
        if key is not None:
            self.keys.append(key)
        return None

    def _method(self, customer: str) -> str | None:
        if customer in self._no_card:
            return None
        card = self._cards.get(customer)
        return card.method if card is not None and card.method else f"pm_fake_{customer}"

    def _refund_view(self, refund: str) -> RefundAnswer:
        payment, amount = self.refunds[refund]
        state = self._refund_states[refund]
        if state.status == "succeeded":
            return RefundDone(refund, amount)
        if state.status in _REFUND_ENDED:
            return Declined(state.failure_reason or state.status, payment)
        return Unknown(f"refund {state.status}", payment, refund)

    def _lose(self) -> bool:
        if self._lost <= 0:
            return False
        self._lost -= 1
        return True

    def _answer(self, payment: FakePayment) -> Answer:
        if self._lose():
            return Unknown("connection lost", payment.id)
        return self._view(payment)

    @staticmethod
    def _view(payment: FakePayment) -> Accepted:
        state = payment.state
        captured = state is PaymentState.CAPTURED
        if captured:
            amount = payment.captured
        elif state in {PaymentState.CANCELLED, PaymentState.FAILED}:
            amount = 0
        else:
            amount = payment.amount
        return Accepted(
            payment.id,
            state,
            amount=amount,
            card_brand=payment.card_brand if captured else None,
            card_last4=payment.card_last4 if captured else None,
            card_fingerprint=payment.card_fingerprint,
        )


def _not_refundable(found: FakePayment, amount: int) -> Misconfigured | Unknown | None:
    """Why `amount` of `found` cannot be refunded (None: it can)."""
    if found.state is not PaymentState.CAPTURED:
        return Unknown(_UNEXPECTED, found.id)
    if amount <= 0:
        return Misconfigured(_TOO_SMALL, found.id)
    if amount > found.captured - found.refunded:
        return Misconfigured(_TOO_LARGE, found.id)
    return None
