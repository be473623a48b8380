"""The checkout's outcomes for answers that cannot move it on (`core/checkout.py`, no I/O).

A card hold the terminal already captured is never this checkout's charge; a payment stuck
in a state it cannot leave is blocked after `MAX_LOOKS` looks; a block alerts the operator
once, restarts included; `amount_too_small` is written off; a cart of several currencies is
never summed.
"""

from datetime import UTC, datetime

import pytest

from store_bridge.core import checkout as machine
from store_bridge.core import checkout_news
from store_bridge.core.checkout import MAX_LOOKS, Kind, Phase
from store_bridge.payments import Accepted, Misconfigured, PaymentState, Unavailable

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _card(total: int = 300) -> machine.Checkout:
    return machine.start(
        visit="trip-c", kind=Kind.CARD, account="pi_hold1", customer=None, total=total,
        currency="EUR",
    )  # fmt: skip


def _app(total: int = 300) -> machine.Checkout:
    return machine.start(
        visit="trip-a", kind=Kind.APP, account="a", customer="cus_1", total=total, currency="EUR"
    )


@pytest.mark.parametrize(
    "state", [PaymentState.CAPTURED, PaymentState.CANCELLED, PaymentState.CREATED]
)
def test_a_card_payment_that_is_not_a_capturable_hold_is_never_taken_as_the_charge(
    state: PaymentState,
) -> None:
    card = _card()
    assert machine.call(card) == machine.Retrieve("pi_hold1")
    seen = machine.advance(card, Accepted("pi_hold1", state, amount=300), T0)
    assert (seen.phase, seen.reason, seen.captured, seen.outstanding) == (
        Phase.BLOCKED,
        "hold_not_capturable",
        0,
        0,
    )
    (news,) = checkout_news.news(card, seen)
    assert (news.type, news.reason) == ("payment_failed", "hold_not_capturable")
    assert machine.resumed(seen) == seen  # looking again cannot make it capturable
    assert not machine.retryable(seen)


def test_an_authorised_hold_is_captured_and_a_later_look_finds_it_captured() -> None:
    card = _card()
    held = machine.advance(card, Accepted("pi_hold1", PaymentState.AUTHORISED, amount=500), T0)
    assert machine.call(held) == machine.Capture("pi_hold1", 300, "co-trip-c:capture")
    looked = machine.resumed(held)  # a crash after the capture: the look finds it captured
    done = machine.advance(looked, Accepted("pi_hold1", PaymentState.CAPTURED, amount=300), T0)
    assert (done.phase, done.captured) == (Phase.DONE, 300)


def test_a_payment_stuck_in_a_state_it_cannot_leave_is_blocked_after_the_looks() -> None:
    created = machine.advance(_app(), Accepted("pi_1", PaymentState.CREATED), T0)
    checkout = machine.resumed(created)
    for _ in range(MAX_LOOKS - 1):  # an app payment reported authorised: nothing moves it
        checkout = machine.advance(checkout, Accepted("pi_1", PaymentState.AUTHORISED), T0)
        assert checkout.phase is Phase.CREATED
        assert isinstance(machine.call(checkout), machine.Retrieve)
    blocked = machine.advance(checkout, Accepted("pi_1", PaymentState.AUTHORISED), T0)
    assert (blocked.phase, blocked.reason, blocked.payment) == (
        Phase.BLOCKED,
        "payment_stuck",
        "pi_1",
    )
    assert machine.next_step(blocked, T0) == machine.Finished()
    again = machine.unblocked(blocked)  # a retry looks again
    assert (again.phase, again.looks, machine.call(again)) == (
        Phase.CREATED,
        0,
        machine.Retrieve("pi_1"),
    )


def test_a_look_that_moves_on_starts_the_count_again() -> None:
    checkout = machine.resumed(machine.advance(_app(), Accepted("pi_1", PaymentState.CREATED), T0))
    for _ in range(MAX_LOOKS - 1):
        checkout = machine.advance(checkout, Accepted("pi_1", PaymentState.PROCESSING), T0)
    going = machine.advance(checkout, Unavailable("down"), T0)  # not a look's answer
    assert going.phase is Phase.CREATED
    going = machine.advance(going, Accepted("pi_1", PaymentState.CREATED), T0)
    assert (going.looks, machine.call(going)) == (
        0,
        machine.Confirm("pi_1", "co-trip-a:confirm", "co-trip-a", "cus_1", checkin_method=True),
    )


def test_a_creation_answered_processing_keeps_its_payment() -> None:
    seen = machine.advance(_app(), Accepted("pi_9", PaymentState.PROCESSING), T0)
    assert (seen.phase, seen.payment, machine.call(seen)) == (
        Phase.CREATED,
        "pi_9",
        machine.Retrieve("pi_9"),
    )


def test_a_block_alerts_the_operator_once_restarts_included() -> None:
    checkout = _app()
    blocked = machine.advance(checkout, Misconfigured("api_key_invalid"), T0)
    assert [n.reason for n in checkout_news.news(checkout, blocked)] == ["store_misconfigured"]
    resumed = machine.resumed(blocked)  # a restart: tried again, still wrong
    assert resumed.phase is Phase.FINAL
    again = machine.advance(resumed, Misconfigured("api_key_invalid"), T0)
    assert again.phase is Phase.BLOCKED
    assert checkout_news.news(resumed, again) == []


def test_an_amount_below_the_processors_minimum_is_written_off_not_retried() -> None:
    checkout = _app(total=20)
    written_off = machine.advance(checkout, Misconfigured("amount_too_small"), T0)
    assert (written_off.phase, written_off.reason, written_off.outstanding) == (
        Phase.FAILED,
        "amount_too_small",
        0,
    )
    assert machine.resumed(written_off) == written_off
    (news,) = checkout_news.news(checkout, written_off)
    assert (news.type, news.reason, news.data) == (
        "payment_failed",
        "amount_too_small",
        {"amount": 20, "currency": "EUR"},
    )


@pytest.mark.parametrize("kind", [Kind.APP, Kind.CARD])
def test_a_cart_of_several_currencies_is_blocked_for_the_operator(kind: Kind) -> None:
    checkout = machine.start(
        visit="trip-m", kind=kind, account="pi_h", customer="cus_1", total=0, currency="EUR",
        mixed=True,
    )  # fmt: skip
    assert (checkout.phase, checkout.reason, checkout.outstanding) == (
        Phase.BLOCKED,
        "mixed_currencies",
        0,
    )
    assert machine.next_step(checkout, T0) == machine.Finished()
    assert machine.resumed(checkout) == checkout
    news = checkout_news.started(checkout)
    assert [(n.type, n.reason) for n in news] == [
        ("checkout_started", None),
        ("payment_failed", "mixed_currencies"),
    ]
