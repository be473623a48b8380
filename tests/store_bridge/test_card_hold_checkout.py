"""A card shopper's checkout end to end: the terminal's hold, captured or released at localstripe.

The card terminal belongs to the processor: it authorises a hold on the card (a
PaymentIntent with manual capture, made here by the rig at localstripe as the terminal
would) and its integration reports the tap to the bridge with the processor's reference
(``POST /v1/terminals/<terminal>/tap``). The shopper picks from the shelf and leaves; once the
cart is final the bridge, through the real `StripeProcessor`, captures the cart total (at
most the hold), releases the hold of an empty cart, and captures the hold of a cart above
it, the rest owed (``over_hold``). What happened is counted at localstripe.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from store_bridge.card_debts import CardDebts, key_path, load_key
from store_bridge.checkout_purchases import CheckoutPurchases
from store_bridge.core.receipt import Language, ReceiptFacts, render
from store_bridge.receipts import Purchase
from store_bridge.stripe_processor import SecretKey, StripeProcessor
from store_bridge.web import make_app

from ..localstripe_server import (
    SECRET_KEY,
    LocalStripe,
    add_customer,
    payment_intents,
    terminal_hold,
)
from ..waiting import until
from .cart_shop import Shop
from .charging_shop import attach, leave_by_the_gate, stocked_shop, take_cans, walk_in
from .conftest import API_TOKEN, Operator

PRICE = 129
TERMINAL = "term_entry_1"
PAYMENTS = frozenset({"checkout_started", "payment_captured", "payment_failed", "hold_released"})


@pytest.fixture
async def shop(tmp_path: Path, operator: Operator, localstripe: LocalStripe) -> AsyncIterator[Shop]:
    """A store with a card terminal at its entry, charging through localstripe."""

    async def take_taps_and_cards(store: Shop) -> None:
        await store.client.close()  # the same API, with the terminal standing at entry_1
        app = make_app(store.bridge, API_TOKEN, {TERMINAL: "entry_1"})
        store.client = TestClient(TestServer(app))
        await store.client.start_server()
        processor = StripeProcessor(SecretKey(SECRET_KEY), api_base=localstripe.url)
        key = load_key(key_path(tmp_path / "bridge.sqlite3"))
        store.bridge.card_debts = CardDebts(
            store.bridge.db,
            processor,
            key,
            lambda: store.clock.now.timestamp(),  # noqa: PLW0108 - the shop's clock moves
        )
        await attach(store, processor, status=False)

    async with stocked_shop(
        tmp_path / "bridge.sqlite3", operator, chips=False, before_stock=take_taps_and_cards
    ) as store:
        yield store


async def _tap_shop_and_leave(store: Shop, track: str, hold: str, cans: int) -> str:
    """`track` taps a card (its hold `hold`) at the entry, takes `cans` cans, leaves."""
    visit = await walk_in(store, track, card=hold, path=f"/v1/terminals/{TERMINAL}/tap")
    take_cans(store, track, cans)
    await leave_by_the_gate(store, track, visit)
    return visit


def _payment_events(store: Shop, visit: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    return [
        (e["type"], e["reason"], e["data"])
        for e in store.outbox()
        if e["type"] in PAYMENTS and e["visit"] == visit
    ]


async def _checked_out(store: Shop, visits: list[str]) -> None:
    store.clock.advance(6)  # the settle time for late shelf messages
    assert store.bridge.checkout is not None
    store.bridge.checkout.wake()
    await until(
        "every checkout is over",
        lambda: [
            _payment_events(store, visit)[-1][0] if _payment_events(store, visit) else None
            for visit in visits
        ],
        want=lambda last: all(kind not in {None, "checkout_started"} for kind in last),
    )


async def _intents(stripe_client: Any) -> dict[str, dict[str, Any]]:
    return {intent["id"]: intent for intent in await payment_intents(stripe_client)}


def _taken(intent: dict[str, Any]) -> int:
    """What the card was charged for a payment, at localstripe.

    localstripe records a partial capture as the whole hold charged and the rest refunded
    at once (Stripe reports ``amount_received``; localstripe does not).
    """
    charges = (intent.get("charges") or {}).get("data") or []
    return sum(
        charge["amount"] - (charge.get("amount_refunded") or 0)
        for charge in charges
        if charge.get("captured") and charge.get("status") == "succeeded"
    )


async def test_a_card_shopper_pays_the_cart_out_of_the_hold_and_an_empty_cart_is_released(
    shop: Shop, stripe_client: Any
) -> None:
    paying = await terminal_hold(stripe_client, amount=1000)
    browsing = await terminal_hold(stripe_client, amount=1000)
    bought = await _tap_shop_and_leave(shop, "frigate-a", paying, 3)
    nothing = await _tap_shop_and_leave(shop, "frigate-b", browsing, 0)
    before = await _intents(stripe_client)
    assert {before[paying]["status"], before[browsing]["status"]} == {"requires_capture"}

    await _checked_out(shop, [bought, nothing])

    after = await _intents(stripe_client)
    assert len(after) == 2  # the holds only: nothing else was created at the processor
    assert after[paying]["status"] == "succeeded"
    assert _taken(after[paying]) == 3 * PRICE
    assert after[browsing]["status"] == "canceled"
    assert _taken(after[browsing]) == 0
    assert _payment_events(shop, bought)[1:] == [
        ("payment_captured", None, {"amount": 3 * PRICE, "currency": "EUR"})
    ]
    assert _payment_events(shop, nothing)[1:] == [("hold_released", None, {"currency": "EUR"})]
    text = "\n".join(map(str, shop.outbox()))
    assert paying not in text
    assert browsing not in text

    status, answer = await shop.post(f"/v1/terminals/{TERMINAL}/tap", {"card_token": paying})
    assert (status, answer["reason"]) == (403, "replayed")  # a captured hold pays no new visit
    fresh = await terminal_hold(stripe_client, amount=1000)  # the terminal's next hold
    status, answer = await shop.post(f"/v1/terminals/{TERMINAL}/tap", {"card_token": fresh})
    assert status == 200, answer  # nothing is owed: the card may come back with a new hold


async def test_a_cart_above_the_hold_takes_the_hold_and_the_rest_is_owed(
    shop: Shop, stripe_client: Any
) -> None:
    hold = await terminal_hold(stripe_client, amount=300)
    visit = await _tap_shop_and_leave(shop, "frigate-a", hold, 4)

    await _checked_out(shop, [visit])

    [intent] = (await _intents(stripe_client)).values()
    assert (intent["id"], intent["status"], _taken(intent)) == (hold, "succeeded", 300)
    assert _payment_events(shop, visit) == [
        ("checkout_started", None, {"amount": 4 * PRICE, "currency": "EUR", "items": 4}),
        ("payment_captured", None, {"amount": 300, "currency": "EUR"}),
        ("payment_failed", "over_hold", {"amount": 4 * PRICE - 300, "currency": "EUR"}),
    ]
    status, answer = await shop.get(f"/v1/visits/{visit}/checkout")
    assert (status, answer["captured"], answer["outstanding"]) == (200, 300, 4 * PRICE - 300)
    purchase = await CheckoutPurchases(shop.bridge.db).purchase(visit)
    assert isinstance(purchase, Purchase)
    facts = ReceiptFacts("Shop", purchase.at, purchase.lines, purchase.currency, paid=purchase.paid)
    text = render(facts, Language.EN).text
    assert "Total: 5.16 EUR" in text
    assert "Paid: 3.00 EUR" in text  # the receipt does not say the hold paid it all
    assert "Outstanding (still to be paid): 2.16 EUR" in text
    assert "Offen (noch zu zahlen): 2,16 EUR" in render(facts, Language.DE).text

    status, answer = await shop.post(f"/v1/terminals/{TERMINAL}/tap", {"card_token": hold})
    assert (status, answer["reason"]) == (403, "payment_outstanding")  # the hold: used
    owing_card = await terminal_hold(stripe_client, amount=1000)  # the same card, a new tap
    status, answer = await shop.post(f"/v1/terminals/{TERMINAL}/tap", {"card_token": owing_card})
    assert (status, answer["reason"]) == (403, "payment_outstanding")  # the card owes
    another = await _hold_on(stripe_client, MASTERCARD)
    status, answer = await shop.post(f"/v1/terminals/{TERMINAL}/tap", {"card_token": another})
    assert status == 200, answer  # another card owes nothing

    status, _ = await shop.post("/v1/accounts/settle", {"account": hold})
    assert status == 200
    assert await _tap_status(shop, stripe_client) == 200  # the settled card may come back
    stored = _stored_bytes(shop.path)
    fingerprint = (
        await stripe_client.v1.payment_intents.retrieve_async(hold, {"expand": ["payment_method"]})
    ).payment_method.card.fingerprint
    assert fingerprint.encode() not in stored  # only its keyed hash is kept


MASTERCARD = "5555555555554444"


def _stored_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as they lie on disk."""
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def _hold_on(stripe_client: Any, card: str) -> str:
    """A terminal's hold on `card`."""
    _customer, method = await add_customer(stripe_client, card=card)
    intent = await stripe_client.v1.payment_intents.create_async(
        {"amount": 1000, "currency": "eur", "payment_method": method, "capture_method": "manual"}
    )
    await stripe_client.v1.payment_intents.confirm_async(intent.id)
    return str(intent.id)


async def _tap_status(shop: Shop, stripe_client: Any) -> int:
    hold = await terminal_hold(stripe_client, amount=1000)
    status, _ = await shop.post(f"/v1/terminals/{TERMINAL}/tap", {"card_token": hold})
    return status


async def test_the_same_tap_reported_twice_opens_the_gate_once(
    shop: Shop, stripe_client: Any
) -> None:
    hold = await terminal_hold(stripe_client, amount=1000)
    status, first = await shop.post(f"/v1/terminals/{TERMINAL}/tap", {"card_token": hold})
    assert status == 200, first

    status, again = await shop.post(f"/v1/terminals/{TERMINAL}/tap", {"card_token": hold})

    assert (status, again["opened"], again["reason"]) == (403, False, "replayed")
    denied = [e for e in shop.outbox() if e["type"] == "access_denied"]
    assert [(e["reason"], e["source"]) for e in denied] == [("replayed", "payment_card")]
    assert hold not in "\n".join(map(str, shop.outbox()))
    status, inside = await shop.get("/v1/status")
    assert inside["occupancy"] == 1  # one visit on the hold, not two
