"""Sensors: grants' states, portals' last visitors; a store's occupancy, shelves and sales."""

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import ConciergeCoordinator
from .core.grants import Grant, GrantState
from .core.schedule_times import current_interval, next_edge
from .core.slots import DoorCodes
from .core.store_sales import major_units
from .entity import (
    GrantEntity,
    PortalEntity,
    StoreEntity,
    async_add_grant_entities,
    async_setup_site_entities,
)
from .site import PortalConfig
from .site_runtime import ConciergeConfigEntry
from .store_checkout import async_add_checkout_entities
from .store_shelf import async_add_shelf_entities
from .store_site import StoreSite

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a state sensor per grant (now and as grants are created) and per-portal sensors.

    A store site has its occupancy, its shelves' counts once its bridge names them, and
    its sales and payments once its bridge says it takes payments.
    """
    async_setup_site_entities(entry, async_add_entities, home=_home, store=_store)


def _home(coordinator: ConciergeCoordinator, add: AddConfigEntryEntitiesCallback) -> None:
    add(LastVisitorSensor(coordinator, p) for p in coordinator.site.portals)
    keypad = coordinator.keypad
    if keypad is not None:
        add(DoorKeypadSensor(coordinator, p) for p in coordinator.site.portals
            if p.portal_id in keypad.doors)  # fmt: skip
    async_add_grant_entities(coordinator, add, GrantStateSensor)


def _store(store: StoreSite, add: AddConfigEntryEntitiesCallback) -> None:
    add([StoreOccupancySensor(store)])
    async_add_shelf_entities(
        store.shelves,
        add,
        lambda: [StoreShelfSensor(store, description) for description in SHELF_SENSORS],
        store.entry.async_on_unload,
    )
    async_add_checkout_entities(
        store.checkouts,
        add,
        lambda: [
            SalesTodaySensor(store),
            SalesCountSensor(store),
            *(StoreCheckoutSensor(store, description) for description in CHECKOUT_SENSORS),
        ],
        store.entry.async_on_unload,
    )


def _shelf_sensor(
    key: str,
    name: str,
    state_class: SensorStateClass,
    category: EntityCategory | None = None,
) -> SensorEntityDescription:
    return SensorEntityDescription(
        key=key, translation_key=name, state_class=state_class, entity_category=category
    )


SHELF_SENSORS = (
    _shelf_sensor("review", "store_review_queue", SensorStateClass.MEASUREMENT),
    _shelf_sensor("anomalies", "store_lane_anomalies", SensorStateClass.TOTAL_INCREASING),
    _shelf_sensor("unattributed", "store_unattributed_picks", SensorStateClass.TOTAL_INCREASING),
    _shelf_sensor(
        "stale_lanes", "store_stale_lanes", SensorStateClass.MEASUREMENT, EntityCategory.DIAGNOSTIC
    ),
    _shelf_sensor("carts", "store_carts", SensorStateClass.MEASUREMENT),
)
"""A store's shelf counts, by their key in the status's `shelf` object: the review queue,
anomalies and unattributed picks since the bridge started, stale lanes, open carts."""

CHECKOUT_SENSORS = (
    _shelf_sensor("failed", "store_payments_failing", SensorStateClass.MEASUREMENT),
    _shelf_sensor("outstanding_accounts", "store_accounts_owing", SensorStateClass.MEASUREMENT),
    _shelf_sensor("receipts_waiting", "store_receipts_waiting", SensorStateClass.MEASUREMENT),
    _shelf_sensor(
        "retrying",
        "store_payments_retrying",
        SensorStateClass.MEASUREMENT,
        EntityCategory.DIAGNOSTIC,
    ),
    _shelf_sensor(
        "pending",
        "store_checkouts_pending",
        SensorStateClass.MEASUREMENT,
        EntityCategory.DIAGNOSTIC,
    ),
    _shelf_sensor(
        "receipts_failed",
        "store_receipts_failed",
        SensorStateClass.MEASUREMENT,
        EntityCategory.DIAGNOSTIC,
    ),
    _shelf_sensor(
        "refunds_uncertain",
        "store_refunds_uncertain",
        SensorStateClass.MEASUREMENT,
        EntityCategory.DIAGNOSTIC,
    ),
)
"""A store's checkout counts, by their key in the status's `checkout` object (all now): payments
declined and not settled, accounts that owe, receipts waiting; and for a closer look, payments
waiting to try the processor again, checkouts unfinished, receipts that could not be sent,
refunds whose outcome the bridge is still finding out (it looks them up itself: no repair)."""


class GrantStateSensor(GrantEntity, SensorEntity):
    """Scheduled, active, suspended, expired, revoked or used up."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [state.value for state in GrantState]

    def __init__(self, coordinator: ConciergeCoordinator, grant: Grant) -> None:
        """Create the state sensor of a grant."""
        super().__init__(coordinator, grant, "grant_state")

    @property
    def native_value(self) -> str:
        """The grant's state now."""
        return self.coordinator.data.states[self.grant_id].value

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """Label, kind, uses and the current or next window (never a credential)."""
        grant = self.grant
        now = dt_util.utcnow()
        tz = self.coordinator.tz
        interval = current_interval(grant.schedule, tz, now)
        upcoming = None if interval else next_edge(grant.schedule, tz, now)
        return {
            "grant_id": grant.id,
            "label": grant.label,
            "kind": grant.kind.value,
            "portals": [
                p.name for pid in grant.portals if (p := self.coordinator.site.portal(pid))
            ],
            "carriers": list(grant.carriers),  # ids; none: any carrier
            "uses": grant.uses,
            "max_uses": grant.max_uses,
            "window_start": interval.start.isoformat() if interval else None,
            "window_end": interval.end.isoformat() if interval else None,
            "next_window_start": upcoming.isoformat() if upcoming else None,
            "codes": self._codes(),
        }

    def _codes(self) -> dict[str, str]:
        """Where this grant's PIN stands on each keypad lock (never the PIN itself)."""
        keypad = self.coordinator.keypad
        per_portal = keypad.status.get(self.grant_id, {}) if keypad else {}
        return {
            portal.name: status
            for pid, status in per_portal.items()
            if (portal := self.coordinator.site.portal(pid))
        }


class LastVisitorSensor(PortalEntity, SensorEntity):
    """The label of the grant whose holder last came in through this portal."""

    def __init__(self, coordinator: ConciergeCoordinator, portal: PortalConfig) -> None:
        """Create the last-visitor sensor of a portal."""
        super().__init__(coordinator, portal, "last_visitor")

    @property
    def native_value(self) -> str | None:
        """The last visitor's label (never a name, PIN or token)."""
        visit = self.coordinator.data.last_visits.get(self.portal.portal_id)
        if visit is None or visit.grant is None:
            return None
        grant = self.coordinator.data.grants.get(visit.grant)
        return grant.label if grant else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """When the last visit started and how it stands."""
        visit = self.coordinator.data.last_visits.get(self.portal.portal_id)
        if visit is None:
            return {}
        return {
            "visit_id": visit.id,
            "visit_state": visit.state.value,
            "started_at": visit.started_at.isoformat(),
        }


class DoorKeypadSensor(PortalEntity, SensorEntity):
    """How the codes on a door's keypad lock stand: in sync, pending, or one not removed."""

    _attr_device_class = SensorDeviceClass.ENUM
    _attr_options = [status.value for status in DoorCodes]
    _attr_entity_category = EntityCategory.DIAGNOSTIC

    def __init__(self, coordinator: ConciergeCoordinator, portal: PortalConfig) -> None:
        """Create the keypad sensor of a door whose lock Concierge programs."""
        super().__init__(coordinator, portal, "keypad")

    @property
    def native_value(self) -> str:
        """In sync, pending (a wanted code is not confirmed yet) or not removed."""
        keypad = self.coordinator.keypad
        status = keypad.door_status.get(self.portal.portal_id) if keypad else None
        return (status or DoorCodes.IN_SYNC).value


class StoreOccupancySensor(StoreEntity, SensorEntity):
    """How many shoppers are in the store (the bridge's count), with its capacity."""

    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_translation_key = "store_occupancy"

    def __init__(self, store: StoreSite) -> None:
        """Create the occupancy sensor of a store."""
        super().__init__(store, "occupancy")

    @property
    def native_value(self) -> int | None:
        """Shoppers in the store now (None until the bridge has said)."""
        return self.store.occupancy.occupancy

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """How many the store may hold, and how many visits are passing a gate now."""
        return {
            "capacity": self.store.occupancy.capacity,
            "visits_at_gates": len(self.store.passages),
        }


class StoreShelfSensor(StoreEntity, SensorEntity):
    """One of the store's shelf counts, as the bridge's status says it (numbers only)."""

    def __init__(self, store: StoreSite, description: SensorEntityDescription) -> None:
        """Create the sensor of one shelf count."""
        super().__init__(store, f"shelf_{description.key}")
        self.entity_description = description

    @property
    def native_value(self) -> int | None:
        """The count (None until the bridge has said)."""
        shelf = self.store.shelves.shelf
        value: int | None = getattr(shelf, self.entity_description.key, None)
        return value


class StoreCheckoutSensor(StoreEntity, SensorEntity):
    """One of the store's checkout counts, as the bridge's status says it (numbers only)."""

    def __init__(self, store: StoreSite, description: SensorEntityDescription) -> None:
        """Create the sensor of one checkout count."""
        super().__init__(store, f"checkout_{description.key}")
        self.entity_description = description

    @property
    def native_value(self) -> int | None:
        """The count (None until the bridge has said)."""
        counts = self.store.checkouts.counts
        value: int | None = getattr(counts, self.entity_description.key, None)
        return value


class SalesTodaySensor(StoreEntity, SensorEntity):
    """Money the store took today, in its currency's major units (exact, from minor units).

    A daily total: `last_reset` is when the store's day began (local midnight, or when the
    bridge's totals went back down). Refunds are an attribute, never taken off.
    """

    _attr_device_class = SensorDeviceClass.MONETARY
    _attr_state_class = SensorStateClass.TOTAL
    _attr_translation_key = "store_sales_today"

    def __init__(self, store: StoreSite) -> None:
        """Create the sales sensor of a store."""
        super().__init__(store, "sales_today")

    @property
    def native_value(self) -> Decimal | None:
        """Today's sales (None until the bridge has said them and their currency)."""
        counts = self.store.checkouts.counts
        sales = None if counts is None else counts.sales_today
        return None if sales is None else sales.total

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The sales' currency (ISO 4217)."""
        counts = self.store.checkouts.counts
        sales = None if counts is None else counts.sales_today
        return None if sales is None else sales.currency

    @property
    def last_reset(self) -> datetime:
        """When the store's day began."""
        return self.store.checkouts.last_reset()

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """Money refunded today, in the same units."""
        counts = self.store.checkouts.counts
        sales = None if counts is None else counts.sales_today
        refunded = None
        if sales is not None and sales.refunded is not None and sales.currency is not None:
            refunded = major_units(sales.refunded, sales.currency)
        return {"refunded": refunded}


class SalesCountSensor(StoreEntity, SensorEntity):
    """How many payments the store took today (a daily total, reset as the sales are)."""

    _attr_state_class = SensorStateClass.TOTAL
    _attr_translation_key = "store_sales_count"

    def __init__(self, store: StoreSite) -> None:
        """Create the sales count sensor of a store."""
        super().__init__(store, "sales_count")

    @property
    def native_value(self) -> int | None:
        """Payments taken today (None until the bridge has said)."""
        counts = self.store.checkouts.counts
        sales = None if counts is None else counts.sales_today
        return None if sales is None else sales.count

    @property
    def last_reset(self) -> datetime:
        """When the store's day began."""
        return self.store.checkouts.last_reset()
