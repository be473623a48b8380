"""The checkout in a running bridge: final carts charged once, declines owed, refunds.

The shop (`cart_shop.py`) is a real bridge with a real SQLite file and API, fed by the
test's shelf; the processor is the bridge's own embedded one (`fake_processor.py`).
"""

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

from store_bridge.core.checkout import Phase
from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import Answer, PaymentState

from ..waiting import until
from .cart_shop import Shop, stop_shop
from .charging_fixtures import premises, shop
from .charging_shop import (
    ACCOUNT,
    CUSTOMER,
    Premises,
    checkout_status,
    payment_events,
    payment_failed,
    settle_time,
    shop_and_leave,
)

__all__ = ["premises", "shop"]


async def test_a_shoppers_cart_is_charged_once_to_the_customer_after_the_settle_time(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    visit = await shop_and_leave(store, "frigate-a", 2, cus=CUSTOMER)
    assert processor.payments == {}  # the exit never waits, the cart settles first

    settle_time(store)
    events = await until(
        "the cart is charged",
        lambda: payment_events(store),
        want=lambda e: len(e) == 2,
    )
    assert events == [
        ("checkout_started", visit, None, {"amount": 258, "currency": "EUR", "items": 2}),
        ("payment_captured", visit, None, {"amount": 258, "currency": "EUR"}),
    ]
    (payment,) = processor.payments.values()
    assert (payment.customer, payment.captured, payment.state) == (
        CUSTOMER,
        258,
        PaymentState.CAPTURED,
    )
    status, answer = await store.get(f"/v1/visits/{visit}/checkout")
    assert (status, answer.get("phase"), answer.get("captured")) == (200, "done", 258), answer
    sold = await until(
        "the status counts the sale",
        lambda: checkout_status(store),
        want=lambda c: c["sales_today"]["count"] == 1,
    )
    assert sold == {
        "pending": 0,
        "retrying": 0,
        "failed": 0,
        "outstanding_accounts": 0,
        "sales_today": {"amount": 258, "count": 1, "refunded": 0, "currency": "EUR"},
        "receipts_waiting": 0,
        "receipts_failed": 0,
        "refunds_uncertain": 0,
        "refunds_stuck": 0,
    }
    text = "\n".join(map(str, store.outbox()))
    assert CUSTOMER not in text
    assert ACCOUNT not in text
    assert payment.id not in text

    await store.bridge.checkout.take()  # type: ignore[union-attr]
    assert len(processor.payments) == 1  # a visit is taken once


async def test_a_declined_card_is_owed_the_next_check_in_refused_until_settled(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    processor.decline(CUSTOMER)
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    failing = await payment_failed(store, visit, "card_declined", 129)
    assert failing["outstanding_accounts"] == 1
    assert failing["sales_today"]["count"] == 0

    qr = store.operator.qr(now=store.clock.now.timestamp(), cus=CUSTOMER)
    status, answer = await store.post("/v1/gates/entry_1/check-in", {"qr": qr})
    assert (status, answer["reason"]) == (403, "payment_outstanding")

    status, answer = await store.post("/v1/accounts/settle", {"account": ACCOUNT})
    assert (status, answer) == (200, {"settled": {"EUR": 129}})
    qr = store.operator.qr(now=store.clock.now.timestamp(), cus=CUSTOMER)
    status, answer = await store.post("/v1/gates/entry_1/check-in", {"qr": qr})
    assert status == 200, answer
    assert "account_settled" in [e["type"] for e in store.outbox()]
    settled = await until(
        "the status shows nobody owing",
        lambda: checkout_status(store),
        want=lambda c: c["outstanding_accounts"] == 0,
    )
    assert settled["failed"] == 0  # the failure is settled: nothing for the operator


async def test_an_unreachable_processor_is_retried_and_nothing_is_lost(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    processor.down = True
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    settle_time(store)
    await until("the processor is asked", lambda: processor.calls, want=lambda c: c >= 2)
    retrying = await until(
        "the status shows the checkout retrying",
        lambda: checkout_status(store),
        want=lambda c: c["retrying"] == 1,
    )
    assert retrying["pending"] == 1
    processor.down = False
    await until(
        "the payment goes through once the processor is back",
        lambda: [p.captured for p in processor.payments.values()],
        want=lambda c: c == [129],
    )
    await until(
        "the checkout is done",
        lambda: store.get(f"/v1/visits/{visit}/checkout"),
        want=lambda answer: answer[1].get("phase") == "done",
    )
    assert len(processor.payments) == 1  # the creations refused while down made none
    assert store.bridge.checkout.status()["pending"] == 0  # type: ignore[union-attr]


async def test_an_empty_cart_is_never_charged(shop: tuple[Shop, FakeProcessor]) -> None:
    store, processor = shop
    visit = await shop_and_leave(store, "frigate-a", 0, cus=CUSTOMER)
    settle_time(store)
    await until(
        "the checkout is recorded",
        lambda: payment_events(store),
        want=lambda e: len(e) == 1,
    )
    assert payment_events(store) == [
        ("checkout_started", visit, None, {"amount": 0, "currency": "EUR", "items": 0})
    ]
    assert processor.calls == 0


async def test_a_refund_by_items_is_made_once(shop: tuple[Shop, FakeProcessor]) -> None:
    store, processor = shop
    visit = await shop_and_leave(store, "frigate-a", 2, cus=CUSTOMER)
    status, answer = await store.post(f"/v1/visits/{visit}/refund", {"amount": 10})
    assert (status, answer["reason"]) == (409, "nothing_captured")
    settle_time(store)
    await until("the cart is charged", lambda: payment_events(store), want=lambda e: len(e) == 2)

    body = {"items": [{"sku": "4006381333931", "quantity": 1}]}
    status, answer = await store.post(f"/v1/visits/{visit}/refund", body)
    assert (status, answer["phase"], answer["amount"]) == (200, "done", 129)
    status, answer = await store.post(f"/v1/visits/{visit}/refund", body)
    assert (status, answer["reason"]) == (409, "already_refunded")
    assert list(processor.refunds.values()) == [(next(iter(processor.payments)), 129)]
    assert payment_events(store)[-1] == (
        "refund_issued",
        visit,
        None,
        {"amount": 129, "currency": "EUR"},
    )
    status, answer = await store.post(
        f"/v1/visits/{visit}/refund", {"items": [{"sku": "nope", "quantity": 1}]}
    )
    assert (status, answer["reason"]) == (409, "not_in_cart")
    status, answer = await store.post(f"/v1/visits/{visit}/refund", {"amount": True})
    assert status == 400


class _HeldConfirmations(FakeProcessor):
    """Confirms nothing until `release` is set (a slow processor, a crash mid-way)."""

    release: asyncio.Event | None = None

    async def confirm_payment(self, payment: str, *, idempotency_key: str) -> Answer:
        if self.release is not None:
            await self.release.wait()
        return await super().confirm_payment(payment, idempotency_key=idempotency_key)


async def test_a_checkout_stored_mid_way_is_looked_at_and_finished_once_after_a_restart(
    premises: Premises,
) -> None:
    processor = _HeldConfirmations()
    processor.release = asyncio.Event()
    store, _ = await premises.open(processor)
    processor.lose_answers(1)  # the creation's answer is lost: an orphan, never confirmed
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    settle_time(store)
    await until("the payment is created", lambda: len(processor.payments), want=lambda n: n >= 2)
    stored = await until(
        "the created payment is stored before it is confirmed",
        lambda: _stored_phase(premises.path, visit),
        want=lambda phase: phase == "created",
    )
    await stop_shop(store)  # the bridge stops while the confirmation hangs

    assert stored == "created"
    assert _stored_phase(premises.path, visit) == "created"
    assert PaymentState.CAPTURED not in [p.state for p in processor.payments.values()]
    processor.release = None
    async with premises.reopened(processor) as (_, runner):
        await until(
            "the checkout is done",
            lambda: [p.state for p in processor.payments.values()],
            want=lambda s: PaymentState.CAPTURED in s,
        )
        states = sorted(p.state.value for p in processor.payments.values())
        assert states == ["captured", "created"]  # the orphan stays unconfirmed
        found = await runner.find(visit)
        assert found is not None
        assert found.phase is Phase.DONE


def _stored_phase(path: Path, visit: str) -> str | None:
    with closing(sqlite3.connect(path)) as db:
        row = db.execute("SELECT phase FROM checkouts WHERE visit = ?", (visit,)).fetchone()
    return None if row is None else str(row[0])
