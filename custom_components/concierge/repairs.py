"""Repair issues a user can act on: a portal whose lock or door contact has disappeared.

Only home sites have such portals; a store's gates belong to its bridge.
"""

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event

from .const import DOMAIN
from .coordinator import ConciergeCoordinator


def issue_id(entry_id: str, portal_id: str, entity_id: str) -> str:
    """The repair issue's id for one missing entity of a portal."""
    return f"missing_entity_{entry_id}_{portal_id}_{entity_id}"


@callback
def _check(hass: HomeAssistant, coordinator: ConciergeCoordinator) -> None:
    registry = er.async_get(hass)
    entry = coordinator.config_entry
    for portal in coordinator.site.portals:
        for entity_id in (portal.lock, portal.door_sensor):
            if entity_id is None:
                continue
            key = issue_id(entry.entry_id, portal.portal_id, entity_id)
            exists = hass.states.get(entity_id) is not None or registry.async_get(entity_id)
            if exists:
                ir.async_delete_issue(hass, DOMAIN, key)
            else:
                ir.async_create_issue(
                    hass,
                    DOMAIN,
                    key,
                    is_fixable=False,
                    is_persistent=False,
                    severity=ir.IssueSeverity.ERROR,
                    translation_key="missing_entity",
                    translation_placeholders={
                        "site": entry.title,
                        "portal": portal.name,
                        "entity_id": entity_id,
                    },
                )


@callback
def async_check_portal_entities(hass: HomeAssistant, coordinator: ConciergeCoordinator) -> None:
    """Raise (or clear) an issue per missing entity now and whenever the registry changes."""
    entry = coordinator.config_entry
    _check(hass, coordinator)

    @callback
    def _registry_changed(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        if event.data["action"] in {"create", "remove"} or "new_entity_id" in event.data:
            _check(hass, coordinator)

    entry.async_on_unload(
        hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, _registry_changed)
    )

    @callback
    def _state_changed(event: Event[EventStateChangedData]) -> None:
        if event.data["new_state"] is None or event.data["old_state"] is None:
            _check(hass, coordinator)

    watched = [
        entity_id
        for portal in coordinator.site.portals
        for entity_id in (portal.lock, portal.door_sensor)
        if entity_id is not None
    ]
    entry.async_on_unload(async_track_state_change_event(hass, watched, _state_changed))

    @callback
    def _clear() -> None:
        for portal in coordinator.site.portals:
            for entity_id in (portal.lock, portal.door_sensor):
                if entity_id is not None:
                    ir.async_delete_issue(
                        hass, DOMAIN, issue_id(entry.entry_id, portal.portal_id, entity_id)
                    )

    entry.async_on_unload(_clear)
