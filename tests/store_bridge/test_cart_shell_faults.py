"""The carts' shell when things go wrong: a skewed tracker clock, a refusing database, a bad
event, reviews nobody works, sessions nobody closes.

The shop runs on the test's clock (`cart_shop.Clock`); its database is a real SQLite file.
"""

import asyncio
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from store_bridge.carts import FINAL_AFTER
from store_bridge.core.attribution import AttributionTuning
from store_bridge.core.cart_model import LaneSpec, Product
from tests.waiting import until

from .cart_shop import (
    CHIPS,
    CHIPS_TOPIC,
    COLA,
    COLA_TOPIC,
    LANES,
    Clock,
    Shop,
    shelf_config,
    start_shop,
    stop_shop,
)
from .conftest import Operator

UNIT = 355.0
type ShopFactory = Callable[..., Coroutine[Any, Any, Shop]]


@pytest.fixture
async def make_shop(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[ShopFactory]:
    running: list[Shop] = []

    async def factory(clock: Clock | None = None, **shelf: Any) -> Shop:
        shop = await start_shop(
            tmp_path / "bridge.sqlite3", operator, clock or Clock(), shelf_config(**shelf)
        )
        running.append(shop)
        shop.shelf.stock(COLA_TOPIC, 10, UNIT)
        shop.shelf.stock(CHIPS_TOPIC, 5, 160.0)
        shop.shelf.walk(2)
        return shop

    yield factory
    for shop in running:
        await stop_shop(shop)


def skewed(shop: Shop, seconds: float) -> None:
    """The tracker's host clock runs `seconds` ahead of the bridge's."""
    deliver = shop.carts.on_tracker_message

    def tracker(payload: bytes) -> None:
        message = json.loads(payload)
        for part in ("before", "after"):
            message[part]["frame_time"] += seconds
        deliver(json.dumps(message).encode())

    shop.shelf.tracker = tracker


def lines(cart: dict[str, Any]) -> list[tuple[str, int]]:
    return [(line["sku"], line["quantity"]) for line in cart["lines"]]


async def test_a_tracker_clock_five_seconds_ahead_does_not_shift_who_was_at_the_lane(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    skewed(shop, 5.0)
    first = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(3)
    second = await shop.check_in("frigate-b")
    shop.shelf.walk(1)
    shop.shelf.move("frigate-b", ["aisle_drinks"])
    shop.shelf.walk(1)
    shop.shelf.move("frigate-a", ["aisle_snacks"])  # a walks off; then b takes a can
    shop.shelf.walk(1)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.settle()
    assert lines(await shop.cart(first)) == []
    assert lines(await shop.cart(second)) == [(COLA.sku, 1)]


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        return db.execute(sql).fetchall()


async def _picked_and_left(shop: Shop) -> str:
    visit = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.settle()
    status, _ = await shop.post("/v1/gates/exit_1/exit", {"visit": visit})
    assert status == 200
    shop.shelf.leave("frigate-a")
    shop.settle()
    return visit


async def test_a_final_cart_the_database_refused_stays_until_written_in_order(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    visit = await _picked_and_left(shop)
    await until("the cart is stored closed", lambda: _rows(shop.path, "SELECT closed FROM carts"))
    holder = sqlite3.connect(shop.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # a stuck backup holds the file
    try:
        shop.shelf.walk(FINAL_AFTER.total_seconds() + 1)
        shop.carts.tick(shop.clock.now)  # the cart is final: a write with no events
        await until("the refused write waits in memory", lambda: len(shop.bridge.backlog))
        assert shop.carts.cart(visit) is not None  # not forgotten while unwritten
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await shop.check_in("frigate-b")  # the next write takes the waiting one first
    await until("the backlog is written", lambda: not len(shop.bridge.backlog))
    assert _rows(shop.path, f"SELECT final FROM carts WHERE visit = '{visit}'") == [(1,)]  # noqa: S608
    shop.carts.tick(shop.clock.now)
    await until("the final cart leaves memory", lambda: shop.carts.cart(visit) is None)


async def test_cart_events_taken_by_a_write_that_is_cancelled_are_written_at_the_stop(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    visit = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(2)
    await until("the binding is written", lambda: shop.carts.unwritten == 0)
    release = threading.Event()
    busy = asyncio.create_task(shop.bridge.db.call(lambda _store: release.wait(10)))
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.settle()
    await until("the writer took the pick's event", lambda: shop.carts.unwritten == 0)
    stopping = asyncio.create_task(shop.carts.stop())  # the writer is cancelled mid-write
    await until("the writer was cancelled", lambda: not shop.carts.running)
    release.set()
    await stopping
    await busy
    assert ("item_picked", visit) in [(kind, v) for kind, v, _ in shop.cart_events()]


async def test_one_bad_news_item_does_not_drop_the_others(make_shop: ShopFactory) -> None:
    odd = Product("X" * 300, "Odd", 100, "EUR", Decimal("0.19"), 100.0)  # an id too long
    odd_topic = "shelf-3/sensor/lane_odd/state"
    lanes = {**LANES, "lane_odd": LaneSpec("lane_odd", odd_topic, odd.sku, "aisle_drinks", 100, 20)}
    shop = await make_shop(products={COLA.sku: COLA, CHIPS.sku: CHIPS, odd.sku: odd}, lanes=lanes)
    shop.shelf.stock(odd_topic, 5, 100.0)
    shop.shelf.walk(2)
    visit = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {odd_topic: 400.0, COLA_TOPIC: 9 * UNIT})  # both at once
    shop.settle()
    events = await until(
        "the cola's pick is recorded",
        lambda: [(k, d.get("sku")) for k, v, d in shop.cart_events() if k == "item_picked"],
    )
    assert events == [("item_picked", COLA.sku)]
    assert shop.carts.ignored["bad_news"] == 1
    assert len((await shop.cart(visit))["lines"]) == 2  # the cart is what happened


async def test_a_review_is_answered_once_stored_and_refused_once_checkout_took_the_cart(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    first = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(1)
    second = await shop.check_in("frigate-b")
    shop.shelf.move("frigate-b", ["aisle_drinks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.shelf.walk(65)
    shop.carts.tick(shop.clock.now)
    (review,) = (await shop.get("/v1/reviews"))[1]["reviews"]
    await shop.post("/v1/gates/exit_1/exit", {"visit": first})
    shop.settle()
    await until("the cart is stored", lambda: _rows(shop.path, "SELECT visit FROM carts"))
    with closing(sqlite3.connect(shop.path, isolation_level=None)) as db:
        db.execute("UPDATE carts SET taken = 1 WHERE visit = ?", (first,))  # checkout took it

    status, answer = await shop.post(f"/v1/reviews/{review['id']}", {"visit": first})
    assert (status, answer["error"]) == (409, "checkout_started")
    assert (await shop.cart(first))["lines"] == []
    assert len((await shop.get("/v1/reviews"))[1]["reviews"]) == 1

    status, _ = await shop.post(f"/v1/reviews/{review['id']}", {"visit": second})
    assert status == 200
    # stored before the answer: the event is in the database already
    assert ("review_resolved", second) in [(k, v) for k, v, _ in shop.cart_events()]


async def test_a_session_inside_past_the_longest_stay_is_closed_and_never_charged(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(tuning=AttributionTuning(max_session_s=120.0))
    visit = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.settle()
    assert len((await shop.cart(visit))["lines"]) == 1
    shop.shelf.leave("frigate-a")  # out through an exit that could not tell who it was
    shop.shelf.walk(120)
    shop.carts.tick(shop.clock.now)
    assert shop.carts.abandoned == 1
    assert shop.bridge.status()["shelf"]["carts"] == 0
    await until("the cart leaves memory", lambda: shop.carts.cart(visit) is None)
    # stored final without a closing time: checkout never takes it
    assert _rows(shop.path, "SELECT final, closed, taken FROM carts") == [(1, None, 0)]
    assert len((await shop.cart(visit))["lines"]) == 1
    shop.carts.tick(shop.clock.advance(5))
    assert shop.carts.abandoned == 1
    # after a restart the session is still inside for the ledger: its cart stays as stored
    await stop_shop(shop)
    again = await make_shop(shop.clock, tuning=AttributionTuning(max_session_s=120.0))
    again.carts.tick(again.clock.now)
    assert again.carts.abandoned == 0
    assert again.carts.cart(visit) is None
    assert len((await again.cart(visit))["lines"]) == 1
