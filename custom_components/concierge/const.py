"""Constants for the Concierge integration."""

from typing import Final

DOMAIN: Final = "concierge"

CONF_SITE_NAME: Final = "site_name"
CONF_PORTALS: Final = "portals"
CONF_PORTAL_ID: Final = "id"
CONF_PORTAL_NAME: Final = "name"
CONF_LOCK: Final = "lock"
CONF_DOOR_SENSOR: Final = "door_sensor"
CONF_CAMERAS: Final = "cameras"
CONF_ADD_ANOTHER: Final = "add_another"
CONF_SLOT_FIRST: Final = "slot_first"
CONF_SLOT_LAST: Final = "slot_last"
DEFAULT_SLOT_FIRST: Final = 10
DEFAULT_SLOT_LAST: Final = 19
CONF_ATTACK_THRESHOLD: Final = "attack_threshold"
DEFAULT_ATTACK_THRESHOLD: Final = 5
CONF_KEEP_PORTALS: Final = "keep_portals"
CONF_ALARM_PANEL: Final = "alarm_panel"
CONF_NOTIFY: Final = "notify"

DOOR_DEVICE_CLASSES: Final = frozenset({"door", "garage_door", "opening", "window"})

EVENT_ACCESS: Final = "concierge_access_event"
"""Fired on Home Assistant's bus for every access event (the wire form as event data)."""
