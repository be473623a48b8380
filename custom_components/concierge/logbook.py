"""Logbook entries for access events."""

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN, EVENT_ACCESS
from .site_runtime import loaded_sites

_PHRASES: dict[str, str] = {
    "grant_created": "was created",
    "grant_updated": "was changed",
    "grant_activated": "window opened",
    "grant_expired": "expired",
    "grant_suspended": "was suspended",
    "grant_resumed": "was resumed",
    "grant_revoked": "was revoked",
    "grant_used_up": "is used up",
    "access_requested": "asked to enter",
    "access_granted": "was let in",
    "access_denied": "was refused",
    "unlocked": "unlocked the door",
    "locked": "door locked",
    "lock_failure": "lock failed",
    "door_opened": "door opened",
    "door_closed": "door closed",
    "visit_started": "visit started",
    "visit_completed": "visit completed",
    "visit_aborted": "visit aborted",
    "check_in": "checked in",
    "check_out": "checked out",
    "gate_opened": "gate opened",
}


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
    """Describe access events in the logbook."""

    @callback
    def _describe(event: Event) -> dict[str, str]:
        data = dict(event.data)
        where, label = _names(hass, data)
        kind = str(data.get("type", ""))
        phrase = _PHRASES.get(kind, kind.replace("_", " "))
        message = f"{label}: {phrase}" if label else phrase
        if data.get("reason"):
            message += f" ({str(data['reason']).replace('_', ' ')})"
        return {LOGBOOK_ENTRY_NAME: where, LOGBOOK_ENTRY_MESSAGE: message}

    async_describe_event(DOMAIN, EVENT_ACCESS, _describe)
