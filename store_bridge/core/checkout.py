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
  key …): `BLOCKED`. Nothing happened and the shopper owes nothing; retrying the same call
  will not help, so none is made until the operator fixed the setup and the checkout is
  `unblocked` (at the bridge's next start, or ``POST /v1/visits/<visit>/checkout/retry``).
  Its news is a `payment_failed` with reason ``store_misconfigured``, once per checkout
  (`alerted` is stored: a restart that blocks it again alerts nobody again).
- ``amount_too_small`` (below the processor's minimum charge) is an outcome of its own: the
  amount is written off (`FAILED`, nothing owed, never retried; `payment_failed` with that
  reason). A card's capture refused so stays `CREATED` with that reason while its hold is
  released (`Cancel`, the usual way: a refusal or a lost answer looks again); written off
  once the processor reports the hold cancelled (`hold_released` too). The reason stays
  through a block of the release (alerted as ``store_misconfigured``): unblocked, it is
  released again, and a hold found cancelled meanwhile is written off too, never owed.
- A payment with the check-in card whose confirmation is refused while the customer has
  another card now (``payment_method_replaced``, the shell compares) is abandoned once (never
  confirmed: an orphan), back to `FINAL` with that reason; the next one uses the current card.
- Blocked for the operator for good (not unblocked at a restart nor by a retry, since asking
  again cannot help; `payment_failed` with the reason, nothing owed): an app shopper without
  a processor customer (a QR without ``cus``: ``store_misconfigured``), a cart of several
  currencies (``mixed_currencies``), a card payment that is not a capturable hold when it
  is first looked at (``hold_not_capturable``: the terminal captured or released it, or it
  never was one: it is never taken as this checkout's charge). A payment that stays in a
  state it cannot move on from (an app payment reported authorised, a card still waiting
  for a payment method …) is looked at `MAX_LOOKS` times, then blocked (``payment_stuck``;
  a retry looks again).

The record it moves (phases, who pays, fields, reasons): `checkout_record.py`; the steps it
asks for: `checkout_steps.py`.
"""

from dataclasses import replace
from datetime import datetime
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
from .checkout_record import (  # the stored record, re-exported
    AMOUNT_TOO_SMALL as AMOUNT_TOO_SMALL,  # noqa: PLC0414
)
from .checkout_record import (
    HOLD_NOT_CAPTURABLE,
    MIXED_CURRENCIES,
    OVER_HOLD,
    PAYMENT_STUCK,
)
from .checkout_record import (
    METHOD_REPLACED as METHOD_REPLACED,  # noqa: PLC0414
)
from .checkout_record import (
    STORE_MISCONFIGURED as STORE_MISCONFIGURED,  # noqa: PLC0414
)
from .checkout_record import (
    Checkout as Checkout,  # noqa: PLC0414
)
from .checkout_record import (
    Kind as Kind,  # noqa: PLC0414
)
from .checkout_record import (
    Phase as Phase,  # noqa: PLC0414
)
from .checkout_steps import (  # the machine's steps, re-exported
    Call as Call,  # noqa: PLC0414
)
from .checkout_steps import (
    Cancel as Cancel,  # noqa: PLC0414
)
from .checkout_steps import (
    Capture as Capture,  # noqa: PLC0414
)
from .checkout_steps import (
    Confirm as Confirm,  # noqa: PLC0414
)
from .checkout_steps import (
    Create as Create,  # noqa: PLC0414
)
from .checkout_steps import (
    Finished as Finished,  # noqa: PLC0414
)
from .checkout_steps import (
    Retrieve as Retrieve,  # noqa: PLC0414
)
from .checkout_steps import (
    Step as Step,  # noqa: PLC0414
)
from .checkout_steps import (
    Wait as Wait,  # noqa: PLC0414
)
from .retry_policy import RetryPolicy as RetryPolicy  # noqa: PLC0414 - re-exported

RETRYABLE: Final = frozenset({STORE_MISCONFIGURED, PAYMENT_STUCK, AMOUNT_TOO_SMALL})
"""The reasons of a block that asking again may cure (the operator fixed the setup); a
blocked ``amount_too_small`` is a written-off amount's hold release (only a card's blocks)."""
MAX_LOOKS: Final = 30
"""Looks in a row at a payment in a state it cannot move on from, before it is blocked."""


def start(  # noqa: PLR0913 - one final cart's parts
    *,
    visit: str,
    kind: Kind,
    account: str,
    customer: str | None,
    total: int,
    currency: str,
    items: int = 0,
    mixed: bool = False,
) -> Checkout:
    """A final cart's checkout, before any call. An app shopper's empty cart is done at once.

    `mixed`: the cart's lines are in several currencies (blocked: nothing is summed).
    """
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
        checkout = replace(checkout, phase=Phase.CREATED, payment=account, look=True)
    elif total <= 0 and not mixed:
        return replace(checkout, phase=Phase.DONE)
    if mixed:
        return _blocked(checkout, MIXED_CURRENCIES)
    if kind is Kind.APP and customer is None:  # the QR's issuer is wrong, not the shopper
        return _blocked(checkout, STORE_MISCONFIGURED)
    return checkout


def _blocked(checkout: Checkout, reason: str) -> Checkout:
    if checkout.reason == AMOUNT_TOO_SMALL:  # a write-off's release: it stays written off
        reason = AMOUNT_TOO_SMALL
    return replace(
        checkout, phase=Phase.BLOCKED, reason=reason, retry_at=None, alerted=True, looks=0
    )


def retryable(checkout: Checkout) -> bool:
    """A blocked checkout that asking again may move on (the operator fixed the setup)."""
    if checkout.phase is not Phase.BLOCKED or checkout.reason not in RETRYABLE:
        return False
    return checkout.kind is Kind.CARD or checkout.customer is not None


def resumed(checkout: Checkout) -> Checkout:
    """The checkout as loaded after a restart: a stored payment is looked at first."""
    checkout = unblocked(checkout)
    if checkout.finished or checkout.payment is None:
        return checkout
    return replace(checkout, look=True)


def unblocked(checkout: Checkout) -> Checkout:
    """A blocked checkout made ready to try again (the operator fixed the store's setup).

    Where it stood before is known from what is stored: with a payment it was created (and
    is looked at first), without one nothing exists at the processor yet. One blocked for
    good (not `retryable`) stays as it is. `alerted` stays: a new block alerts nobody again.
    A written-off amount's release stays one (its reason kept: never owed).
    """
    if not retryable(checkout):
        return checkout
    has_payment = checkout.payment is not None
    return replace(
        checkout,
        phase=Phase.CREATED if has_payment else Phase.FINAL,
        look=has_payment,
        attempts=0,
        retry_at=None,
        reason=AMOUNT_TOO_SMALL if checkout.reason == AMOUNT_TOO_SMALL else None,
        looks=0,
    )


def call(checkout: Checkout) -> Call | None:
    """What to ask the processor now, whatever the backoff says (None: finished or blocked)."""
    if checkout.stopped:
        return None
    payment = checkout.payment
    if payment is None:
        customer = checkout.customer
        assert customer is not None  # noqa: S101 - `start` blocks an app cart without one
        return Create(
            customer,
            checkout.total,
            checkout.currency,
            checkout.id,
            f"{checkout.id}:create",
            checkin_method=checkout.reason != METHOD_REPLACED,
        )
    if checkout.look or (checkout.kind is Kind.CARD and checkout.hold is None):
        return Retrieve(payment)
    if checkout.kind is Kind.APP:
        return Confirm(
            payment,
            f"{checkout.id}:confirm",
            checkout.id,
            checkout.customer,
            checkin_method=checkout.reason != METHOD_REPLACED,
        )
    if checkout.total <= 0 or checkout.reason == AMOUNT_TOO_SMALL:  # nothing to capture
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
        case Misconfigured(code=code):
            return _misconfigured(checkout, asked, code)
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
            return _declined(checkout, code, now, policy)
        case Accepted():
            return _accepted(checkout, asked, answer, now, policy)


def _misconfigured(checkout: Checkout, asked: Call, code: str) -> Checkout:
    if code == AMOUNT_TOO_SMALL:
        return _too_small(checkout, asked)
    if code == METHOD_REPLACED and isinstance(asked, Confirm):
        return _replaced(checkout)
    return _blocked(checkout, STORE_MISCONFIGURED)  # nothing happened: nothing is asked


def _replaced(checkout: Checkout) -> Checkout:
    """The unconfirmed payment of a card replaced since the check-in abandoned (once)."""
    if checkout.reason == METHOD_REPLACED:  # the shell asks once: never a second time
        return _blocked(checkout, STORE_MISCONFIGURED)
    return replace(
        checkout,
        phase=Phase.FINAL,
        payment=None,
        look=False,
        attempts=0,
        retry_at=None,
        reason=METHOD_REPLACED,
        looks=0,
    )


def _written_off(checkout: Checkout) -> Checkout:
    return replace(
        checkout, phase=Phase.FAILED, reason=AMOUNT_TOO_SMALL, retry_at=None, outstanding=0
    )


def _too_small(checkout: Checkout, asked: Call) -> Checkout:
    """Below the minimum charge: written off (never retried), a card's hold released first."""
    if checkout.kind is Kind.APP:
        return _written_off(checkout)
    if isinstance(asked, Capture):  # stored before the release is asked for (`call`)
        return replace(checkout, reason=AMOUNT_TOO_SMALL, attempts=0, retry_at=None)
    return _blocked(checkout, STORE_MISCONFIGURED)  # not a capture's answer: the store's setup


def _declined(checkout: Checkout, code: str, now: datetime, policy: RetryPolicy) -> Checkout:
    if checkout.reason == AMOUNT_TOO_SMALL:  # a written-off amount's hold not released: look
        return _later(checkout, now, policy, look=True)
    return _failed(checkout, code)


def _cancelled(checkout: Checkout, fresh: Checkout) -> Checkout:
    """The payment reported cancelled (a hold released, by us or not)."""
    if checkout.reason == AMOUNT_TOO_SMALL:  # the written-off amount's hold released
        return _written_off(fresh)
    if checkout.total <= 0:
        return replace(fresh, phase=Phase.DONE)
    return _failed(fresh, "cancelled")


def _first_look(checkout: Checkout, fresh: Checkout, answer: Accepted) -> Checkout:
    """A card's hold as first seen: only an authorised (capturable) one is this checkout's.

    Captured or released by the terminal already, or never a hold: never taken as this
    checkout's charge (nor its release as "done"); blocked for the operator.
    """
    if answer.state is not PaymentState.AUTHORISED:
        return _blocked(checkout, HOLD_NOT_CAPTURABLE)
    return replace(fresh, hold=answer.amount)


def _accepted(  # noqa: PLR0911 - one outcome per state the processor reports
    checkout: Checkout, asked: Call, answer: Accepted, now: datetime, policy: RetryPolicy
) -> Checkout:
    fresh = replace(checkout, attempts=0, retry_at=None, look=False, looks=0)
    if checkout.kind is Kind.CARD and checkout.hold is None:
        return _first_look(checkout, fresh, answer)
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
    waiting = PaymentState.AUTHORISED if checkout.kind is Kind.CARD else PaymentState.CREATED
    if state is waiting:  # the hold to capture, the payment to confirm
        return fresh
    if state is PaymentState.CANCELLED:
        return _cancelled(checkout, fresh)
    if state is PaymentState.FAILED:
        return _failed(fresh, "declined")
    # still processing, or a state this kind of payment should not be in: look again later,
    # `MAX_LOOKS` times in a row at most
    base = replace(fresh, attempts=checkout.attempts)  # a creation's payment is kept
    if checkout.looks + 1 >= MAX_LOOKS:
        return _blocked(base, PAYMENT_STUCK)
    return replace(_later(base, now, policy, look=True), looks=checkout.looks + 1)
