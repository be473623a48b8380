"""The carts over restarts, retention and quiet lanes, in a running bridge on real SQLite.

Held picks (waiting for evidence) come back after a restart as reviews, a closed session's
restored cart is no candidate for later picks, reviews past the retention leave the queue and
the file, lanes that never reported wait for their first reading without a warning, and a
lane's reading below zero within its tolerance is a weight.
"""

import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from store_bridge import retention
from tests.waiting import until

from .cart_shop import CHIPS_TOPIC, COLA_TOPIC, Clock, Shop, start_shop, stop_shop
from .conftest import Operator

UNIT = 355.0
type ShopFactory = Callable[..., Coroutine[Any, Any, Shop]]


@pytest.fixture
async def make_shop(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[ShopFactory]:
    running: list[Shop] = []

    async def factory(clock: Clock) -> Shop:
        shop = await start_shop(tmp_path / "bridge.sqlite3", operator, clock)
        running.append(shop)
        return shop

    yield factory
    for shop in running:
        await stop_shop(shop)


async def stocked(make_shop: ShopFactory, clock: Clock) -> Shop:
    shop = await make_shop(clock)
    shop.shelf.stock(COLA_TOPIC, 10, UNIT)
    shop.shelf.stock(CHIPS_TOPIC, 5, 160.0)
    shop.shelf.walk(2)
    return shop


async def two_at_the_cola(shop: Shop) -> tuple[str, str]:
    first = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(1)
    second = await shop.check_in("frigate-b")
    shop.shelf.move("frigate-b", ["aisle_drinks"])
    shop.shelf.walk(2)
    return first, second


def _rows(path: Path, table: str) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


async def test_a_pick_held_for_evidence_when_the_bridge_stops_waits_for_review_after(
    make_shop: ShopFactory,
) -> None:
    clock = Clock()
    shop = await stocked(make_shop, clock)
    first, second = await two_at_the_cola(shop)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})  # one can, either of them
    shop.settle()
    assert (await shop.cart(first))["held"] == 1
    assert (await shop.get("/v1/reviews"))[1] == {"reviews": []}  # held, not yet in review
    await stop_shop(shop)

    again = await make_shop(clock)
    (review,) = (await again.get("/v1/reviews"))[1]["reviews"]
    assert sorted(review["candidates"]) == sorted([first, second])
    assert (review["lane"], review["quantity"]) == ("lane_cola", 1)
    assert (await again.cart(first))["held"] == 1
    said = await until(
        "the restart says the pick waits for review",
        lambda: [(e["type"], e["reason"]) for e in again.outbox() if e["type"] == "pick_review"],
    )
    assert said == [("pick_review", "restart")]
    status, _ = await again.post(f"/v1/reviews/{review['id']}", {"visit": second})
    assert status == 200
    assert [(ln["quantity"]) for ln in (await again.cart(second))["lines"]] == [1]
    await stop_shop(again)

    third = await make_shop(clock)  # decided: nothing comes back, nothing said again
    assert (await third.get("/v1/reviews"))[1] == {"reviews": []}
    assert [k for k, _, _ in third.cart_events()].count("pick_review") == 1


async def test_a_restored_cart_of_a_shopper_who_left_is_no_candidate_for_later_picks(
    make_shop: ShopFactory,
) -> None:
    clock = Clock()
    shop = await stocked(make_shop, clock)
    gone = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.shelf.move("frigate-a", ["aisle_snacks"])
    shop.shelf.walk(2)
    await shop.post("/v1/gates/exit_1/exit", {"visit": gone})
    shop.shelf.leave("frigate-a")
    shop.settle()
    assert (await shop.cart(gone))["lines"]
    await stop_shop(shop)

    again = await make_shop(clock)  # before the cart was final
    again.shelf.stock(COLA_TOPIC, 9, UNIT)
    again.shelf.stock(CHIPS_TOPIC, 5, 160.0)
    again.shelf.walk(2)
    again.shelf.enter("stranger", ["aisle_snacks"])  # a person no session owns
    again.shelf.walk(2)
    again.shelf.walk(2, {CHIPS_TOPIC: 4 * 160.0})
    again.settle()
    again.shelf.walk(65)
    again.carts.tick(clock.now)
    assert (await again.get("/v1/reviews"))[1] == {"reviews": []}
    assert (await again.cart(gone))["held"] == 0
    assert again.bridge.status()["shelf"]["unattributed"] == 1


async def test_reviews_past_the_retention_leave_the_queue_and_the_file(
    make_shop: ShopFactory,
) -> None:
    clock = Clock()
    shop = await stocked(make_shop, clock)
    await two_at_the_cola(shop)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.shelf.walk(65)
    shop.carts.tick(clock.now)
    assert len(shop.carts.reviews()) == 1
    await until(lambda: _rows(shop.path, "reviews") == 1)

    purged = await retention.purge(shop.bridge.db, retention.due(clock.now, 90))
    assert _rows(shop.path, "reviews") == 1  # not yet past the retention
    later = clock.advance(91 * 86400)
    purged = await retention.purge(shop.bridge.db, retention.due(later, 90))
    assert purged.carts >= 1
    assert _rows(shop.path, "reviews") == 0
    shop.carts.tick(later)
    assert shop.carts.reviews() == ()
    assert shop.bridge.status()["shelf"]["review"] == 0


async def test_lanes_that_never_reported_wait_for_their_first_reading_without_a_warning(
    make_shop: ShopFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="store_bridge.carts")
    clock = Clock()
    shop = await make_shop(clock)  # neither lane has said anything yet
    stale_after = shop.carts.shelf.lane_tuning.stale_after_s
    for _ in range(int(stale_after)):
        shop.carts.tick(clock.advance(1))
        assert shop.bridge.status()["shelf"]["stale_lanes"] == 0
    assert "send no weight" not in caplog.text
    shop.shelf.stock(COLA_TOPIC, 10, UNIT)  # the cola node comes up; the crisps one does not
    shop.shelf.walk(2)
    shop.carts.tick(clock.now)
    warnings = [r.getMessage() for r in caplog.records if "send no weight" in r.getMessage()]
    assert warnings == ["1 lane(s) send no weight, what is taken from them is not seen: lane_chips"]
    assert shop.bridge.status()["shelf"]["stale_lanes"] == 1


async def test_a_lane_reading_a_little_below_zero_within_its_tolerance_is_a_weight(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(Clock())
    shop.carts.on_lane_message(COLA_TOPIC, b"-25.0")  # the cola lane's tolerance is 40 g
    assert shop.carts.ignored["not_a_weight"] == 0
    shop.carts.on_lane_message(COLA_TOPIC, b"-45.0")
    assert shop.carts.ignored["not_a_weight"] == 1
