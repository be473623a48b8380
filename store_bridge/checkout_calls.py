"""One step of a checkout (`core/checkout.py`'s `Call`) asked of the payment processor."""

from .core import checkout as machine
from .payments import Answer, Processor


async def ask(processor: Processor, step: machine.Call) -> Answer:
    """What `processor` answers to `step`."""
    match step:
        case machine.Create():
            return await processor.create_payment(
                customer=step.customer,
                amount=step.amount,
                currency=step.currency,
                reference=step.reference,
                idempotency_key=step.key,
            )
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
