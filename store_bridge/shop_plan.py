"""The simulated shop's terms: what to simulate, the shop, its messages and the truth.

`ShopPlan` says what a seeded run plays (how many shoppers, how often they hesitate, how
glitchy the tracker is, …); `make_shop` gives the store's catalogue and lanes; `Reading`,
`TrackerMessage`, `CheckIn` and `CheckOut` are what the bridge would hear; `Truth` is what
really happened, to compare carts with. The run itself is `shop_sim.Simulation`; the shoppers
are scripted in `shop_script.py`, their messages made in `shop_messages.py`.
"""

import random
from collections import Counter
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

    def time(self, seconds: float) -> datetime:
        """The moment `seconds` after the start."""
        return self.start + timedelta(seconds=seconds)


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
            zone=f"aisle_{index // plan.lanes_per_zone + 1}",
            unit_weight_g=unit,
            tolerance_g=max(10.0, round(unit * 0.06, 1)),
        )
    return Shop(products=products, lanes=lanes)
