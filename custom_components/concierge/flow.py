"""The visit flow: one for couriers, guest links, the owner and keypad PINs.

request → policy checks → disarm (verified) → count the use → granted → evidence →
unlock → door opened → door closed → lock (verified) → re-arm (verified) → completed →
tell the owner.

`VisitFlow` is where the world enters: a request, a keypad entry, the owner ending a
visit, a door or a lock that changed (`portal_watch.py`), a restart. Its parts, one job
each:

- `visit_admission.py`: the request, refused or admitted, up to the started visit;
- `visit_safety.py`: the safety watch (a door never opened or held open, a visit too
  long, a camera lost) and the safety alert;
- `visit_end.py`: lock, re-arm, complete or abort, tell the owner;
- `door_lock.py`: locking a door (verified), and a door a visit could not lock;
- `visit_alarm.py`, `visit_timers.py`, `flow_state.py`: the alarm during visits; the
  visits' timers; what the parts share.

Whatever happens, a visit ends with the door locked (or the owner told that it is not)
and the alarm re-armed; a visit left open by a restart is resolved the same way when
Home Assistant starts. The flow sees its site only as a `FlowHost` (`hosts.py`).
"""

from functools import partial

from homeassistant.core import callback

from .alarm import AlarmLink
from .core.delivery import SafetyIssue, locks_itself
from .core.deny import DenyReason
from .core.events import AccessEventType, Source
from .core.grants import Grant
from .core.visits import Visit, VisitState
from .door_lock import DoorLock
from .evidence import Captured, EvidenceRecorder
from .flow_state import FlowState
from .hosts import FlowHost
from .site import PortalConfig
from .visit_admission import AccessDenied, VisitAdmission
from .visit_alarm import VisitAlarm
from .visit_end import VisitEnd
from .visit_safety import SafetyWatch, async_alert

__all__ = ["AccessDenied", "VisitFlow"]


class VisitFlow:
    """Runs every visit of one site from request to completion."""

    def __init__(self, host: FlowHost) -> None:
        """Prepare the flow; `async_resolve_interrupted` closes visits a restart left open."""
        self._host = host
        self._state = state = FlowState(host)
        site = host.site
        link = (
            AlarmLink(host.hass, site.alarm_panel, site.alarm_code, site.alarm_timeout)
            if site.alarm_panel
            else None
        )
        self.alarm = VisitAlarm(host, link, partial(async_alert, state))
        self.evidence = EvidenceRecorder(
            host.hass,
            host.site_id,
            on_captured=self._async_captured,
            on_camera_lost=self._async_camera_lost,
        )
        self._locks = DoorLock(state)
        self._end = VisitEnd(state, self.alarm, self.evidence, self._locks)
        self._safety = SafetyWatch(state, self.alarm, self._end)
        self._admission = VisitAdmission(state, self.alarm, self.evidence, self._safety, self._end)

    @callback
    def async_stop(self) -> None:
        """Cancel every timer (on unload)."""
        self._state.timers.stop()
        self.alarm.stop()

    # --- from the requester and the owner --------------------------------------------

    async def async_request(
        self, grant: Grant, portal: PortalConfig, source: Source, *, detail: str | None = None
    ) -> Visit:
        """Run a visit up to the unlocked door, or raise `AccessDenied` (`visit_admission.py`)."""
        return await self._admission.async_request(grant, portal, source, detail=detail)

    async def async_keypad_entry(self, grant: Grant, portal: PortalConfig) -> Visit:
        """The lock opened itself for a grant's PIN: the flow goes on from the unlock."""
        return await self._admission.async_keypad_entry(grant, portal)

    async def async_end(self, visit: Visit, reason: str | None = None) -> Visit:
        """The owner ends a visit: lock, re-arm, close (`visit_end.py`)."""
        return await self._end.async_end(visit, reason)

    # --- from the door and its lock --------------------------------------------------

    async def async_door_changed(self, portal: PortalConfig, *, opened: bool) -> None:
        """A door sensor changed: record it (in the open visit, if any) and act on it.

        A door that closes ends its visit; with no visit, a door still to lock is locked.
        """
        host = self._host
        self._state.door_open[portal.portal_id] = opened
        kind = AccessEventType.DOOR_OPENED if opened else AccessEventType.DOOR_CLOSED
        visit = next(iter(self._state.open_visits(portal.portal_id)), None)
        if visit is None:
            await host.async_emit(kind, portal=portal.portal_id, source=Source.SYSTEM)
            if not opened and portal.portal_id in host.site_data.lock_on_close:
                await self._locks.async_lock_after_abort(portal)
            host.save_and_publish()
            return
        visit = await host.step(visit, kind)
        host.save_and_publish()
        if opened:
            self._safety.door_opened(visit)
        else:
            self._safety.door_closed(visit)
            await self._end.async_close(visit)

    async def async_lock_back(self, portal: PortalConfig) -> None:
        """A lock that failed is reachable again: lock it now if its door is closed."""
        await self._locks.async_lock_back(portal)

    async def async_lock_locked(self, portal: PortalConfig) -> None:
        """The lock reports locked: a keypad visit (or one without a door sensor) ends here.

        A door a visit could not lock is locked at last: that is recorded, once.
        """
        if await self._locks.async_locked(portal):
            self._host.save_and_publish()
        for visit in self._state.open_visits(portal.portal_id):
            if visit.id in self._state.finishing or visit.state is not VisitState.IN_PROGRESS:
                continue
            if locks_itself(visit.source) or not portal.door_sensor:
                await self._end.async_close(visit)  # the lock is locked: recorded, not re-sent

    async def async_lock_removed(self, portal: PortalConfig) -> None:
        """The door's lock left Home Assistant: end its open visit safely, tell the owner.

        Nothing can lock the door now, so the alarm goes to the fallback mode (one that
        does not rely on this door), and the door is locked once a lock is back.
        """
        for visit in self._state.open_visits(portal.portal_id):
            if visit.id in self._state.finishing:
                continue
            alerted = await async_alert(self._state, visit, SafetyIssue.LOCK_REMOVED)
            await self._end.async_close(
                alerted, reason=SafetyIssue.LOCK_REMOVED.value, door_secure=False, lock=False
            )

    # --- from the cameras ------------------------------------------------------------

    async def _async_captured(self, visit_id: str, captured: Captured) -> None:
        """An evidence file was written: it joins the visit (and the audit chain)."""
        visit = self._host.site_data.visits.get(visit_id)
        if visit is None:
            return
        await self._host.step(
            visit,
            AccessEventType.EVIDENCE_CAPTURED,
            evidence=(captured.ref,),
            data={"camera": captured.camera},
        )
        self._host.save_and_publish()

    async def _async_camera_lost(self, visit_id: str, camera: str) -> None:
        await self._safety.async_camera_lost(visit_id, camera)

    # --- after a restart -------------------------------------------------------------

    async def async_resolve_interrupted(self) -> None:
        """Close every visit a restart left open: lock, re-arm, record it as interrupted.

        A visit still `requested` is denied; an open door is not locked (the alarm goes
        to the fallback mode and the door is locked when it closes).
        """
        state = self._state
        for visit in list(self._host.site_data.visits.values()):
            if visit.terminal:
                continue
            portal = self._host.site.portal(visit.portal)
            opened = False
            if portal is not None and portal.door_sensor:
                door = state.hass.states.get(portal.door_sensor)
                opened = door is not None and door.state == "on"
            await async_alert(state, visit, SafetyIssue.INTERRUPTED)
            if visit.state is VisitState.REQUESTED:
                await self._admission.async_deny(state.current(visit), DenyReason.INTERRUPTED)
                continue
            await self._end.async_close(
                state.current(visit),
                reason=SafetyIssue.INTERRUPTED.value,
                door_secure=not opened,
                lock=not opened,
            )
