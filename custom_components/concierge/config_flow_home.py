"""A home's site form: its name and its portals (a lock, a door contact, cameras, slots).

The config flow asks for the name (`SITE_SCHEMA`), then for one portal at a time
(`PORTAL_SCHEMA`, checked by `validate_portal`, stored by `make_portal`). Reconfiguring
a home renames it and keeps some of its portals (`reconfigure_schema`).
"""

import uuid
from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector

from .config_flow_checks import entity_error
from .const import (
    CONF_ADD_ANOTHER,
    CONF_CAMERAS,
    CONF_DOOR_SENSOR,
    CONF_KEEP_PORTALS,
    CONF_LOCK,
    CONF_PORTAL_ID,
    CONF_PORTAL_NAME,
    CONF_SITE_NAME,
    CONF_SLOT_FIRST,
    CONF_SLOT_LAST,
    DEFAULT_SLOT_FIRST,
    DEFAULT_SLOT_LAST,
    DOOR_DEVICE_CLASSES,
)

SITE_SCHEMA = vol.Schema({vol.Required(CONF_SITE_NAME): selector.TextSelector()})

SLOT_SELECTOR = vol.All(
    selector.NumberSelector(
        selector.NumberSelectorConfig(min=1, max=250, step=1, mode=selector.NumberSelectorMode.BOX)
    ),
    vol.Coerce(int),
)

PORTAL_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PORTAL_NAME): selector.TextSelector(),
        vol.Required(CONF_LOCK): selector.EntitySelector(
            selector.EntitySelectorConfig(domain="lock")
        ),
        vol.Optional(CONF_DOOR_SENSOR): selector.EntitySelector(
            selector.EntitySelectorConfig(
                domain="binary_sensor", device_class=sorted(DOOR_DEVICE_CLASSES)
            )
        ),
        vol.Optional(CONF_CAMERAS, default=[]): selector.EntitySelector(
            selector.EntitySelectorConfig(domain="camera", multiple=True)
        ),
        vol.Required(CONF_SLOT_FIRST, default=DEFAULT_SLOT_FIRST): SLOT_SELECTOR,
        vol.Required(CONF_SLOT_LAST, default=DEFAULT_SLOT_LAST): SLOT_SELECTOR,
        vol.Required(CONF_ADD_ANOTHER, default=False): selector.BooleanSelector(),
    }
)


def reconfigure_schema(portal_names: Mapping[str, str]) -> vol.Schema:
    """Build the reconfigure form: the name, the portals to keep (id → name), add another."""
    return vol.Schema(
        {
            vol.Required(CONF_SITE_NAME): selector.TextSelector(),
            vol.Optional(CONF_KEEP_PORTALS): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[
                        selector.SelectOptionDict(value=pid, label=label)
                        for pid, label in portal_names.items()
                    ],
                    multiple=True,
                )
            ),
            vol.Required(CONF_ADD_ANOTHER, default=False): selector.BooleanSelector(),
        }
    )


def validate_portal(
    hass: HomeAssistant, user_input: Mapping[str, Any], existing: list[dict[str, Any]]
) -> dict[str, str]:
    """Check one portal's input against Home Assistant and the portals already chosen."""
    errors: dict[str, str] = {}
    name = str(user_input[CONF_PORTAL_NAME]).strip()
    if not name:
        errors[CONF_PORTAL_NAME] = "empty_name"
    elif any(p[CONF_PORTAL_NAME].casefold() == name.casefold() for p in existing):
        errors[CONF_PORTAL_NAME] = "duplicate_portal"
    lock = str(user_input[CONF_LOCK])
    if error := entity_error(hass, lock):
        errors[CONF_LOCK] = error
    elif any(p[CONF_LOCK] == lock for p in existing):
        errors[CONF_LOCK] = "lock_in_use"
    if (sensor := user_input.get(CONF_DOOR_SENSOR)) and (error := entity_error(hass, str(sensor))):
        errors[CONF_DOOR_SENSOR] = error
    if int(user_input.get(CONF_SLOT_FIRST, DEFAULT_SLOT_FIRST)) > int(
        user_input.get(CONF_SLOT_LAST, DEFAULT_SLOT_LAST)
    ):
        errors[CONF_SLOT_LAST] = "slot_range"
    for camera in user_input.get(CONF_CAMERAS, []):
        if error := entity_error(hass, str(camera)):
            errors[CONF_CAMERAS] = error
            break
    return errors


def make_portal(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Build the stored form of a portal with a stable id."""
    return {
        CONF_PORTAL_ID: uuid.uuid4().hex[:12],
        CONF_PORTAL_NAME: str(user_input[CONF_PORTAL_NAME]).strip(),
        CONF_LOCK: str(user_input[CONF_LOCK]),
        CONF_DOOR_SENSOR: user_input.get(CONF_DOOR_SENSOR) or None,
        CONF_CAMERAS: [str(c) for c in user_input.get(CONF_CAMERAS, [])],
        CONF_SLOT_FIRST: int(user_input.get(CONF_SLOT_FIRST, DEFAULT_SLOT_FIRST)),
        CONF_SLOT_LAST: int(user_input.get(CONF_SLOT_LAST, DEFAULT_SLOT_LAST)),
    }
