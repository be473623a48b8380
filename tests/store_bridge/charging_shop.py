"""The cart tests' shop (`cart_shop.py`) with its checkout running, and shoppers who pay.

A real bridge with a real SQLite file and API; the runner is the bridge's own
`CheckoutRunner` with the test's short waits, charging through the processor the test gives
it (the embedded `FakeProcessor`, or the real `StripeProcessor` against localstripe). A
shopper walks in (the app's QR code or a card), takes cans of cola and leaves by the exit
gate, as the shelf and the tracker report it.
"""

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from store_bridge.checkout_runner import CheckoutRunner, CheckoutSettings
from store_bridge.checkout_status import CheckoutStatus
from store_bridge.core.checkout import RetryPolicy
from store_bridge.payments import Processor
from store_bridge.shelf_config import ShelfConfig

from ..waiting import until
from .cart_shop import CHIPS_TOPIC, COLA_TOPIC, Clock, Shop, start_shop, stop_shop
from .conftest import Operator

UNIT = 355.0
"""A can of cola's weight in grams."""
CUSTOMER = "cus_rigShopper01"
ACCOUNT = "acct-7f3a"
PAYMENTS = frozenset(
    {"checkout_started", "payment_captured", "payment_failed", "hold_released", "refund_issued"}
)


async def attach(shop: Shop, processor: Processor, *, status: bool = True) -> CheckoutRunner:
    """Start the shop's checkout through `processor` (and its status, unless `status` False)."""
    runner = CheckoutRunner(
        shop.bridge.ledger,
        processor,
        CheckoutSettings(settle_s=5, review_deadline_s=60, poll_s=0.05),
        policy=RetryPolicy(base_s=0.05, cap_s=0.2),
    )
    shop.bridge.checkout = runner
    if status:
        shown = CheckoutStatus(
            shop.bridge.db,
            runner,
            shop.bridge.ledger.wake_publisher,
            shop.bridge.clock,
            min_interval_s=0.02,
        )
        shop.bridge.checkout_status = shown
    await runner.start()
    if status:
        await shown.start()
    return runner


@asynccontextmanager
async def stocked_shop(
    path: Path,
    operator: Operator,
    shelf: ShelfConfig | None = None,
    *,
    chips: bool = True,
    before_stock: Callable[[Shop], Awaitable[object]] | None = None,
) -> AsyncIterator[Shop]:
    """A shop on `path` with 10 cans of cola (and 5 bags of crisps, unless `chips` False).

    `before_stock` (say, starting its checkout) is done first, before the shelf reports.
    """
    shop = await start_shop(path, operator, Clock(), shelf)
    try:
        if before_stock is not None:
            await before_stock(shop)
        shop.shelf.stock(COLA_TOPIC, 10, UNIT)
        if chips:
            shop.shelf.stock(CHIPS_TOPIC, 5, 160.0)
        shop.shelf.walk(2)
        yield shop
    finally:
        await stop_shop(shop)


@dataclass
class Premises:
    """Where a shop outlives its restarts: its SQLite file and its clock."""

    path: Path
    operator: Operator
    clock: Clock = field(default_factory=Clock)

    async def open[P: Processor](self, processor: P) -> tuple[Shop, P]:
        """The shop charging through `processor`, with 10 cans of cola; the caller stops it."""
        shop = await start_shop(self.path, self.operator, self.clock)
        await attach(shop, processor)
        shop.shelf.stock(COLA_TOPIC, 10, UNIT)
        shop.shelf.walk(2)
        return shop, processor

    @asynccontextmanager
    async def reopened(self, processor: Processor) -> AsyncIterator[tuple[Shop, CheckoutRunner]]:
        """The shop started again, charging through `processor`: it and its runner."""
        shop = await start_shop(self.path, self.operator, self.clock)
        try:
            yield shop, await attach(shop, processor)
        finally:
            await stop_shop(shop)


async def payment_failed(shop: Shop, visit: str, reason: str, amount: int) -> dict[str, Any]:
    """The settle time passes, `visit`'s payment of `amount` fails for `reason` and the
    status counts it: the status's `checkout`."""
    settle_time(shop)
    events = await until(
        "the payment fails", lambda: payment_events(shop), want=lambda e: len(e) == 2
    )
    assert events[1] == ("payment_failed", visit, reason, {"amount": amount, "currency": "EUR"})
    counted: dict[str, Any] = await until(
        "the status counts the failure",
        lambda: checkout_status(shop),
        want=lambda c: c["failed"] == 1,
    )
    return counted


def sql(path: Path, query: str, *args: Any) -> list[tuple[Any, ...]]:
    """The rows `query` reads from the bridge's SQLite file at `path`."""
    with closing(sqlite3.connect(path)) as db:
        return db.execute(query, args).fetchall()


@asynccontextmanager
async def charging_shop[P: Processor](
    path: Path,
    operator: Operator,
    processor: P,
    shelf: ShelfConfig | None = None,
    *,
    chips: bool = True,
) -> AsyncIterator[tuple[Shop, P]]:
    """A stocked shop on `path` (`stocked_shop`) charging through `processor`."""
    async with stocked_shop(
        path, operator, shelf, chips=chips, before_stock=lambda shop: attach(shop, processor)
    ) as shop:
        yield shop, processor


async def walk_in(
    shop: Shop,
    track: str,
    *,
    card: str | None = None,
    path: str = "/v1/gates/entry_1/check-in",
    **claims: Any,
) -> str:
    """`track` comes to the entry and checks in at `path`: the visit.

    With the app's QR code (its `claims` added), or with `card` (the processor's reference).
    """
    shop.shelf.enter(track, ["entrance"])
    shop.shelf.walk(0.5)
    if card is None:
        body = {"qr": shop.operator.qr(now=shop.clock.now.timestamp(), **claims)}
    else:
        body = {"card_token": card}
    status, answer = await shop.post(path, body)
    assert status == 200, answer
    shop.shelf.walk(0.5)
    return str(answer["visit"])


def take_cans(shop: Shop, track: str, cans: int) -> None:
    """`track` walks to the drinks and takes `cans` cans of cola (0: takes nothing)."""
    shop.shelf.move(track, ["aisle_drinks"])
    shop.shelf.walk(2)
    shop.shelf.walk(2, {COLA_TOPIC: shop.shelf.weights[COLA_TOPIC] - cans * UNIT})
    shop.settle()


async def leave_by_the_gate(shop: Shop, track: str, visit: str) -> None:
    """The exit gate lets `visit` out, and `track` leaves the store."""
    status, _ = await shop.post("/v1/gates/exit_1/exit", {"visit": visit})
    assert status == 200
    shop.shelf.leave(track)
    shop.settle()


async def shop_and_leave(shop: Shop, track: str, cans: int, **claims: Any) -> str:
    """`track` checks in with the app, takes `cans` cans of cola, leaves: the visit."""
    visit = await walk_in(shop, track, **claims)
    take_cans(shop, track, cans)
    await leave_by_the_gate(shop, track, visit)
    return visit


async def checkout_status(shop: Shop) -> dict[str, Any]:
    """The `checkout` object of the bridge's `/v1/status`."""
    status, body = await shop.get("/v1/status")
    assert status == 200
    return dict(body["checkout"])


def payment_events(shop: Shop) -> list[tuple[str, str | None, str | None, dict[str, Any]]]:
    """The payment events the bridge published: (type, visit, reason, data)."""
    return [
        (e["type"], e["visit"], e["reason"], e["data"])
        for e in shop.outbox()
        if e["type"] in PAYMENTS
    ]


def settle_time(shop: Shop) -> None:
    """The settle time for late shelf messages passes; the runner looks at once."""
    shop.clock.advance(6)
    assert shop.bridge.checkout is not None
    shop.bridge.checkout.wake()


async def charged(shop: Shop, track: str = "frigate-a", cans: int = 2) -> str:
    """An app shopper takes `cans` cans and leaves; their cart is charged: the visit."""
    visit = await shop_and_leave(shop, track, cans, cus=CUSTOMER)
    settle_time(shop)
    await until(
        "the cart is charged",
        lambda: [e[0] for e in payment_events(shop) if e[1] == visit],
        want=lambda kinds: "payment_captured" in kinds,
    )
    return visit
