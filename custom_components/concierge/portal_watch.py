"""Following each door's contact sensor and lock: their changes go to the visit flow."""

from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant
from homeassistant.helpers.event import async_track_state_change_event

from .flow import VisitFlow
from .site import SiteConfig

OPEN_CLOSED = frozenset({STATE_ON, "off"})
UNREACHABLE = frozenset({STATE_UNAVAILABLE, STATE_UNKNOWN, "jammed"})


def async_watch_portals(
    hass: HomeAssistant, site: SiteConfig, flow: VisitFlow
) -> list[CALLBACK_TYPE]:
    """Listen to the site's door sensors and locks; returns the unsubscribers."""
    watch = _PortalWatch(site, flow)
    sensors = [p.door_sensor for p in site.portals if p.door_sensor]
    locks = [p.lock for p in site.portals]
    return [
        async_track_state_change_event(hass, sensors, watch.async_door_changed),
        async_track_state_change_event(hass, locks, watch.async_lock_changed),
    ]


class _PortalWatch:
    def __init__(self, site: SiteConfig, flow: VisitFlow) -> None:
        self._site = site
        self._flow = flow

    async def async_door_changed(self, event: Event[EventStateChangedData]) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        if new is None or old is None or new.state == old.state:
            return
        if new.state not in OPEN_CLOSED or old.state not in OPEN_CLOSED:
            return  # unavailable or unknown says nothing about the door
        for portal in self._site.portals:
            if portal.door_sensor == event.data["entity_id"]:
                await self._flow.async_door_changed(portal, opened=new.state == STATE_ON)

    async def async_lock_changed(self, event: Event[EventStateChangedData]) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        for portal in self._site.portals:
            if portal.lock != event.data["entity_id"]:
                continue
            if new is None:
                await self._flow.async_lock_removed(portal)
            elif new.state == "locked":
                await self._flow.async_lock_locked(portal)
            elif new.state == "unlocked" and (old is None or old.state in UNREACHABLE):
                await self._flow.async_lock_back(portal)
