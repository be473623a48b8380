"""The shelves' part of the configuration: lanes, the catalogue and the tracker.

Example (`store.toml`, next to the rest of `config.py`'s example)::

    [catalogue]
    file = "catalogue.toml"       # or a .csv with the same field names (core/catalogue.py)

    [[lanes]]                     # one load cell under one product
    id = "lane_cola"
    topic = "shelf-1/sensor/lane_cola/state"   # the ESPHome node's state topic (grams)
    sku = "4006381333931"
    zone = "aisle_drinks"         # the tracker's zone in front of the lane
    unit_weight_g = 355.0         # optional: else the catalogue's unit weight
    tolerance_g = 12.0            # optional: how far from whole units still counts

    [shelf]                       # optional: how lanes settle (core/lanes.py LaneTuning)
    stale_after_s = 60

    [tracking]                    # optional
    topic = "frigate/events"      # Frigate's (or any tracker's) event topic
    cameras = ["store_ceiling"]   # optional: only these cameras' tracks count
    exit_zones = ["exit"]         # optional: zones in front of the exits (core/exit_zones.py)
    tolerance_s = 2.0             # and the other keys of core/attribution.py AttributionTuning

Entry gates may name the tracker's zone in front of them (`zone = "entrance"` in their
`[[gates]]` table): a session is bound to the track that stands there when the gate opens.
Every problem is a `ConfigError` naming the key (``lanes[2].topic: ...``).
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .core.attribution import AttributionTuning
from .core.cart_model import LaneSpec, Product
from .core.catalogue import CatalogueError, lane_specs, parse_catalogue
from .core.lanes import LaneTuning, check_lane

DEFAULT_TRACKER_TOPIC: Final = "frigate/events"
MAX_TOPIC: Final = 256


class ShelfConfigError(ValueError):
    """A shelf key cannot be used (`config.py` reports it as `ConfigError`)."""


@dataclass(frozen=True, slots=True)
class ShelfConfig:
    """The shelves, their products and the tracker, checked."""

    products: Mapping[str, Product]
    lanes: Mapping[str, LaneSpec]
    """By lane id."""
    lane_tuning: LaneTuning = field(default_factory=LaneTuning)
    tracker_topic: str = DEFAULT_TRACKER_TOPIC
    cameras: frozenset[str] | None = None
    """Only these cameras' tracks count (None: every camera)."""
    tuning: AttributionTuning = field(default_factory=AttributionTuning)
    entry_zones: Mapping[str, str] = field(default_factory=dict)
    """Entry gate id → the tracker's zone in front of it (else the gate's id is the zone)."""
    exit_zones: frozenset[str] = frozenset()
    """The tracker's zones in front of the exits: a session whose tracks all leave through
    one is closed there, as at the exit gate (`core/exit_zones.py`; none: only the gate)."""


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ShelfConfigError(f"{where}.{key}: must be a non-empty text")
    return value


def _topic(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_TOPIC
        or any(c in value for c in "#+\x00")
    ):
        raise ShelfConfigError(f"{where}.{key}: must be an MQTT topic without wildcards")
    return value


def _positive(table: Mapping[str, Any], key: str, where: str) -> float | None:
    value = table.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e9:  # noqa: PLR2004
        raise ShelfConfigError(f"{where}.{key}: must be a number above 0")
    return float(value)


def _tuning[T](cls: type[T], table: Mapping[str, Any], where: str, skip: frozenset[str]) -> T:
    """A tuning dataclass with the table's numbers in place of its defaults."""
    known = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key in table:
        if key in skip:
            continue
        if key not in known:
            names = ", ".join(sorted({*known, *skip}))
            raise ShelfConfigError(f"{where}.{key}: unknown key (known: {names})")
        number = _positive(table, key, where)
        assert number is not None  # noqa: S101 - the key is in the table
        if isinstance(getattr(cls(), key), int):
            if not number.is_integer():
                raise ShelfConfigError(f"{where}.{key}: must be a whole number")
            values[key] = int(number)
        else:
            values[key] = number
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:  # pragma: no cover - checked above; the tuning too
        raise ShelfConfigError(f"{where}: {err}") from None


def _catalogue(table: object, base: Path) -> dict[str, Product]:
    if not isinstance(table, dict):
        raise ShelfConfigError("[catalogue]: the table is missing (file = ...)")
    path = base / _text(table, "file", "catalogue")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ShelfConfigError(f"catalogue.file: cannot read {path} ({err.strerror})") from None
    except UnicodeDecodeError:
        raise ShelfConfigError(f"catalogue.file: {path} is not UTF-8 text") from None
    kind = "csv" if path.suffix.lower() == ".csv" else "toml"
    try:
        return parse_catalogue(text, kind)
    except CatalogueError as err:
        raise ShelfConfigError(f"catalogue.file: {path.name}: {err}") from None


def _tracker(
    tracking: Mapping[str, Any], lane_topics: set[str]
) -> tuple[str, frozenset[str] | None]:
    topic = _topic(tracking, "topic", "tracking", DEFAULT_TRACKER_TOPIC)
    if topic in lane_topics:
        raise ShelfConfigError("tracking.topic: a lane uses the same topic")
    cameras = tracking.get("cameras")
    if cameras is None:
        return topic, None
    if (
        not isinstance(cameras, list)
        or not cameras
        or not all(isinstance(c, str) and c for c in cameras)
    ):
        raise ShelfConfigError("tracking.cameras: must be a list of camera names")
    return topic, frozenset(cameras)


def _exit_zones(tracking: Mapping[str, Any], lanes: Mapping[str, LaneSpec]) -> frozenset[str]:
    zones = tracking.get("exit_zones", [])
    if not isinstance(zones, list) or not all(isinstance(z, str) and z.strip() for z in zones):
        raise ShelfConfigError("tracking.exit_zones: must be a list of zone names")
    shelves = sorted(set(zones) & {lane.zone for lane in lanes.values()})
    if shelves:
        raise ShelfConfigError(f"tracking.exit_zones: {shelves[0]} is a lane's zone")
    return frozenset(zones)


def _lanes(raw: list[Any], products: Mapping[str, Product]) -> dict[str, LaneSpec]:
    for index, table in enumerate(raw):
        if not isinstance(table, dict):
            raise ShelfConfigError(f"lanes[{index}]: must be a table")
    try:
        return lane_specs(raw, products)
    except CatalogueError as err:
        raise ShelfConfigError(str(err)) from None


def parse_shelf(raw: Mapping[str, Any], base: Path) -> ShelfConfig | None:
    """The `[[lanes]]`, `[catalogue]`, `[shelf]` and `[tracking]` tables (None: no lanes)."""
    lanes_raw = raw.get("lanes")
    if lanes_raw is None:
        for name in ("catalogue", "shelf", "tracking"):
            if name in raw:
                raise ShelfConfigError(f"[{name}]: needs shelf lanes ([[lanes]] tables)")
        return None
    if not isinstance(lanes_raw, list) or not lanes_raw:
        raise ShelfConfigError("lanes: use [[lanes]] tables")
    products = _catalogue(raw.get("catalogue"), base)
    lanes = _lanes(lanes_raw, products)
    topics = {lane.topic for lane in lanes.values()}
    shelf, tracking = raw.get("shelf", {}), raw.get("tracking", {})
    for name, table in (("shelf", shelf), ("tracking", tracking)):
        if not isinstance(table, dict):
            raise ShelfConfigError(f"{name}: must be a table")
    tracker_topic, cameras = _tracker(tracking, topics)
    lane_tuning = _tuning(LaneTuning, shelf, "shelf", frozenset())
    for index, lane in enumerate(lanes.values()):
        try:
            check_lane(lane, lane_tuning)
        except ValueError as err:
            raise ShelfConfigError(f"lanes[{index}]: {err}") from None
    return ShelfConfig(
        products=products,
        lanes=lanes,
        lane_tuning=lane_tuning,
        tracker_topic=tracker_topic,
        cameras=cameras,
        tuning=_tuning(
            AttributionTuning, tracking, "tracking", frozenset({"topic", "cameras", "exit_zones"})
        ),
        exit_zones=_exit_zones(tracking, lanes),
    )
