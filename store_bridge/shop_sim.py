"""A ground-truth shop: simulated shoppers, shelf sensors and a person tracker, seeded.

What the bridge would hear from a real store, and what really happened there: the plan,
the shop, its messages and the truth are `shop_plan.py`'s; the shoppers are scripted by
`shop_script.py` (arrivals, paths, hands at the lanes; some come as a party of two: two
tracks, one cart); `shop_messages.py` makes what the load cells and the tracker say. This
file runs them: one seeded run, its messages in the order they arrive.

Everything is decided by the seed: the same plan gives the same messages. Messages come in
the order they arrive (`Simulation.messages`, lazily: a run of ten thousand shoppers does
not sit in memory). Times are aware UTC datetimes; Frigate's ``frame_time`` is epoch seconds.
Used by `bench/bench_carts.py` (in-process, against the cart book) and by the demo (through
the bridge, `demo_shelves.py`).
"""

import heapq
import random
from collections.abc import Iterator

from .shop_messages import LaneWeights, shopper_messages
from .shop_plan import TICK_S, Message, Reading, ShopPlan, Truth, make_shop
from .shop_script import script


class Simulation:
    """One seeded run: the shop, the messages in arrival order, and the truth."""

    def __init__(self, plan: ShopPlan) -> None:
        """Script every shopper (cheap); the messages are made as they are read."""
        self.plan = plan
        self.shop = make_shop(plan)
        self.truth = Truth()
        self._script = script(plan, self.shop, self.truth)
        self.end_s = max((s.leave for s in self._script.shoppers), default=0.0) + 10.0
        self.end = plan.time(self.end_s)

    def messages(self) -> Iterator[Message]:
        """Every message in the order it arrives, made as it is read."""
        plan = self.plan
        rng = random.Random(f"{plan.seed}-messages")  # noqa: S311 - a simulation
        heap: list[tuple[float, int, Message]] = []
        seq = 0
        waiting = iter(self._script.shoppers)
        upcoming = next(waiting, None)
        lanes = list(self.shop.lanes.values())
        weights = LaneWeights(lanes, self._script.changes)
        tick = 0
        while True:
            now = tick * TICK_S
            if now > self.end_s:
                break
            while upcoming is not None and upcoming.arrive - 3.0 <= now + TICK_S:
                for at, message in shopper_messages(upcoming, plan, rng):
                    seq += 1
                    heapq.heappush(heap, (at, seq, message))
                upcoming = next(waiting, None)
            for index, lane in enumerate(lanes):
                at = now + (index % 10) * TICK_S / 10
                grams = weights.at(lane.id, at)
                grams += rng.gauss(0.0, plan.noise_g)
                if rng.random() < plan.spike:
                    grams += rng.choice((-1, 1)) * rng.uniform(40.0, 120.0)
                seq += 1
                heapq.heappush(
                    heap, (at, seq, Reading(plan.time(at), lane.topic, f"{grams:.1f}".encode()))
                )
            while heap and heap[0][0] < now + TICK_S:
                yield heapq.heappop(heap)[2]
            tick += 1
        while heap:
            yield heapq.heappop(heap)[2]


def simulate(plan: ShopPlan) -> Simulation:
    """A seeded simulation of `plan`."""
    return Simulation(plan)
