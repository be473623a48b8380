"""A ground-truth shop: simulated shoppers, shelf sensors and a person tracker, seeded.

What the bridge would hear from a real store, and what really happened there. Shoppers
arrive one after the other (about `ShopPlan.shoppers` in the store at once), check in at the
entry gate (a turnstile lets one through every `gate_gap_s`; crowded arrivals: no gap, or
`together` shoppers at once through gates side by side), walk from shelf to shelf, pick,
hesitate (lift an item and put it down again), put back, now and then put an item onto the
wrong lane or rest a hand on a shelf, crowd at one shelf, and leave. Some come as a party of
two (two tracks, one cart).

- The shelves: each lane is an ESPHome load cell publishing its weight in grams ten times a
  second on ``<node>/sensor/<lane>/state`` (plain text), with Gaussian noise, a rare
  single-reading spike, and items that weigh a little more or less than the catalogue says.
- The tracker: Frigate-shaped event messages (``new``/``update``/``end``, ``before`` and
  ``after`` with id, camera, label, current zones, frame time, and what the bridge must drop:
  ``sub_label`` — sometimes a face-recognition name —, boxes, scores, snapshots). With the
  glitches of real trackers: tracks lost for a few seconds and picked up under a new id, id
  switches, messages that arrive late, and messages that arrive twice.
- The truth: every item each shopper took and put back (`Truth`), to compare carts with.

Everything is decided by the seed: the same plan gives the same messages. Messages come in
the order they arrive (`Simulation.messages`, lazily: a run of ten thousand shoppers does
not sit in memory). Times are aware UTC datetimes; Frigate's ``frame_time`` is epoch seconds.
Used by `bench/bench_carts.py` (in-process, against the cart book) and by the demo (through
the bridge, `demo.py`).
"""

import heapq
import json
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from .core.cart_model import LaneSpec, Product

CAMERA: Final = "ceiling"
ENTRY_ZONE: Final = "entrance"
EXIT_ZONE: Final = "exit"
TICK_S: Final = 0.1
"""Each lane publishes a reading every tick (10 readings a second)."""
UNIT_WEIGHTS: Final = (115.0, 180.0, 245.0, 330.0, 355.0, 410.0, 520.0, 640.0, 775.0, 905.0)
"""No unit is a whole multiple of another: an item on the wrong lane is no whole number."""
FACE_NAMES: Final = ("Erika Mustermann", "John Doe", "Jane Roe")
"""Names a face-recognition tracker might put in `sub_label` (never to be kept)."""
START: Final = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
GATE_GAP_S: Final = 2.5
"""The entry turnstile lets the next shopper check in only after the one before passed."""
STOCK: Final = 80
"""Units on each lane at the start (a busy shelf is not emptied in a run)."""


@dataclass(frozen=True, slots=True)
class ShopPlan:
    """What to simulate (probabilities are per shopper or per action)."""

    shoppers: int = 5
    """About how many shoppers are in the store at once."""
    sessions: int | None = None
    """How many shoppers come in all (None: three times `shoppers`)."""
    lanes: int = 12
    lanes_per_zone: int = 2
    seed: int = 0
    stay_s: tuple[float, float] = (60.0, 240.0)
    stops: tuple[int, int] = (1, 4)
    """How many shelves a shopper stops at (one pick or more at each)."""
    hesitate: float = 0.15
    """An item lifted and put down again (briefly, or after a few seconds)."""
    put_back: float = 0.12
    """An item picked and put back into its lane a little later."""
    wrong_lane: float = 0.02
    """An item put down on another lane of the shelf instead of its own."""
    rest_hand: float = 0.03
    """A hand (or a bag) resting on a lane for a few seconds: no whole units."""
    crowd: float = 0.3
    """Shoppers who go to the busy shelf first (lane 0's zone)."""
    party_of_two: float = 0.1
    drop_track: float = 0.05
    """A track lost for 1.5-5 s and found again under a new id."""
    id_switch: float = 0.05
    """A track's id changing in place (a new id at once)."""
    late: float = 0.03
    """A tracker message arriving 1-4 s late."""
    duplicate: float = 0.03
    """A tracker message arriving twice."""
    face_name: float = 0.1
    """Tracks whose messages carry a face-recognition name in `sub_label`."""
    noise_g: float = 1.5
    spike: float = 0.001
    """A single reading far off (per reading)."""
    start: datetime = START
    first_arrival_s: float = 5.0
    """When the first shopper comes, after the start (the shelves have settled by then)."""
    gate_gap_s: float = GATE_GAP_S
    """The least time between two check-ins at the entry turnstile (0: crowded arrivals,
    shoppers check in back to back)."""
    together: int = 1
    """Shoppers checking in at the same moment, through as many entry gates side by side
    (one entrance zone in front of them all)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """A lane's weight sensor published a reading."""

    at: datetime
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class TrackerMessage:
    """The tracker published an event message (on ``frigate/events``)."""

    at: datetime
    payload: bytes


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A shopper passed the entry gate (the bridge opens a session)."""

    at: datetime
    shopper: str
    zone: str
    party: int


@dataclass(frozen=True, slots=True)
class CheckOut:
    """A shopper left through the exit (the bridge closes the session)."""

    at: datetime
    shopper: str


type Message = Reading | TrackerMessage | CheckIn | CheckOut


@dataclass(frozen=True, slots=True)
class Take:
    """A shopper took items from a lane (`quantity` > 0) or put them back (< 0)."""

    shopper: str
    lane: str
    sku: str
    quantity: int
    at: datetime


@dataclass(slots=True)
class Truth:
    """What really happened: each shopper's takes, in order."""

    takes: list[Take] = field(default_factory=list)
    shoppers: list[str] = field(default_factory=list)
    left_elsewhere: Counter[str] = field(default_factory=Counter)
    """Items put down on a wrong lane, by shopper (no longer theirs, not back in stock)."""
    hands: list[Take] = field(default_factory=list)
    """Every time a shopper's hand changed a lane's weight by whole units (lifted < 0, put
    down > 0), even for a moment (a hesitation) or on the wrong lane: what each shelf change
    can be traced to."""

    def hands_at(self, lane: str, at: datetime, within_s: float) -> list[Take]:
        """The hands at `lane` within `within_s` of `at`."""
        near = timedelta(seconds=within_s)
        return [h for h in self.hands if h.lane == lane and abs(h.at - at) <= near]

    def cart(self, shopper: str) -> Counter[str]:
        """What the shopper leaves with, by SKU."""
        held: Counter[str] = Counter()
        for take in self.takes:
            if take.shopper == shopper:
                held[take.sku] += take.quantity
        return +held

    def picked(self, shopper: str) -> Counter[str]:
        """Everything the shopper ever lifted from a shelf (put back or not), by SKU."""
        lifted: Counter[str] = Counter()
        for take in self.takes:
            if take.shopper == shopper and take.quantity > 0:
                lifted[take.sku] += take.quantity
        return lifted


@dataclass(frozen=True, slots=True)
class Shop:
    """The simulated store: its products and lanes, and the tracker's zones."""

    products: dict[str, Product]
    lanes: dict[str, LaneSpec]
    entry_zone: str = ENTRY_ZONE
    camera: str = CAMERA


@dataclass(slots=True)
class _Person:
    """One tracked body: where it stands when, and under which track ids."""

    zones: list[tuple[float, float, frozenset[str]]]
    """(from, to, zones) in seconds since the start, contiguous."""
    face: str | None = None


@dataclass(slots=True)
class _Shopper:
    name: str
    arrive: float
    leave: float
    party: int
    people: list[_Person]


def make_shop(plan: ShopPlan) -> Shop:
    """The store's catalogue and lanes (`plan.lanes` lanes, two per zone by default)."""
    rng = random.Random(f"{plan.seed}-shop")  # noqa: S311 - a simulation
    products: dict[str, Product] = {}
    lanes: dict[str, LaneSpec] = {}
    for index in range(plan.lanes):
        sku = f"SKU-{index:04d}"
        unit = UNIT_WEIGHTS[index % len(UNIT_WEIGHTS)]
        products[sku] = Product(
            sku=sku,
            name=f"Product {index}",
            unit_price=rng.randrange(49, 1000),
            currency="EUR",
            tax_rate=Decimal("0.07") if index % 3 else Decimal("0.19"),
            unit_weight_g=unit,
        )
        lane = f"lane-{index:03d}"
        lanes[lane] = LaneSpec(
            id=lane,
            topic=f"shelf-{index // 8:02d}/sensor/{lane.replace('-', '_')}/state",
            sku=sku,
            zone=_zone(index, plan),
            unit_weight_g=unit,
            tolerance_g=max(10.0, round(unit * 0.06, 1)),
        )
    return Shop(products=products, lanes=lanes)


def _zone(lane_index: int, plan: ShopPlan) -> str:
    return f"aisle_{lane_index // plan.lanes_per_zone + 1}"


class Simulation:
    """One seeded run: the shop, the messages in arrival order, and the truth."""

    def __init__(self, plan: ShopPlan) -> None:
        """Script every shopper (cheap); the messages are made as they are read."""
        self.plan = plan
        self.shop = make_shop(plan)
        self.truth = Truth()
        self._rng = random.Random(plan.seed)  # noqa: S311 - a simulation
        self._lane_list = list(self.shop.lanes.values())
        self._changes: dict[str, list[tuple[float, float, float]]] = {
            lane: [] for lane in self.shop.lanes
        }
        """Per lane: (start, grams, ramp seconds), in time order once scripted."""
        self._shoppers: list[_Shopper] = []
        self._script()
        for changes in self._changes.values():
            changes.sort()
        self.end_s = max((s.leave for s in self._shoppers), default=0.0) + 10.0
        self.end = self._time(self.end_s)

    def _time(self, seconds: float) -> datetime:
        return self.plan.start + timedelta(seconds=seconds)

    # --- scripting shoppers ------------------------------------------------------------

    def _script(self) -> None:
        plan, rng = self.plan, self._rng
        sessions = plan.sessions if plan.sessions is not None else 3 * plan.shoppers
        together = max(plan.together, 1)
        gap = together * (sum(plan.stay_s) / 2) / max(plan.shoppers, 1)
        arrive = plan.first_arrival_s
        for number in range(sessions):
            if number and not number % together:
                arrive += max(plan.gate_gap_s, rng.expovariate(1 / gap))
            self._shoppers.append(self._shopper(f"shopper-{number + 1:05d}", arrive))

    def _shopper(self, name: str, arrive: float) -> _Shopper:
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
        path: list[tuple[float, float, frozenset[str]]] = [
            (arrive - 2.0, passed, frozenset({ENTRY_ZONE}))
        ]
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
        people = [_Person(path, self._face())]
        if party == 2:  # noqa: PLR2004 - the companion walks half a second behind
            people.append(_Person([(a + 0.5, b + 0.5, z) for a, b, z in path], self._face()))
        return _Shopper(name, arrive, leave, party, people)

    def _face(self) -> str | None:
        return self._rng.choice(FACE_NAMES) if self._rng.random() < self.plan.face_name else None

    def _stop(
        self, name: str, zone: str, now: float, path: list[tuple[float, float, frozenset[str]]]
    ) -> float:
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

    # --- messages ------------------------------------------------------------------------

    def messages(self) -> Iterator[Message]:
        """Every message in the order it arrives, made as it is read."""
        rng = random.Random(f"{self.plan.seed}-messages")  # noqa: S311 - a simulation
        heap: list[tuple[float, int, Message]] = []
        seq = 0
        waiting = iter(self._shoppers)
        upcoming = next(waiting, None)
        lanes = self._lane_list
        weights = {lane.id: STOCK * lane.unit_weight_g + 150.0 for lane in lanes}
        done = dict.fromkeys(weights, 0)
        ramps: dict[str, list[tuple[float, float, float]]] = {lane.id: [] for lane in lanes}
        tick = 0
        while True:
            now = tick * TICK_S
            if now > self.end_s:
                break
            while upcoming is not None and upcoming.arrive - 3.0 <= now + TICK_S:
                for at, message in self._shopper_messages(upcoming, rng):
                    seq += 1
                    heapq.heappush(heap, (at, seq, message))
                upcoming = next(waiting, None)
            for index, lane in enumerate(lanes):
                at = now + (index % 10) * TICK_S / 10
                grams = self._weight(lane.id, at, weights, done, ramps)
                grams += rng.gauss(0.0, self.plan.noise_g)
                if rng.random() < self.plan.spike:
                    grams += rng.choice((-1, 1)) * rng.uniform(40.0, 120.0)
                seq += 1
                heapq.heappush(
                    heap, (at, seq, Reading(self._time(at), lane.topic, f"{grams:.1f}".encode()))
                )
            while heap and heap[0][0] < now + TICK_S:
                yield heapq.heappop(heap)[2]
            tick += 1
        while heap:
            yield heapq.heappop(heap)[2]

    def _weight(
        self,
        lane: str,
        at: float,
        weights: dict[str, float],
        done: dict[str, int],
        ramps: dict[str, list[tuple[float, float, float]]],
    ) -> float:
        """The lane's true weight at `at` (changes ramp over their few tenths of a second)."""
        changes = self._changes[lane]
        while done[lane] < len(changes) and changes[done[lane]][0] <= at:
            ramps[lane].append(changes[done[lane]])
            done[lane] += 1
        grams = weights[lane]
        active = ramps[lane]
        for change in list(active):
            start, delta, ramp = change
            if at >= start + ramp:
                weights[lane] += delta
                grams += delta
                active.remove(change)
            else:
                grams += delta * (at - start) / ramp
        return grams

    def _shopper_messages(
        self, shopper: _Shopper, rng: random.Random
    ) -> list[tuple[float, Message]]:
        """A shopper's check-in and check-out, and its people's tracker messages."""
        out: list[tuple[float, Message]] = [
            (shopper.arrive, CheckIn(self._time(shopper.arrive), shopper.name, ENTRY_ZONE,
                                     shopper.party)),
            (shopper.leave, CheckOut(self._time(shopper.leave), shopper.name)),
        ]  # fmt: skip
        for person in shopper.people:
            for frame, payload in self._track(person, rng):
                delivered = frame + rng.uniform(0.05, 0.3)
                if rng.random() < self.plan.late:
                    delivered += rng.uniform(1.0, 4.0)
                out.append((delivered, TrackerMessage(self._time(delivered), payload)))
                if rng.random() < self.plan.duplicate:
                    again = delivered + rng.uniform(0.0, 0.5)
                    out.append((again, TrackerMessage(self._time(again), payload)))
        return out

    def _track(self, person: _Person, rng: random.Random) -> list[tuple[float, bytes]]:
        """A person's Frigate messages: new, updates (each second, each zone change), end.

        The glitches split a person into several track ids.
        """
        begin, end = person.zones[0][0], person.zones[-1][1]
        cuts: list[tuple[float, float]] = []  # (lost at, found again at)
        if rng.random() < self.plan.drop_track:
            lost = rng.uniform(begin + 6.0, max(begin + 6.5, end - 8.0))
            cuts.append((lost, lost + rng.uniform(1.5, 5.0)))
        if rng.random() < self.plan.id_switch:
            switch = rng.uniform(begin + 6.0, max(begin + 6.5, end - 8.0))
            if all(not (a - 1.0 <= switch <= b + 1.0) for a, b in cuts):
                cuts.append((switch, switch + TICK_S))
        cuts.sort()
        spans: list[tuple[float, float]] = []
        start = begin
        for lost, found in cuts:
            spans.append((start, lost))
            start = found
        spans.append((start, end))
        messages: list[tuple[float, bytes]] = []
        for first, last in spans:
            track = f"{self.plan.start.timestamp() + first:.6f}-{rng.randrange(16**6):06x}"
            moments = sorted(
                {first, last}
                | {t for t, _, _ in person.zones if first < t < last}
                | {first + k for k in range(1, int(last - first) + 1) if first + k < last}
            )
            before: dict[str, object] | None = None
            for moment in moments:
                phase = "new" if moment == first else "end" if moment == last else "update"
                after = self._frigate(track, person, moment, first, rng)
                body = {"type": phase, "before": before or after, "after": after}
                messages.append((moment, json.dumps(body).encode()))
                before = after
        return messages

    def _frigate(
        self, track: str, person: _Person, moment: float, first: float, rng: random.Random
    ) -> dict[str, object]:
        """Frigate's `after` object, with what a tracker says and the bridge must drop."""
        zones = next((z for a, b, z in person.zones if a <= moment < b), person.zones[-1][2])
        x, y = rng.randrange(0, 1800), rng.randrange(0, 1000)
        return {
            "id": track,
            "camera": CAMERA,
            "frame_time": self.plan.start.timestamp() + moment,
            "snapshot": {"frame_time": self.plan.start.timestamp() + moment, "box": [x, y]},
            "label": "person",
            "sub_label": None if person.face is None else [person.face, 0.93],
            "top_score": 0.87,
            "false_positive": False,
            "start_time": self.plan.start.timestamp() + first,
            "end_time": None,
            "score": round(rng.uniform(0.7, 0.95), 2),
            "box": [x, y, x + 120, y + 310],
            "area": 37200,
            "region": [x - 40, y - 40, x + 280, y + 380],
            "stationary": False,
            "motionless_count": 0,
            "position_changes": 3,
            "current_zones": sorted(zones),
            "entered_zones": sorted(zones),
            "has_clip": True,
            "has_snapshot": True,
            "attributes": {"face": 0.81} if person.face else {},
            "current_attributes": [],
        }


def simulate(plan: ShopPlan) -> Simulation:
    """A seeded simulation of `plan`."""
    return Simulation(plan)
