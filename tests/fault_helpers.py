"""What the keypad fault tests (Z-Wave and Zigbee) look at besides the lock's own memory.

Only what the owner can see: the grant's state sensor (its ``codes`` attribute), the
door's keypad sensor, the repairs, the messages on the owner's phone, and the access
events. Never Concierge's internal state: a fault test must hold whatever the design.

The user-visible contract the fault suite checks (issue 12):

- a grant's ``codes`` maps a door name to ``programmed``, ``pending`` (wanted, not
  confirmed yet), ``rejected``, ``no_free_slot`` or ``not_removed`` (the code is or may
  be on the lock although its window is over: the clear is unconfirmed);
- the door's keypad sensor (unique id ``<site>_<door>_keypad``) is ``in_sync``,
  ``pending`` or ``not_removed``;
- repairs ``code_not_removed_<lock>``, ``foreign_codes_<lock>``, ``no_free_slot_<lock>``;
- one message per episode (``code_not_removed``, ``no_free_slot``), never one per retry.
"""

import json
import re
from pathlib import Path

from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir

from custom_components.concierge.const import DOMAIN

DOOR = "Front door"
PORTAL = "front"
NOT_REMOVED = "not_removed"
PENDING = "pending"
PROGRAMMED = "programmed"
IN_SYNC = "in_sync"
NO_FREE_SLOT = "no_free_slot"
_TRANSLATIONS = (
    Path(__file__).resolve().parents[1] / "custom_components" / DOMAIN / "translations" / "en.json"
)


# --- the grant and the door, as the owner sees them -----------------------------------


def grant_codes(hass: HomeAssistant, grant_id: str) -> dict[str, str] | None:
    """The grant state sensor's ``codes`` attribute (None while the sensor is missing)."""
    for state in hass.states.async_all("sensor"):
        if state.attributes.get("grant_id") == grant_id:
            return dict(state.attributes.get("codes") or {})
    return None


def door_status(hass: HomeAssistant, grant_id: str) -> str | None:
    """Where the grant's code stands at the front door (None: the grant shows nothing)."""
    return (grant_codes(hass, grant_id) or {}).get(DOOR)


def grant_state(hass: HomeAssistant, grant_id: str) -> str | None:
    """The grant's state (active, expired, ...)."""
    for state in hass.states.async_all("sensor"):
        if state.attributes.get("grant_id") == grant_id:
            return state.state
    return None


def grant_count(hass: HomeAssistant) -> int:
    """How many grants have a state sensor."""
    return sum(1 for s in hass.states.async_all("sensor") if "grant_id" in s.attributes)


def keypad_sensor(hass: HomeAssistant, portal: str = PORTAL) -> str | None:
    """The entity id of the door's keypad sensor (unique id ``..._<door>_keypad``)."""
    for entry in er.async_get(hass).entities.values():
        if (
            entry.platform == DOMAIN
            and entry.domain == "sensor"
            and entry.unique_id.endswith(f"_{portal}_keypad")
        ):
            return entry.entity_id
    return None


def keypad_state(hass: HomeAssistant, portal: str = PORTAL) -> str | None:
    """The door keypad sensor's state; ``"<no keypad sensor>"`` when there is none."""
    entity_id = keypad_sensor(hass, portal)
    if entity_id is None:
        return "<no keypad sensor for the door>"
    state = hass.states.get(entity_id)
    return None if state is None else state.state


class CodesSeen:
    """Every ``codes`` value a grant's sensor showed for the front door, in order."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start recording (before the grant exists, to miss nothing)."""
        self.seen: dict[str, list[str | None]] = {}
        self._unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, self._on_change)

    @callback
    def _on_change(self, event: Event) -> None:
        new = event.data.get("new_state")
        # Only a grant's state sensor shows `codes` (an event entity names the grant too).
        if new is None or "grant_id" not in new.attributes or "codes" not in new.attributes:
            return
        codes = new.attributes["codes"] or {}
        values = self.seen.setdefault(new.attributes["grant_id"], [])
        value = codes.get(DOOR)
        if not values or values[-1] != value:
            values.append(value)

    def of(self, grant_id: str) -> list[str | None]:
        """The door statuses the grant showed so far (None: nothing shown)."""
        return list(self.seen.get(grant_id, []))

    def since_first(self, grant_id: str) -> list[str | None]:
        """The statuses from the first one shown on (a new grant starts with nothing)."""
        values = self.of(grant_id)
        while values and values[0] is None:
            values.pop(0)
        return values

    def stop(self) -> None:
        """Stop recording."""
        self._unsub()


# --- repairs and messages ---------------------------------------------------------------


def repair(hass: HomeAssistant, kind: str, lock_entity_id: str) -> ir.IssueEntry | None:
    """The repair ``<kind>_<lock entity id>``, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{kind}_{lock_entity_id}")


def repairs(hass: HomeAssistant) -> list[str]:
    """Every Concierge repair raised now (for failure messages)."""
    return sorted(i for (d, i) in ir.async_get(hass).issues if d == DOMAIN)


def _message_patterns() -> dict[str, re.Pattern[str]]:
    """Each owner message of Concierge (``exceptions`` translations) as a pattern."""
    data = json.loads(_TRANSLATIONS.read_text(encoding="utf-8"))
    patterns = {}
    for key, entry in data.get("exceptions", {}).items():
        template = str(entry.get("message", "")).rstrip(".")
        parts = re.split(r"\{[a-z_]+\}", template)
        patterns[key] = re.compile(".+?".join(re.escape(p) for p in parts), re.DOTALL)
    return patterns


_PATTERNS = _message_patterns()  # read once, at import (not inside the event loop)


def told(phone: list[ServiceCall], key: str) -> list[str]:
    """The messages the owner's phone got for the owner message ``key``.

    A message counts if it is the translation of ``key`` (any placeholders), or the bare
    key (what Home Assistant sends when the translation is missing).
    """
    pattern = _PATTERNS.get(key)
    found = []
    for call in phone:
        message = str(call.data.get("message", ""))
        if message == key or (pattern is not None and pattern.fullmatch(message)):
            found.append(message)
    return found


def all_told(phone: list[ServiceCall]) -> list[str]:
    """Every message the owner's phone got (for failure messages)."""
    return [str(call.data.get("message", "")) for call in phone]
