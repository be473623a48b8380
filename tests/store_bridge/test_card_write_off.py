"""A card shopper whose cart is below the processor's minimum charge, in a running bridge.

The capture is refused (``amount_too_small``): the amount is written off, nothing is owed,
and the hold on the shopper's card is released once (not left until it expires), stored
before it is asked for, so a lost answer or a restart neither forgets nor repeats it. The
processor is the bridge's embedded fake, refusing captures below a minimum as Stripe does
(localstripe accepts any capture from 0 to the hold, so it cannot be asked for this).
"""

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import Answer, Misconfigured, PaymentState, Unavailable

from ..waiting import until
from .cart_shop import Shop, start_shop, stop_shop
from .charging_shop import attach, leave_by_the_gate, stocked_shop, take_cans, walk_in
from .conftest import Operator

PAYMENTS = frozenset({"checkout_started", "payment_captured", "payment_failed", "hold_released"})


@dataclass
class _MinimumCharge(FakeProcessor):
    """Refuses a capture below `minimum` as Stripe does; counts the releases asked for."""

    minimum: int = 500
    releases: int = 0
    down_after_refusal: bool = False

    async def capture_hold(self, payment: str, *, amount: int, idempotency_key: str) -> Answer:
        if amount < self.minimum:
            self.down = self.down_after_refusal
            return Misconfigured("amount_too_small", payment)
        return await super().capture_hold(payment, amount=amount, idempotency_key=idempotency_key)

    async def cancel_hold(self, payment: str, *, idempotency_key: str) -> Answer:
        answer = await super().cancel_hold(payment, idempotency_key=idempotency_key)
        if not isinstance(answer, Unavailable):
            self.releases += 1
        return answer


@pytest.fixture
async def shop(tmp_path: Path, operator: Operator, socket_enabled: None) -> AsyncIterator[Shop]:
    async with stocked_shop(tmp_path / "bridge.sqlite3", operator, chips=False) as store:
        yield store


async def _tap_take_a_can_and_leave(store: Shop, hold: str) -> str:
    visit = await walk_in(store, "frigate-c", card=hold)
    take_cans(store, "frigate-c", 1)
    await leave_by_the_gate(store, "frigate-c", visit)
    store.clock.advance(6)  # the settle time for late shelf messages
    return visit


def _payment_events(store: Shop) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [(e["type"], e["reason"], e["data"]) for e in store.outbox() if e["type"] in PAYMENTS]


def _stored(path: Path) -> tuple[str, str | None, int] | None:
    """The checkout's phase, reason and what it leaves owed, as stored (None: no checkout)."""
    with closing(sqlite3.connect(path)) as db:
        row = db.execute("SELECT phase, reason, outstanding FROM checkouts").fetchone()
    return None if row is None else (str(row[0]), row[1], int(row[2]))


async def _written_off(store: Shop) -> list[tuple[str, str | None, dict[str, Any]]]:
    return await until(
        "the checkout is over",
        lambda: _payment_events(store),
        want=lambda events: "payment_failed" in [kind for kind, _, _ in events],
    )


async def test_a_cart_below_the_minimum_is_written_off_and_the_hold_released_once(
    shop: Shop,
) -> None:
    processor = _MinimumCharge()
    hold = processor.authorise_hold(5000, "eur")
    processor.lose_answers(1)  # the release takes effect, its answer is lost: looked at
    await attach(shop, processor, status=False)

    await _tap_take_a_can_and_leave(shop, hold)
    assert shop.bridge.checkout is not None
    shop.bridge.checkout.wake()
    events = await _written_off(shop)

    assert events == [
        ("checkout_started", None, {"amount": 129, "currency": "EUR", "items": 1}),
        ("hold_released", None, {"currency": "EUR"}),
        ("payment_failed", "amount_too_small", {"amount": 129, "currency": "EUR"}),
    ]
    assert processor.payments[hold].state is PaymentState.CANCELLED
    assert (processor.releases, processor.captured_total()) == (1, 0)
    assert _stored(shop.path) == ("failed", "amount_too_small", 0)  # nothing owed
    status, answer = await shop.post("/v1/gates/entry_1/check-in", {"card_token": hold})
    assert (status, answer["reason"]) == (403, "replayed")  # the hold paid for one visit


async def test_a_release_stored_before_a_restart_is_asked_for_once_after_it(
    operator: Operator, shop: Shop
) -> None:
    processor = _MinimumCharge(down_after_refusal=True)  # unreachable once it refused
    hold = processor.authorise_hold(5000, "eur")
    await attach(shop, processor, status=False)
    await _tap_take_a_can_and_leave(shop, hold)
    assert shop.bridge.checkout is not None
    shop.bridge.checkout.wake()
    stored = await until(
        "the release is stored before it is asked for",
        lambda: _stored(shop.path),
        want=lambda row: row is not None and row[1] == "amount_too_small",
    )
    await stop_shop(shop)
    assert stored == ("created", "amount_too_small", 0)
    assert processor.payments[hold].state is PaymentState.AUTHORISED

    processor.down = False
    again = await start_shop(shop.path, operator, shop.clock)
    try:
        await attach(again, processor, status=False)
        events = await _written_off(again)
        assert [kind for kind, _, _ in events] == [
            "checkout_started",
            "hold_released",
            "payment_failed",
        ]
        assert (processor.payments[hold].state, processor.releases) == (PaymentState.CANCELLED, 1)
        assert _stored(shop.path) == ("failed", "amount_too_small", 0)
    finally:
        await stop_shop(again)
