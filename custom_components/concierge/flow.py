"""The visit flow: one implementation for couriers, guest links, the owner and keypad PINs.

authorize -> disarm the alarm (verified) -> start evidence -> unlock -> door opened ->
door closed -> lock (verified) -> re-arm (verified) -> completed -> tell the owner.

A safety watch runs alongside: a door never opened, a door held open, a visit longer
than allowed, a camera lost, a lock that does not lock. Whatever happens, the flow ends
with the door locked (or the owner told that it is not) and the alarm re-armed; a visit
left open by a restart is resolved the same way when Home Assistant starts.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from .alarm import AlarmError, AlarmLink, async_wait_for_state
from .core.delivery import (
    GRANT_DENIALS,
    Conditions,
    SafetyIssue,
    denial,
    locks_itself,
    pets_home,
)
from .core.deny import DenyReason
from .core.errors import ConciergeError
from .core.events import AccessEventType, Outcome, Source
from .core.grants import Grant, GrantAction, apply_action
from .core.ids import new_id
from .core.visits import Visit, VisitState, request_visit
from .evidence import Captured, EvidenceRecorder
from .hosts import FlowHost
from .site import PortalConfig
from .visit_alarm import VisitAlarm
from .visit_timers import VisitTimers

_LOGGER = logging.getLogger(__name__)
RECORD_USE = GrantAction.RECORD_USE

LOCKED = "locked"
JAMMED = "jammed"
RELOCK_RETRIES = (5.0, 30.0, 120.0, 600.0, 1800.0)
"""Seconds to the next attempt to lock a door whose lock failed to lock."""


class AccessDenied(Exception):  # noqa: N818 - it names the outcome, as callers use it
    """A request was refused; `reason` is the code the requester and the audit log see."""

    def __init__(self, reason: DenyReason, visit: Visit | None = None) -> None:
        """Keep the reason and the denied visit."""
        super().__init__(reason.value)
        self.reason = reason
        self.visit = visit


class VisitFlow:
    """Runs every visit of one site from request to completion."""

    def __init__(self, coordinator: FlowHost) -> None:
        """Prepare the flow; `async_resolve_interrupted` closes visits a restart left open."""
        self._c = coordinator
        self._hass: HomeAssistant = coordinator.hass
        self._timers = VisitTimers(self._hass, lambda: coordinator.config_entry)
        self._finishing: set[str] = set()
        self._door_open: dict[str, bool] = {}
        self._starting: set[str] = set()
        site = coordinator.site
        link = (
            AlarmLink(self._hass, site.alarm_panel, site.alarm_code, site.alarm_timeout)
            if site.alarm_panel
            else None
        )
        self.alarm = VisitAlarm(coordinator, link, self._alert)
        self.evidence = EvidenceRecorder(
            self._hass,
            coordinator.site_id,
            on_captured=self._async_captured,
            on_camera_lost=self._async_camera_lost,
        )

    # --- helpers ---------------------------------------------------------------------

    def _visit(self, visit_id: str) -> Visit:
        return self._c.site_data.visits[visit_id]

    def _cameras_working(self, portal: PortalConfig) -> bool:
        return bool(portal.cameras) and all(self.evidence.camera_working(c) for c in portal.cameras)

    def _pets_home(self) -> bool:
        entity = self._c.site.pets_home_entity
        state = self._hass.states.get(entity) if entity else None
        return pets_home(None if state is None else state.state)

    def _busy(self, portal_id: str) -> bool:
        return portal_id in self._starting or any(
            v.portal == portal_id and not v.terminal for v in self._c.site_data.visits.values()
        )

    @callback
    def async_stop(self) -> None:
        """Cancel every timer (on unload)."""
        self._timers.stop()
        self.alarm.stop()

    # --- the request -----------------------------------------------------------------

    async def async_request(
        self, grant: Grant, portal: PortalConfig, source: Source, *, detail: str | None = None
    ) -> Visit:
        """Run a visit up to the unlocked door, or raise `AccessDenied` with nothing changed.

        `detail` (e.g. `delivery`) goes into the request event's data as a kind, never an id.
        """
        c = self._c
        now = c.now()  # site time: never goes backwards
        request = await c.async_emit(
            AccessEventType.ACCESS_REQUESTED,
            portal=portal.portal_id,
            grant=grant.id,
            visit=new_id(),
            source=source,
            data={"via": detail} if detail else {},
        )
        visit = request_visit(site=c.site_id, portal=portal.portal_id, source=source,
                              event=request, now=now, grant=grant.id)  # fmt: skip
        conditions = Conditions(
            grant_state=c.state_of(grant.id),
            pets_home=self._pets_home(),
            cameras_working=self._cameras_working(portal),
            portal_busy=self._busy(portal.portal_id),
        )
        if (reason := denial(grant, portal.portal_id, conditions)) is not None:
            raise await self._deny(visit, reason)
        self._starting.add(portal.portal_id)
        try:
            return await self._async_open(visit, grant, portal)
        finally:
            self._starting.discard(portal.portal_id)

    async def _deny(self, visit: Visit, reason: DenyReason) -> AccessDenied:
        visit = await self._c.step(visit, AccessEventType.ACCESS_DENIED, Outcome.DENIED,
                                   VisitState.DENIED, reason=reason.value)  # fmt: skip
        self._c.publish()
        return AccessDenied(reason, visit)

    async def _async_open(self, visit: Visit, grant: Grant, portal: PortalConfig) -> Visit:
        c = self._c
        now = c.now()  # site time: never goes backwards
        try:
            visit = await self.alarm.async_disarm(visit, grant)
        except AlarmError:
            raise await self._deny(self._visit_now(visit), DenyReason.ALARM_NOT_DISARMED) from None
        # Count the use on the grant as it is now: a request racing this one may have
        # taken its last use (or its window closed) while the panel was disarming.
        try:
            used = apply_action(c.site_data.grants.get(grant.id, grant), RECORD_USE, now, c.tz)
        except ConciergeError:
            reason = GRANT_DENIALS.get(c.state_of(grant.id), DenyReason.GRANT_USED_UP)
            denied = await self._deny(self._visit_now(visit), reason)
            await self.alarm.async_rearm(self._visit_now(visit), door_secure=True)
            c.publish()
            raise denied from None
        c.site_data.grants[grant.id] = used
        async with self._secured_on_failure(visit, portal):
            return await self._async_admit(visit, grant, portal)

    @asynccontextmanager
    async def _secured_on_failure(self, visit: Visit, portal: PortalConfig) -> AsyncIterator[None]:
        """Whatever goes wrong once the alarm is disarmed, the visit ends secured.

        A failure nobody planned for (a bug, a grant that ended in between) must not leave
        the alarm disarmed or the door unlocked with no visit: lock, re-arm, abort, tell.
        """
        try:
            yield
        except Exception:
            current = self._visit_now(visit)
            if not current.terminal:
                _LOGGER.exception("A visit at %s failed to start; securing the door", portal.name)
                await self._async_close(current, reason="internal_error")
            raise

    async def _async_admit(
        self, visit: Visit, grant: Grant, portal: PortalConfig, *, unlock: bool = True
    ) -> Visit:
        """Granted → evidence → unlocked → started, for every kind of visit.

        A keypad visit (`unlock=False`) starts with the lock already open by the PIN.
        """
        c = self._c
        visit = await c.step(self._visit_now(visit), AccessEventType.ACCESS_GRANTED,
                             new_state=VisitState.AUTHORIZED)  # fmt: skip
        await self._async_start_evidence(visit, portal)
        visit = self._visit_now(visit)
        if unlock:
            try:
                await self._hass.services.async_call(
                    "lock", "unlock", {ATTR_ENTITY_ID: portal.lock}, blocking=True
                )
            except HomeAssistantError:
                visit = await c.step(visit, AccessEventType.LOCK_FAILURE, Outcome.FAILED,
                                     reason="unlock_failed")  # fmt: skip
                await self._async_close(visit, reason="unlock_failed", door_secure=True, lock=False)
                await c.async_refresh_grant(grant.id)
                raise
        visit = await c.step(self._visit_now(visit), AccessEventType.UNLOCKED)
        visit = await c.step(visit, AccessEventType.VISIT_STARTED,
                             new_state=VisitState.IN_PROGRESS)  # fmt: skip
        self._watch(visit, grant, portal)
        await c.async_refresh_grant(grant.id)
        c.publish()
        await c.async_flush()
        return visit

    def _visit_now(self, visit: Visit) -> Visit:
        """The stored version of a visit (evidence may have been added meanwhile)."""
        return self._c.site_data.visits.get(visit.id, visit)

    async def async_keypad_entry(self, grant: Grant, portal: PortalConfig) -> Visit:
        """The lock opened itself for a grant's PIN: the flow starts at the unlock."""
        c = self._c
        now = c.now()  # site time: never goes backwards
        request = await c.async_emit(
            AccessEventType.ACCESS_REQUESTED, portal=portal.portal_id, grant=grant.id,
            visit=new_id(), source=Source.KEYPAD,
        )  # fmt: skip
        visit = request_visit(site=c.site_id, portal=portal.portal_id, source=Source.KEYPAD,
                              event=request, now=now, grant=grant.id)  # fmt: skip
        try:
            visit = await self.alarm.async_disarm(visit, grant)
        except AlarmError:
            # The door is already open: the alarm's entry delay is running. Tell the owner.
            visit = self._visit_now(visit)
            await c.async_notify_owner("alarm_disarm_failed", {"portal": portal.name})
        try:
            used = apply_action(c.site_data.grants.get(grant.id, grant), RECORD_USE, now, c.tz)
        except ConciergeError:
            # The PIN opened the door after its grant ran out (a use counted meanwhile):
            # the holder is in, the visit is recorded; nothing more to count.
            _LOGGER.warning("A keypad entry at %s came after its grant's last use", portal.name)
        else:
            c.site_data.grants[grant.id] = used
        async with self._secured_on_failure(visit, portal):
            return await self._async_admit(visit, grant, portal, unlock=False)

    # --- evidence --------------------------------------------------------------------

    async def _async_start_evidence(self, visit: Visit, portal: PortalConfig) -> None:
        if portal.cameras:
            await self.evidence.async_start(visit.id, portal.cameras)

    async def _async_captured(self, visit_id: str, captured: Captured) -> None:
        visit = self._c.site_data.visits.get(visit_id)
        if visit is None:
            return
        await self._c.step(
            visit,
            AccessEventType.EVIDENCE_CAPTURED,
            evidence=(captured.ref,),
            data={"camera": captured.camera},
        )
        self._c.publish()

    async def _async_camera_lost(self, visit_id: str, camera: str) -> None:
        visit = self._c.site_data.visits.get(visit_id)
        if visit is None or visit.terminal:
            return
        await self._alert(visit, SafetyIssue.CAMERA_LOST, camera=camera)
        grant = self._c.site_data.grants.get(visit.grant or "")
        if grant is not None and grant.policy.require_camera:
            try:
                await self.alarm.async_trigger()
            except AlarmError:
                _LOGGER.warning("Could not trigger the alarm after a camera was lost")

    # --- the safety watch ------------------------------------------------------------

    def _watch(self, visit: Visit, grant: Grant, portal: PortalConfig) -> None:
        site = self._c.site
        if portal.door_sensor and not locks_itself(visit.source):
            self._timers.start(visit.id, "door_not_opened", site.door_open_timeout,
                        lambda: self._async_door_never_opened(visit.id))  # fmt: skip
        if grant.max_visit_minutes:
            self._timers.start(visit.id, "too_long", grant.max_visit_minutes * 60,
                        lambda: self._async_too_long(visit.id))  # fmt: skip

    async def _alert(self, visit: Visit, issue: SafetyIssue, **extra: str) -> Visit:
        portal = self._c.site.portal(visit.portal)
        visit = await self._c.step(
            self._visit_now(visit), AccessEventType.SAFETY_ALERT, Outcome.FAILED,
            reason=issue.value,
        )  # fmt: skip
        self._c.publish()
        await self._c.async_notify_owner(
            f"safety_{issue.value}",
            {"portal": portal.name if portal else visit.portal, **extra},
        )
        return visit

    async def _async_door_never_opened(self, visit_id: str) -> None:
        visit = self._visit(visit_id)
        if visit.terminal:
            return
        await self._async_close(visit, reason=SafetyIssue.DOOR_NOT_OPENED.value)

    async def _async_too_long(self, visit_id: str) -> None:
        visit = self._visit(visit_id)
        if visit.terminal:
            return
        visit = await self._alert(visit, SafetyIssue.VISIT_TOO_LONG)
        if self._door_open.get(visit.portal):
            await self._async_secure_without_door(visit, SafetyIssue.VISIT_TOO_LONG)
        else:
            await self._async_close(visit, reason=SafetyIssue.VISIT_TOO_LONG.value)

    async def _async_held_open(self, visit_id: str) -> None:
        visit = self._visit(visit_id)
        if visit.terminal or not self._door_open.get(visit.portal):
            return
        visit = await self._alert(visit, SafetyIssue.DOOR_HELD_OPEN)
        await self._async_secure_without_door(visit, SafetyIssue.DOOR_HELD_OPEN)

    async def _async_secure_without_door(self, visit: Visit, issue: SafetyIssue) -> None:
        """The door cannot be locked now: arm in the fallback mode and end the visit.

        The door is locked as soon as it closes (`async_door_changed`).
        """
        await self._async_close(visit, reason=issue.value, door_secure=False, lock=False)

    async def async_door_changed(self, portal: PortalConfig, *, opened: bool) -> None:
        """A door sensor changed: record it (in the open visit, if any) and act on it."""
        self._door_open[portal.portal_id] = opened
        kind = AccessEventType.DOOR_OPENED if opened else AccessEventType.DOOR_CLOSED
        visit = next(
            (v for v in self._c.site_data.visits.values()
             if v.portal == portal.portal_id and not v.terminal),
            None,
        )  # fmt: skip
        if visit is None:
            await self._c.async_emit(kind, portal=portal.portal_id, source=Source.SYSTEM)
            if not opened and portal.portal_id in self._c.site_data.lock_on_close:
                await self._async_lock_after_abort(portal)
            self._c.publish()
            return
        visit = await self._c.step(visit, kind)
        self._c.publish()
        if opened:
            self._timers.cancel(visit.id, "door_not_opened")
            self._timers.start(visit.id, "held_open", self._c.site.door_held_open,
                        lambda: self._async_held_open(visit.id))  # fmt: skip
        else:
            self._timers.cancel(visit.id, "held_open")
            await self._async_close(visit)

    async def _async_lock_after_abort(self, portal: PortalConfig, *, notify: bool = True) -> None:
        """Lock a door a visit could not leave locked (held open, or the lock failed)."""
        if await self._async_lock(portal):
            # The lock's own report may have recorded it already (`async_lock_locked`).
            if portal.portal_id in self._c.site_data.lock_on_close:
                self._c.site_data.lock_on_close.discard(portal.portal_id)
                await self._c.async_emit(
                    AccessEventType.LOCKED, portal=portal.portal_id, source=Source.SYSTEM
                )
            self._c.publish()
            return
        self._c.site_data.lock_on_close.add(portal.portal_id)
        if notify:
            self._relock_later(portal, 0)
            await self._c.async_emit(AccessEventType.LOCK_FAILURE, Outcome.FAILED,
                                     portal=portal.portal_id, source=Source.SYSTEM,
                                     reason="lock_failed")  # fmt: skip
            await self._c.async_notify_owner("safety_lock_failed", {"portal": portal.name})
        self._c.publish()

    def _relock_later(self, portal: PortalConfig, attempt: int) -> None:
        if attempt >= len(RELOCK_RETRIES):
            return
        key = f"relock_{portal.portal_id}"

        async def _retry() -> None:
            if portal.portal_id not in self._c.site_data.lock_on_close:
                return
            if self._door_open.get(portal.portal_id) or self._busy(portal.portal_id):
                return  # the door's closing (or the next visit) takes care of it
            await self._async_lock_after_abort(portal, notify=False)
            if portal.portal_id in self._c.site_data.lock_on_close:
                self._relock_later(portal, attempt + 1)

        self._timers.start(key, "relock", RELOCK_RETRIES[attempt], _retry)

    async def async_lock_back(self, portal: PortalConfig) -> None:
        """A lock that failed is reachable again: lock it now if its door is closed."""
        if portal.portal_id not in self._c.site_data.lock_on_close:
            return
        if self._door_open.get(portal.portal_id) or self._busy(portal.portal_id):
            return
        await self._async_lock_after_abort(portal)

    async def async_lock_locked(self, portal: PortalConfig) -> None:
        """The lock reports locked: a keypad visit (or one without a door sensor) ends here.

        A door a visit could not lock is locked at last: that is recorded, once.
        """
        if portal.portal_id in self._c.site_data.lock_on_close:
            self._c.site_data.lock_on_close.discard(portal.portal_id)
            await self._c.async_emit(
                AccessEventType.LOCKED, portal=portal.portal_id, source=Source.SYSTEM
            )
            self._c.publish()
        for visit in list(self._c.site_data.visits.values()):
            if visit.portal != portal.portal_id or visit.terminal:
                continue
            if visit.id in self._finishing or visit.state is not VisitState.IN_PROGRESS:
                continue
            if locks_itself(visit.source) or not portal.door_sensor:
                await self._async_close(visit)  # the lock is locked: recorded, not re-sent

    async def async_lock_removed(self, portal: PortalConfig) -> None:
        """The door's lock left Home Assistant: end its open visit safely, tell the owner.

        Nothing can lock the door now, so the alarm goes to the fallback mode (one that
        does not rely on this door), and the door is locked once a lock is back.
        """
        for visit in list(self._c.site_data.visits.values()):
            if visit.portal != portal.portal_id or visit.terminal:
                continue
            if visit.id in self._finishing:
                continue
            alerted = await self._alert(visit, SafetyIssue.LOCK_REMOVED)
            await self._async_close(
                alerted, reason=SafetyIssue.LOCK_REMOVED.value, door_secure=False, lock=False
            )

    # --- the end ---------------------------------------------------------------------

    async def _async_lock(self, portal: PortalConfig) -> bool:
        """Lock and wait for the lock to say so; False when it jams or times out."""
        state = self._hass.states.get(portal.lock)
        if state is not None and state.state == LOCKED:
            return True
        try:
            await self._hass.services.async_call(
                "lock", "lock", {ATTR_ENTITY_ID: portal.lock}, blocking=True
            )
        except HomeAssistantError:
            return False
        if not await async_wait_for_state(
            self._hass, portal.lock, frozenset({LOCKED, JAMMED}), self._c.site.lock_timeout
        ):
            return False
        state = self._hass.states.get(portal.lock)
        return state is not None and state.state == LOCKED

    async def async_end(self, visit: Visit, reason: str | None = None) -> Visit:
        """The owner ends a visit: lock, re-arm, close.

        With the door still open the bolt is not thrown into the air: the alarm is armed in
        the fallback mode and the door is locked as soon as it closes.
        """
        if self._door_open.get(visit.portal):
            return await self._async_close(visit, reason=reason, door_secure=False, lock=False)
        return await self._async_close(visit, reason=reason)

    async def _async_close(
        self,
        visit: Visit,
        *,
        reason: str | None = None,
        door_secure: bool = True,
        lock: bool = True,
    ) -> Visit:
        """Lock (verified), re-arm (verified), complete or abort; alert on every failure."""
        if visit.id in self._finishing:
            return visit
        self._finishing.add(visit.id)
        c = self._c
        try:
            self._timers.cancel(visit.id)
            portal = c.site.portal(visit.portal)
            visit = self._visit_now(visit)
            if portal is not None and lock:
                if await self._async_lock(portal):
                    visit = await c.step(visit, AccessEventType.LOCKED)
                else:
                    visit = await c.step(visit, AccessEventType.LOCK_FAILURE, Outcome.FAILED,
                                         reason="lock_failed")  # fmt: skip
                    visit = await self._alert(visit, SafetyIssue.LOCK_FAILED)
                    # Try again: when the door next closes, when the lock is back, and
                    # on a backoff timer (an offline lock often looks "unlocked" meanwhile).
                    c.site_data.lock_on_close.add(portal.portal_id)
                    self._relock_later(portal, 0)
                    door_secure = False
                    reason = reason or SafetyIssue.LOCK_FAILED.value
            elif portal is not None and not door_secure:
                c.site_data.lock_on_close.add(portal.portal_id)
            visit = await self.alarm.async_rearm(visit, door_secure=door_secure)
            await self.evidence.async_stop(visit.id)
            visit = self._visit_now(visit)
            if reason is None:
                visit = await c.step(visit, AccessEventType.VISIT_COMPLETED,
                                     new_state=VisitState.COMPLETED)  # fmt: skip
            else:
                visit = await c.step(visit, AccessEventType.VISIT_ABORTED, Outcome.FAILED,
                                     VisitState.ABORTED, reason=reason)  # fmt: skip
            c.publish()
            await c.async_flush()
            await self._async_tell_owner(visit)
            return visit
        finally:
            self._finishing.discard(visit.id)

    async def _async_tell_owner(self, visit: Visit) -> None:
        grant = self._c.site_data.grants.get(visit.grant or "")
        if grant is None or not grant.policy.notify:
            return
        portal = self._c.site.portal(visit.portal)
        key = "visit_completed" if visit.state is VisitState.COMPLETED else "visit_aborted"
        local = dt_util.as_local(visit.started_at).strftime("%H:%M")
        await self._c.async_notify_owner(
            f"notice_{key}",
            {
                "label": grant.label,
                "portal": portal.name if portal else visit.portal,
                "time": local,
                "reason": visit.abort_reason or "",
            },
            image_portal=visit.portal,
        )

    # --- after a restart -------------------------------------------------------------

    async def async_resolve_interrupted(self) -> None:
        """Close every visit a restart left open: lock, re-arm, record it as interrupted."""
        for visit in list(self._c.site_data.visits.values()):
            if visit.terminal:
                continue
            portal = self._c.site.portal(visit.portal)
            opened = False
            if portal is not None and portal.door_sensor:
                state = self._hass.states.get(portal.door_sensor)
                opened = state is not None and state.state == "on"
            await self._alert(visit, SafetyIssue.INTERRUPTED)
            if visit.state is VisitState.REQUESTED:
                await self._deny(self._visit_now(visit), DenyReason.INTERRUPTED)
                continue
            await self._async_close(
                self._visit_now(visit),
                reason=SafetyIssue.INTERRUPTED.value,
                door_secure=not opened,
                lock=not opened,
            )
