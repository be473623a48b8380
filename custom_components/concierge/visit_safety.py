"""The safety watch of a running visit, and the safety alert every part of the flow raises.

Alongside each visit: a door never opened, a door held open, a visit longer than its
grant allows, a camera lost. Each is recorded as a `safety_alert` on the visit and told
to the owner; then the visit is ended safely — locked if the door is shut, otherwise the
alarm goes to the fallback mode and the door is locked as soon as it closes.
"""

import logging
from typing import Protocol

from .alarm import AlarmError
from .core.delivery import SafetyIssue, locks_itself
from .core.events import AccessEventType, Outcome
from .core.grants import Grant
from .core.visits import Visit
from .flow_state import FlowState
from .site import PortalConfig
from .visit_alarm import VisitAlarm

_LOGGER = logging.getLogger(__name__)


async def async_alert(state: FlowState, visit: Visit, issue: SafetyIssue, **extra: str) -> Visit:
    """Record a safety alert on a visit and tell the owner; `extra` fills the message.

    The alert is the visit's own notification: another visit's alert does not replace it.
    """
    host = state.host
    portal = host.site.portal(visit.portal)
    visit = await host.step(
        state.current(visit), AccessEventType.SAFETY_ALERT, Outcome.FAILED,
        reason=issue.value,
    )  # fmt: skip
    host.save_and_publish()
    await host.async_notify_owner(
        f"safety_{issue.value}",
        {"portal": portal.name if portal else visit.portal, "visit": visit.id, **extra},
    )
    return visit


class Closer(Protocol):
    """Ends a visit (`visit_end.VisitEnd`)."""

    async def async_close(
        self,
        visit: Visit,
        *,
        reason: str | None = None,
        door_secure: bool = True,
        lock: bool = True,
    ) -> Visit:
        """Lock (verified), re-arm (verified), complete or abort."""


class SafetyWatch:
    """Timers and reactions that keep a running visit safe."""

    def __init__(self, state: FlowState, alarm: VisitAlarm, closer: Closer) -> None:
        """Watch `state`'s visits; sound `alarm` for a lost required camera; end with `closer`."""
        self._state = state
        self._host = state.host
        self._alarm = alarm
        self._closer = closer

    def start(self, visit: Visit, grant: Grant, portal: PortalConfig) -> None:
        """A visit has started: wait for its door to open, and for its time to run out."""
        timers = self._state.timers
        site = self._host.site
        if portal.door_sensor and not locks_itself(visit.source):
            timers.start(visit.id, "door_not_opened", site.door_open_timeout,
                         lambda: self._async_door_never_opened(visit.id))  # fmt: skip
        if grant.max_visit_minutes:
            timers.start(visit.id, "too_long", grant.max_visit_minutes * 60,
                         lambda: self._async_too_long(visit.id))  # fmt: skip

    def door_opened(self, visit: Visit) -> None:
        """The visit's door opened: it must not stand open too long."""
        timers = self._state.timers
        timers.cancel(visit.id, "door_not_opened")
        timers.start(visit.id, "held_open", self._host.site.door_held_open,
                     lambda: self._async_held_open(visit.id))  # fmt: skip

    def door_closed(self, visit: Visit) -> None:
        """The visit's door closed."""
        self._state.timers.cancel(visit.id, "held_open")

    async def async_camera_lost(self, visit_id: str, camera: str) -> None:
        """A camera went dark during a visit: alert; sound the alarm if the grant needs it."""
        visit = self._host.site_data.visits.get(visit_id)
        if visit is None or visit.terminal:
            return
        await async_alert(self._state, visit, SafetyIssue.CAMERA_LOST, camera=camera)
        grant = self._host.site_data.grants.get(visit.grant or "")
        if grant is not None and grant.policy.require_camera:
            try:
                await self._alarm.async_trigger()
            except AlarmError:
                _LOGGER.warning("Could not trigger the alarm after a camera was lost")

    async def _async_door_never_opened(self, visit_id: str) -> None:
        visit = self._host.site_data.visits[visit_id]
        if visit.terminal:
            return
        await self._closer.async_close(visit, reason=SafetyIssue.DOOR_NOT_OPENED.value)

    async def _async_too_long(self, visit_id: str) -> None:
        visit = self._host.site_data.visits[visit_id]
        if visit.terminal:
            return
        visit = await async_alert(self._state, visit, SafetyIssue.VISIT_TOO_LONG)
        if self._state.door_open.get(visit.portal):
            await self._async_secure_without_door(visit, SafetyIssue.VISIT_TOO_LONG)
        else:
            await self._closer.async_close(visit, reason=SafetyIssue.VISIT_TOO_LONG.value)

    async def _async_held_open(self, visit_id: str) -> None:
        visit = self._host.site_data.visits[visit_id]
        if visit.terminal or not self._state.door_open.get(visit.portal):
            return
        visit = await async_alert(self._state, visit, SafetyIssue.DOOR_HELD_OPEN)
        await self._async_secure_without_door(visit, SafetyIssue.DOOR_HELD_OPEN)

    async def _async_secure_without_door(self, visit: Visit, issue: SafetyIssue) -> None:
        """The door cannot be locked now: arm in the fallback mode and end the visit.

        The door is locked as soon as it closes (`door_lock.DoorLock`).
        """
        await self._closer.async_close(visit, reason=issue.value, door_secure=False, lock=False)
