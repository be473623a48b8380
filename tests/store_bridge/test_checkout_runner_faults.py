"""The checkout runner under faults: concurrent retries, two runners, surprises, clock jumps.

A real bridge with a real SQLite file and API (`cart_shop.py`) and the embedded processor
(`fake_processor.py`); what a shopper or operator would notice: how often a card is charged,
whether a checkout ends, what the operator is told.
"""

import asyncio
import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from store_bridge import checkout_store, store_schema
from store_bridge.checkout_runner import CheckoutRunner, CheckoutSettings
from store_bridge.core.checkout import Kind, Phase, RetryPolicy
from store_bridge.core.checkout import start as start_checkout
from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import Answer, PaymentState

from ..waiting import until
from .cart_shop import COLA_TOPIC, Clock, Shop, start_shop, stop_shop
from .charging_fixtures import premises, shop_without_chips
from .charging_shop import (
    CUSTOMER,
    UNIT,
    Premises,
    attach,
    payment_events,
    settle_time,
    shop_and_leave,
    sql,
)
from .conftest import Operator

__all__ = ["premises", "shop_without_chips"]


def _captured(processor: FakeProcessor) -> list[int]:
    return [p.captured for p in processor.payments.values() if p.state is PaymentState.CAPTURED]


async def _blocked(store: Shop, processor: FakeProcessor) -> str:
    """A shopper's checkout blocked by the store's own mistake (a refused key): the visit."""
    processor.misconfigured = "api_key_invalid"
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    settle_time(store)
    await until(
        "the checkout is blocked for the operator",
        lambda: sql(store.path, "SELECT phase FROM checkouts WHERE visit = ?", visit),
        want=lambda rows: rows == [("blocked",)],
    )
    return visit


async def test_two_retries_at_once_charge_the_shopper_once(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    visit = await _blocked(store, processor)
    processor.misconfigured = None  # the operator fixed the key

    path = f"/v1/visits/{visit}/checkout/retry"
    answers = await asyncio.gather(store.post(path, {}), store.post(path, {}))

    assert sorted(status for status, _ in answers) == [200, 409]
    refused = next(body for status, body in answers if status == 409)
    assert refused["error"] == "not_blocked"  # the other one is under way
    await until("the cart is charged", lambda: _captured(processor), want=lambda c: c == [129])
    runner = store.bridge.checkout
    assert runner is not None
    await runner.settled()
    assert _captured(processor) == [129]
    assert len(processor.payments) == 1
    found = await runner.find(visit)
    assert found is not None
    assert found.phase is Phase.DONE


async def test_two_runners_on_one_database_store_one_payment_and_charge_once(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    visit = await _blocked(store, processor)
    first = store.bridge.checkout
    assert first is not None
    await first.stop()
    processor.misconfigured = None

    def runner() -> CheckoutRunner:
        return CheckoutRunner(
            store.bridge.ledger,
            processor,
            CheckoutSettings(settle_s=5, review_deadline_s=60, poll_s=0.05),
            policy=RetryPolicy(base_s=0.05, cap_s=0.2),
        )

    second, third = runner(), runner()  # both resume the blocked checkout at once
    await asyncio.gather(second.start(), third.start())
    try:
        await until("the cart is charged", lambda: _captured(processor), want=lambda c: c == [129])
        await second.settled()
        await third.settled()
    finally:
        await second.stop()
        await third.stop()
    assert _captured(processor) == [129]
    assert [p.state for p in processor.payments.values()].count(PaymentState.CAPTURED) == 1
    stored = sql(store.path, "SELECT phase, payment FROM checkouts WHERE visit = ?", visit)
    (phase, payment), *_ = stored
    assert phase == "done"
    assert processor.payments[payment].state is PaymentState.CAPTURED


def test_a_created_payment_is_stored_only_if_none_is(tmp_path: Path) -> None:
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    checkout = start_checkout(
        visit="trip-1", kind=Kind.APP, account="a", customer="cus_1", total=5, currency="EUR"
    )
    with closing(store_schema.connect(tmp_path / "b.sqlite3")) as db:
        assert checkout_store.start(db, checkout, now)
        mine = checkout.__class__(**{**_fields(checkout), "payment": "pi_1"})
        theirs = checkout.__class__(**{**_fields(checkout), "payment": "pi_2"})
        assert checkout_store.save_created(db, mine, now)
        assert not checkout_store.save_created(db, theirs, now)
        found = checkout_store.find(db, "trip-1")
        assert found is not None
        assert found.payment == "pi_1"


def _fields(checkout: Any) -> dict[str, Any]:
    return {name: getattr(checkout, name) for name in checkout.__dataclass_fields__}


class _Surprising(FakeProcessor):
    """Confirms, then raises what no adapter should (once): the answer is lost to a bug."""

    surprises: int = 1

    async def confirm_payment(self, payment: str, *, idempotency_key: str) -> Answer:
        answer = await super().confirm_payment(payment, idempotency_key=idempotency_key)
        if self.surprises:
            self.surprises -= 1
            message = f"unexpected: {payment}"  # a reference the log must not show
            raise RuntimeError(message)
        return answer


async def test_an_unexpected_exception_is_looked_at_and_the_checkout_ends_once(
    tmp_path: Path, operator: Operator, socket_enabled: None, caplog: pytest.LogCaptureFixture
) -> None:
    store = await start_shop(tmp_path / "bridge.sqlite3", operator, Clock())
    processor = _Surprising()
    try:
        runner = await attach(store, processor)
        store.shelf.stock(COLA_TOPIC, 10, UNIT)
        store.shelf.walk(2)
        visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
        with caplog.at_level(logging.INFO):
            settle_time(store)
            events = await until(
                "the checkout ends", lambda: payment_events(store), want=lambda e: len(e) == 2
            )
        assert events[1] == ("payment_captured", visit, None, {"amount": 129, "currency": "EUR"})
        assert _captured(processor) == [129]
        found = await runner.find(visit)
        assert found is not None
        assert found.phase is Phase.DONE
        assert "RuntimeError" in caplog.text
        (payment,) = processor.payments
        assert payment not in caplog.text
        assert CUSTOMER not in caplog.text
    finally:
        await stop_shop(store)


async def test_a_wall_clock_set_back_does_not_stall_a_retry(premises: Premises) -> None:
    store, processor = await premises.open(FakeProcessor(down=True))
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    settle_time(store)
    await until("the processor is asked", lambda: processor.calls, want=lambda c: c >= 1)
    ahead = premises.clock.advance(7200)  # the machine's clock ran two hours ahead
    await until(
        "a retry is scheduled by the clock that ran ahead",
        lambda: sql(premises.path, "SELECT retry_at FROM checkouts WHERE visit = ?", visit),
        want=lambda rows: rows[0][0] is not None and rows[0][0] > ahead.timestamp(),
    )
    await stop_shop(store)
    premises.clock.advance(-7200)  # set right
    processor.down = False
    async with premises.reopened(processor):
        await until("the cart is charged", lambda: _captured(processor), want=lambda c: c == [129])


async def test_a_restart_does_not_alert_a_block_again(premises: Premises) -> None:
    store, processor = await premises.open(FakeProcessor())
    visit = await _blocked(store, processor)
    await stop_shop(store)
    asked = processor.calls
    # still misconfigured: blocked again
    async with premises.reopened(processor) as (again, runner):
        await until(
            "the processor is asked again", lambda: processor.calls, want=lambda c: c > asked
        )
        await runner.settled()
        found = await runner.find(visit)
        assert found is not None
        assert found.phase is Phase.BLOCKED
        alerts = [e for e in payment_events(again) if e[0] == "payment_failed"]
        assert alerts == [
            ("payment_failed", visit, "store_misconfigured", {"amount": 129, "currency": "EUR"})
        ]


async def test_the_lines_charged_are_kept_whatever_the_cart_becomes(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    visit = await shop_and_leave(store, "frigate-a", 2, cus=CUSTOMER)
    settle_time(store)
    await until("the cart is charged", lambda: _captured(processor), want=lambda c: c == [258])
    with closing(sqlite3.connect(store.path)) as db:
        db.execute("UPDATE carts SET lines = '[]' WHERE visit = ?", (visit,))
        db.commit()
        db.row_factory = sqlite3.Row
        lines = checkout_store.charged_lines(db, visit)
        assert checkout_store.charged_lines(db, "nobody") is None
    assert lines is not None
    assert [(line.quantity, line.amount, line.currency) for line in lines] == [(2, 258, "EUR")]


async def test_an_empty_cart_is_recorded_in_the_stores_currency(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    store = await start_shop(tmp_path / "bridge.sqlite3", operator, Clock())
    processor = FakeProcessor()
    runner = CheckoutRunner(
        store.bridge.ledger,
        processor,
        CheckoutSettings(settle_s=5, review_deadline_s=60, poll_s=0.05, currency="CHF"),
    )
    store.bridge.checkout = runner
    await runner.start()
    try:
        store.shelf.stock(COLA_TOPIC, 10, UNIT)
        store.shelf.walk(2)
        visit = await shop_and_leave(store, "frigate-a", 0, cus=CUSTOMER)
        settle_time(store)
        events = await until(
            "the checkout is recorded", lambda: payment_events(store), want=lambda e: e
        )
        assert events == [
            ("checkout_started", visit, None, {"amount": 0, "currency": "CHF", "items": 0})
        ]
        assert processor.calls == 0
    finally:
        await stop_shop(store)


async def test_a_created_payment_that_cannot_be_stored_is_never_confirmed(
    shop: tuple[Shop, FakeProcessor], caplog: pytest.LogCaptureFixture
) -> None:
    store, processor = shop
    with closing(sqlite3.connect(store.path)) as db:  # the database refuses the created state
        db.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE ON checkouts WHEN NEW.payment IS NOT NULL "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        db.commit()
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    with caplog.at_level(logging.WARNING):
        settle_time(store)
        await until("the state is refused", lambda: "be stored" in caplog.text)
    assert processor.payments  # created, not stored: an orphan
    assert _captured(processor) == []
    with closing(sqlite3.connect(store.path)) as db:
        db.execute("DROP TRIGGER refuse")
        db.commit()
    await until("the cart is charged", lambda: _captured(processor), want=lambda c: c == [129])
    runner = store.bridge.checkout
    assert runner is not None
    found = await until(
        "the checkout is done", lambda: runner.find(visit), want=lambda c: c.phase is Phase.DONE
    )
    assert _captured(processor) == [129]
    assert [p.state for p in processor.payments.values() if p.id != found.payment] == [
        PaymentState.CREATED
    ] * (len(processor.payments) - 1)
