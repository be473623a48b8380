"""The alarm during visits: disarmed only for a visit, verified, and re-armed after.

A panel's "OK" is not trusted: `AlarmLink` waits for the state. A panel that disarms
after Concierge gave up is re-armed (or watched for a while, then re-armed). Visits that
overlap keep the alarm disarmed until the last one ends, which restores the mode the
first one found.
"""

import logging
from collections.abc import Awaitable, Callable

from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_state_change_event

from .alarm import AlarmError, AlarmLink
from .core.delivery import (
    ARMED_STATES,
    DISARMED,
    PREVIOUS_MODE,
    SafetyIssue,
    mode_to_restore,
    rearm_plan,
    should_disarm,
)
from .core.events import AccessEventType, Outcome
from .core.grants import Grant
from .core.visits import Visit
from .hosts import FlowHost

_LOGGER = logging.getLogger(__name__)

LATE_DISARM_WATCH = 600.0
"""Seconds a panel that refused to disarm is watched for a late disarm (then re-armed)."""

type Alert = Callable[..., Awaitable[Visit]]
"""Records a safety alert on a visit and tells the owner (the flow's)."""


class VisitAlarm:
    """Disarms and re-arms a site's panel for its visits."""

    def __init__(self, host: FlowHost, link: AlarmLink | None, alert: Alert) -> None:
        """Drive `link` (None: the site has no panel) for `host`'s visits."""
        self._c = host
        self._hass: HomeAssistant = host.hass
        self.link = link
        self._alert = alert
        self._watchers: list[Callable[[], None]] = []

    def stop(self) -> None:
        """Stop watching for late disarms (on unload)."""
        for stop in list(self._watchers):
            stop()

    async def async_trigger(self) -> None:
        """Sound the alarm (a required camera went dark)."""
        if self.link is not None:
            await self.link.async_trigger()

    async def async_disarm(self, visit: Visit, grant: Grant) -> Visit:
        """Disarm for the visit (verified); raises AlarmError after recording the failure."""
        if self.link is None or not should_disarm(grant, self.link.state):
            return visit
        previous = self.link.state
        try:
            previous = await self.link.async_disarm()
        except AlarmError as err:
            await self._c.step(visit, AccessEventType.ALARM_FAILURE, Outcome.FAILED,
                               reason=f"disarm_{err.reason}")  # fmt: skip
            await self._async_undo_late_disarm(previous)
            raise
        return await self._c.step(
            visit, AccessEventType.ALARM_DISARMED, data={PREVIOUS_MODE: previous}
        )

    async def _async_undo_late_disarm(self, previous: str | None) -> None:
        """A panel that disarms after we gave up must not stay disarmed with no visit.

        Re-armed now if it already left its mode; otherwise watched for a while (a cloud
        panel may carry out the queued disarm later) and re-armed if it gets there.
        """
        alarm = self.link
        if alarm is None or previous is None or previous not in ARMED_STATES:
            return
        if alarm.state != previous:
            await self._async_rearm_after_refusal(previous)
            return

        @callback
        def _changed(event: Event[EventStateChangedData]) -> None:
            new = event.data["new_state"]
            if new is not None and new.state == DISARMED and not self._any_open_visit():
                stop()
                self._c.config_entry.async_create_task(
                    self._hass, self._async_rearm_after_refusal(previous), "concierge rearm"
                )

        unsub = async_track_state_change_event(self._hass, [alarm.entity_id], _changed)
        cancel_timer = async_call_later(self._hass, LATE_DISARM_WATCH, lambda _now: stop())

        def stop() -> None:
            if stop in self._watchers:
                self._watchers.remove(stop)
                unsub()
                cancel_timer()

        self._watchers.append(stop)

    def _any_open_visit(self) -> bool:
        return any(not v.terminal for v in self._c.site_data.visits.values())

    async def _async_rearm_after_refusal(self, previous: str) -> None:
        if self.link is None:
            return
        try:
            await self.link.async_arm(previous)
        except AlarmError:
            await self._c.async_notify_owner("alarm_left_disarmed", {"mode": previous})

    async def async_rearm(self, visit: Visit, *, door_secure: bool) -> Visit:
        """Re-arm as a visit ends: its mode, the fallback, or later when others are in."""
        data = self._c.site_data
        others_open = any(not v.terminal and v.id != visit.id for v in data.visits.values())
        mode, data.alarm_hold = rearm_plan(
            mode_to_restore(visit), data.alarm_hold, others_open=others_open,
            door_secure=door_secure, fallback=self._c.site.fallback_arm_mode,
        )  # fmt: skip
        if others_open and data.alarm_hold is not None:
            _LOGGER.info("Another visit is in progress: the alarm is re-armed when it ends")
        if mode is None or self.link is None:
            return visit
        try:
            await self.link.async_arm(mode)
        except AlarmError as err:
            visit = await self._c.step(visit, AccessEventType.ALARM_FAILURE, Outcome.FAILED,
                                       reason=f"rearm_{err.reason}")  # fmt: skip
            return await self._alert(visit, SafetyIssue.REARM_FAILED, mode=mode)
        return await self._c.step(visit, AccessEventType.ALARM_REARMED, data={"mode": mode})
