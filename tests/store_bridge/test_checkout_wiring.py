"""The checkout wired into the bridge: the store's setup refused, refunds pending, the status,
the day's totals, receipts sent when a checkout is done, the status page.

A real bridge with a real SQLite file and API (`cart_shop.py`), the embedded processor
(`fake_processor.py`, told to misbehave as Stripe can) and a real SMTP server (aiosmtpd).
"""

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from store_bridge.checkout_purchases import CheckoutPurchases
from store_bridge.fake_processor import FakeProcessor
from store_bridge.mail_config import parse_mail
from store_bridge.payments import PaymentState
from store_bridge.receipts import Pending, Purchase
from store_bridge.service import build_receipts

from ..waiting import until
from .cart_shop import Shop, stop_shop
from .charging_fixtures import premises, shop
from .charging_shop import (
    ACCOUNT,
    CUSTOMER,
    Premises,
    charged,
    checkout_status,
    payment_events,
    payment_failed,
    settle_time,
    shop_and_leave,
    sql,
)
from .receipt_helpers import ADDRESS, mail_server, mail_table
from .smtp_rig import MailServer

__all__ = ["mail_server", "premises", "shop"]


async def test_a_store_misconfigured_blames_nobody_alerts_and_charges_once_fixed(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    processor.misconfigured = "api_key_invalid"
    visit = await shop_and_leave(store, "frigate-a", 2, cus=CUSTOMER)
    alerted = await payment_failed(store, visit, "store_misconfigured", 258)
    assert alerted["outstanding_accounts"] == 0  # the shopper owes nothing
    status, answer = await store.get(f"/v1/visits/{visit}/checkout")
    assert (answer["phase"], answer["reason"], answer["outstanding"]) == (
        "blocked",
        "store_misconfigured",
        0,
    )
    calls = processor.calls
    qr = store.operator.qr(now=store.clock.now.timestamp(), cus=CUSTOMER)
    status, entered = await store.post("/v1/gates/entry_1/check-in", {"qr": qr})
    assert status == 200, entered  # no payment_outstanding
    assert processor.calls == calls  # nothing is retried blindly

    processor.misconfigured = None  # the operator fixed the key
    status, answer = await store.post(f"/v1/visits/{visit}/checkout/retry", {})
    assert (status, answer["phase"]) == (200, "final")
    await until(
        "the cart is charged once the setup is fixed",
        lambda: [p.captured for p in processor.payments.values()],
        want=lambda c: c == [258],
    )
    done = await until(
        "the status shows the sale and nothing failing",
        lambda: checkout_status(store),
        want=lambda c: c["sales_today"]["count"] == 1,
    )
    assert (done["failed"], done["sales_today"]["amount"]) == (0, 258)
    status, answer = await store.post(f"/v1/visits/{visit}/checkout/retry", {})
    assert (status, answer["error"]) == (409, "not_blocked")
    status, answer = await store.post("/v1/visits/nobody/checkout/retry", {})
    assert (status, answer["error"]) == (404, "unknown_visit")


async def test_a_blocked_checkout_goes_on_after_a_restart(premises: Premises) -> None:
    store, processor = await premises.open(FakeProcessor())
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    processor.misconfigured = "api_key_invalid"
    settle_time(store)
    await until(
        "the checkout stops",
        lambda: sql(premises.path, "SELECT phase FROM checkouts WHERE visit = ?", visit),
        want=lambda rows: rows == [("blocked",)],
    )
    await stop_shop(store)
    processor.misconfigured = None
    async with premises.reopened(processor):
        await until(
            "the restarted bridge charges it",
            lambda: [p.state for p in processor.payments.values()],
            want=lambda s: s == [PaymentState.CAPTURED],
        )


async def test_a_pending_refund_is_looked_at_until_the_processor_says_it_is_done(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    visit = await charged(store)
    await until("it is charged once", lambda: payment_events(store), want=lambda e: len(e) == 2)
    processor.refunds_end("pending")
    status, answer = await store.post(f"/v1/visits/{visit}/refund", {"amount": 129})
    assert (status, answer["phase"], answer["reason"]) == (202, "uncertain", "pending")
    assert "refund_issued" not in [e[0] for e in payment_events(store)]
    (refund,) = processor.refunds
    processor.settle_refund(refund)
    events = await until(
        "the refund is issued once the processor says so",
        lambda: payment_events(store),
        want=lambda e: e[-1][0] == "refund_issued",
    )
    assert events[-1] == ("refund_issued", visit, None, {"amount": 129, "currency": "EUR"})
    today = await until(
        "the day's totals count the refund",
        lambda: checkout_status(store),
        want=lambda c: c["sales_today"]["refunded"] == 129,
    )
    assert today["sales_today"] == {"amount": 258, "count": 1, "refunded": 129, "currency": "EUR"}
    day = sql(store.path, "SELECT day, currency, amount, count, refunded FROM daily_totals")
    assert day == [(store.clock.now.date().isoformat(), "EUR", 258, 1, 129)]


async def test_a_store_misconfigured_refund_fails_and_changes_nothing(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    visit = await charged(store, cans=1)
    await until("it is charged once", lambda: payment_events(store), want=lambda e: len(e) == 2)
    processor.misconfigured = "api_key_invalid"
    status, answer = await store.post(f"/v1/visits/{visit}/refund", {"amount": 129})
    assert (status, answer["phase"], answer["reason"]) == (502, "failed", "api_key_invalid")
    assert processor.refunds == {}


async def test_a_receipt_asked_for_at_the_exit_is_sent_once_the_checkout_is_done(
    shop: tuple[Shop, FakeProcessor],
    tmp_path: Path,
    mail_server: Callable[..., MailServer],
) -> None:
    store, processor = shop
    server = mail_server()
    processor.save_card(CUSTOMER, brand="mastercard", last4="4444")
    spec = parse_mail(mail_table(server, tmp_path), tmp_path)
    receipts = build_receipts(store.bridge, spec)
    receipts.start()
    try:
        visit = await shop_and_leave(store, "frigate-a", 2, cus=CUSTOMER)
        await receipts.request(visit, ADDRESS, None)  # before the checkout: it waits
        waiting = await until(
            "the status shows the receipt waiting",
            lambda: checkout_status(store),
            want=lambda c: c["receipts_waiting"] == 1,
        )
        assert waiting["receipts_failed"] == 0
        settle_time(store)
        (mail,) = await until("the receipt arrives", lambda: server.received)
        text = mail.get_body(("plain",)).get_content()
        assert "4444" in text
        assert "mastercard" in text.lower()
        assert "2.58" in text or "2,58" in text
        events = await until(
            "the receipt is recorded as sent",
            lambda: [e for e in store.outbox() if e["type"] == "receipt_sent"],
        )
        assert [(e["visit"], e["data"]) for e in events] == [(visit, {"attempts": 1})]
        await until(
            "the status shows nothing waiting",
            lambda: checkout_status(store),
            want=lambda c: c["receipts_waiting"] == 0,
        )
    finally:
        await receipts.close()
    assert sql(store.path, "SELECT address FROM receipt_requests") == [(None,)]
    outbox = "\n".join(map(str, store.outbox()))
    for secret in (ADDRESS, CUSTOMER, ACCOUNT, "4444"):
        assert secret not in outbox
    assert len(server.received) == 1


async def test_what_a_visit_bought_is_pending_until_its_checkout_is_done(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, _ = shop
    purchases = CheckoutPurchases(store.bridge.db)
    assert await purchases.purchase("nobody") is None
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    assert await purchases.purchase(visit) == Pending()
    settle_time(store)
    await until("the cart is charged", lambda: payment_events(store), want=lambda e: len(e) == 2)
    bought = await purchases.purchase(visit)
    assert isinstance(bought, Purchase)
    assert [(line.name, line.quantity, line.amount) for line in bought.lines] == [
        ("Cola 0.33 l", 1, 129)
    ]
    assert (bought.currency, bought.card) == ("EUR", None) or bought.card is not None


async def test_the_status_page_shows_sales_and_trouble_as_counts(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    processor.decline(CUSTOMER)
    await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    settle_time(store)
    await until(
        "the status shows the failure",
        lambda: checkout_status(store),
        want=lambda c: c["failed"] == 1,
    )
    answer = await store.client.get("/")
    page = await answer.text()
    assert "Payments failing: 1 · accounts owing: 1" in page
    assert "Sales today: <b>0.00 EUR</b>" in page
    assert ACCOUNT not in page
    assert CUSTOMER not in page


async def test_the_ready_carts_are_read_from_an_index(shop: tuple[Shop, FakeProcessor]) -> None:
    store, _ = shop
    plan = sql(
        store.path,
        "EXPLAIN QUERY PLAN SELECT c.visit FROM carts c JOIN sessions s ON s.visit_id = c.visit "
        "WHERE c.closed IS NOT NULL AND c.taken = 0 AND c.closed <= 1e12 "
        "AND (c.final = 1 OR c.held = 0 OR c.closed <= 1e12) "
        "AND NOT EXISTS (SELECT 1 FROM checkouts k WHERE k.visit = c.visit) "
        "ORDER BY c.closed LIMIT 200",
    )
    assert any("carts_ready" in str(row) for row in plan), plan
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    settle_time(store)
    await until("the cart is charged", lambda: payment_events(store), want=lambda e: len(e) == 2)
    assert sql(store.path, "SELECT taken FROM carts WHERE visit = ?", visit) == [(1,)]


async def test_the_checkout_api_refuses_what_it_cannot_do(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    assert (await store.get("/v1/visits/nobody/checkout"))[0] == 404
    assert (await store.get(f"/v1/visits/{'x' * 65}/checkout"))[0] == 404
    for body in (
        {"amount": 1, "items": []},
        {"items": []},
        {"items": [{"sku": "x", "quantity": 0}]},
        {"items": ["x"]},
        {"amount": -1},
    ):
        status, answer = await store.post(f"/v1/visits/{visit}/refund", body)
        assert (status, answer["error"]) == (400, "bad_request"), body
    status, answer = await store.post("/v1/accounts/settle", {})
    assert (status, answer["error"]) == (400, "bad_request")
    settle_time(store)
    await until("the cart is charged", lambda: payment_events(store), want=lambda e: len(e) == 2)
    processor.down = True
    status, answer = await store.post(f"/v1/visits/{visit}/refund", {"amount": 129})
    assert (status, answer["phase"]) == (202, "requested")  # retried from here on
    processor.down = False
    await until(
        "the refund goes through once the processor is back",
        lambda: payment_events(store),
        want=lambda e: e[-1][0] == "refund_issued",
    )


async def test_an_app_shopper_without_a_customer_is_blocked_and_owes_nothing(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, processor = shop
    visit = await shop_and_leave(store, "frigate-a", 1)
    blocked = await payment_failed(store, visit, "store_misconfigured", 129)
    assert processor.calls == 0
    assert blocked["outstanding_accounts"] == 0  # the QR's issuer is wrong, not the shopper
    status, answer = await store.post(f"/v1/visits/{visit}/checkout/retry", {})
    assert (status, answer["error"]) == (409, "not_retryable")


async def test_refunds_caught_mid_way_are_resumed_after_a_restart(premises: Premises) -> None:
    store, processor = await premises.open(FakeProcessor())
    first = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    second = await shop_and_leave(store, "frigate-b", 1, cus=CUSTOMER)
    settle_time(store)
    await until("both are charged", lambda: payment_events(store), want=lambda e: len(e) == 4)
    processor.refunds_end("pending")
    status, _ = await store.post(f"/v1/visits/{first}/refund", {"amount": 129})
    assert status == 202  # pending at the processor: looked at until it says
    await stop_shop(store)
    with closing(sqlite3.connect(premises.path, isolation_level=None)) as db:  # a crash mid-send
        db.execute(
            "INSERT INTO refunds (id, visit, payment, amount, currency, phase, attempts, "
            "created, updated) VALUES ('rf-x', ?, 'pi_x', 1, 'EUR', 'sending', 0, 0, 0)",
            (second,),
        )
    (refund,) = processor.refunds
    processor.settle_refund(refund)
    async with premises.reopened(processor) as (again, _):
        await until(
            "the pending refund is issued after the restart",
            lambda: payment_events(again),
            want=lambda e: (
                e[-1] == ("refund_issued", first, None, {"amount": 129, "currency": "EUR"})
            ),
        )
        await until(  # looked up among pi_x's refunds; the processor does not know pi_x
            "the refund caught mid-send is left to the operator",
            lambda: sql(premises.path, "SELECT phase, reason FROM refunds WHERE visit = ?", second),
            want=lambda rows: rows == [("uncertain", "resource_missing")],
        )
        assert len(processor.refunds) == 1  # never sent blindly
