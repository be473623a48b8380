"""Binary sensors: a visit in progress at each portal (a home's door or a store's gate)."""

from collections.abc import Mapping
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ConciergeCoordinator
from .core.stores import Gate
from .entity import GateEntity, PortalEntity, async_add_gate_entities, async_setup_site_entities
from .site import PortalConfig
from .site_runtime import ConciergeConfigEntry
from .store_site import StoreSite

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a visit-in-progress sensor per portal (per gate, as a store's gates appear)."""
    async_setup_site_entities(entry, async_add_entities, home=_home, store=_store)


def _home(coordinator: ConciergeCoordinator, add: AddConfigEntryEntitiesCallback) -> None:
    add(VisitInProgress(coordinator, p) for p in coordinator.site.portals)


def _store(store: StoreSite, add: AddConfigEntryEntitiesCallback) -> None:
    async_add_gate_entities(store, add, GateVisitInProgress)


class VisitInProgress(PortalEntity, BinarySensorEntity):
    """On while someone is visiting through this portal."""

    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY

    def __init__(self, coordinator: ConciergeCoordinator, portal: PortalConfig) -> None:
        """Create the sensor of a portal."""
        super().__init__(coordinator, portal, "visit_in_progress")

    @property
    def is_on(self) -> bool:
        """Whether a visit is open at this portal."""
        return self.portal.portal_id in self.coordinator.data.open_visits

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The open visit's id and state."""
        visit = self.coordinator.data.open_visits.get(self.portal.portal_id)
        if visit is None:
            return {}
        return {"visit_id": visit.id, "visit_state": visit.state.value}


class GateVisitInProgress(GateEntity, BinarySensorEntity):
    """On from the moment a visit passes a store's gate until the gate closes behind it.

    At the latest it turns off `STORE_PASSAGE_TIMEOUT` seconds after the visit's
    check-in, check-out or gate opening (a gate that never reports its door closed).
    """

    _attr_device_class = BinarySensorDeviceClass.OCCUPANCY
    _attr_translation_key = "gate_visit_in_progress"

    def __init__(self, store: StoreSite, gate: Gate) -> None:
        """Create the sensor of a gate."""
        super().__init__(store, gate, "visit_in_progress")

    @property
    def is_on(self) -> bool:
        """Whether a visit is passing this gate."""
        return self.gate_id in self.store.passages

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """The passing visit's anonymous id."""
        passage = self.store.passages.get(self.gate_id)
        return {"visit_id": None if passage is None else passage.visit}
