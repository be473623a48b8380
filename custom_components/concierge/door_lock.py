"""Locking a door, verified; and a door a visit could not leave locked, locked later.

A lock's "OK" is not trusted: the door counts as locked when the lock says `locked`.
A door a visit could not lock (held open, the lock failed or is gone) is kept in the
site's `lock_on_close` and locked when it next closes, when its lock is back, and on a
backoff timer (an offline lock often looks "unlocked" meanwhile); locking it at last is
recorded once.
"""

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.exceptions import HomeAssistantError

from .alarm import async_wait_for_state
from .core.events import AccessEventType, Outcome, Source
from .flow_state import FlowState
from .site import PortalConfig

LOCKED = "locked"
JAMMED = "jammed"
RELOCK_RETRIES = (5.0, 30.0, 120.0, 600.0, 1800.0)
"""Seconds to the next attempt to lock a door whose lock failed to lock."""


class DoorLock:
    """Locks a site's doors and remembers the ones still to lock."""

    def __init__(self, state: FlowState) -> None:
        """Lock the doors of `state`'s site."""
        self._state = state
        self._host = state.host

    async def async_lock(self, portal: PortalConfig) -> bool:
        """Lock and wait for the lock to say so; False when it jams or times out."""
        hass = self._state.hass
        state = hass.states.get(portal.lock)
        if state is not None and state.state == LOCKED:
            return True
        try:
            await hass.services.async_call(
                "lock", "lock", {ATTR_ENTITY_ID: portal.lock}, blocking=True
            )
        except HomeAssistantError:
            return False
        if not await async_wait_for_state(
            hass, portal.lock, frozenset({LOCKED, JAMMED}), self._host.site.lock_timeout
        ):
            return False
        state = hass.states.get(portal.lock)
        return state is not None and state.state == LOCKED

    def lock_when_closed(self, portal: PortalConfig) -> None:
        """The door stands open (or cannot be locked now): lock it when it closes."""
        self._host.site_data.lock_on_close.add(portal.portal_id)

    def lock_later(self, portal: PortalConfig) -> None:
        """The lock failed: try again when the door closes, when the lock is back, and soon."""
        self.lock_when_closed(portal)
        self._relock_later(portal, 0)

    async def async_lock_after_abort(self, portal: PortalConfig, *, notify: bool = True) -> None:
        """Lock a door a visit could not leave locked (held open, or the lock failed)."""
        host = self._host
        if await self.async_lock(portal):
            # The lock's own report may have recorded it already (`async_locked`).
            await self.async_locked(portal)
            host.save_and_publish()
            return
        self.lock_when_closed(portal)
        if notify:
            self._relock_later(portal, 0)
            await host.async_emit(AccessEventType.LOCK_FAILURE, Outcome.FAILED,
                                  portal=portal.portal_id, source=Source.SYSTEM,
                                  reason="lock_failed")  # fmt: skip
            await host.async_notify_owner("safety_lock_failed", {"portal": portal.name})
        host.save_and_publish()

    def _relock_later(self, portal: PortalConfig, attempt: int) -> None:
        if attempt >= len(RELOCK_RETRIES):
            return
        key = f"relock_{portal.portal_id}"

        async def _retry() -> None:
            if portal.portal_id not in self._host.site_data.lock_on_close:
                return
            if self._state.door_open.get(portal.portal_id) or self._state.busy(portal.portal_id):
                return  # the door's closing (or the next visit) takes care of it
            await self.async_lock_after_abort(portal, notify=False)
            if portal.portal_id in self._host.site_data.lock_on_close:
                self._relock_later(portal, attempt + 1)

        self._state.timers.start(key, "relock", RELOCK_RETRIES[attempt], _retry)

    async def async_lock_back(self, portal: PortalConfig) -> None:
        """A lock that failed is reachable again: lock it now if its door is closed."""
        if portal.portal_id not in self._host.site_data.lock_on_close:
            return
        if self._state.door_open.get(portal.portal_id) or self._state.busy(portal.portal_id):
            return
        await self.async_lock_after_abort(portal)

    async def async_locked(self, portal: PortalConfig) -> bool:
        """The door is locked: if it was still to lock, record that (once) and say so."""
        if portal.portal_id not in self._host.site_data.lock_on_close:
            return False
        self._host.site_data.lock_on_close.discard(portal.portal_id)
        await self._host.async_emit(
            AccessEventType.LOCKED, portal=portal.portal_id, source=Source.SYSTEM
        )
        return True
