"""Ending a visit: lock (verified), re-arm (verified), complete or abort, tell the owner.

Every end goes through `VisitEnd.async_close`, whoever asks: the door closing, the lock
locking, the owner, a safety timer, a failure while starting, a restart. A lock that
fails is an alert and the door is locked later (`door_lock.py`); the alarm is then armed
in the fallback mode, one that does not rely on that door.
"""

from homeassistant.util import dt as dt_util

from .core.delivery import SafetyIssue
from .core.events import AccessEventType, Outcome
from .core.visits import Visit, VisitState
from .door_lock import DoorLock
from .evidence import EvidenceRecorder
from .flow_state import FlowState
from .visit_alarm import VisitAlarm
from .visit_safety import async_alert


class VisitEnd:
    """Closes a site's visits."""

    def __init__(
        self, state: FlowState, alarm: VisitAlarm, evidence: EvidenceRecorder, locks: DoorLock
    ) -> None:
        """End `state`'s visits with these doors, this alarm and this evidence."""
        self._state = state
        self._host = state.host
        self._alarm = alarm
        self._evidence = evidence
        self._locks = locks

    async def async_end(self, visit: Visit, reason: str | None = None) -> Visit:
        """The owner ends a visit: lock, re-arm, close.

        With the door still open the bolt is not thrown into the air: the alarm is armed in
        the fallback mode and the door is locked as soon as it closes.
        """
        if self._state.door_open.get(visit.portal):
            return await self.async_close(visit, reason=reason, door_secure=False, lock=False)
        return await self.async_close(visit, reason=reason)

    async def async_close(
        self,
        visit: Visit,
        *,
        reason: str | None = None,
        door_secure: bool = True,
        lock: bool = True,
    ) -> Visit:
        """Lock (verified), re-arm (verified), complete or abort; alert on every failure.

        Without `reason` the visit is completed, with one it is aborted. `lock=False`
        leaves the lock alone; `door_secure=False` arms the fallback mode and locks the
        door when it closes. A visit already being closed is returned as it is.
        """
        finishing = self._state.finishing
        if visit.id in finishing:
            return visit
        finishing.add(visit.id)
        host = self._host
        try:
            self._state.timers.cancel(visit.id)
            portal = host.site.portal(visit.portal)
            visit = self._state.current(visit)
            if portal is not None and lock:
                if await self._locks.async_lock(portal):
                    visit = await host.step(visit, AccessEventType.LOCKED)
                else:
                    visit = await host.step(visit, AccessEventType.LOCK_FAILURE, Outcome.FAILED,
                                             reason="lock_failed")  # fmt: skip
                    visit = await async_alert(self._state, visit, SafetyIssue.LOCK_FAILED)
                    self._locks.lock_later(portal)
                    door_secure = False
                    reason = reason or SafetyIssue.LOCK_FAILED.value
            elif portal is not None and not door_secure:
                self._locks.lock_when_closed(portal)
            visit = await self._alarm.async_rearm(visit, door_secure=door_secure)
            await self._evidence.async_stop(visit.id)
            visit = self._state.current(visit)
            if reason is None:
                visit = await host.step(visit, AccessEventType.VISIT_COMPLETED,
                                        new_state=VisitState.COMPLETED)  # fmt: skip
            else:
                visit = await host.step(visit, AccessEventType.VISIT_ABORTED, Outcome.FAILED,
                                        VisitState.ABORTED, reason=reason)  # fmt: skip
            host.save_and_publish()
            await host.async_flush()
            await self._async_tell_owner(visit)
            return visit
        finally:
            finishing.discard(visit.id)

    async def _async_tell_owner(self, visit: Visit) -> None:
        """Tell the owner how the visit ended, if its grant asks for it."""
        host = self._host
        grant = host.site_data.grants.get(visit.grant or "")
        if grant is None or not grant.policy.notify:
            return
        portal = host.site.portal(visit.portal)
        key = "visit_completed" if visit.state is VisitState.COMPLETED else "visit_aborted"
        local = dt_util.as_local(visit.started_at).strftime("%H:%M")
        await host.async_notify_owner(
            f"notice_{key}",
            {
                "label": grant.label,
                "portal": portal.name if portal else visit.portal,
                "time": local,
                "reason": visit.abort_reason or "",
                "visit": visit.id,
            },
            image_portal=visit.portal,
        )
