"""One step of a checkout (`core/checkout.py`'s `Call`) asked of the payment processor.

An app shopper's payment is created with the saved payment method found after the check-in
(`saved_methods.py`, kept on the session's row), so that the processor's adapter need not
look it up; without one it looks, as before. A method found at check-in that the processor
refuses now (detached or replaced since: ``resource_missing`` …) is never the shopper's
debt: it is dropped from the session and the payment is created again with the method the
customer has now (looked up then), under an idempotency key of its own (the refused request
created nothing).
"""

import contextlib
import logging

from .core import checkout as machine
from .payments import Answer, Declined, Misconfigured, Processor
from .saved_methods import forget_method, stored_method
from .storage import Database, StorageUnavailable

_LOGGER = logging.getLogger(__name__)


async def ask(processor: Processor, step: machine.Call, db: Database | None = None) -> Answer:
    """What `processor` answers to `step` (`db`: where the sessions' saved methods are)."""
    match step:
        case machine.Create():
            return await _create(processor, step, db)
        case machine.Confirm():
            return await processor.confirm_payment(step.payment, idempotency_key=step.key)
        case machine.Retrieve():
            return await processor.retrieve(step.payment)
        case machine.Capture():
            return await processor.capture_hold(
                step.payment, amount=step.amount, idempotency_key=step.key
            )
        case machine.Cancel():
            return await processor.cancel_hold(step.payment, idempotency_key=step.key)


async def _create(processor: Processor, step: machine.Create, db: Database | None) -> Answer:
    method = None
    if db is not None:
        with contextlib.suppress(StorageUnavailable):  # then the adapter looks it up
            method = await db.call(lambda s: stored_method(s.db, step.reference, step.customer))
    answer = await _created(processor, step, method, step.key)
    if method is None or db is None or not isinstance(answer, Declined | Misconfigured):
        return answer
    _LOGGER.info(
        "Checkout %s: the payment method found at check-in is refused now (%s); "
        "creating the payment with the customer's current one",
        step.reference,
        answer.code,
    )
    with contextlib.suppress(StorageUnavailable):
        await db.call(lambda s: s.change(lambda c: forget_method(c, step.reference), []))
    return await _created(processor, step, None, f"{step.key}:current")


async def _created(
    processor: Processor, step: machine.Create, method: str | None, key: str
) -> Answer:
    return await processor.create_payment(
        customer=step.customer,
        amount=step.amount,
        currency=step.currency,
        reference=step.reference,
        idempotency_key=key,
        payment_method=method,
    )
