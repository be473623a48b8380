"""A card shopper's amount below the processor's minimum: written off, its hold released once.

The capture is refused as ``amount_too_small``: nothing is owed, and the hold on the
shopper's card is cancelled (not left until it expires), with the state machine's usual
durability: the release is a step of its own (stored before it is asked), a lost answer or a
crash looks first, a hold found cancelled already is not cancelled again (`core/checkout.py`,
no I/O).
"""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from store_bridge.core import checkout as machine
from store_bridge.core import checkout_news
from store_bridge.core.checkout import MAX_LOOKS, Kind, Phase
from store_bridge.payments import (
    Accepted,
    Declined,
    Misconfigured,
    PaymentState,
    Unavailable,
    Unknown,
)

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
HOLD = "pi_hold7"
TOO_SMALL = Misconfigured("amount_too_small", HOLD)
RELEASE = machine.Cancel(HOLD, "co-trip-s:cancel")


def _refused_capture() -> tuple[machine.Checkout, machine.Checkout]:
    """A 20-cent cart whose capture the processor refused: before and after that answer."""
    card = machine.start(
        visit="trip-s", kind=Kind.CARD, account=HOLD, customer=None, total=20, currency="EUR"
    )
    held = machine.advance(card, Accepted(HOLD, PaymentState.AUTHORISED, amount=5000), T0)
    assert machine.call(held) == machine.Capture(HOLD, 20, "co-trip-s:capture")
    return held, machine.advance(held, TOO_SMALL, T0)


def _types(news: list[checkout_news.News]) -> list[tuple[str, str | None]]:
    return [(item.type, item.reason) for item in news]


def test_a_refused_capture_releases_the_hold_then_writes_the_amount_off() -> None:
    held, releasing = _refused_capture()
    assert (releasing.phase, releasing.outstanding, releasing.captured) == (Phase.CREATED, 0, 0)
    assert machine.next_step(releasing, T0) == RELEASE  # at once, no backoff
    assert checkout_news.news(held, releasing) == []  # nothing told before the release

    released = machine.advance(releasing, Accepted(HOLD, PaymentState.CANCELLED, 5000), T0)

    assert (released.phase, released.reason, released.outstanding) == (
        Phase.FAILED,
        "amount_too_small",
        0,
    )
    assert machine.next_step(released, T0) == machine.Finished()
    assert machine.resumed(released) == released  # a restart asks nothing more
    assert _types(checkout_news.news(releasing, released)) == [
        ("hold_released", None),
        ("payment_failed", "amount_too_small"),
    ]
    assert checkout_news.counts([released]) == {"pending": 0, "retrying": 0, "failed": 1}


def test_a_crash_before_the_release_answered_looks_and_releases_once() -> None:
    _, releasing = _refused_capture()
    looked = machine.resumed(releasing)  # the stored state after a restart
    assert machine.call(looked) == machine.Retrieve(HOLD)

    still_held = machine.advance(looked, Accepted(HOLD, PaymentState.AUTHORISED, 5000), T0)
    assert machine.call(still_held) == RELEASE  # the release never reached the processor

    gone = machine.advance(looked, Accepted(HOLD, PaymentState.CANCELLED, 5000), T0)
    assert (gone.phase, gone.reason, machine.call(gone)) == (Phase.FAILED, "amount_too_small", None)


def test_a_lost_or_refused_release_is_looked_at_after_a_backoff_never_owed() -> None:
    _, releasing = _refused_capture()
    for answer in (Unknown("timeout", HOLD), Declined("card_declined", HOLD)):
        later = machine.advance(releasing, answer, T0)
        step = machine.next_step(later, T0)
        assert isinstance(step, machine.Wait)
        assert machine.next_step(later, step.until) == machine.Retrieve(HOLD)
        assert (later.phase, later.outstanding) == (Phase.CREATED, 0)
    down = machine.advance(releasing, Unavailable("down"), T0)
    step = machine.next_step(down, T0)
    assert isinstance(step, machine.Wait)
    assert machine.next_step(down, step.until) == RELEASE  # nothing happened: the same step


def test_a_hold_the_terminal_captured_meanwhile_is_the_charge() -> None:
    _, releasing = _refused_capture()
    looked = machine.resumed(releasing)
    done = machine.advance(looked, Accepted(HOLD, PaymentState.CAPTURED, 20), T0)
    assert (done.phase, done.captured, done.outstanding, done.reason) == (Phase.DONE, 20, 0, None)
    assert _types(checkout_news.news(looked, done)) == [("payment_captured", None)]


def test_a_release_the_store_is_misconfigured_for_is_blocked_and_tried_again() -> None:
    _, releasing = _refused_capture()
    blocked = machine.advance(releasing, Misconfigured("api_key_invalid", HOLD), T0)
    assert (blocked.phase, blocked.outstanding) == (Phase.BLOCKED, 0)
    assert _types(checkout_news.news(releasing, blocked)) == [
        ("payment_failed", "store_misconfigured")  # the operator's alert: the setup
    ]
    assert checkout_news.counts([blocked])["failed"] == 1
    assert machine.retryable(blocked)
    again = machine.unblocked(blocked)
    assert machine.call(again) == machine.Retrieve(HOLD)
    held = machine.advance(again, Accepted(HOLD, PaymentState.AUTHORISED, 5000), T0)
    assert machine.call(held) == RELEASE  # still written off: released, not captured
    released = machine.advance(held, Accepted(HOLD, PaymentState.CANCELLED, 5000), T0)
    assert (released.phase, released.reason, released.outstanding) == (
        Phase.FAILED,
        "amount_too_small",
        0,
    )


@pytest.mark.parametrize("again", [machine.unblocked, machine.resumed])
def test_a_written_off_hold_cancelled_while_its_release_was_blocked_is_never_owed(
    again: Callable[[machine.Checkout], machine.Checkout],
) -> None:
    _, releasing = _refused_capture()
    blocked = machine.advance(releasing, Misconfigured("api_key_invalid", HOLD), T0)
    looked = again(blocked)  # the key fixed; meanwhile the hold expired or was released
    assert machine.call(looked) == machine.Retrieve(HOLD)

    gone = machine.advance(looked, Accepted(HOLD, PaymentState.CANCELLED, 0), T0)

    assert (gone.phase, gone.reason, gone.outstanding) == (Phase.FAILED, "amount_too_small", 0)
    assert _types(checkout_news.news(looked, gone)) == [
        ("hold_released", None),
        ("payment_failed", "amount_too_small"),
    ]


def test_a_written_off_hold_stuck_while_released_stays_written_off() -> None:
    _, releasing = _refused_capture()
    checkout = machine.resumed(releasing)
    for _ in range(MAX_LOOKS):  # the hold reported processing, look after look
        checkout = machine.advance(checkout, Accepted(HOLD, PaymentState.PROCESSING, 5000), T0)
    assert checkout.phase is Phase.BLOCKED
    looked = machine.unblocked(checkout)
    gone = machine.advance(looked, Accepted(HOLD, PaymentState.CANCELLED, 0), T0)
    assert (gone.phase, gone.reason, gone.outstanding) == (Phase.FAILED, "amount_too_small", 0)


def test_only_a_capture_refused_as_too_small_releases_the_hold() -> None:
    _, releasing = _refused_capture()
    odd = machine.advance(releasing, Misconfigured("amount_too_small", HOLD), T0)  # to a release
    assert (odd.phase, odd.outstanding) == (Phase.BLOCKED, 0)
    assert _types(checkout_news.news(releasing, odd)) == [("payment_failed", "store_misconfigured")]


def test_a_hold_released_by_someone_else_before_its_capture_is_owed() -> None:
    held, _ = _refused_capture()
    looked = machine.resumed(held)
    gone = machine.advance(looked, Accepted(HOLD, PaymentState.CANCELLED, 5000), T0)
    assert (gone.phase, gone.reason, gone.outstanding) == (Phase.FAILED, "cancelled", 20)
    assert _types(checkout_news.news(looked, gone)) == [("payment_failed", "cancelled")]
