"""Checks the config flow's forms share: a usable name, an entity Home Assistant knows."""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er


def usable_name(name: str) -> bool:
    """Tell whether a name has at least one letter or digit."""
    return any(char.isalnum() for char in name)


def entity_error(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return an error key when entity_id is not a known entity.

    The entity selectors already refuse entities of the wrong domain.
    """
    if hass.states.get(entity_id) is None and er.async_get(hass).async_get(entity_id) is None:
        return "entity_not_found"
    return None
