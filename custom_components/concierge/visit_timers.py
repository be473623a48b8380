"""Named timers per visit (a door not opened, held open, a visit too long, a relock)."""

from collections.abc import Callable, Coroutine
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later


class VisitTimers:
    """At most one timer of each name per visit; all cancelled on unload."""

    def __init__(self, hass: HomeAssistant, entry: Callable[[], ConfigEntry[Any]]) -> None:
        """Run actions as tasks of the site's config entry."""
        self._hass = hass
        self._entry = entry
        self._timers: dict[str, dict[str, CALLBACK_TYPE]] = {}

    def start(
        self,
        visit_id: str,
        name: str,
        seconds: float,
        action: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        """Run `action` in `seconds`, replacing the visit's timer of that name."""
        timers = self._timers.setdefault(visit_id, {})
        if (cancel := timers.pop(name, None)) is not None:
            cancel()

        @callback
        def _fire(_now: object) -> None:
            self._timers.get(visit_id, {}).pop(name, None)
            self._entry().async_create_task(self._hass, action(), f"concierge {name}")

        timers[name] = async_call_later(self._hass, seconds, _fire)

    def cancel(self, visit_id: str, name: str | None = None) -> None:
        """Cancel a visit's timer of that name, or all of them."""
        timers = self._timers.get(visit_id, {})
        names = list(timers) if name is None else [name]
        for key in names:
            if (cancel := timers.pop(key, None)) is not None:
                cancel()
        if not timers:
            self._timers.pop(visit_id, None)

    def stop(self) -> None:
        """Cancel every timer."""
        for visit_id in list(self._timers):
            self.cancel(visit_id)
