"""A shopper who leaves through the exit zone is charged there, as at the exit gate.

The shop is a real bridge (SQLite, the API) with `[tracking] exit_zones = ["exit"]`, fed by
the test's shelf and tracker; its checkout runs with the embedded fake processor. The gate
is never told: the session closes where the shopper's track left the store, its cart is
charged what it holds, once, and the gate reporting the same shopper later changes nothing.
"""

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from store_bridge.fake_processor import FakeProcessor
from store_bridge.shelf_config import ShelfConfigError, parse_shelf
from tests.waiting import until

from .cart_shop import (
    COLA,
    Shop,
    shelf_config,
    start_shop,
    stop_shop,
)
from .charging_shop import (
    CUSTOMER,
    attach,
    charging_shop,
    payment_events,
    settle_time,
    take_cans,
    walk_in,
)
from .conftest import Operator
from .test_config_lanes import CATALOGUE_TOML

EXITS = shelf_config(exit_zones=frozenset({"exit"}))


@pytest.fixture
async def shop(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[tuple[Shop, FakeProcessor]]:
    async with charging_shop(tmp_path / "bridge.sqlite3", operator, FakeProcessor(), EXITS) as (
        store,
        processor,
    ):
        yield store, processor


async def test_a_shopper_leaving_through_the_exit_zone_is_charged_their_cart_once(
    shop: tuple[Shop, FakeProcessor], operator: Operator
) -> None:
    store, processor = shop
    visit = await walk_in(store, "frigate-a", cus=CUSTOMER)
    take_cans(store, "frigate-a", 2)
    store.shelf.move("frigate-a", ["exit"])
    store.shelf.walk(1)
    left = store.clock.now
    store.shelf.leave("frigate-a")  # out through the exit zone; the gate says nothing
    store.settle()
    store.settle()  # no new track took its place
    assert store.carts.open_carts() == []
    unbound = await until(
        "the close is recorded",
        lambda: [
            (e["visit"], e["reason"]) for e in store.outbox() if e["type"] == "session_unbound"
        ],
    )
    assert unbound == [(visit, "exit_zone")]

    store.shelf.walk(31)  # the cart becomes final
    store.carts.tick(store.clock.now)
    settle_time(store)
    events = await until(
        "the cart is charged", lambda: payment_events(store), want=lambda e: len(e) == 2
    )
    assert events == [
        ("checkout_started", visit, None, {"amount": 258, "currency": "EUR", "items": 2}),
        ("payment_captured", visit, None, {"amount": 258, "currency": "EUR"}),
    ]
    (payment,) = processor.payments.values()
    assert payment.captured == 258

    # after a restart the session is still inside for the ledger (no gate saw it leave):
    # its cart stays as charged, no new one is opened for it
    await stop_shop(store)
    again = await start_shop(store.path, operator, store.clock, EXITS)
    try:
        await attach(again, processor)
        assert again.carts.open_carts() == []
        assert again.carts.cart(visit) is None
        # the exit gate reports the same visit later: nothing changes, nothing more is charged
        status, _ = await again.post("/v1/gates/exit_1/exit", {"visit": visit})
        assert status == 200
        again.settle()
        stored = await again.carts.find(visit)
        assert stored is not None
        assert [(line.sku, line.quantity) for line in stored.lines] == [(COLA.sku, 2)]
        with closing(sqlite3.connect(again.path, isolation_level=None)) as db:
            (closed,) = db.execute("SELECT closed FROM carts WHERE visit = ?", (visit,)).fetchone()
        assert closed == left.timestamp()  # when the track left the store, not the gate's time
        settle_time(again)
        await again.bridge.checkout.take()  # type: ignore[union-attr]
        assert len(processor.payments) == 1
    finally:
        await stop_shop(again)


def test_an_exit_zone_must_be_a_list_of_zones_in_front_of_no_lane(tmp_path: Path) -> None:
    (tmp_path / "catalogue.toml").write_text(CATALOGUE_TOML, encoding="utf-8")
    lanes = [{"id": "cola", "topic": "s/sensor/c/state", "sku": COLA.sku, "zone": "drinks"}]
    raw = {"catalogue": {"file": "catalogue.toml"}, "lanes": lanes}
    config = parse_shelf({**raw, "tracking": {"exit_zones": ["exit"]}}, tmp_path)
    assert config is not None
    assert config.exit_zones == frozenset({"exit"})
    for zones, message in (
        ("exit", "tracking.exit_zones: must be a list of zone names"),
        ([""], "tracking.exit_zones: must be a list of zone names"),
        (["drinks"], "tracking.exit_zones: drinks is a lane's zone"),
    ):
        with pytest.raises(ShelfConfigError, match=message):
            parse_shelf({**raw, "tracking": {"exit_zones": zones}}, tmp_path)
