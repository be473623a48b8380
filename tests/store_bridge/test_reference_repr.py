"""Steps and processor answers print no reference (a log line or a traceback shows repr)."""

from store_bridge.core.checkout import Cancel, Capture, Confirm, Create, Retrieve
from store_bridge.payments import Accepted, Declined, Misconfigured, PaymentState, Unknown

CUSTOMER = "cus_secretCustomer1"
PAYMENT = "pi_secretPayment1"


def test_checkout_steps_print_no_reference() -> None:
    steps = [
        Create(customer=CUSTOMER, amount=387, currency="EUR", reference="co-1", key="k1"),
        Confirm(payment=PAYMENT, key="k2"),
        Retrieve(payment=PAYMENT),
        Capture(payment=PAYMENT, amount=387, key="k3"),
        Cancel(payment=PAYMENT, key="k4"),
    ]
    for step in steps:
        shown = repr(step)
        assert CUSTOMER not in shown
        assert PAYMENT not in shown
    assert "amount=387" in repr(steps[0])  # what is not a reference is still shown


def test_processor_answers_print_no_reference() -> None:
    answers = [
        Accepted(payment=PAYMENT, state=PaymentState.CAPTURED, amount=387),
        Declined(code="card_declined", payment=PAYMENT),
        Misconfigured("resource_missing", payment=PAYMENT),
        Unknown("timeout", payment=PAYMENT, refund="re_secretRefund1"),
    ]
    for answer in answers:
        shown = repr(answer)
        assert PAYMENT not in shown
        assert "re_secret" not in shown
    assert "card_declined" in repr(answers[1])
    assert Accepted(payment=PAYMENT, state=PaymentState.CAPTURED).payment == PAYMENT
