"""Concierge: time-boxed, evidenced access to a home through Home Assistant."""

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .assist import async_setup_assist
from .audit_log import AuditLog
from .const import DOMAIN
from .coordinator import ConciergeConfigEntry, ConciergeCoordinator
from .core.errors import ConciergeError
from .entity import grant_device_id, portal_device_id, site_device
from .http import async_register_views
from .repairs import async_check_portal_entities
from .services import async_setup_services
from .site import is_store
from .site_storage import site_store
from .storage_recovery import async_forget_reports
from .store_site import StoreSite, gate_device_id, store_device_id

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
    Platform.SWITCH,
]
STORE_PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR]
"""A store site has gates (event, visit in progress) and an occupancy sensor."""


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Register Concierge's actions (once, for every site)."""
    async_setup_services(hass)
    async_register_views(hass)
    async_setup_assist(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> bool:
    """Load a site: its stored grants and visits, timers, entities (or a store's bridge)."""
    if is_store(entry.data):
        return await _async_setup_store(hass, entry)
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
    entry.runtime_data = coordinator
    # The site's device first, so that portal and grant devices can sit below it.
    coordinator.site_device_id = (
        dr.async_get(hass)
        .async_get_or_create(config_entry_id=entry.entry_id, **site_device(coordinator))
        .id
    )
    entry.async_on_unload(coordinator.async_shutdown_listeners)
    _remove_stale_portal_devices(hass, coordinator)
    async_check_portal_entities(hass, coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def _async_setup_store(hass: HomeAssistant, entry: ConciergeConfigEntry) -> bool:
    """Load a store site: subscribe to its bridge through Home Assistant's MQTT."""
    store = StoreSite(hass, entry)
    await store.async_start()
    entry.runtime_data = store
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
    await hass.config_entries.async_forward_entry_setups(entry, STORE_PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> bool:
    """Unload a site, writing what is pending."""
    runtime = entry.runtime_data
    if isinstance(runtime, StoreSite):
        unloaded = await hass.config_entries.async_unload_platforms(entry, STORE_PLATFORMS)
        if unloaded:
            await runtime.async_stop()
        return unloaded
    if runtime.keypad is not None:
        await runtime.keypad.async_drain()
    await runtime.flow.evidence.async_stop_all()
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await runtime.audit.async_close()  # a last write of what waits; then its head
        await runtime.async_flush()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> None:
    """Delete a site's stored grants, visits and audit chain (and its storage repairs)."""
    await site_store(hass, entry.entry_id).async_remove()
    async_forget_reports(hass, entry.entry_id)
    await AuditLog(hass, entry.entry_id).async_remove()


def _remove_stale_portal_devices(hass: HomeAssistant, coordinator: ConciergeCoordinator) -> None:
    """Drop the devices of portals that reconfiguration removed."""
    registry = dr.async_get(hass)
    entry = coordinator.config_entry
    wanted = {portal_device_id(coordinator, p.portal_id) for p in coordinator.site.portals}
    prefix = portal_device_id(coordinator, "")
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        portal_ids = {i for i in device.identifiers if i[1].startswith(prefix[1])}
        if portal_ids and not portal_ids & wanted:
            registry.async_update_device(device.id, remove_config_entry_id=entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    device: dr.DeviceEntry,
) -> bool:
    """Let the user delete a grant's device once the grant is over (the grant goes too).

    The site's device and the devices of configured doors stay; doors are removed
    through Reconfigure. A store's gate can be deleted once its bridge no longer has it.
    """
    coordinator = entry.runtime_data
    if isinstance(coordinator, StoreSite):
        gates = _gate_ids(device, coordinator.site_id)
        return bool(gates) and not any(gate in coordinator.gates for gate in gates)
    for grant_id in list(coordinator.data.grants):
        if grant_device_id(coordinator, grant_id) in device.identifiers:
            return await coordinator.async_forget_grant(grant_id)
    return False


def _gate_ids(device: dr.DeviceEntry, entry_id: str) -> list[str]:
    prefix = gate_device_id(entry_id, "")[1]
    return [i[1].removeprefix(prefix) for i in device.identifiers if i[1].startswith(prefix)]
