"""The demo's embedded processor answers as the Stripe adapter does, deterministically."""

import pytest

from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import (
    Accepted,
    Declined,
    Misconfigured,
    PaymentState,
    RefundDone,
    Unavailable,
    Unknown,
)


async def _create(fake: FakeProcessor, customer: str = "cus_a", amount: int = 1234) -> str:
    answer = await fake.create_payment(
        customer=customer, amount=amount, currency="EUR", reference="co-1", idempotency_key="k1"
    )
    assert isinstance(answer, Accepted)
    return answer.payment


async def test_a_payment_is_created_then_captured_once() -> None:
    fake = FakeProcessor()

    created = await fake.create_payment(
        customer="cus_a", amount=1234, currency="EUR", reference="co-1", idempotency_key="k1"
    )

    assert created == Accepted("pi_fake_000001", PaymentState.CREATED, 1234)
    assert fake.captured_total() == 0
    assert fake.payments["pi_fake_000001"].reference == "co-1"
    assert fake.payments["pi_fake_000001"].currency == "eur"

    confirmed = await fake.confirm_payment("pi_fake_000001", idempotency_key="k2")
    again = await fake.confirm_payment("pi_fake_000001", idempotency_key="k3")

    assert confirmed == Accepted("pi_fake_000001", PaymentState.CAPTURED, 1234, "visa", "4242")
    assert again == Unknown("payment_intent_unexpected_state", "pi_fake_000001")
    assert fake.captured_total() == 1234
    assert await fake.retrieve("pi_fake_000001") == confirmed
    assert fake.keys == ["k1", "k2", "k3"]


async def test_ids_are_deterministic() -> None:
    first, second = FakeProcessor(), FakeProcessor()
    for fake in (first, second):
        await _create(fake)
        await _create(fake, "cus_b")

    assert list(first.payments) == list(second.payments) == ["pi_fake_000001", "pi_fake_000002"]


async def test_a_declined_customer_is_declined_until_accepted_again() -> None:
    fake = FakeProcessor()
    fake.decline("cus_a", "insufficient_funds")
    payment = await _create(fake)

    answer = await fake.confirm_payment(payment, idempotency_key="k2")

    assert answer == Declined("insufficient_funds", payment)
    assert await fake.retrieve(payment) == Accepted(payment, PaymentState.FAILED, 0)
    assert fake.captured_total() == 0
    fake.accept("cus_a")
    settled = await _create(fake)
    assert isinstance(await fake.confirm_payment(settled, idempotency_key="k3"), Accepted)
    assert fake.captured_total() == 1234


async def test_a_saved_card_is_what_the_receipt_shows() -> None:
    fake = FakeProcessor()
    fake.save_card("cus_a", brand="mastercard", last4="4444")
    payment = await _create(fake)

    answer = await fake.confirm_payment(payment, idempotency_key="k2")

    assert answer == Accepted(payment, PaymentState.CAPTURED, 1234, "mastercard", "4444")


async def test_a_processor_that_is_down_changes_nothing() -> None:
    fake = FakeProcessor()
    payment = await _create(fake)
    hold = fake.authorise_hold(500, "eur")
    fake.down = True

    answers = [
        await fake.create_payment(
            customer="cus_a", amount=1, currency="eur", reference="r", idempotency_key="x"
        ),
        await fake.confirm_payment(payment, idempotency_key="x"),
        await fake.retrieve(payment),
        await fake.capture_hold(hold, amount=500, idempotency_key="x"),
        await fake.cancel_hold(hold, idempotency_key="x"),
        await fake.refund(payment, amount=1, idempotency_key="x"),
        await fake.retrieve_refund("re_fake_000001"),
    ]

    assert answers == [Unavailable("unreachable")] * 7
    assert len(fake.payments) == 2
    assert fake.captured_total() == 0
    fake.down = False
    assert await fake.retrieve(hold) == Accepted(hold, PaymentState.AUTHORISED, 500)


async def test_a_lost_answer_took_effect_and_retrieve_tells() -> None:
    fake = FakeProcessor()
    payment = await _create(fake)
    fake.lose_answers()

    answer = await fake.confirm_payment(payment, idempotency_key="k2")

    assert answer == Unknown("connection lost", payment)
    assert await fake.retrieve(payment) == Accepted(
        payment, PaymentState.CAPTURED, 1234, "visa", "4242"
    )


async def test_a_lost_creation_leaves_an_orphan_nobody_knows() -> None:
    fake = FakeProcessor()
    fake.lose_answers()

    answer = await fake.create_payment(
        customer="cus_a", amount=99, currency="eur", reference="co-9", idempotency_key="k"
    )

    assert answer == Unknown("connection lost")
    [orphan] = fake.payments.values()
    assert orphan.state is PaymentState.CREATED
    assert fake.captured_total() == 0


async def test_a_hold_is_captured_up_to_the_hold() -> None:
    fake = FakeProcessor()
    hold = fake.authorise_hold(5000, "eur", brand="visa", last4="1881")

    too_much = await fake.capture_hold(hold, amount=5001, idempotency_key="c1")
    captured = await fake.capture_hold(hold, amount=3210, idempotency_key="c2")
    twice = await fake.capture_hold(hold, amount=10, idempotency_key="c3")

    assert too_much == Misconfigured("amount_too_large", hold)  # the store asked too much
    assert captured == Accepted(hold, PaymentState.CAPTURED, 3210, "visa", "1881")
    assert twice == Unknown("payment_intent_unexpected_state", hold)
    assert fake.captured_total() == 3210


async def test_a_hold_is_released() -> None:
    fake = FakeProcessor()
    hold = fake.authorise_hold(5000, "eur")

    released = await fake.cancel_hold(hold, idempotency_key="x1")
    again = await fake.cancel_hold(hold, idempotency_key="x2")

    assert released == Accepted(hold, PaymentState.CANCELLED, 0)
    assert again == Unknown("payment_intent_unexpected_state", hold)
    assert await fake.capture_hold(hold, amount=1, idempotency_key="x3") == again
    assert fake.captured_total() == 0


async def test_refunds_up_to_what_was_captured() -> None:
    fake = FakeProcessor()
    payment = await _create(fake, amount=2000)
    not_yet = await fake.refund(payment, amount=100, idempotency_key="r0")
    await fake.confirm_payment(payment, idempotency_key="k2")

    first = await fake.refund(payment, amount=1500, idempotency_key="r1")
    too_much = await fake.refund(payment, amount=501, idempotency_key="r2")
    fake.lose_answers()
    lost = await fake.refund(payment, amount=500, idempotency_key="r3")

    assert not_yet == Unknown("payment_intent_unexpected_state", payment)
    assert first == RefundDone("re_fake_000001", 1500)
    assert too_much == Misconfigured("amount_too_large", payment)
    assert lost == Unknown("connection lost", payment)
    assert fake.refunds == {"re_fake_000001": (payment, 1500), "re_fake_000002": (payment, 500)}
    assert fake.captured_total() == 0


async def test_an_unknown_payment() -> None:
    fake = FakeProcessor()
    payment = "pi_unknown"

    missing = Misconfigured("resource_missing", payment)
    assert await fake.retrieve(payment) == missing
    assert await fake.confirm_payment(payment, idempotency_key="k") == missing
    assert await fake.capture_hold(payment, amount=1, idempotency_key="k") == missing
    assert await fake.cancel_hold(payment, idempotency_key="k") == missing
    assert await fake.refund(payment, amount=1, idempotency_key="k") == missing
    assert await fake.retrieve_refund("re_unknown") == Misconfigured("resource_missing")
    await fake.close()
    assert fake.calls == 6


# --- the store's mistakes are not the shopper's decline -----------------------------------


def test_misconfigured_is_a_kind_of_unavailable_but_not_the_same_answer() -> None:
    answer = Misconfigured("api_key_invalid", "pi_1")

    assert answer.code == "api_key_invalid"
    assert isinstance(answer, Unavailable)  # a caller that knows only Unavailable stays safe
    assert not isinstance(answer, Declined)
    assert answer != Unavailable("api_key_invalid")


async def test_a_misconfigured_processor_blames_nobody_and_changes_nothing() -> None:
    fake = FakeProcessor()
    payment = await _create(fake)
    hold = fake.authorise_hold(500, "eur")
    fake.misconfigured = "api_key_invalid"

    answers = [
        await fake.create_payment(
            customer="cus_a", amount=1, currency="eur", reference="r", idempotency_key="x"
        ),
        await fake.confirm_payment(payment, idempotency_key="x"),
        await fake.retrieve(payment),
        await fake.capture_hold(hold, amount=500, idempotency_key="x"),
        await fake.cancel_hold(hold, idempotency_key="x"),
        await fake.refund(payment, amount=1, idempotency_key="x"),
        await fake.retrieve_refund("re_fake_000001"),
    ]

    assert answers == [Misconfigured("api_key_invalid")] * 7
    assert len(fake.payments) == 2
    assert fake.captured_total() == 0
    fake.misconfigured = None
    assert await fake.retrieve(payment) == Accepted(payment, PaymentState.CREATED, 1234)
    assert await fake.retrieve(hold) == Accepted(hold, PaymentState.AUTHORISED, 500)


async def test_an_amount_of_nothing_is_the_stores_mistake() -> None:
    fake = FakeProcessor()

    answer = await fake.create_payment(
        customer="cus_a", amount=0, currency="eur", reference="r", idempotency_key="k"
    )

    assert answer == Misconfigured("amount_too_small")
    assert fake.payments == {}
    payment = await _create(fake)
    await fake.confirm_payment(payment, idempotency_key="k2")
    hold = fake.authorise_hold(500, "eur")
    assert await fake.refund(payment, amount=0, idempotency_key="r") == Misconfigured(
        "amount_too_small", payment
    )
    assert await fake.capture_hold(hold, amount=-1, idempotency_key="c") == Misconfigured(
        "amount_too_small", hold
    )
    assert fake.captured_total() == 1234


async def test_a_customer_without_a_saved_card_is_declined_until_one_is_saved() -> None:
    fake = FakeProcessor()
    fake.remove_card("cus_a")

    answer = await fake.create_payment(
        customer="cus_a", amount=500, currency="eur", reference="r", idempotency_key="k"
    )

    assert answer == Declined("no_payment_method")
    assert fake.payments == {}
    fake.save_card("cus_a", brand="amex", last4="0005")
    assert isinstance(await fake.retrieve(await _create(fake)), Accepted)


# --- refunds end as the processor says ---------------------------------------------------


async def _captured(fake: FakeProcessor, amount: int = 2000) -> str:
    payment = await _create(fake, amount=amount)
    await fake.confirm_payment(payment, idempotency_key="k2")
    return payment


async def test_a_pending_refund_is_unknown_until_it_succeeds() -> None:
    fake = FakeProcessor()
    payment = await _captured(fake)
    fake.refunds_end("pending")

    answer = await fake.refund(payment, amount=700, idempotency_key="r1")

    pending = Unknown("refund pending", payment, "re_fake_000001")
    assert answer == pending
    assert await fake.retrieve_refund("re_fake_000001") == pending
    fake.settle_refund("re_fake_000001")
    assert await fake.retrieve_refund("re_fake_000001") == RefundDone("re_fake_000001", 700)
    assert fake.captured_total() == 1300


async def test_a_refund_waiting_for_an_action_is_unknown() -> None:
    fake = FakeProcessor()
    payment = await _captured(fake)
    fake.refunds_end("requires_action")

    answer = await fake.refund(payment, amount=700, idempotency_key="r1")

    assert answer == Unknown("refund requires_action", payment, "re_fake_000001")


async def test_a_refund_that_fails_is_declined_and_the_money_stays_captured() -> None:
    fake = FakeProcessor()
    payment = await _captured(fake)
    fake.refunds_end("failed", "expired_or_canceled_card")

    answer = await fake.refund(payment, amount=700, idempotency_key="r1")

    assert answer == Declined("expired_or_canceled_card", payment)
    assert await fake.retrieve_refund("re_fake_000001") == answer
    assert fake.captured_total() == 2000
    fake.refunds_end()
    assert await fake.refund(payment, amount=2000, idempotency_key="r2") == RefundDone(
        "re_fake_000002", 2000
    )


async def test_a_pending_refund_that_is_cancelled_gives_the_money_back_to_the_store() -> None:
    fake = FakeProcessor()
    payment = await _captured(fake)
    fake.refunds_end("pending")
    await fake.refund(payment, amount=700, idempotency_key="r1")
    assert fake.captured_total() == 1300

    fake.settle_refund("re_fake_000001", "canceled")

    assert await fake.retrieve_refund("re_fake_000001") == Declined("canceled", payment)
    assert fake.captured_total() == 2000
    fake.settle_refund("re_fake_000001", "failed")  # ended already: counted once
    assert fake.captured_total() == 2000


def test_a_refund_status_the_processor_does_not_have_is_refused() -> None:
    with pytest.raises(ValueError, match="not a refund status"):
        FakeProcessor().refunds_end("done")
