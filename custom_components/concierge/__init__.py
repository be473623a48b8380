"""Concierge: time-boxed, evidenced access to a home through Home Assistant."""

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .site import SiteConfig

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

PLATFORMS: list[Platform] = []


@dataclass(slots=True)
class ConciergeRuntime:
    """What a loaded site keeps while it runs."""

    site: SiteConfig


type ConciergeConfigEntry = ConfigEntry[ConciergeRuntime]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:  # noqa: ARG001
    """Set up the integration (actions are registered here in a later step)."""
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> bool:
    """Load a site from its config entry."""
    entry.runtime_data = ConciergeRuntime(
        site=SiteConfig.from_entry_data(entry.data, entry.options)
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConciergeConfigEntry) -> bool:
    """Unload a site."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
