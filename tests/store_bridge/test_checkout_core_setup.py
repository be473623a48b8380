"""The checkout's and refund's decisions about the store's own mistakes and pending refunds.

`core/checkout.py` and `core/refund.py` directly, no I/O: a `Misconfigured` answer stops a
checkout for the operator (nobody owes anything) until it is unblocked; a refund the
processor has not finished is looked at until it has.
"""

from dataclasses import replace
from datetime import UTC, datetime

from store_bridge.core import checkout as machine
from store_bridge.core import checkout_news
from store_bridge.core import refund as refunds
from store_bridge.core.checkout import Kind, Phase
from store_bridge.core.refund import Refund, RefundPhase
from store_bridge.payments import (
    Accepted,
    Declined,
    Misconfigured,
    PaymentState,
    RefundDone,
    Unavailable,
    Unknown,
)

T0 = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


def _app(total: int = 500) -> machine.Checkout:
    return machine.start(
        visit="trip-1", kind=Kind.APP, account="a", customer="cus_1", total=total, currency="eur"
    )


def test_a_store_mistake_at_creation_stops_the_checkout_without_a_debt() -> None:
    checkout = _app()
    blocked = machine.advance(checkout, Misconfigured("resource_missing"), T0)
    assert (blocked.phase, blocked.reason, blocked.outstanding, blocked.payment) == (
        Phase.BLOCKED,
        "store_misconfigured",
        0,
        None,
    )
    assert machine.next_step(blocked, T0) == machine.Finished()
    assert machine.advance(blocked, Accepted("pi_x", PaymentState.CAPTURED), T0) == blocked
    (news,) = checkout_news.news(checkout, blocked)
    assert (news.type, news.reason, news.data) == (
        "payment_failed",
        "store_misconfigured",
        {"amount": 500, "currency": "EUR"},
    )
    assert checkout_news.news(blocked, blocked) == []
    assert checkout_news.counts([blocked]) == {"pending": 0, "retrying": 0, "failed": 1}
    again = machine.unblocked(blocked)
    assert (again.phase, again.reason, again.look) == (Phase.FINAL, None, False)
    assert isinstance(machine.call(again), machine.Create)


def test_a_store_mistake_after_creation_looks_at_the_payment_when_unblocked() -> None:
    created = machine.advance(_app(), Accepted("pi_1", PaymentState.CREATED), T0)
    blocked = machine.advance(created, Misconfigured("api_key_invalid"), T0)
    assert (blocked.phase, blocked.payment) == (Phase.BLOCKED, "pi_1")
    resumed = machine.resumed(blocked)
    assert (resumed.phase, resumed.look) == (Phase.CREATED, True)
    assert machine.call(resumed) == machine.Retrieve("pi_1")
    assert machine.unblocked(created) == created


def _refund(**changes: object) -> Refund:
    return replace(Refund("rf-1", "trip-1", "pi_1", 300, "EUR"), **changes)  # type: ignore[arg-type]


def test_a_pending_refund_is_looked_at_until_done() -> None:
    sent = refunds.sending(_refund())
    pending = refunds.advance(sent, Unknown("pending", refund="re_1"), T0)
    assert (pending.phase, pending.refund, pending.reason) == (
        RefundPhase.UNCERTAIN,
        "re_1",
        "pending",
    )
    assert refunds.looks(pending) == "re_1"
    still = refunds.advance(pending, Unknown("pending"), T0)
    assert refunds.looks(still) == "re_1"
    assert still.attempts == pending.attempts + 1
    unreachable = refunds.advance(still, Unavailable("down"), T0)
    assert (unreachable.phase, refunds.looks(unreachable)) == (RefundPhase.UNCERTAIN, "re_1")
    done = refunds.advance(unreachable, RefundDone("re_1", 300), T0)
    assert (done.phase, done.reason, refunds.looks(done)) == (RefundPhase.DONE, None, None)


def test_a_refund_the_processor_no_longer_knows_is_left_to_the_operator() -> None:
    pending = refunds.advance(refunds.sending(_refund()), Unknown("pending", refund="re_1"), T0)
    gone = refunds.advance(pending, Misconfigured("resource_missing"), T0)
    assert (gone.phase, gone.reason, refunds.looks(gone)) == (
        RefundPhase.UNCERTAIN,
        "resource_missing",
        None,
    )
    failed = refunds.advance(pending, Declined("expired_or_canceled_card"), T0)
    assert (failed.phase, refunds.looks(failed)) == (RefundPhase.FAILED, None)


def test_a_store_mistake_when_sending_fails_the_refund_and_a_lost_answer_is_uncertain() -> None:
    sent = refunds.sending(_refund())
    wrong = refunds.advance(sent, Misconfigured("amount_too_large"), T0)
    assert (wrong.phase, wrong.reason) == (RefundPhase.FAILED, "amount_too_large")
    retried = refunds.advance(sent, Unavailable("down"), T0)
    lost = refunds.advance(refunds.sending(retried), Unknown("timeout"), T0)
    assert (lost.phase, lost.reason, refunds.looks(lost), refunds.lists(lost)) == (
        RefundPhase.UNCERTAIN,
        "answer_lost",
        None,
        True,  # looked up among the payment's refunds before anything is sent again
    )
    assert lost.retry_at is not None
