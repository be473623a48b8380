"""The virtual cart's vocabulary.

Products, shelf lanes, settled shelf changes, anonymous track sightings, cart lines and
what the cart book says happened.

Plain values only (no I/O). The parts that use them:

- `core/catalogue.py` reads the catalogue (TOML or CSV text) into `Product`s.
- `core/lanes.py` turns one lane's raw weight readings (ESPHome load cells, grams) into
  settled `ShelfChange`s: picks, put-backs and anomalies; noise and slow drift make none.
- `core/tracks.py` turns Frigate-shaped tracker messages into `TrackSighting`s, keeping
  only the track id, camera, zones and time (no `sub_label`, snapshot or box, ever).
- `core/attribution.py` (the cart book) binds tracks to shopping sessions and attributes
  shelf changes to sessions, holding ambiguous picks for later evidence or review; it
  answers `Cart`s and says what happened as `CartNews`, which the shell publishes as
  access events (ids, SKUs and quantities only).

Every cart line names the shelf changes behind it (`CartLine.sources`), so checkout can
explain each charged item from the sensor events that made it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Product:
    """One catalogue entry."""

    sku: str
    name: str
    unit_price: int
    """In the currency's minor units (cents)."""
    currency: str
    """ISO 4217, upper case (``EUR``)."""
    tax_rate: Decimal
    """A fraction: ``Decimal("0.19")`` for 19 %."""
    unit_weight_g: float | None = None
    """One unit's weight in grams (a lane may give its own)."""


@dataclass(frozen=True, slots=True)
class LaneSpec:
    """One shelf lane: a load cell under one product, in one zone of the store."""

    id: str
    topic: str
    """The MQTT state topic of its weight sensor (``<node>/sensor/<name>/state``)."""
    sku: str
    zone: str
    """The tracker's zone in front of the lane (where a picking shopper stands)."""
    unit_weight_g: float
    tolerance_g: float
    """How far a change may be from a whole number of units and still count as one."""


class ShelfChangeKind(StrEnum):
    """What a settled change of a lane's weight was."""

    PICK = "pick"
    """Whole units left the shelf."""
    RETURN = "return"
    """Whole units came back."""
    ANOMALY = "anomaly"
    """Not a whole number of units (a foreign item, a resting hand): never guessed."""


@dataclass(frozen=True, slots=True)
class ShelfChange:
    """A settled change of one lane's weight."""

    id: str
    """The sensor event's id (cart lines cite it)."""
    lane: str
    sku: str
    zone: str
    kind: ShelfChangeKind
    quantity: int
    """Whole units picked or returned; 0 for an anomaly."""
    grams: float
    """The signed change (negative: weight left the shelf)."""
    began: datetime
    """When the reading first left its settled value (the moment of the hand)."""
    settled: datetime
    """When the new value had held long enough to count."""
    began_known: bool = True
    """False when the lane's readings paused for longer than `LaneTuning.gap_s` as the
    change began or before it settled: the hand's moment is not known (`began` is then the
    last reading before the pause, the earliest it can have been), so it is never
    attributed, only reviewed."""


class TrackPhase(StrEnum):
    """Where a track is in its life (Frigate's event ``type``)."""

    NEW = "new"
    UPDATE = "update"
    END = "end"


@dataclass(frozen=True, slots=True)
class TrackSighting:
    """One anonymous person track seen at a moment: nothing else is kept."""

    track: str
    camera: str
    zones: frozenset[str]
    at: datetime
    phase: TrackPhase


@dataclass(frozen=True, slots=True)
class CartLine:
    """One product in a session's cart."""

    sku: str
    name: str
    quantity: int
    unit_price: int
    """Minor units."""
    currency: str
    tax_rate: Decimal
    sources: tuple[str, ...]
    """The ids of the shelf changes (picks and put-backs) behind this line, in order."""

    @property
    def amount(self) -> int:
        """Quantity times unit price, in minor units."""
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class Cart:
    """A shopping session's cart as it stands."""

    visit: str
    lines: tuple[CartLine, ...] = ()
    held: int = 0
    """Picks possibly this session's that wait for evidence or review (not in `lines`)."""
    bound: bool = False
    """Whether at least one track is bound to the session."""

    @property
    def total(self) -> int:
        """The sum of the lines, in minor units."""
        return sum(line.amount for line in self.lines)


class NewsKind(StrEnum):
    """What the cart book says happened (the shell turns each into an access event)."""

    TRACK_BOUND = "track_bound"
    SESSION_UNBOUND = "session_unbound"
    ITEM_PICKED = "item_picked"
    ITEM_RETURNED = "item_returned"
    PICK_AMBIGUOUS = "pick_ambiguous"
    PICK_REVIEW = "pick_review"
    """An ambiguous pick went to the operator's review queue."""
    REVIEW_RESOLVED = "review_resolved"
    PICK_UNATTRIBUTED = "pick_unattributed"
    LANE_ANOMALY = "lane_anomaly"


@dataclass(frozen=True, slots=True)
class CartNews:
    """One thing that happened to a cart, the review queue or a lane."""

    kind: NewsKind
    at: datetime
    visit: str | None = None
    lane: str | None = None
    sku: str | None = None
    quantity: int = 0
    change: str | None = None
    """The shelf change's id, when one caused this."""
    candidates: int = 0
    """How many sessions could have made an ambiguous pick."""
    reason: str | None = None
    """A short code (``wrong_lane``, ``not_whole_units``, ``deadline`` …)."""
    review: str | None = None
    """The review's id, when the news is about one (``pick_review``, ``review_resolved``)."""


@dataclass(frozen=True, slots=True)
class Review:
    """An ambiguous pick waiting for an operator: which sessions could have made it."""

    id: str
    change: ShelfChange
    candidates: tuple[str, ...]
    """Visit ids."""
    since: datetime
    notes: tuple[str, ...] = field(default=())
