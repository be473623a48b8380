"""One step of a checkout (`core/checkout.py`'s `Call`) asked of the payment processor.

An app shopper's payment is created with the saved payment method found after the check-in
(`saved_methods.py`, kept on the session's row), so that the processor need not be asked
which one the customer has; without one it is asked then (`Processor.saved_method`). A
method found at check-in that the processor refuses now (detached or replaced since:
``resource_missing`` …) is never the shopper's debt: it is dropped from the session and the
payment is created with the method the customer has now.

A creation's idempotency key follows what is sent: the step's key and a keyed digest of the
method (HMAC with the checkout's id as the key, so that the same card's keys of two visits
differ). Every retry of the same request carries the same key, and a request with another
method never reuses one (Stripe refuses a key reused with other parameters).

A confirmation refused (`Declined`, `Misconfigured`) of a payment that may have been created
with the check-in card (`Confirm.checkin_method`) is compared with the customer's current
card: when it is another, the answer is ``payment_method_replaced`` (`Misconfigured`), and
the state machine abandons the unconfirmed payment, once, and creates one with the current
card (the check-in card is not used again: `Create.checkin_method`). When the current card
cannot be read now, the payment is looked at again later (`Unknown`): nothing is owed before
the comparison was made; when the store may not read it (`Misconfigured`), the refusal
stands.
"""

import contextlib
import hashlib
import hmac
import logging

from .core import checkout as machine
from .database import Database
from .payments import Answer, Declined, Misconfigured, Processor, SavedMethod, Unknown
from .saved_methods import forget_method, stored_method
from .storage import StorageUnavailable

_LOGGER = logging.getLogger(__name__)


async def ask(
    processor: Processor,
    step: machine.Call,
    db: Database | None = None,
    *,
    known: str | None = None,
) -> Answer:
    """What `processor` answers to `step` (`db`: where the sessions' saved methods are).

    `known`: the saved method found at check-in, as the runner read it when the checkout
    started (a creation then reads none itself); None: read from `db`.
    """
    match step:
        case machine.Create():
            return await _create(processor, step, db, known)
        case machine.Confirm():
            return await _confirm(processor, step, db)
        case machine.Retrieve():
            return await processor.retrieve(step.payment)
        case machine.Capture():
            return await processor.capture_hold(
                step.payment, amount=step.amount, idempotency_key=step.key
            )
        case machine.Cancel():
            return await processor.cancel_hold(step.payment, idempotency_key=step.key)


def creation_key(step: machine.Create, method: str) -> str:
    """The idempotency key of `step` sent with `method` (never the method id itself)."""
    digest = hmac.new(step.reference.encode(), method.encode(), hashlib.sha256)
    return f"{step.key}:{digest.hexdigest()[:20]}"


async def _stored(db: Database | None, checkout: str, customer: str) -> str | None:
    if db is None:
        return None
    with contextlib.suppress(StorageUnavailable):  # then the current one is asked for
        return await db.call(lambda s: stored_method(s.db, checkout, customer))
    return None


async def _forget(db: Database | None, checkout: str) -> None:
    if db is not None:
        with contextlib.suppress(StorageUnavailable):  # a later step compares again
            await db.call(lambda s: s.change(lambda c: forget_method(c, checkout), []))


async def _create(
    processor: Processor, step: machine.Create, db: Database | None, known: str | None
) -> Answer:
    method = known or await _stored(db, step.reference, step.customer)
    if method is not None and not step.checkin_method:  # its payment was abandoned
        await _forget(db, step.reference)
        method = None
    refused: Answer | None = None
    if method is not None:
        answer = await _created(processor, step, method)
        if not isinstance(answer, Declined | Misconfigured):
            return answer
        _LOGGER.info(
            "Checkout %s: the payment method found at check-in is refused now (%s); "
            "creating the payment with the customer's current one",
            step.reference,
            answer.code,
        )
        await _forget(db, step.reference)
        refused = answer
    current = await processor.saved_method(step.customer)
    if not isinstance(current, SavedMethod):
        return current
    if current.method is None:
        return Declined("no_payment_method")
    if refused is not None and current.method == method:  # the same request: refused again
        return refused
    return await _created(processor, step, current.method)


async def _created(processor: Processor, step: machine.Create, method: str) -> Answer:
    return await processor.create_payment(
        customer=step.customer,
        amount=step.amount,
        currency=step.currency,
        reference=step.reference,
        idempotency_key=creation_key(step, method),
        payment_method=method,
    )


async def _confirm(processor: Processor, step: machine.Confirm, db: Database | None) -> Answer:
    answer = await processor.confirm_payment(step.payment, idempotency_key=step.key)
    customer = step.customer
    if not (step.checkin_method and customer and isinstance(answer, Declined | Misconfigured)):
        return answer
    method = await _stored(db, step.reference, customer)
    if method is None:  # created with the current card: the refusal is the answer
        return answer
    current = await processor.saved_method(customer)
    if isinstance(current, Misconfigured):  # the store's setup: never compared
        return answer
    if not isinstance(current, SavedMethod):  # not compared yet: look, confirm again later
        return Unknown("saved method unknown", step.payment)
    if current.method in {None, method}:
        return answer
    _LOGGER.info(
        "Checkout %s: the confirmation is refused (%s) and the customer's card changed "
        "since the check-in; creating a payment with the current one",
        step.reference,
        answer.code,
    )
    return Misconfigured(machine.METHOD_REPLACED, step.payment)
