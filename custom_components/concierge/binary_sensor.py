"""Binary sensors: a visit in progress at each portal."""

from collections.abc import Mapping
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorEntity
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ConciergeConfigEntry, ConciergeCoordinator
from .entity import PortalEntity
from .site import PortalConfig

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a visit-in-progress sensor per portal."""
    coordinator = entry.runtime_data
    async_add_entities(VisitInProgress(coordinator, p) for p in coordinator.site.portals)


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
