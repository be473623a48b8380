"""A checkout as a state machine: a final cart charged exactly once (no I/O here).

The shell (`checkout_runner.py`) asks `next_step(checkout, now)` what to do, does it at the
processor, and hands the answer to `advance(checkout, answer, now)`; it persists (commits)
every new state BEFORE it calls the processor again. That order, and these rules, make a
charge happen at most once whatever crashes, lost answers and retries come:

- An app shopper's payment is CREATED first (no money moves) and its id stored (`CREATED`);
  only a stored payment is ever confirmed, and a checkout never stores a second one. A
  payment created but whose id was lost (a crash, a lost answer) is an orphan nobody can
  confirm: it never charges.
- After a crash, or an answer that may or may not have taken effect (`Unknown`), the stored
  payment is RETRIEVED (`look`) and what the processor says it is decides the next step.
- A card shopper's payment is the terminal's hold (the check-in's account reference): it is
  retrieved first (its amount), then `min(total, hold)` captured, or, for an empty cart, the
  hold released. A total above the hold captures the hold and leaves the rest outstanding
  (reason ``over_hold``).
- An empty cart is never charged (an app shopper's checkout makes no call at all).
- `Unavailable`: nothing happened; the same step again after an exponential backoff (capped,
  jittered deterministically from the checkout's id, so a restart keeps the same schedule).
- `Declined` (or a payment the processor reports failed): `FAILED`; the amount is
  outstanding on the account until an operator settles it.
- `Misconfigured` (the store's setup or request is wrong: an unknown customer, a refused
  key, an amount below the processor's minimum …): `BLOCKED`. Nothing happened and the
  shopper owes nothing; retrying the same call will not help, so none is made until the
  operator fixed the setup and the checkout is `unblocked` (at the bridge's next start, or
  ``POST /v1/visits/<visit>/checkout/retry``). Its news is a `payment_failed` with reason
  ``store_misconfigured`` (the operator is alerted; no account owes anything).
"""

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ..payments import (
    Accepted,
    Answer,
    Declined,
    Misconfigured,
    PaymentState,
    Unavailable,
    Unknown,
)

OVER_HOLD: Final = "over_hold"
NO_CUSTOMER: Final = "no_customer"
STORE_MISCONFIGURED: Final = "store_misconfigured"


class Phase(StrEnum):
    """Where a checkout stands (stored)."""

    FINAL = "final"
    """The cart is final, its amount known; nothing exists at the processor for it."""
    CREATED = "created"
    """A payment exists (created, or the card's hold) and its id is stored; not charged."""
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"
    """The processor said the store's setup is wrong: nothing is asked until `unblocked`."""


class Kind(StrEnum):
    """Who pays: an app shopper's saved card, or a card shopper's hold at the terminal."""

    APP = "app"
    CARD = "card"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: `base_s` · 2^(attempt-1), at most `cap_s`, jittered to 50-100 %."""

    base_s: float = 1.0
    cap_s: float = 60.0

    def delay(self, key: str, attempt: int) -> timedelta:
        """How long to wait before attempt `attempt` + 1 of `key`'s checkout."""
        raw = min(self.cap_s, self.base_s * 2 ** max(0, min(attempt - 1, 30)))
        digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
        jitter = 0.5 + digest[0] / 510  # 0.5 … 1.0, the same for the same checkout and attempt
        return timedelta(seconds=raw * jitter)


@dataclass(frozen=True, slots=True)
class Checkout:
    """One visit's checkout as stored."""

    id: str
    visit: str
    kind: Kind
    account: str
    """The session's account reference (QR `sub`, or the card's hold): never in events."""
    customer: str | None
    """An app shopper's processor customer (QR `cus`): never in events."""
    total: int
    """What the cart's lines come to, in minor units."""
    currency: str
    items: int = 0
    phase: Phase = Phase.FINAL
    payment: str | None = None
    """The processor's payment reference, once stored (a card's hold from the start)."""
    hold: int | None = None
    """A card shopper's authorised amount, once retrieved."""
    look: bool = False
    """Retrieve the payment before anything else (after a crash or an `Unknown`)."""
    attempts: int = 0
    """Calls in a row that answered `Unavailable`, `Unknown` or still processing."""
    retry_at: datetime | None = None
    captured: int = 0
    outstanding: int = 0
    """What the account owes after this checkout (declined, or above the hold)."""
    reason: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None

    def __repr__(self) -> str:
        """Without the account, customer and payment references."""
        return (
            f"Checkout(id={self.id!r}, kind={self.kind.value!r}, phase={self.phase.value!r}, "
            f"total={self.total}, attempts={self.attempts})"
        )

    @property
    def finished(self) -> bool:
        """Nothing more to do at the processor."""
        return self.phase in {Phase.DONE, Phase.FAILED}

    @property
    def stopped(self) -> bool:
        """Nothing is asked of the processor now (finished, or blocked for the operator)."""
        return self.finished or self.phase is Phase.BLOCKED


# --- steps --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Create:
    """Create (not confirm) the app shopper's payment."""

    customer: str
    amount: int
    currency: str
    reference: str
    key: str


@dataclass(frozen=True, slots=True)
class Confirm:
    """Confirm the stored payment (the money moves)."""

    payment: str
    key: str


@dataclass(frozen=True, slots=True)
class Retrieve:
    """Look at the stored payment."""

    payment: str


@dataclass(frozen=True, slots=True)
class Capture:
    """Capture `amount` of the card's hold."""

    payment: str
    amount: int
    key: str


@dataclass(frozen=True, slots=True)
class Cancel:
    """Release the card's hold (an empty cart)."""

    payment: str
    key: str


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing before `until` (a backoff)."""

    until: datetime


@dataclass(frozen=True, slots=True)
class Finished:
    """The checkout is over."""


type Call = Create | Confirm | Retrieve | Capture | Cancel
type Step = Call | Wait | Finished


def start(  # noqa: PLR0913 - one final cart's parts
    *,
    visit: str,
    kind: Kind,
    account: str,
    customer: str | None,
    total: int,
    currency: str,
    items: int = 0,
) -> Checkout:
    """A final cart's checkout, before any call. An app shopper's empty cart is done at once."""
    checkout = Checkout(
        id=f"co-{visit}",
        visit=visit,
        kind=kind,
        account=account,
        customer=customer,
        total=total,
        currency=currency.upper(),
        items=items,
    )
    if kind is Kind.CARD:
        return replace(checkout, phase=Phase.CREATED, payment=account, look=True)
    if total <= 0:
        return replace(checkout, phase=Phase.DONE)
    if customer is None:
        return replace(checkout, phase=Phase.FAILED, reason=NO_CUSTOMER, outstanding=total)
    return checkout


def resumed(checkout: Checkout) -> Checkout:
    """The checkout as loaded after a restart: a stored payment is looked at first."""
    checkout = unblocked(checkout)
    if checkout.finished or checkout.payment is None:
        return checkout
    return replace(checkout, look=True)


def unblocked(checkout: Checkout) -> Checkout:
    """A blocked checkout made ready to try again (the operator fixed the store's setup).

    Where it stood before is known from what is stored: with a payment it was created (and
    is looked at first), without one nothing exists at the processor yet.
    """
    if checkout.phase is not Phase.BLOCKED:
        return checkout
    has_payment = checkout.payment is not None
    return replace(
        checkout,
        phase=Phase.CREATED if has_payment else Phase.FINAL,
        look=has_payment,
        attempts=0,
        retry_at=None,
        reason=None,
    )


def call(checkout: Checkout) -> Call | None:
    """What to ask the processor now, whatever the backoff says (None: finished or blocked)."""
    if checkout.stopped:
        return None
    payment = checkout.payment
    if payment is None:
        customer = checkout.customer
        assert customer is not None  # noqa: S101 - `start` fails an app cart without one
        return Create(
            customer, checkout.total, checkout.currency, checkout.id, f"{checkout.id}:create"
        )
    if checkout.look or (checkout.kind is Kind.CARD and checkout.hold is None):
        return Retrieve(payment)
    if checkout.kind is Kind.APP:
        return Confirm(payment, f"{checkout.id}:confirm")
    if checkout.total <= 0:
        return Cancel(payment, f"{checkout.id}:cancel")
    hold = checkout.hold or 0
    return Capture(payment, min(checkout.total, hold), f"{checkout.id}:capture")


def next_step(checkout: Checkout, now: datetime) -> Step:
    """What the shell does next."""
    asked = call(checkout)
    if asked is None:
        return Finished()
    if checkout.retry_at is not None and now < checkout.retry_at:
        return Wait(checkout.retry_at)
    return asked


def _later(checkout: Checkout, now: datetime, policy: RetryPolicy, *, look: bool) -> Checkout:
    attempts = checkout.attempts + 1
    return replace(
        checkout,
        attempts=attempts,
        retry_at=now + policy.delay(checkout.id, attempts),
        look=look,
    )


def _failed(checkout: Checkout, reason: str) -> Checkout:
    if checkout.total <= 0:  # nothing was owed: nothing is
        return replace(checkout, phase=Phase.DONE, reason=reason, retry_at=None)
    return replace(
        checkout, phase=Phase.FAILED, reason=reason, outstanding=checkout.total, retry_at=None
    )


def advance(  # noqa: PLR0911 - one answer per kind of call
    checkout: Checkout, answer: Answer, now: datetime, policy: RetryPolicy | None = None
) -> Checkout:
    """The checkout after the processor answered the call `call(checkout)` asked for."""
    policy = policy or RetryPolicy()
    asked = call(checkout)
    if asked is None:
        return checkout
    match answer:
        case Misconfigured():  # nothing happened: what is stored stays, nothing is asked
            return replace(checkout, phase=Phase.BLOCKED, reason=STORE_MISCONFIGURED, retry_at=None)
        case Unavailable():
            return _later(checkout, now, policy, look=checkout.look)
        case Unknown(payment=payment):
            if isinstance(asked, Create):
                if payment is None:  # an orphan at most: it is never confirmed
                    return _later(checkout, now, policy, look=False)
                stored = replace(checkout, phase=Phase.CREATED, payment=payment)
                return _later(stored, now, policy, look=True)
            return _later(checkout, now, policy, look=True)
        case Declined(code=code):
            return _failed(checkout, code)
        case Accepted():
            return _accepted(checkout, asked, answer, now, policy)


def _accepted(  # noqa: PLR0911 - one outcome per state the processor reports
    checkout: Checkout, asked: Call, answer: Accepted, now: datetime, policy: RetryPolicy
) -> Checkout:
    fresh = replace(checkout, attempts=0, retry_at=None, look=False)
    if isinstance(asked, Create):
        fresh = replace(fresh, phase=Phase.CREATED, payment=answer.payment)
        if answer.state is PaymentState.CREATED:
            return fresh
        fresh = replace(fresh, look=True)  # not what a creation answers: look again
    state = answer.state
    if state is PaymentState.CAPTURED:
        captured = answer.amount
        outstanding = max(0, checkout.total - captured) if checkout.kind is Kind.CARD else 0
        return replace(
            fresh,
            phase=Phase.DONE,
            captured=captured,
            outstanding=outstanding,
            reason=OVER_HOLD if outstanding else None,
            card_brand=answer.card_brand,
            card_last4=answer.card_last4,
        )
    if state is PaymentState.AUTHORISED and checkout.kind is Kind.CARD:
        return replace(fresh, hold=answer.amount if checkout.hold is None else checkout.hold)
    if state is PaymentState.CREATED and checkout.kind is Kind.APP:
        return fresh
    if state is PaymentState.CANCELLED:
        if checkout.total <= 0:
            return replace(fresh, phase=Phase.DONE)
        return _failed(fresh, "cancelled")
    if state is PaymentState.FAILED:
        return _failed(fresh, "declined")
    # still processing, or a state this kind of payment should not be in: look again later
    return _later(checkout, now, policy, look=True)


# --- what the shell publishes ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class News:
    """One event a transition makes (type, outcome, reason and its `data`)."""

    type: str
    outcome: str
    reason: str | None
    data: dict[str, int | str]


def started_news(checkout: Checkout) -> News:
    """The `checkout_started` event of a new checkout."""
    return News(
        "checkout_started",
        "info",
        None,
        {"amount": checkout.total, "currency": checkout.currency, "items": checkout.items},
    )


def news(before: Checkout, after: Checkout) -> list[News]:
    """The events of one transition (none while it is under way)."""
    money: dict[str, int | str] = {"currency": after.currency}
    if after.phase is Phase.BLOCKED and before.phase is not Phase.BLOCKED:
        data: dict[str, int | str] = {"amount": after.total, **money}
        return [News("payment_failed", "failed", STORE_MISCONFIGURED, data)]
    if before.finished or not after.finished:
        return []
    found: list[News] = []
    if after.captured:
        found.append(News("payment_captured", "ok", None, {"amount": after.captured, **money}))
    released = after.kind is Kind.CARD and not after.captured and after.reason is None
    if after.phase is Phase.DONE and released:
        found.append(News("hold_released", "ok", None, money))
    if after.outstanding:
        found.append(
            News(
                "payment_failed",
                "failed",
                after.reason or "declined",
                {"amount": after.outstanding, **money},
            )
        )
    return found


def counts(checkouts: list[Checkout]) -> dict[str, int]:
    """Checkouts under way, those retrying, and those failed or blocked for the operator."""
    pending = [c for c in checkouts if not c.stopped]
    return {
        "pending": len(pending),
        "retrying": sum(1 for c in pending if c.attempts),
        "failed": sum(1 for c in checkouts if c.phase in {Phase.FAILED, Phase.BLOCKED}),
    }
