"""Constants for the Concierge integration."""

from typing import Final

from .core import vocabulary

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
CONF_ALARM_CODE: Final = "alarm_code"
CONF_ALARM_TIMEOUT: Final = "alarm_timeout"
DEFAULT_ALARM_TIMEOUT: Final = 90
"""Seconds a panel may take to reach the wanted state (manual panels wait their arming time)."""
CONF_FALLBACK_ARM_MODE: Final = "fallback_arm_mode"
DEFAULT_FALLBACK_ARM_MODE: Final = "armed_home"
"""The mode used when a door cannot be secured (held open, lock jammed)."""
ARM_MODES: Final = ("armed_away", "armed_home", "armed_night", "armed_vacation")
CONF_LOCK_TIMEOUT: Final = "lock_timeout"
DEFAULT_LOCK_TIMEOUT: Final = 30
CONF_DOOR_OPEN_TIMEOUT: Final = "door_open_timeout"
DEFAULT_DOOR_OPEN_TIMEOUT: Final = 120
"""Seconds after an unlock within which the door must be opened, else relock."""
CONF_DOOR_HELD_OPEN: Final = "door_held_open"
DEFAULT_DOOR_HELD_OPEN: Final = 300
"""Seconds a door may stay open during a visit before the owner is alerted."""
CONF_PETS_HOME: Final = "pets_home_entity"
CONF_RETIRE_AFTER_DAYS: Final = "retire_after_days"
DEFAULT_RETIRE_AFTER_DAYS: Final = 7
"""Days an ended grant keeps its device and entities before it leaves (0: at once)."""
MAX_RETIRE_AFTER_DAYS: Final = 3650
CONF_DELIVERY_ADDRESS: Final = "delivery_address"
CONF_GRANT_ENTITIES: Final = "grant_entities"
DEFAULT_GRANT_ENTITIES: Final = True
"""Whether each grant has a device and entities (off: grants live in the panel and calendar)."""

SUBENTRY_CARRIER: Final = "carrier"
CONF_CARRIER_ID: Final = "carrier_id"
CONF_CARRIER_NAME: Final = "name"
CONF_CARRIER_KEYS: Final = "keys"

DOOR_DEVICE_CLASSES: Final = frozenset({"door", "garage_door", "opening", "window"})

EVENT_ACCESS: Final = "concierge_access_event"
"""Fired on Home Assistant's bus for every access event (the wire form as event data)."""

# --- store sites (a store bridge over MQTT) ---------------------------------------------

CONF_SITE_KIND: Final = "kind"
"""In a config entry's data: "store" for a store site; home sites do not have it."""
SITE_KIND_STORE: Final = "store"
CONF_STORE_NAME: Final = "name"
CONF_BRIDGE_SITE: Final = "site"
CONF_TOPIC_PREFIX: Final = "topic_prefix"
DEFAULT_TOPIC_PREFIX: Final = vocabulary.DEFAULT_TOPIC_PREFIX
"""The store bridge's default topic prefix (`schema/store-topics.json`)."""
STORE_STATUS_WAIT: Final = 5.0
"""Seconds the config flow waits for the bridge's retained status."""
STORE_PASSAGE_TIMEOUT: Final = 30
"""Seconds a gate shows a visit in progress at the latest (without a door_closed)."""
STORE_SEEN_IDS: Final = 10_000
"""How many event ids a store site remembers to drop duplicate deliveries."""
