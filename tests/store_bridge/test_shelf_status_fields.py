"""The shelf's part of the status: sessions closed after the longest stay, the tracker clock.

An operator reads both on the status page and in the retained status (`shelf.abandoned`,
`shelf.tracker_offset_s`); both validate against the status schema and Home Assistant's
parser takes the status as it is.
"""

import json

from custom_components.concierge.core.stores import StoreStatus, parse_status
from store_bridge.core.attribution import AttributionTuning

from .cart_shop import COLA_TOPIC, Shop
from .conftest import SITE
from .test_cart_shell_faults import UNIT, ShopFactory, make_shop, skewed
from .test_contract import STATUS

__all__ = ["make_shop"]  # the fixture


async def _page(shop: Shop) -> str:
    return await (await shop.client.get("/")).text()


async def test_a_tracker_clock_ahead_is_shown_with_the_seconds_its_times_are_moved(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop()
    assert shop.bridge.status()["shelf"]["tracker_offset_s"] is None
    assert "Tracker clock: used as it is (no correction)" in await _page(shop)
    skewed(shop, 5.0)
    await shop.check_in("frigate-a")
    shop.shelf.walk(2)
    status = shop.bridge.status()
    STATUS.validate(status)
    assert status["shelf"]["tracker_offset_s"] == -5
    page = await _page(shop)
    assert "Tracker clock 5 seconds ahead of the bridge's: its times are moved by -5 s" in page
    assert "no correction" not in page
    read = parse_status(json.dumps(status), SITE)
    assert isinstance(read, StoreStatus)
    assert read.shelf is not None


async def test_a_tracker_clock_in_step_is_no_correction(make_shop: ShopFactory) -> None:
    shop = await make_shop()
    skewed(shop, 0.3)  # within the half second a delivery may take
    await shop.check_in("frigate-a")
    shop.shelf.walk(2)
    assert shop.bridge.status()["shelf"]["tracker_offset_s"] is None


async def test_a_session_closed_after_the_longest_stay_is_counted_in_the_status_and_page(
    make_shop: ShopFactory,
) -> None:
    shop = await make_shop(tuning=AttributionTuning(max_session_s=120.0))
    assert shop.bridge.status()["shelf"]["abandoned"] == 0
    await shop.check_in("frigate-a")
    shop.shelf.move("frigate-a", ["aisle_drinks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {COLA_TOPIC: 9 * UNIT})
    shop.settle()
    shop.shelf.leave("frigate-a")  # out through an exit that could not tell who it was
    shop.shelf.walk(120)
    shop.carts.tick(shop.clock.now)
    status = shop.bridge.status()
    STATUS.validate(status)
    assert status["shelf"]["abandoned"] == 1
    read = parse_status(json.dumps(status), SITE)
    assert isinstance(read, StoreStatus)
    assert read.shelf is not None
    assert read.shelf.abandoned == 1
    assert "sessions closed after the longest stay, not charged 1" in await _page(shop)
