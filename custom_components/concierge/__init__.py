"""Concierge: time-boxed, evidenced access to a home through Home Assistant."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .coordinator import ConciergeConfigEntry, ConciergeCoordinator
from .entity import site_device
from .repairs import async_check_portal_entities
from .services import async_setup_services
from .store import AuditLog, site_store

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    # CALENDAR-PENDING
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register Concierge's actions (once, for every site)."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> bool:
    """Load a site: its stored grants and visits, timers, entities."""
    coordinator = ConciergeCoordinator(hass, entry)
    await coordinator.async_load()
    entry.runtime_data = coordinator
    # The site's device first, so that portal and grant devices can sit below it.
    coordinator.site_device_id = (
        dr.async_get(hass)
        .async_get_or_create(config_entry_id=entry.entry_id, **site_device(coordinator))
        .id
    )
    entry.async_on_unload(coordinator.async_shutdown_listeners)
    async_check_portal_entities(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> bool:
    """Unload a site, writing what is pending."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_flush()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> None:
    """Delete a site's stored grants, visits and audit chain."""
    await site_store(hass, entry.entry_id).async_remove()
    await AuditLog(hass, entry.entry_id).async_remove()
