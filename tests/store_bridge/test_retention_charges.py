"""Retention in a store that charges carts: a cart is not purged before its checkout took it."""

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from store_bridge import retention
from store_bridge.fake_processor import FakeProcessor

from .cart_shop import Shop
from .test_checkout_setup import charged

__all__ = ["charged"]


def _sql(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        return db.execute(sql, args).fetchall()


def _old_visit(path: Path, visit: str, *, cart: bool) -> None:
    """A visit that ended long ago (past any retention), with a closed cart not taken."""
    _sql(
        path,
        "INSERT INTO sessions (visit_id, track_id, source, entry_gate, party, entered, account, "
        "state, exit_gate, left_at, ended) VALUES (?, ?, 'store_app', 'entry_1', 1, "
        "'2020-01-01T00:00:00+00:00', 'acct-old', 'left', 'exit_1', "
        "'2020-01-01T00:10:00+00:00', 1577837400)",
        visit,
        f"track-{visit}",
    )
    if cart:
        _sql(
            path,
            "INSERT INTO carts (visit, lines, held, bound, updated, closed, final) "
            "VALUES (?, '[]', 0, 1, 1577837400, 1577837400, 0)",
            visit,
        )


async def test_a_cart_not_taken_by_the_checkout_outlives_the_retention(
    charged: tuple[Shop, FakeProcessor, list[str]],
) -> None:
    shop, _, visits = charged
    assert shop.bridge.checkout is not None
    await shop.bridge.checkout.stop()  # configured, but not taking carts now (as when down)
    _old_visit(shop.path, "old-unpaid", cart=True)
    _old_visit(shop.path, "old-no-cart", cart=False)
    _sql(shop.path, "UPDATE sessions SET ended = 1577837400 WHERE visit_id = ?", visits[0])
    _sql(shop.path, "UPDATE carts SET closed = 1577837400 WHERE visit = ?", visits[0])

    purged = await shop.bridge.purge()  # the bridge's own purge: it has a checkout

    sessions = {v for (v,) in _sql(shop.path, "SELECT visit_id FROM sessions")}
    carts = {v for (v,) in _sql(shop.path, "SELECT visit FROM carts")}
    assert "old-unpaid" in sessions  # still to be charged: kept, with its account
    assert "old-unpaid" in carts
    assert "old-no-cart" not in sessions  # nothing to charge: purged
    assert visits[0] not in sessions  # charged: purged with its cart
    assert visits[0] not in carts
    assert purged.sessions == 2


async def test_without_a_checkout_closed_carts_leave_with_the_retention(
    charged: tuple[Shop, FakeProcessor, list[str]],
) -> None:
    shop, _, _ = charged
    assert shop.bridge.checkout is not None
    await shop.bridge.checkout.stop()  # the cart stays untaken
    _old_visit(shop.path, "old-unpaid", cart=True)
    now = shop.clock.now
    await retention.purge(shop.bridge.db, retention.due(now, 90))  # a store without payments
    assert _sql(shop.path, "SELECT count(*) FROM sessions WHERE visit_id = 'old-unpaid'") == [(0,)]
    assert _sql(shop.path, "SELECT count(*) FROM carts WHERE visit = 'old-unpaid'") == [(0,)]
