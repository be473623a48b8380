"""Base entities: every Concierge entity belongs to a site, a portal or a grant device."""

from collections.abc import Callable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import ConciergeConfigEntry, ConciergeCoordinator, signal_new_grant
from .core.grants import Grant
from .site import PortalConfig


def site_device(coordinator: ConciergeCoordinator) -> DeviceInfo:
    """The device that stands for the whole site."""
    return DeviceInfo(
        identifiers={(DOMAIN, coordinator.site_id)},
        name=coordinator.site.name,
        manufacturer="Concierge",
        model="Site",
    )


def portal_device_id(coordinator: ConciergeCoordinator, portal_id: str) -> tuple[str, str]:
    """Device registry identifier of a portal."""
    return (DOMAIN, f"{coordinator.site_id}_portal_{portal_id}")


def grant_device_id(coordinator: ConciergeCoordinator, grant_id: str) -> tuple[str, str]:
    """Device registry identifier of a grant."""
    return (DOMAIN, f"{coordinator.site_id}_grant_{grant_id}")


class ConciergeEntity(CoordinatorEntity[ConciergeCoordinator]):
    """An entity of a Concierge site."""

    _attr_has_entity_name = True


class PortalEntity(ConciergeEntity):
    """An entity of one portal (a door)."""

    def __init__(self, coordinator: ConciergeCoordinator, portal: PortalConfig, key: str) -> None:
        """Attach to the portal's device."""
        super().__init__(coordinator)
        self.portal = portal
        self._attr_unique_id = f"{coordinator.site_id}_{portal.portal_id}_{key}"
        self._attr_translation_key = key
        self._attr_device_info = DeviceInfo(
            identifiers={portal_device_id(coordinator, portal.portal_id)},
            name=portal.name,
            manufacturer="Concierge",
            model="Portal",
            via_device_id=coordinator.site_device_id,
        )


class GrantEntity(ConciergeEntity):
    """An entity of one grant."""

    def __init__(self, coordinator: ConciergeCoordinator, grant: Grant, key: str) -> None:
        """Attach to the grant's device."""
        super().__init__(coordinator)
        self.grant_id = grant.id
        self._attr_unique_id = f"{coordinator.site_id}_{grant.id}_{key}"
        self._attr_translation_key = key
        self._attr_device_info = DeviceInfo(
            identifiers={grant_device_id(coordinator, grant.id)},
            name=grant.label,
            manufacturer="Concierge",
            model=f"Grant ({grant.kind.value})",
            via_device_id=coordinator.site_device_id,
        )

    @property
    def available(self) -> bool:
        """A grant's entities are available while the grant exists."""
        return super().available and self.grant_id in self.coordinator.data.grants

    @property
    def grant(self) -> Grant:
        """The grant as it is now."""
        return self.coordinator.data.grants[self.grant_id]


@callback
def async_add_grant_entities(
    hass: HomeAssistant,
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[ConciergeCoordinator, Grant], Entity],
) -> None:
    """Add an entity per grant now, and one for every grant created later."""
    coordinator = entry.runtime_data
    async_add_entities(factory(coordinator, g) for g in coordinator.data.grants.values())

    @callback
    def _add(grant_id: str) -> None:
        async_add_entities([factory(coordinator, coordinator.grant(grant_id))])

    entry.async_on_unload(
        async_dispatcher_connect(hass, signal_new_grant(coordinator.site_id), _add)
    )
