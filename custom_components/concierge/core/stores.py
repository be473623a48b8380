"""Store sites: the decisions about a store bridge's MQTT messages (no Home Assistant).

A store bridge (the contract is `schema/store-topics.json` with the two message schemas)
publishes every access event on ``<prefix>/<site>/events`` (QoS 1, at least once) and a
retained status on ``<prefix>/<site>/status`` (`schema/store-status.v1.schema.json`);
when the bridge goes away, the broker publishes its will,
``{"v": 1, "site": ..., "online": false}``, in the status's place. The topics, the status
version and the store's event types come from the generated `vocabulary` module and are
re-exported here.

This module parses both strictly, drops duplicates by event id with bounded memory,
and decides what a gate's "visit in progress" shows. A shopping session is a visit of
the shared model (an anonymous visit id); nothing personal is read or kept.

A store with shelf sensors also has virtual carts: the status's `shelf` counts (carts,
the review queue, anomalies, unattributed picks, stale lanes, ignored input) and the
cart's events. Those events name no gate: they are the store's, not a gate's
(`GATE_EVENT_TYPES`, `SHELF_EVENT_TYPES`, `SHELF_ALERT_TYPES`).

A store with payments says how its checkouts stand (the status's `checkout` object,
read by `core.store_sales`) and what happened to each payment and receipt, store-wide too
(`CHECKOUT_EVENT_TYPES`, `CHECKOUT_ALERT_TYPES`).
"""

import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from enum import StrEnum

from .errors import EventValidationError
from .events import AccessEvent, AccessEventType, Outcome, from_json
from .ids import is_identifier, is_snake_case
from .store_event_kinds import (
    CHECKOUT_ALERT_TYPES,
    CHECKOUT_EVENT_TYPES,
    GATE_EVENT_TYPES,
    SHELF_ALERT_TYPES,
    SHELF_EVENT_TYPES,
)
from .store_sales import CheckoutCounts, InvalidCheckoutError, read_checkout
from .vocabulary import STATUS_VERSION, STORE_EVENT_TYPES, events_topic, status_topic

__all__ = [
    "CHECKOUT_ALERT_TYPES",
    "CHECKOUT_EVENT_TYPES",
    "GATE_EVENT_TYPES",
    "MAX_GATES",
    "MAX_NAME_LENGTH",
    "MAX_PAYLOAD_BYTES",
    "MAX_PREFIX_LENGTH",
    "PASSAGE_ENDS",
    "PASSAGE_STARTS",
    "SHELF_ALERT_TYPES",
    "SHELF_COUNTS",
    "SHELF_EVENT_TYPES",
    "STATUS_VERSION",
    "STORE_EVENT_TYPES",
    "Drop",
    "Gate",
    "Occupancy",
    "Passage",
    "SeenIds",
    "Shelf",
    "StoreStatus",
    "events_topic",
    "is_topic_prefix",
    "occupancy_after",
    "occupancy_from_status",
    "parse_event",
    "parse_status",
    "passage_after",
    "status_topic",
    "unique_id",
]

MAX_PAYLOAD_BYTES = 64 * 1024
"""Messages longer than this are dropped unread (an event is a few hundred bytes)."""

MAX_GATES = 64
MAX_NAME_LENGTH = 100
MAX_PREFIX_LENGTH = 200

PASSAGE_STARTS: frozenset[AccessEventType] = frozenset(
    {AccessEventType.CHECK_IN, AccessEventType.CHECK_OUT, AccessEventType.GATE_OPENED}
)
"""Events that put a visit into a gate (a shopper passing in or out)."""

PASSAGE_ENDS: frozenset[AccessEventType] = frozenset(
    {AccessEventType.VISIT_COMPLETED, AccessEventType.VISIT_ABORTED}
)
"""Events that end a visit, and with it its passage through a gate."""


class Drop(StrEnum):
    """Why a message was dropped (counted for diagnostics)."""

    TOO_LARGE = "too_large"
    INVALID_EVENT = "invalid_event"
    OTHER_SITE = "other_site"
    DUPLICATE = "duplicate"
    INVALID_STATUS = "invalid_status"


def unique_id(prefix: str, site: str) -> str:
    """A store site's config entry unique id: one entry per bridge and prefix."""
    return f"{prefix}/{site}"


def is_topic_prefix(value: object) -> bool:
    """Whether `value` can prefix a bridge's topics.

    At most 200 characters of one or more non-empty topic levels, no wildcards
    (`+`, `#`), no NUL, no leading `$` (broker topics) and no leading or trailing `/`.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_PREFIX_LENGTH:
        return False
    if any(char in value for char in "+#\0") or value.startswith("$"):
        return False
    if not value.isprintable():
        return False
    return all(value.split("/"))


@dataclass(frozen=True, slots=True)
class Gate:
    """A gate of the store, as its bridge names it."""

    gate_id: str
    name: str
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Shelf:
    """The status's shelf counts (None: the bridge does not say).

    `carts`, `review` and `stale_lanes` are now; the others count since the bridge started.
    """

    carts: int | None = None
    review: int | None = None
    anomalies: int | None = None
    unattributed: int | None = None
    stale_lanes: int | None = None
    ignored: int | None = None
    abandoned: int | None = None

    @property
    def waiting_for_review(self) -> bool:
        """Whether picks wait in the review queue."""
        return bool(self.review)


SHELF_COUNTS: tuple[str, ...] = tuple(f.name for f in fields(Shelf))
"""The counts of the status's `shelf` object, by their wire names."""


@dataclass(frozen=True, slots=True)
class StoreStatus:
    """The bridge's retained status (or its will).

    `gates`, `capacity`, `occupancy`, `name`, `shelf` and `checkout` are None when the
    message does not say (the will says only that the bridge is offline; a bridge without
    shelf sensors has no `shelf`, one without payments no `checkout`).
    """

    online: bool
    name: str | None = None
    capacity: int | None = None
    occupancy: int | None = None
    gates: tuple[Gate, ...] | None = None
    shelf: Shelf | None = None
    checkout: CheckoutCounts | None = None


def _count(value: object) -> int | None:
    """A non-negative whole number (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


def _name(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not 0 < len(text) <= MAX_NAME_LENGTH or not text.isprintable():
        return None
    return text


def _gates(value: object) -> tuple[Gate, ...] | Drop:
    if not isinstance(value, list) or len(value) > MAX_GATES:
        return Drop.INVALID_STATUS
    gates: list[Gate] = []
    for item in value:
        gate_id = item.get("id") if isinstance(item, Mapping) else None
        if not isinstance(gate_id, str) or not is_identifier(gate_id):
            return Drop.INVALID_STATUS
        name = item.get("name", gate_id)
        role = item.get("role")
        if (
            _name(name) is None
            or (role is not None and not is_snake_case(role))
            or any(g.gate_id == gate_id for g in gates)
        ):
            return Drop.INVALID_STATUS
        gates.append(Gate(gate_id=gate_id, name=str(_name(name)), role=role))
    return tuple(gates)


def _optional_count(obj: Mapping[str, object], key: str) -> int | Drop | None:
    if obj.get(key) is None:
        return None
    value = _count(obj[key])
    return Drop.INVALID_STATUS if value is None else value


def _shelf(value: object) -> Shelf | Drop | None:
    """The shelf counts: an object of non-negative whole numbers or nulls (others ignored)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        return Drop.INVALID_STATUS
    counts: dict[str, int | None] = {}
    for key in SHELF_COUNTS:
        count = _optional_count(value, key)
        if isinstance(count, Drop):
            return count
        counts[key] = count
    offset = value.get("tracker_offset_s")  # whole seconds of any sign; not shown here
    if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int)):
        return Drop.INVALID_STATUS
    return Shelf(**counts)


def _checkout(value: object) -> CheckoutCounts | Drop | None:
    try:
        return read_checkout(value)
    except InvalidCheckoutError:
        return Drop.INVALID_STATUS


def _status_object(payload: bytes | str, site: str) -> dict[str, object] | Drop:
    """The decoded status message, when it is version 1 of this site's bridge."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Drop.TOO_LARGE
    try:
        obj: object = json.loads(payload)
    except ValueError:
        return Drop.INVALID_STATUS
    if not isinstance(obj, dict):
        return Drop.INVALID_STATUS
    version = obj.get("v")
    if isinstance(version, bool) or version != STATUS_VERSION:
        return Drop.INVALID_STATUS
    if obj.get("site") != site:
        return Drop.OTHER_SITE if is_identifier(obj.get("site")) else Drop.INVALID_STATUS
    return obj


def parse_status(payload: bytes | str, site: str) -> StoreStatus | Drop:
    """Read a status (or will) message of the bridge of `site`.

    Strict about what it reads: version 1, this site, `online` a boolean, counts
    non-negative whole numbers, gates a list of at most 64 `{"id", "name", "role"}`
    with distinct ids, `shelf` an object of counts, `checkout` one of counts and today's
    sales (`core.store_sales`). Keys it does not know are ignored (a
    newer bridge may say more).
    """
    obj = _status_object(payload, site)
    if isinstance(obj, Drop):
        return obj
    online = obj.get("online")
    gates = None if obj.get("gates") is None else _gates(obj["gates"])
    capacity = _optional_count(obj, "capacity")
    occupancy = _optional_count(obj, "occupancy")
    shelf = _shelf(obj.get("shelf"))
    checkout = _checkout(obj.get("checkout"))
    name = None if obj.get("name") is None else _name(obj["name"])
    if (
        not isinstance(online, bool)
        or isinstance(gates, Drop)
        or isinstance(capacity, Drop)
        or isinstance(occupancy, Drop)
        or isinstance(shelf, Drop)
        or isinstance(checkout, Drop)
        or (obj.get("name") is not None and name is None)
    ):
        return Drop.INVALID_STATUS
    return StoreStatus(
        online=online,
        name=name,
        capacity=capacity,
        occupancy=occupancy,
        gates=gates,
        shelf=shelf,
        checkout=checkout,
    )


def parse_event(payload: bytes | str, site: str) -> AccessEvent | Drop:
    """Read an event message: the shared model's strict validation, and this site only."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return Drop.TOO_LARGE
    try:
        event = from_json(payload)
    except EventValidationError:
        return Drop.INVALID_EVENT
    if event.site != site:
        return Drop.OTHER_SITE
    return event


class SeenIds:
    """The ids of the last `limit` events, to drop a delivery that comes again."""

    def __init__(self, limit: int) -> None:
        """Remember at most `limit` ids (the oldest is forgotten first)."""
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, event_id: str) -> bool:
        """Remember an id; return False when it was already seen."""
        if event_id in self._ids:
            return False
        self._ids[event_id] = None
        while len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        return True

    def __len__(self) -> int:
        """How many ids are remembered."""
        return len(self._ids)


@dataclass(frozen=True, slots=True)
class Passage:
    """A visit passing through a gate, shown until `until` at the latest."""

    visit: str
    until: datetime


def passage_after(
    current: Passage | None, event: AccessEvent, now: datetime, timeout: timedelta
) -> Passage | None:
    """A gate's passage after one of its events.

    A check-in, check-out or gate opening with a visit id starts a passage (a newer one
    replaces the one before). It ends when the gate reports the door closed for that
    visit (or closed without naming one), when the visit completes or aborts, or at the
    latest after `timeout` (the shell sets a timer for `until`). Refusals and failures
    start nothing. Times are when Home Assistant received the event, not the bridge's clock.
    """
    if (
        event.type in PASSAGE_STARTS
        and event.visit is not None
        and event.outcome not in {Outcome.DENIED, Outcome.FAILED}
    ):
        return Passage(visit=event.visit, until=now + timeout)
    if current is None:
        return None
    if event.type is AccessEventType.DOOR_CLOSED and event.visit in {None, current.visit}:
        return None
    if event.type in PASSAGE_ENDS and event.visit == current.visit:
        return None
    return current


@dataclass(frozen=True, slots=True)
class Occupancy:
    """How many shoppers are in the store, and how many it may hold (None: unknown)."""

    occupancy: int | None = None
    capacity: int | None = None


def occupancy_after(current: Occupancy, event: AccessEvent) -> Occupancy:
    """The store's occupancy after an `occupancy_changed` event (others change nothing).

    Values that are not non-negative whole numbers are ignored.
    """
    if event.type is not AccessEventType.OCCUPANCY_CHANGED:
        return current
    occupancy = _count(event.data.get("occupancy"))
    capacity = _count(event.data.get("capacity"))
    return Occupancy(
        occupancy=current.occupancy if occupancy is None else occupancy,
        capacity=current.capacity if capacity is None else capacity,
    )


def occupancy_from_status(current: Occupancy, status: StoreStatus) -> Occupancy:
    """The store's occupancy after a status (values it does not name stay)."""
    return Occupancy(
        occupancy=current.occupancy if status.occupancy is None else status.occupancy,
        capacity=current.capacity if status.capacity is None else status.capacity,
    )
