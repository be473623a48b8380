"""A checkout's writes (`checkout_commits.py`): a start the database refuses.

A real bridge with a real SQLite file (`cart_shop.py`) and the embedded processor; what a
shopper or operator would notice: whether and how often the cart is charged, what is logged.
"""

import logging
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import PaymentState

from ..waiting import until
from .cart_shop import Shop
from .charging_fixtures import shop_without_chips
from .charging_shop import CUSTOMER, payment_events, settle_time, shop_and_leave

__all__ = ["shop_without_chips"]  # the `shop` fixture


def _sql(path: Path, sql: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute(sql)
        db.commit()


def _captured(processor: FakeProcessor) -> list[int]:
    return [p.captured for p in processor.payments.values() if p.state is PaymentState.CAPTURED]


def _started(store: Shop, visit: str) -> int:
    return sum(1 for e in payment_events(store) if e[:2] == ("checkout_started", visit))


async def test_a_cart_the_database_will_not_start_is_charged_once_it_does(
    shop: tuple[Shop, FakeProcessor], caplog: pytest.LogCaptureFixture
) -> None:
    store, processor = shop
    _sql(  # the database refuses a new checkout (as a full or broken disk would)
        store.path,
        "CREATE TRIGGER refuse BEFORE INSERT ON checkouts BEGIN SELECT RAISE(ABORT, 'no'); END",
    )
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    with caplog.at_level(logging.WARNING, logger="store_bridge.checkout_runner"):
        settle_time(store)
        await until("the start is refused", lambda: "Final carts cannot be read" in caplog.text)
    assert processor.payments == {}  # nothing asked of the processor
    assert _started(store, visit) == 0

    _sql(store.path, "DROP TRIGGER refuse")
    await until("the cart is charged", lambda: _captured(processor), want=lambda c: c == [129])
    runner = store.bridge.checkout
    assert runner is not None
    await runner.settled()
    assert _captured(processor) == [129]
    assert _started(store, visit) == 1
