"""The demo's embedded payment processor: `payments.Processor` in memory, no network.

Deterministic: payments are ``pi_fake_000001``, ``pi_fake_000002`` … in the order they are
created, refunds ``re_fake_…``; every saved card is a Visa ending in 4242 unless told
otherwise. It behaves as the Stripe adapter answers (`stripe_processor.py`): a payment is
created, then confirmed (captured at once) or, for a card tap at the entry
(`authorise_hold`), held and later captured (at most the hold) or cancelled; a call on a
payment in the wrong state answers `Unknown` (look first), a capture or refund above what is
there `Declined` (``amount_too_large``).

It can be told

- to decline a customer (`decline`): confirmations answer `Declined`, and the payment is
  FAILED, as Stripe reports a declined one;
- to be down (`down = True`): every call answers `Unavailable` and changes nothing;
- to lose answers (`lose_answers`): the next calls that change something take effect, but
  answer `Unknown`, as when a connection drops after the request was sent.

Idempotency keys are recorded (`keys`), not honoured, as localstripe does: the checkout
must not rely on them.
"""

from dataclasses import dataclass, field

from .payments import (
    Accepted,
    Answer,
    Declined,
    PaymentState,
    RefundAnswer,
    RefundDone,
    Unavailable,
    Unknown,
)

_UNEXPECTED = "payment_intent_unexpected_state"


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


@dataclass(slots=True)
class _Card:
    brand: str = "visa"
    last4: str = "4242"


@dataclass
class FakeProcessor:
    """An in-memory processor for the demo (and for tests that need no Stripe)."""

    down: bool = False
    """While True every call answers `Unavailable` and changes nothing."""
    payments: dict[str, FakePayment] = field(default_factory=dict)
    refunds: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Refund id → (payment id, amount)."""
    keys: list[str] = field(default_factory=list)
    """Every idempotency key received, oldest first."""
    calls: int = 0
    """Calls answered (whatever the answer)."""
    _declines: dict[str, str] = field(default_factory=dict)
    _cards: dict[str, _Card] = field(default_factory=dict)
    _lost: int = 0

    # --- what a test or the demo tells it ----------------------------------------------

    def decline(self, customer: str, code: str = "card_declined") -> None:
        """Decline every confirmation of `customer`'s payments with `code`."""
        self._declines[customer] = code

    def accept(self, customer: str) -> None:
        """Stop declining `customer`."""
        self._declines.pop(customer, None)

    def save_card(self, customer: str, *, brand: str, last4: str) -> None:
        """The card saved for `customer` (default: a Visa ending in 4242)."""
        self._cards[customer] = _Card(brand, last4)

    def lose_answers(self, count: int = 1) -> None:
        """The next `count` calls that change something take effect but answer `Unknown`."""
        self._lost += count

    def authorise_hold(
        self, amount: int, currency: str, *, brand: str = "visa", last4: str = "4242"
    ) -> str:
        """What a card terminal does at the entry: hold `amount`; returns the payment id."""
        payment = self._new(amount, currency, PaymentState.AUTHORISED)
        payment.card_brand, payment.card_last4 = brand, last4
        return payment.id

    def captured_total(self) -> int:
        """Everything captured so far, less refunds (minor units, all currencies)."""
        return sum(p.captured - p.refunded for p in self.payments.values())

    # --- payments.Processor ------------------------------------------------------------

    async def create_payment(
        self, *, customer: str, amount: int, currency: str, reference: str, idempotency_key: str
    ) -> Answer:
        """Create an unconfirmed payment of `customer`'s saved card."""
        if (refused := self._refused(idempotency_key)) is not None:
            return refused
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
        if found is None or found.state is not PaymentState.CREATED:
            return Unknown(_UNEXPECTED, payment)
        code = self._declines.get(found.customer or "")
        if code is not None:
            found.state = PaymentState.FAILED
            return Declined(code, payment)
        found.state, found.captured = PaymentState.CAPTURED, found.amount
        return self._answer(found)

    async def retrieve(self, payment: str) -> Answer:
        """The payment as it stands."""
        self.calls += 1
        if self.down:
            return Unavailable("unreachable")
        found = self.payments.get(payment)
        if found is None:
            return Declined("resource_missing", payment)
        return self._view(found)

    async def capture_hold(self, payment: str, *, amount: int, idempotency_key: str) -> Answer:
        """Capture `amount` (at most the hold) of a held payment."""
        if (refused := self._refused(idempotency_key)) is not None:
            return refused
        found = self.payments.get(payment)
        if found is None or found.state is not PaymentState.AUTHORISED:
            return Unknown(_UNEXPECTED, payment)
        if not 0 <= amount <= found.amount:
            return Declined("amount_too_large", payment)
        found.state, found.captured = PaymentState.CAPTURED, amount
        return self._answer(found)

    async def cancel_hold(self, payment: str, *, idempotency_key: str) -> Answer:
        """Release a hold (or cancel an unconfirmed payment)."""
        if (refused := self._refused(idempotency_key)) is not None:
            return refused
        found = self.payments.get(payment)
        cancellable = {PaymentState.AUTHORISED, PaymentState.CREATED}
        if found is None or found.state not in cancellable:
            return Unknown(_UNEXPECTED, payment)
        found.state = PaymentState.CANCELLED
        return self._answer(found)

    async def refund(self, payment: str, *, amount: int, idempotency_key: str) -> RefundAnswer:
        """Refund `amount` of a captured payment."""
        if (refused := self._refused(idempotency_key)) is not None:
            return refused
        found = self.payments.get(payment)
        if found is None or found.state is not PaymentState.CAPTURED:
            return Unknown(_UNEXPECTED, payment)
        if not 0 < amount <= found.captured - found.refunded:
            return Declined("amount_too_large", payment)
        found.refunded += amount
        refund = f"re_fake_{len(self.refunds) + 1:06d}"
        self.refunds[refund] = (payment, amount)
        if self._lose():
            return Unknown("connection lost", payment)
        return RefundDone(refund, amount)

    async def close(self) -> None:
        """Nothing to release."""

    # --- helpers -----------------------------------------------------------------------

    def _new(self, amount: int, currency: str, state: PaymentState) -> FakePayment:
        payment = FakePayment(f"pi_fake_{len(self.payments) + 1:06d}", amount, currency, state)
        self.payments[payment.id] = payment
        return payment

    def _refused(self, key: str) -> Unavailable | None:
        """Count a changing call; `Unavailable` while down."""
        self.calls += 1
        if self.down:
            return Unavailable("unreachable")
        self.keys.append(key)
        return None

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
        )
