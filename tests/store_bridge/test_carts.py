"""The virtual cart as the operator and checkout meet it: the API, the events, the database.

The bridge, its API and SQLite are real; the shelves' load cells and the ceiling tracker are
the edge of the world, played by `cart_shop.Shelf` in their own shapes (ESPHome readings,
Frigate events) on the test's clock, handed to the same entry points the MQTT feed uses.
"""

import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from store_bridge import retention
from store_bridge.carts import FINAL_AFTER
from store_bridge.store_schema import SCHEMA_VERSION, connect
from tests.waiting import until

from .cart_shop import (
    CHIPS_TOPIC,
    COLA,
    COLA_TOPIC,
    FACE_NAME,
    SNAPSHOT,
    Clock,
    Shop,
    frigate,
    shelf_config,
    start_shop,
    stop_shop,
)
from .conftest import Operator, stop

UNIT = 355.0
type ShopFactory = Callable[..., Coroutine[Any, Any, Shop]]


@pytest.fixture
async def make_shop(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[ShopFactory]:
    running: list[Shop] = []

    async def factory(clock: Clock | None = None) -> Shop:
        shop = await start_shop(tmp_path / "bridge.sqlite3", operator, clock or Clock())
        running.append(shop)
        return shop

    yield factory
    for shop in running:
        await stop_shop(shop)


async def stocked(make_shop: ShopFactory, clock: Clock | None = None) -> Shop:
    """A shop whose cola lane holds 10 cans and crisps lane 5 bags, both settled."""
    shop = await make_shop(clock)
    shop.shelf.stock(COLA_TOPIC, 10, UNIT)
    shop.shelf.stock(CHIPS_TOPIC, 5, 160.0)
    shop.shelf.walk(2)
    return shop


def _dump(path: Path) -> str:
    """Every row of every table, as text."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(repr(db.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)  # noqa: S608


async def test_a_shopper_picks_two_puts_one_back_and_the_cart_shows_one_with_its_sources(
    make_shop: ShopFactory,
) -> None:
    shop = await stocked(make_shop)
    visit = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {COLA_TOPIC: 8 * UNIT})  # two cans leave the shelf
    shop.settle()
    picked = await shop.cart(visit)
    assert [(line["sku"], line["quantity"]) for line in picked["lines"]] == [(COLA.sku, 2)]
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})  # one comes back
    shop.settle()

    cart = await shop.cart(visit)
    assert cart["visit"] == visit
    assert cart["bound"] is True
    assert cart["held"] == 0
    (line,) = cart["lines"]
    assert {k: line[k] for k in ("sku", "name", "quantity", "unit_price", "currency")} == {
        "sku": COLA.sku,
        "name": COLA.name,
        "quantity": 1,
        "unit_price": 129,
        "currency": "EUR",
    }
    assert cart["total"] == 129
    assert len(line["sources"]) == 2  # the pick and the put-back behind the line
    assert line["sources"][0] == picked["lines"][0]["sources"][0]

    events = await until(
        "the cart's news is recorded as events",
        lambda: [e for e in shop.cart_events() if e[0] != "track_bound"],
        want=lambda e: len(e) == 2,
    )
    assert events == [
        ("item_picked", visit, {"lane": "lane_cola", "sku": COLA.sku, "quantity": 2,
                                "change": line["sources"][0]}),
        ("item_returned", visit, {"lane": "lane_cola", "sku": COLA.sku, "quantity": 1,
                                  "change": line["sources"][1]}),
    ]  # fmt: skip
    assert ("track_bound", visit) in [(kind, v) for kind, v, _ in shop.cart_events()]


async def two_shoppers_at_the_cola(shop: Shop) -> tuple[str, str]:
    first = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(1)  # the turnstile lets the next one through after the first passed
    second = await shop.check_in("frigate-b")
    shop.shelf.move("frigate-b", ["aisle_drinks"])
    shop.shelf.walk(2)
    return first, second


async def test_a_pick_two_shoppers_could_have_made_waits_for_review_and_the_operator_decides(
    make_shop: ShopFactory,
) -> None:
    shop = await stocked(make_shop)
    first, second = await two_shoppers_at_the_cola(shop)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.settle()
    assert (await shop.cart(first))["held"] == 1
    assert (await shop.cart(second))["held"] == 1
    assert (await shop.cart(first))["lines"] == []
    assert (await shop.get("/v1/reviews"))[1] == {"reviews": []}  # not yet: evidence may come

    shop.shelf.walk(61)
    shop.carts.tick(shop.clock.now)
    status, answer = await shop.get("/v1/reviews")
    assert status == 200
    (review,) = answer["reviews"]
    assert review["lane"] == "lane_cola"
    assert review["sku"] == COLA.sku
    assert review["quantity"] == 1
    assert sorted(review["candidates"]) == sorted([first, second])
    assert shop.bridge.status()["shelf"]["review"] == 1

    status, answer = await shop.post(f"/v1/reviews/{review['id']}", {"visit": "trip-nobody"})
    assert (status, answer["error"]) == (409, "not_a_candidate")
    status, answer = await shop.post("/v1/reviews/review-none", {"visit": first})
    assert (status, answer["error"]) == (404, "unknown_review")
    status, answer = await shop.post(f"/v1/reviews/{review['id']}", {})
    assert (status, answer["error"]) == (400, "bad_request")
    status, answer = await shop.post(f"/v1/reviews/{review['id']}", {"visit": first}, auth=False)
    assert status == 401
    assert (await shop.cart(first))["lines"] == []

    status, answer = await shop.post(f"/v1/reviews/{review['id']}", {"visit": first})
    assert (status, answer) == (200, {"review": review["id"], "visit": first})
    assert [(ln["sku"], ln["quantity"]) for ln in (await shop.cart(first))["lines"]] == [
        (COLA.sku, 1)
    ]
    assert (await shop.cart(second))["lines"] == []
    assert (await shop.cart(second))["held"] == 0
    assert (await shop.get("/v1/reviews"))[1] == {"reviews": []}
    kinds = await until(
        "the decision is recorded",
        lambda: [kind for kind, _, _ in shop.cart_events()],
        want=lambda k: "review_resolved" in k,
    )
    assert kinds.index("pick_ambiguous") < kinds.index("pick_review")
    assert kinds.index("pick_review") < kinds.index("review_resolved") < len(kinds) - 1
    assert kinds[-1] == "item_picked"


async def test_a_review_can_say_nobody_took_it(make_shop: ShopFactory) -> None:
    shop = await stocked(make_shop)
    first, second = await two_shoppers_at_the_cola(shop)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.shelf.walk(65)
    shop.carts.tick(shop.clock.now)
    (review,) = (await shop.get("/v1/reviews"))[1]["reviews"]
    status, _ = await shop.post(f"/v1/reviews/{review['id']}", {"visit": None})
    assert status == 200
    assert (await shop.cart(first))["lines"] == (await shop.cart(second))["lines"] == []
    assert (await shop.get("/v1/reviews"))[1] == {"reviews": []}


async def test_bad_sensor_and_tracker_input_is_ignored_counted_and_changes_no_cart(
    make_shop: ShopFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop = await stocked(make_shop)
    visit = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.settle()
    before = await shop.cart(visit)
    assert before["bound"] is True
    carts = shop.carts
    now = shop.clock.now

    carts.on_lane_message("shelf-9/sensor/unknown/state", b"100.0", now)
    for bad in (b"nan", b"NaN", b"inf", b"unavailable", b"", b"12,5", b'{"value": 3}'):
        carts.on_lane_message(COLA_TOPIC, bad, now)
    carts.on_tracker_message(b"not json")
    carts.on_tracker_message(b'{"type": "update"}')
    carts.on_tracker_message(frigate("update", "frigate-a", ["aisle_drinks"], now))
    carts.on_tracker_message(frigate("update", "frigate-a", ["aisle_drinks"], now))  # again
    carts.on_tracker_message(
        frigate("update", "frigate-a", ["entrance"], now - timedelta(seconds=5))
    )
    carts.on_tracker_message(frigate("end", "frigate-never-seen", ["aisle_drinks"], now))
    shop.settle()

    assert await shop.cart(visit) == before
    shelf = shop.bridge.status()["shelf"]
    assert shelf["ignored"] >= 13
    assert shelf["anomalies"] == shelf["unattributed"] == 0
    assert "Ignored" in caplog.text
    for secret in (FACE_NAME, SNAPSHOT, "sub_label", "not json", "unavailable"):
        assert secret not in caplog.text


async def test_tracks_of_other_things_and_other_cameras_are_not_the_stores_concern(
    make_shop: ShopFactory, tmp_path: Path, operator: Operator
) -> None:
    only_ceiling = shelf_config(cameras=frozenset({"ceiling"}))
    shop = await start_shop(tmp_path / "cameras.sqlite3", operator, Clock(), only_ceiling)
    try:
        shop.shelf.stock(COLA_TOPIC, 10, UNIT)
        shop.shelf.walk(2)
        visit = await shop.check_in("frigate-a")
        shop.shelf.move("frigate-a", ["aisle_drinks"])
        shop.settle()
        now = shop.clock.now
        # A car in the car park, and a person on a camera the store does not use.
        shop.carts.on_tracker_message(frigate("new", "car-1", ["aisle_drinks"], now, label="car"))
        shop.carts.on_tracker_message(
            frigate("new", "other-1", ["aisle_drinks"], now, camera="car_park")
        )
        shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
        shop.settle()
        assert [(ln["sku"], ln["quantity"]) for ln in (await shop.cart(visit))["lines"]] == [
            (COLA.sku, 1)
        ]  # only the shopper was there: neither made the pick ambiguous
        # the other camera's track is counted as ignored input; a car is nobody's concern
        assert shop.bridge.status()["shelf"]["ignored"] == 1
        assert shop.carts.ignored == {"other_camera": 1}
    finally:
        await stop_shop(shop)


async def test_a_shopper_inside_when_the_shelves_came_up_gets_a_cart(
    make_store: Any, make_shop: ShopFactory
) -> None:
    store = await make_store()  # the bridge ran without shelves
    status, answer = await store.check_in(qr=store.operator.qr())
    assert status == 200
    await stop(store)
    shop = await make_shop()
    cart = await shop.cart(answer["visit"])
    assert (cart["lines"], cart["bound"]) == ([], False)
    assert shop.bridge.status()["shelf"]["carts"] == 1


async def test_a_hand_resting_on_the_shelf_is_an_anomaly_not_a_pick(
    make_shop: ShopFactory,
) -> None:
    shop = await stocked(make_shop)
    visit = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(2, {COLA_TOPIC: 10 * UNIT + 170})  # half a can's weight more
    shop.settle()
    assert (await shop.cart(visit))["lines"] == []
    assert shop.bridge.status()["shelf"]["anomalies"] == 1
    await until(lambda: "lane_anomaly" in [kind for kind, _, _ in shop.cart_events()])


async def test_a_pick_nobody_stood_at_is_counted_as_unattributed(make_shop: ShopFactory) -> None:
    shop = await stocked(make_shop)
    visit = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])  # and stays at the drinks
    shop.shelf.walk(2)
    shop.shelf.walk(2, {CHIPS_TOPIC: 4 * 160.0})
    shop.settle()
    assert (await shop.cart(visit))["lines"] == []
    assert shop.bridge.status()["shelf"]["unattributed"] == 1


async def test_a_restart_keeps_carts_and_the_review_queue(
    make_shop: ShopFactory, tmp_path: Path
) -> None:
    clock = Clock()
    shop = await stocked(make_shop, clock)
    first, second = await two_shoppers_at_the_cola(shop)
    shop.shelf.walk(2, {CHIPS_TOPIC: 5 * 160.0})
    shop.shelf.walk(2, {COLA_TOPIC: 8 * UNIT})  # two cans, either of them
    shop.shelf.walk(65)
    shop.carts.tick(clock.now)
    shop.shelf.move("frigate-a", ["aisle_snacks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {CHIPS_TOPIC: 4 * 160.0})  # the first takes crisps, alone
    shop.settle()
    carts = {visit: await shop.cart(visit) for visit in (first, second)}
    reviews = (await shop.get("/v1/reviews"))[1]
    assert len(reviews["reviews"]) == 1
    assert carts[first]["lines"]
    await stop_shop(shop)

    again = await make_shop(clock)
    for visit in (first, second):
        cart = await again.cart(visit)
        assert cart["bound"] is False  # the tracker's tracks are not kept over a restart
        assert cart == {**carts[visit], "bound": False}
    assert (await again.get("/v1/reviews"))[1] == reviews
    assert again.bridge.status()["shelf"]["review"] == 1
    review = reviews["reviews"][0]["id"]
    status, _ = await again.post(f"/v1/reviews/{review}", {"visit": second})
    assert status == 200
    assert [(ln["sku"], ln["quantity"]) for ln in (await again.cart(second))["lines"]] == [
        (COLA.sku, 2)
    ]


async def test_a_cart_stays_for_checkout_after_its_shopper_left(make_shop: ShopFactory) -> None:
    shop = await stocked(make_shop)
    visit = await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.settle()
    status, _ = await shop.post("/v1/gates/exit_1/exit", {"visit": visit})
    assert status == 200
    shop.shelf.leave("frigate-a")
    shop.settle()
    assert shop.bridge.status()["shelf"]["carts"] == 0
    assert len((await shop.cart(visit))["lines"]) == 1

    shop.shelf.walk(FINAL_AFTER.total_seconds() + 1)
    shop.carts.tick(shop.clock.now)
    await until("the final cart leaves memory", lambda: shop.carts.cart(visit) is None, seconds=5)
    cart = await shop.cart(visit)  # from the database now
    assert [(ln["sku"], ln["quantity"]) for ln in cart["lines"]] == [(COLA.sku, 1)]
    assert cart["total"] == 129
    with closing(sqlite3.connect(shop.path)) as db:
        assert db.execute("SELECT final, closed IS NOT NULL FROM carts").fetchall() == [(1, 1)]


async def test_an_unknown_visit_has_no_cart_and_the_cart_needs_the_token(
    make_shop: ShopFactory,
) -> None:
    shop = await stocked(make_shop)
    visit = await shop.check_in("frigate-a")
    status, answer = await shop.get("/v1/visits/trip-unknown/cart")
    assert (status, answer["error"]) == (404, "unknown_visit")
    status, answer = await shop.get("/v1/visits/" + "x" * 100 + "/cart")
    assert (status, answer["error"]) == (404, "unknown_visit")
    for path in (f"/v1/visits/{visit}/cart", "/v1/reviews"):
        status, answer = await shop.get(path, auth=False)
        assert (status, answer["error"]) == (401, "unauthorized")


async def test_nothing_a_camera_saw_of_a_face_reaches_the_database_or_the_events(
    make_shop: ShopFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop = await stocked(make_shop)
    await two_shoppers_at_the_cola(shop)
    shop.shelf.walk(2, {COLA_TOPIC: 8 * UNIT})
    shop.shelf.walk(65)
    shop.carts.tick(shop.clock.now)
    await until(lambda: "pick_review" in [kind for kind, _, _ in shop.cart_events()])
    await stop_shop(shop)

    stored = _dump(shop.path)
    assert "review-" in stored  # the review queue is in there
    published = json.dumps(shop.outbox())
    for secret in (FACE_NAME, SNAPSHOT, "sub_label", "frigate-a", "frigate-b", '"box', "score"):
        assert secret not in stored
        assert secret not in published
        assert secret not in caplog.text


async def test_the_status_page_shows_carts_reviews_and_stale_lanes(
    make_shop: ShopFactory,
) -> None:
    shop = await stocked(make_shop)
    first, second = await two_shoppers_at_the_cola(shop)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.shelf.walk(65)
    del shop.shelf.weights[CHIPS_TOPIC]  # the crisps lane falls silent
    shop.shelf.walk(20)
    shop.carts.tick(shop.clock.now)
    page = await (await shop.client.get("/")).text()
    assert "Carts (2)" in page
    assert "Review queue (1)" in page
    assert "Cola 0.33 l" in page
    assert "2 shoppers" in page
    assert "Lanes sending no weight: lane_chips" in page
    assert first not in page
    assert second not in page
    status = await (await shop.client.get("/v1/status")).json()
    assert status["shelf"] == {
        "carts": 2,
        "review": 1,
        "anomalies": 0,
        "unattributed": 0,
        "stale_lanes": 1,
        "ignored": 0,
        "abandoned": 0,
        "tracker_offset_s": None,
    }
    shop.shelf.stock(CHIPS_TOPIC, 5, 160.0)
    shop.shelf.walk(1)
    shop.carts.tick(shop.clock.now)
    assert shop.bridge.status()["shelf"]["stale_lanes"] == 0


async def test_a_store_without_shelves_answers_no_shelves(make_store: Any) -> None:
    store = await make_store()
    answer = await store.client.get("/v1/reviews", headers={"Authorization": "Bearer " + "t" * 40})
    assert answer.status == 404
    assert (await answer.json())["error"] == "no_shelves"
    assert "shelf" not in store.bridge.status()


def test_a_schema_2_file_gets_the_cart_tables(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    connect(path).close()
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.executescript(
            "DROP TABLE carts; DROP TABLE reviews; UPDATE meta SET value = '2' WHERE key = 'schema'"
        )
    with closing(connect(path)) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == str(
            SCHEMA_VERSION
        )
        assert db.execute("SELECT count(*) FROM carts").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    assert SCHEMA_VERSION >= 3


async def test_the_carts_of_sessions_past_the_retention_are_purged(
    make_shop: ShopFactory,
) -> None:
    shop = await stocked(make_shop)
    gone = await shop.check_in("frigate-a")
    inside = await shop.check_in("frigate-b")
    await shop.post("/v1/gates/exit_1/exit", {"visit": gone})
    shop.settle()
    await until(lambda: _closed_carts(shop.path) == 1)
    later = shop.clock.now + timedelta(days=91)
    purged = await retention.purge(shop.bridge.db, retention.due(later, 90))
    assert purged.carts == 1
    with closing(sqlite3.connect(shop.path)) as db:
        assert [v for (v,) in db.execute("SELECT visit FROM carts")] == [inside]


def _closed_carts(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM carts WHERE closed IS NOT NULL").fetchone()[0])
