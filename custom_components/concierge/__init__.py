"""Concierge: time-boxed, evidenced access to a home through Home Assistant."""

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .assist import async_setup_assist
from .audit_log import AuditLog
from .const import DOMAIN
from .coordinator import ConciergeCoordinator
from .core.errors import ConciergeError
from .gatekeeper import async_remove_replay
from .home_devices import remove_stale_portal_devices, site_device
from .http import async_register_views
from .panel import async_setup_panel
from .repairs import async_check_portal_entities
from .services import async_setup_services
from .site import is_store
from .site_runtime import ConciergeConfigEntry, ConciergeSite
from .site_storage import site_store
from .storage_recovery import async_forget_reports
from .store_gates import store_device_id
from .store_site import StoreSite
from .ws_api import async_setup_ws_api

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register Concierge's actions (once, for every site)."""
    async_setup_services(hass)
    async_register_views(hass)
    async_setup_assist(hass)
    async_setup_ws_api(hass)  # the Access panel's commands
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> bool:
    """Load a site (a home's grants, visits and timers, or a store's bridge), then its entities."""
    site: ConciergeSite  # the only place that asks which kind of site an entry runs
    if is_store(entry.data):
        site = await _async_start_store(hass, entry)
    else:
        site = await _async_start_home(hass, entry)
    entry.runtime_data = site
    await async_setup_panel(hass, entry)  # the Access panel in the sidebar
    await hass.config_entries.async_forward_entry_setups(entry, site.platforms)
    return True


async def _async_start_home(
    hass: HomeAssistant, entry: ConciergeConfigEntry
) -> ConciergeCoordinator:
    """Load a home site: its stored grants and visits, timers, its devices."""
    coordinator = ConciergeCoordinator(hass, entry)
    try:
        await coordinator.async_load()
    except ConciergeError as err:
        # Damaged storage: refuse to run rather than lose or guess grants.
        raise ConfigEntryError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders=dict(err.placeholders),
        ) from err
    # The site's device first, so that portal and grant devices can sit below it.
    coordinator.site_device_id = (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id, **site_device(coordinator.site_id, coordinator.site)
        )
        .id
    )
    entry.async_on_unload(coordinator.async_shutdown_listeners)
    remove_stale_portal_devices(hass, coordinator.site_id, coordinator.site)
    async_check_portal_entities(hass, coordinator)
    return coordinator


async def _async_start_store(hass: HomeAssistant, entry: ConciergeConfigEntry) -> StoreSite:
    """Load a store site: subscribe to its bridge through Home Assistant's MQTT."""
    store = StoreSite(hass, entry)
    await store.async_start()
    store.site_device_id = (
        dr.async_get(hass)
        .async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={store_device_id(entry.entry_id)},
            name=store.name,
            manufacturer="Concierge",
            model="Store",
        )
        .id
    )
    return store


async def async_unload_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> bool:
    """Unload a site, writing what is pending."""
    site = entry.runtime_data
    await site.async_wind_down()
    unloaded = await hass.config_entries.async_unload_platforms(entry, site.platforms)
    if unloaded:
        await site.async_close()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> None:
    """Delete a site's stored grants, visits and audit chain (and its storage repairs)."""
    await site_store(hass, entry.entry_id).async_remove()
    await async_remove_replay(hass, entry.entry_id)
    async_forget_reports(hass, entry.entry_id)
    await AuditLog(hass, entry.entry_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    device: dr.DeviceEntry,
) -> bool:
    """Let the user delete a grant's device once the grant is over (the grant goes too).

    The site's device and the devices of configured doors stay; doors are removed
    through Reconfigure. A store's gate can be deleted once its bridge no longer has it.
    """
    return await entry.runtime_data.async_remove_device(device)
