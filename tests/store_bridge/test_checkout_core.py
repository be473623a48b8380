"""The checkout state machine (`core/checkout.py`): exactly once under any answers and crashes.

The processor here is the real embedded one (`fake_processor.py`), told to be down, to lose
answers or to decline; a "crash" drops the checkout in memory and goes on from the state
last persisted (`resumed`), as the runner does after a restart.
"""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from store_bridge.core import checkout as machine
from store_bridge.core import checkout_news
from store_bridge.core.checkout import Checkout, Kind, Phase, RetryPolicy
from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import Accepted, Declined, PaymentState, Unavailable, Unknown

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
CUSTOMER = "cus_rig0001"


async def _call(processor: FakeProcessor, step: machine.Call) -> object:
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


FAULTS = st.sampled_from(["ok", "down", "lose", "crash_before", "crash_after"])


async def _drive(
    processor: FakeProcessor, checkout: Checkout, faults: list[str], limit: int = 200
) -> Checkout:
    """Run a checkout to its end under `faults` (one per call), then without faults."""
    persisted = checkout
    now = T0
    for turn in range(limit):
        fault = faults[turn] if turn < len(faults) else "ok"
        step = machine.next_step(checkout, now)
        if isinstance(step, machine.Finished):
            return checkout
        if isinstance(step, machine.Wait):
            now = step.until
            continue
        if fault == "crash_before":
            checkout = machine.resumed(persisted)
            continue
        processor.down = fault == "down"
        if fault == "lose":
            processor.lose_answers(1)
        answer = await _call(processor, step)
        processor.down = False
        if fault == "crash_after":  # the call took effect; its answer never got stored
            checkout = machine.resumed(persisted)
            continue
        checkout = machine.advance(checkout, answer, now)  # type: ignore[arg-type]
        persisted = checkout
        now += timedelta(milliseconds=10)
    msg = "the checkout did not finish"
    raise AssertionError(msg)


def _charged(processor: FakeProcessor) -> list[int]:
    return [p.captured for p in processor.payments.values() if p.state is PaymentState.CAPTURED]


@settings(max_examples=300, deadline=None)
@given(
    total=st.sampled_from([0, 1, 250, 1999]),
    faults=st.lists(FAULTS, max_size=12),
    declined=st.booleans(),
)
def test_an_app_cart_is_charged_at_most_once_and_never_when_empty(
    total: int, faults: list[str], declined: bool
) -> None:
    processor = FakeProcessor()
    if declined:
        processor.decline(CUSTOMER)
    start = machine.start(
        visit="trip-1",
        kind=Kind.APP,
        account="acct-1",
        customer=CUSTOMER,
        total=total,
        currency="eur",
    )
    done = asyncio.run(_drive(processor, start, faults))
    charged = _charged(processor)
    if total == 0:
        assert charged == []
        assert processor.calls == 0
        assert done.phase is Phase.DONE
    elif declined:
        assert charged == []
        assert done.phase is Phase.FAILED
        assert done.outstanding == total
    else:
        assert charged == [total]
        assert done.phase is Phase.DONE
        assert done.captured == total
        assert done.card_last4 == "4242"


@settings(max_examples=300, deadline=None)
@given(
    total=st.sampled_from([0, 300, 1000, 1500]),
    faults=st.lists(FAULTS, max_size=12),
)
def test_a_card_hold_is_captured_up_to_the_hold_once_or_released(
    total: int, faults: list[str]
) -> None:
    processor = FakeProcessor()
    hold = processor.authorise_hold(1000, "eur")
    start = machine.start(
        visit="trip-2", kind=Kind.CARD, account=hold, customer=None, total=total, currency="EUR"
    )
    done = asyncio.run(_drive(processor, start, faults))
    payment = processor.payments[hold]
    if total == 0:
        assert payment.state is PaymentState.CANCELLED
        assert payment.captured == 0
        assert [n.type for n in checkout_news.news(start, done)] == ["hold_released"]
    else:
        assert payment.state is PaymentState.CAPTURED
        assert payment.captured == min(total, 1000) == done.captured
        assert done.outstanding == max(0, total - 1000)
    assert len(processor.payments) == 1  # a card checkout never creates a payment


def test_a_cart_above_the_hold_leaves_the_rest_outstanding_as_over_hold() -> None:
    start = machine.start(
        visit="trip-3", kind=Kind.CARD, account="pi_x", customer=None, total=1500, currency="EUR"
    )
    held = machine.advance(start, Accepted("pi_x", PaymentState.AUTHORISED, amount=1000), T0)
    assert machine.next_step(held, T0) == machine.Capture("pi_x", 1000, "co-trip-3:capture")
    done = machine.advance(
        held, Accepted("pi_x", PaymentState.CAPTURED, amount=1000, card_last4="1111"), T0
    )
    assert [(n.type, n.reason, n.data["amount"]) for n in checkout_news.news(held, done)] == [
        ("payment_captured", None, 1000),
        ("payment_failed", "over_hold", 500),
    ]


def test_an_unavailable_processor_is_retried_later_each_time_longer_up_to_the_cap() -> None:
    policy = RetryPolicy(base_s=1, cap_s=8)
    checkout = machine.start(
        visit="trip-4", kind=Kind.APP, account="a", customer=CUSTOMER, total=5, currency="EUR"
    )
    waits = []
    for _ in range(6):
        checkout = machine.advance(checkout, Unavailable("down"), T0, policy)
        step = machine.next_step(checkout, T0)
        assert isinstance(step, machine.Wait)
        waits.append((step.until - T0).total_seconds())
        assert isinstance(machine.next_step(checkout, step.until), machine.Create)
    assert all(0.5 * min(8, 2**i) <= w <= min(8, 2**i) for i, w in enumerate(waits))
    assert waits[-1] <= 8
    again = machine.start(
        visit="trip-4", kind=Kind.APP, account="a", customer=CUSTOMER, total=5, currency="EUR"
    )
    assert machine.advance(again, Unavailable("x"), T0, policy).retry_at == (
        T0 + timedelta(seconds=waits[0])
    )  # the same jitter after a restart


def test_a_lost_answer_to_a_confirmation_is_looked_up_before_anything_else() -> None:
    created = replace(
        machine.start(
            visit="trip-5", kind=Kind.APP, account="a", customer=CUSTOMER, total=5, currency="EUR"
        ),
        phase=Phase.CREATED,
        payment="pi_5",
    )
    lost = machine.advance(created, Unknown("timeout", "pi_5"), T0)
    assert machine.call(lost) == machine.Retrieve("pi_5")
    failed = machine.advance(lost, Accepted("pi_5", PaymentState.FAILED), T0)
    assert failed.phase is Phase.FAILED
    assert failed.outstanding == 5
    assert [(n.type, n.reason) for n in checkout_news.news(lost, failed)] == [
        ("payment_failed", "declined")
    ]


def test_an_app_shopper_without_a_customer_is_blocked_for_the_operator_and_owes_nothing() -> None:
    checkout = machine.start(
        visit="trip-6",
        kind=Kind.APP,
        account="acct-secret-9",
        customer=None,
        total=7,
        currency="EUR",
    )
    assert machine.next_step(checkout, T0) == machine.Finished()
    assert (checkout.phase, checkout.reason, checkout.outstanding) == (
        Phase.BLOCKED,
        "store_misconfigured",
        0,
    )
    assert machine.resumed(checkout) == checkout  # a restart cannot make a customer appear
    assert "acct-secret-9" not in repr(checkout)


def test_a_declined_creation_fails_and_counts() -> None:
    checkout = machine.start(
        visit="trip-7", kind=Kind.APP, account="a", customer=CUSTOMER, total=9, currency="EUR"
    )
    failed = machine.advance(checkout, Declined("no_payment_method"), T0)
    pending = machine.advance(checkout, Unavailable("x"), T0)
    assert checkout_news.counts([failed, pending, checkout]) == {
        "pending": 2,
        "retrying": 1,
        "failed": 1,
    }
