"""The configured shape of a site: its portals, alarm panel and notify targets (or a store)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .const import (
    CONF_ALARM_CODE,
    CONF_ALARM_PANEL,
    CONF_ALARM_TIMEOUT,
    CONF_ATTACK_THRESHOLD,
    CONF_CAMERAS,
    CONF_DELIVERY_ADDRESS,
    CONF_DOOR_HELD_OPEN,
    CONF_DOOR_OPEN_TIMEOUT,
    CONF_DOOR_SENSOR,
    CONF_FALLBACK_ARM_MODE,
    CONF_LOCK,
    CONF_LOCK_TIMEOUT,
    CONF_NOTIFY,
    CONF_PETS_HOME,
    CONF_PORTAL_ID,
    CONF_PORTAL_NAME,
    CONF_PORTALS,
    CONF_SITE_KIND,
    CONF_SITE_NAME,
    CONF_SLOT_FIRST,
    CONF_SLOT_LAST,
    DEFAULT_ALARM_TIMEOUT,
    DEFAULT_ATTACK_THRESHOLD,
    DEFAULT_DOOR_HELD_OPEN,
    DEFAULT_DOOR_OPEN_TIMEOUT,
    DEFAULT_FALLBACK_ARM_MODE,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_SLOT_FIRST,
    DEFAULT_SLOT_LAST,
    SITE_KIND_STORE,
)
from .core.slots import SlotRange

DEFAULT_SLOTS = SlotRange(DEFAULT_SLOT_FIRST, DEFAULT_SLOT_LAST)


def is_store(data: Mapping[str, Any]) -> bool:
    """Whether a config entry's data describes a store site (else it is a home)."""
    return data.get(CONF_SITE_KIND) == SITE_KIND_STORE


@dataclass(frozen=True, slots=True)
class PortalConfig:
    """A door: a lock, an optional door contact, optional cameras."""

    portal_id: str
    name: str
    lock: str
    door_sensor: str | None
    cameras: tuple[str, ...]
    slots: SlotRange = field(
        default_factory=lambda: SlotRange(DEFAULT_SLOT_FIRST, DEFAULT_SLOT_LAST)
    )
    """The keypad code slots Concierge may write on this door's lock."""

    @property
    def entity_ids(self) -> tuple[str, ...]:
        """Every Home Assistant entity this portal relies on."""
        sensor = (self.door_sensor,) if self.door_sensor else ()
        return (self.lock, *sensor, *self.cameras)


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """A home (or a store) as configured in its config entry."""

    name: str
    portals: tuple[PortalConfig, ...]
    alarm_panel: str | None = None
    notify: tuple[str, ...] = ()
    attack_threshold: int = DEFAULT_ATTACK_THRESHOLD
    alarm_code: str | None = field(default=None, repr=False)
    """The code Concierge uses to disarm and arm the panel (a secret: never logged)."""
    alarm_timeout: float = DEFAULT_ALARM_TIMEOUT
    fallback_arm_mode: str = DEFAULT_FALLBACK_ARM_MODE
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    door_open_timeout: float = DEFAULT_DOOR_OPEN_TIMEOUT
    door_held_open: float = DEFAULT_DOOR_HELD_OPEN
    pets_home_entity: str | None = None
    delivery_address: str | None = None

    @classmethod
    def from_entry_data(
        cls, data: Mapping[str, Any], options: Mapping[str, Any] | None = None
    ) -> SiteConfig:
        """Read a site from a config entry's data and options."""
        opts = options or {}
        return cls(
            name=str(data[CONF_SITE_NAME]),
            portals=tuple(
                PortalConfig(
                    portal_id=str(p[CONF_PORTAL_ID]),
                    name=str(p[CONF_PORTAL_NAME]),
                    lock=str(p[CONF_LOCK]),
                    door_sensor=p.get(CONF_DOOR_SENSOR) or None,
                    cameras=tuple(p.get(CONF_CAMERAS, ())),
                    slots=SlotRange(
                        int(p.get(CONF_SLOT_FIRST, DEFAULT_SLOT_FIRST)),
                        int(p.get(CONF_SLOT_LAST, DEFAULT_SLOT_LAST)),
                    ),
                )
                for p in data[CONF_PORTALS]
            ),
            alarm_panel=opts.get(CONF_ALARM_PANEL) or None,
            notify=tuple(opts.get(CONF_NOTIFY, ())),
            attack_threshold=int(opts.get(CONF_ATTACK_THRESHOLD, DEFAULT_ATTACK_THRESHOLD)),
            alarm_code=opts.get(CONF_ALARM_CODE) or None,
            alarm_timeout=float(opts.get(CONF_ALARM_TIMEOUT, DEFAULT_ALARM_TIMEOUT)),
            fallback_arm_mode=str(opts.get(CONF_FALLBACK_ARM_MODE, DEFAULT_FALLBACK_ARM_MODE)),
            lock_timeout=float(opts.get(CONF_LOCK_TIMEOUT, DEFAULT_LOCK_TIMEOUT)),
            door_open_timeout=float(opts.get(CONF_DOOR_OPEN_TIMEOUT, DEFAULT_DOOR_OPEN_TIMEOUT)),
            door_held_open=float(opts.get(CONF_DOOR_HELD_OPEN, DEFAULT_DOOR_HELD_OPEN)),
            pets_home_entity=opts.get(CONF_PETS_HOME) or None,
            delivery_address=opts.get(CONF_DELIVERY_ADDRESS) or None,
        )

    def portal(self, portal_id: str) -> PortalConfig | None:
        """Find a portal by id."""
        return next((p for p in self.portals if p.portal_id == portal_id), None)

    def find_portal(self, name: str) -> PortalConfig | None:
        """Find a portal by its id, or else by its name (in any case)."""
        return self.portal(name) or next(
            (p for p in self.portals if p.name.casefold() == name.casefold()), None
        )
