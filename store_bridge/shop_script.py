"""The simulated shoppers, scripted: when each comes, where they walk, what their hands do.

Everything here is decided by the plan's seed, before any message is made: each shopper's
path through the tracker's zones (`Person.zones`, one per body: a party of two is two), the
lanes' weight changes their hands make (`Script.changes`) and what really happened
(`Truth`). Shoppers arrive one after the other (about `ShopPlan.shoppers` in the store at
once), check in at the entry gate (a turnstile lets one through every `gate_gap_s`; crowded
arrivals: no gap, or `together` shoppers at once through gates side by side), walk from
shelf to shelf, pick, hesitate (lift an item and put it down again), put back, now and then
put an item onto the wrong lane or rest a hand on a shelf, crowd at one shelf, and leave.
`shop_messages.py` turns the script into what the sensors and the tracker say.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime

from .core.cart_model import LaneSpec
from .shop_plan import ENTRY_ZONE, EXIT_ZONE, FACE_NAMES, Shop, ShopPlan, Take, Truth

type Path = list[tuple[float, float, frozenset[str]]]
"""(from, to, zones) in seconds since the start, contiguous."""


@dataclass(slots=True)
class Person:
    """One tracked body: where it stands when."""

    zones: Path
    face: str | None = None


@dataclass(slots=True)
class Shopper:
    """One shopper (or party): check-in, check-out and the people the tracker follows."""

    name: str
    arrive: float
    leave: float
    party: int
    people: list[Person]


@dataclass(slots=True)
class Script:
    """Every shopper, and each lane's weight changes."""

    shoppers: list[Shopper] = field(default_factory=list)
    changes: dict[str, list[tuple[float, float, float]]] = field(default_factory=dict)
    """Per lane: (start, grams, ramp seconds), in time order."""


def script(plan: ShopPlan, shop: Shop, truth: Truth) -> Script:
    """Script every shopper of `plan` in `shop`, writing what happens into `truth`."""
    writer = _Writer(plan, shop, truth)
    writer.run()
    for changes in writer.out.changes.values():
        changes.sort()
    return writer.out


class _Writer:
    def __init__(self, plan: ShopPlan, shop: Shop, truth: Truth) -> None:
        self.plan = plan
        self.truth = truth
        self._rng = random.Random(plan.seed)  # noqa: S311 - a simulation
        self._lane_list = list(shop.lanes.values())
        self.out = Script(changes={lane: [] for lane in shop.lanes})
        self._changes = self.out.changes

    def _time(self, seconds: float) -> datetime:
        return self.plan.time(seconds)

    def run(self) -> None:
        plan, rng = self.plan, self._rng
        sessions = plan.sessions if plan.sessions is not None else 3 * plan.shoppers
        together = max(plan.together, 1)
        gap = together * (sum(plan.stay_s) / 2) / max(plan.shoppers, 1)
        arrive = plan.first_arrival_s
        for number in range(sessions):
            if number and not number % together:
                arrive += max(plan.gate_gap_s, rng.expovariate(1 / gap))
            self.out.shoppers.append(self._shopper(f"shopper-{number + 1:05d}", arrive))

    def _shopper(self, name: str, arrive: float) -> Shopper:
        plan, rng = self.plan, self._rng
        self.truth.shoppers.append(name)
        zones = sorted({lane.zone for lane in self._lane_list})
        count = rng.randint(*plan.stops)
        stops = [rng.choice(zones) for _ in range(count)]
        if zones and rng.random() < plan.crowd:
            stops[0] = self._lane_list[0].zone
        budget = rng.uniform(*plan.stay_s)
        walk = max(2.0, budget / (3 * (count + 1)))
        passed = arrive + rng.uniform(0.8, 1.5)  # through the turnstile, out of its zone
        path: Path = [(arrive - 2.0, passed, frozenset({ENTRY_ZONE}))]
        now = passed
        for zone in stops:
            path.append((now, now + walk, frozenset()))
            now += walk
            now = self._stop(name, zone, now, path)
        path.append((now, now + walk, frozenset()))
        now += walk
        path.append((now, now + 2.5, frozenset({EXIT_ZONE})))
        leave = now + 2.0
        party = 2 if rng.random() < plan.party_of_two else 1
        people = [Person(path, self._face())]
        if party == 2:  # noqa: PLR2004 - the companion walks half a second behind
            people.append(Person([(a + 0.5, b + 0.5, z) for a, b, z in path], self._face()))
        return Shopper(name, arrive, leave, party, people)

    def _face(self) -> str | None:
        return self._rng.choice(FACE_NAMES) if self._rng.random() < self.plan.face_name else None

    def _stop(self, name: str, zone: str, now: float, path: Path) -> float:
        """Stand in front of a shelf: pick (and maybe hesitate, put back, misplace, rest)."""
        plan, rng = self.plan, self._rng
        lanes = [lane for lane in self._lane_list if lane.zone == zone]
        lane = rng.choice(lanes)
        t = now + rng.uniform(1.5, 3.0)
        quantity = 2 if rng.random() < 0.15 else 1  # noqa: PLR2004 - now and then two
        if rng.random() < plan.hesitate:
            lifted = rng.uniform(0.3, 0.6) if rng.random() < 0.5 else rng.uniform(3.0, 6.0)  # noqa: PLR2004
            self._change(lane, t, -1, name)
            self._change(lane, t + lifted, 1, name)
            if lifted > 1.0:
                self._take(name, lane, 1, t)
                self._take(name, lane, -1, t + lifted)
            t += lifted + rng.uniform(2.5, 4.0)
        self._change(lane, t, -quantity, name)
        self._take(name, lane, quantity, t)
        t += rng.uniform(3.0, 5.0)
        roll = rng.random()
        others = [other for other in lanes if other is not lane]
        if roll < plan.put_back:
            self._change(lane, t, 1, name)
            self._take(name, lane, -1, t)
            t += rng.uniform(2.5, 4.0)
        elif roll < plan.put_back + plan.wrong_lane and others:
            other = rng.choice(others)
            self._changes[other.id].append((t, lane.unit_weight_g * rng.uniform(0.99, 1.01), 0.3))
            self.truth.hands.append(Take(name, other.id, lane.sku, 1, self._time(t)))
            self.truth.left_elsewhere[name] += 1
            self._take(name, lane, -1, t)
            t += rng.uniform(2.5, 4.0)
        if rng.random() < plan.rest_hand:
            grams = rng.uniform(0.15, 0.4) * lane.unit_weight_g
            held = rng.uniform(2.5, 4.0)
            self._changes[lane.id].append((t, grams, 0.2))
            self._changes[lane.id].append((t + held, -grams, 0.2))
            t += held + rng.uniform(2.5, 4.0)
        path.append((now, t + 1.0, frozenset({zone})))
        return t + 1.0

    def _change(self, lane: LaneSpec, at: float, units: int, who: str) -> None:
        """Units leave (`units` < 0) or come back; each item weighs within 1 % of its unit."""
        self.truth.hands.append(Take(who, lane.id, lane.sku, units, self._time(at)))
        grams = sum(lane.unit_weight_g * self._rng.uniform(0.99, 1.01) for _ in range(abs(units)))
        self._changes[lane.id].append((at, grams if units > 0 else -grams, 0.3))

    def _take(self, name: str, lane: LaneSpec, quantity: int, at: float) -> None:
        self.truth.takes.append(Take(name, lane.id, lane.sku, quantity, self._time(at)))
