"""A refund still uncertain an hour after it was asked for is counted apart: the operator is told.

The bridge goes on looking such a refund up by itself; the status' `refunds_stuck` counts
the ones asked for more than `STUCK_AFTER` ago and still not known (the processor never
settles it, or its lookups keep failing), so that Home Assistant can raise a repair. The
bridge with a real SQLite file and the embedded processor; the bridge's clock is the test's.
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from custom_components.concierge.core.stores import StoreStatus, parse_status
from store_bridge.core.refund import STUCK_AFTER
from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import ListedRefund, Unavailable

from ..waiting import until
from .cart_shop import COLA_TOPIC, Clock, Shop, start_shop, stop_shop
from .charging_shop import (
    UNIT,
    attach,
    charged,
    checkout_status,
)
from .conftest import SITE, Operator

ROOT = Path(__file__).resolve().parents[2]
STATUS = Draft202012Validator(
    json.loads((ROOT / "schema" / "store-status.v1.schema.json").read_text(encoding="utf-8")),
    format_checker=FormatChecker(),
)


@dataclass
class Unlistable(FakeProcessor):
    """The embedded processor, whose refund lists cannot be had while `lists_fail`."""

    lists_fail: bool = False
    lists_refused: int = 0

    async def list_refunds(self, payment: str) -> list[ListedRefund] | Unavailable:
        """Unavailable while `lists_fail` (counted), else the embedded processor's answer."""
        if self.lists_fail:
            self.lists_refused += 1
            return Unavailable("unreachable")
        return await super().list_refunds(payment)


@pytest.fixture
async def store(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[tuple[Shop, Unlistable]]:
    shop = await start_shop(tmp_path / "bridge.sqlite3", operator, Clock())
    processor = Unlistable()
    await attach(shop, processor)
    shop.shelf.stock(COLA_TOPIC, 10, UNIT)
    shop.shelf.walk(2)
    try:
        yield shop, processor
    finally:
        await stop_shop(shop)


def _published(shop: Shop) -> dict[str, Any]:
    """The retained status as the bridge publishes it, checked as Home Assistant reads it."""
    status = shop.bridge.status()
    STATUS.validate(status)
    read = parse_status(json.dumps(status), SITE)
    assert isinstance(read, StoreStatus)
    assert read.checkout is not None
    assert read.checkout.refunds_stuck == status["checkout"]["refunds_stuck"]
    return dict(status["checkout"])


@pytest.mark.parametrize("why", ["lookups_keep_failing", "pending_at_the_processor"])
async def test_a_refund_uncertain_past_the_bound_is_counted_stuck_until_it_is_known(
    store: tuple[Shop, Unlistable], why: str
) -> None:
    shop, processor = store
    visit = await charged(shop)
    if why == "lookups_keep_failing":  # made, its answer lost, and it cannot be looked up
        processor.lose_answers(1)
        processor.lists_fail = True
    else:  # made, and the processor keeps saying it is pending
        processor.refunds_end("pending")

    status, answer = await shop.post(f"/v1/visits/{visit}/refund", {"amount": 129})
    assert (status, answer["phase"]) == (202, "uncertain")
    await until(
        "the refund is counted uncertain, not stuck",
        lambda: checkout_status(shop),
        want=lambda c: (c["refunds_uncertain"], c["refunds_stuck"]) == (1, 0),
    )

    # A second short of the bound it is not stuck yet.
    shown = shop.bridge.checkout_status
    assert shown is not None
    shop.clock.advance(STUCK_AFTER.total_seconds() - 1)
    await shown.refresh()
    assert (shown.current or {})["refunds_stuck"] == 0

    # Past it, the status says so (the bridge republishes on its own).
    shop.clock.advance(2)
    stuck = await until(
        "the status counts the refund stuck",
        lambda: checkout_status(shop),
        want=lambda c: c["refunds_stuck"] == 1,
    )
    assert stuck["refunds_uncertain"] == 1
    assert _published(shop)["refunds_stuck"] == 1
    # The bridge did not give up: it still looks the refund up.
    if why == "lookups_keep_failing":
        looked = processor.lists_refused
        await until("the bridge looks again", lambda: processor.lists_refused > looked)
        processor.lists_fail = False  # the processor can be reached again
    else:
        (refund,) = processor.refunds
        processor.settle_refund(refund)

    settled = await until(
        "the refund is known: neither uncertain nor stuck",
        lambda: checkout_status(shop),
        want=lambda c: (c["refunds_uncertain"], c["refunds_stuck"]) == (0, 0),
    )
    assert settled["sales_today"]["refunded"] == 129
    assert len(processor.refunds) == 1  # looked up, never sent twice
    assert _published(shop)["refunds_stuck"] == 0
