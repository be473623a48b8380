"""A home site's devices in the registry: the site's own, one per portal, one per grant.

Portal and grant devices sit below the site's. A grant has a device (and entities) only
while the site's option `grant_entities` is on (the default); with it off, the grants'
devices leave the registries, and their entities with them. A store's devices are
`store_site.py`'s.
"""

from collections.abc import Mapping
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from .const import CONF_GRANT_ENTITIES, DEFAULT_GRANT_ENTITIES, DOMAIN
from .site import SiteConfig


def site_device(site_id: str, site: SiteConfig) -> DeviceInfo:
    """The device that stands for the whole site."""
    return DeviceInfo(
        identifiers={(DOMAIN, site_id)},
        name=site.name,
        manufacturer="Concierge",
        model="Site",
    )


def portal_device_id(site_id: str, portal_id: str) -> tuple[str, str]:
    """Device registry identifier of a portal."""
    return (DOMAIN, f"{site_id}_portal_{portal_id}")


def grant_device_id(site_id: str, grant_id: str) -> tuple[str, str]:
    """Device registry identifier of a grant."""
    return (DOMAIN, f"{site_id}_grant_{grant_id}")


def grant_entities_wanted(options: Mapping[str, Any]) -> bool:
    """Whether the site's grants each have a device and entities (its option; default on)."""
    return bool(options.get(CONF_GRANT_ENTITIES, DEFAULT_GRANT_ENTITIES))


def remove_grant_devices(hass: HomeAssistant, site_id: str) -> int:
    """Drop every grant device of the site (and so their entities); returns how many went."""
    registry = dr.async_get(hass)
    prefix = grant_device_id(site_id, "")[1]
    gone = 0
    for device in dr.async_entries_for_config_entry(registry, site_id):
        if any(domain == DOMAIN and name.startswith(prefix) for domain, name in device.identifiers):
            registry.async_update_device(device.id, remove_config_entry_id=site_id)
            gone += 1
    return gone


def remove_stale_portal_devices(hass: HomeAssistant, site_id: str, site: SiteConfig) -> None:
    """Drop the devices of portals that reconfiguration removed."""
    registry = dr.async_get(hass)
    wanted = {portal_device_id(site_id, p.portal_id) for p in site.portals}
    prefix = portal_device_id(site_id, "")
    for device in dr.async_entries_for_config_entry(registry, site_id):
        portal_ids = {i for i in device.identifiers if i[1].startswith(prefix[1])}
        if portal_ids and not portal_ids & wanted:
            registry.async_update_device(device.id, remove_config_entry_id=site_id)
