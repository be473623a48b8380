"""The demo's shelves and person tracker: a seeded shop simulation, played in real time.

`store-bridge demo` runs the bridge with shelf lanes (load cells under a dozen products, two
per zone) and a person tracker, both simulated by `shop_sim`: ESPHome-style weight readings
ten times a second per lane and Frigate-style track messages go straight into the bridge's
cart entry points (`Carts.on_lane_message`, `Carts.on_tracker_message`, which the MQTT feed
calls in production), at the moments the simulation gives them. Its shoppers check in at
their own entry gate (`SHELF_GATE`, whose tracker zone is the simulation's entrance) with the
app's QR code, through the real HTTP API, and leave through the exit with their anonymous
track: the carts fill on the status page, ambiguous picks wait in the review queue, a hand
on a shelf is an anomaly. The simulation runs at the speed of the physical world whatever
`--speed` says (a lane settles in a second of real time).
"""

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from .carts import Carts
from .demo_walkers import GATE_ZONE
from .shelf_config import ShelfConfig
from .shop_plan import EXIT_ZONE, CheckIn, CheckOut, Reading, ShopPlan, TrackerMessage, make_shop
from .shop_sim import Simulation

FIRST_GATE = "entry_1"
"""The entry gate the other shoppers use (tracked too: `demo_walkers.py`)."""
SHELF_GATE = "entry_2"
"""The entry gate the tracked shoppers use (its tracker zone is the entrance)."""

DEMO_PLAN = ShopPlan(shoppers=4, sessions=5_000, lanes=12, first_arrival_s=3.0, stay_s=(25.0, 90.0))
"""A small shop: four shoppers at a time, twelve lanes in six zones; quick shoppers, so that
the first carts are charged within a minute or two of the demo's start."""

type Enter = Callable[[int], Awaitable[str | None]]
"""Check a party of n in at `SHELF_GATE`; the anonymous track to leave with, or None."""
type Leave = Callable[[str], Awaitable[object]]
"""Leave through the exit with that track."""


def demo_shelf(plan: ShopPlan = DEMO_PLAN) -> ShelfConfig:
    """The demo store's shelves: the simulated shop's catalogue and lanes."""
    shop = make_shop(plan)
    return ShelfConfig(
        products=shop.products,
        lanes=shop.lanes,
        entry_zones={SHELF_GATE: shop.entry_zone, FIRST_GATE: GATE_ZONE},
        exit_zones=frozenset({EXIT_ZONE}),
    )


def demo_simulation(seed: int | None, plan: ShopPlan = DEMO_PLAN) -> Simulation:
    """The shop's simulation, starting now (its times are the bridge's)."""
    return Simulation(replace(plan, seed=seed or 0, start=datetime.now(UTC)))


async def play(
    carts: Carts,
    sim: Simulation,
    enter: Enter,
    leave: Leave,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Hand the simulation's messages to the bridge as they fall due (until cancelled)."""
    started = clock()
    tracks: dict[str, asyncio.Task[str | None]] = {}
    tasks: set[asyncio.Task[object]] = set()

    def _spawn(job: Awaitable[object]) -> asyncio.Task[object]:
        task: asyncio.Task[object] = asyncio.ensure_future(job)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    async def _leave(shopper: str) -> None:
        entered = tracks.pop(shopper, None)
        track = None if entered is None else await entered
        if track is not None:
            await leave(track)

    try:
        for message in sim.messages():
            due = (message.at - sim.plan.start).total_seconds() - (clock() - started)
            if due > 0.01:  # noqa: PLR2004 - a hundredth of a second is close enough
                await asyncio.sleep(due)
            if isinstance(message, CheckIn):
                tracks[message.shopper] = asyncio.ensure_future(enter(message.party))
            elif isinstance(message, CheckOut):
                _spawn(_leave(message.shopper))
            else:
                _feed(carts, message)
    finally:
        pending = [*tasks, *tracks.values()]
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def _feed(carts: Carts, message: Reading | TrackerMessage) -> None:
    """A shelf reading or a tracker message, as the MQTT feed hands them over."""
    if isinstance(message, Reading):
        carts.on_lane_message(message.topic, message.payload, message.at)
    else:
        carts.on_tracker_message(message.payload)
