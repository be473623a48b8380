"""What the logbook shows of Concierge beyond its entities' own lines.

Every step at a door or gate is already one logbook line: the portal's access event entity
changes state, and Home Assistant shows its event type translated, with the entity's icon.
The `concierge_access_event` bus event is therefore not described (it would repeat each
step, without an icon). Evidence is one line at a visit's first picture (the event entity)
and one summary when the visit ends, `concierge_visit_evidence`, described here.
"""

from collections.abc import Callable
from typing import Any, Final

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN
from .site_runtime import loaded_sites

EVENT_VISIT_EVIDENCE: Final = "concierge_visit_evidence"
"""A visit's evidence in one line: how many pictures it took (fired when it ends)."""
EVIDENCE_ICON: Final = "mdi:cctv"


def _names(hass: HomeAssistant, data: dict[str, Any]) -> tuple[str, str | None]:
    """Where an event happened and its grant's label (labels only, never credentials).

    The site whose event it is names them (a home's events carry its config entry's id,
    a store's its bridge's site id).
    """
    for site in loaded_sites(hass):
        if (names := site.logbook_names(data)) is not None:
            return names
    return "Concierge", None


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe a visit's evidence summary (the steps are the event entities' lines)."""

    @callback
    def _describe(event: Event) -> dict[str, str]:
        data = dict(event.data)
        where, label = _names(hass, data)
        text = str(data.get("message", ""))
        entry = {
            LOGBOOK_ENTRY_NAME: where,
            LOGBOOK_ENTRY_MESSAGE: f"{label}: {text}" if label else text,
            LOGBOOK_ENTRY_ICON: EVIDENCE_ICON,
        }
        if entity_id := data.get("entity_id"):
            entry[LOGBOOK_ENTRY_ENTITY_ID] = str(entity_id)
        return entry

    async_describe_event(DOMAIN, EVENT_VISIT_EVIDENCE, _describe)
