"""Letting someone in: a request is refused, or runs to a started visit behind an open door.

One path for every kind of visit: requested → (policy checks) → disarm (verified) →
count the use → granted → on disk → evidence → unlocked → started, then saved at once.
A courier, a guest link or the owner asks first (`async_request`) and is refused at any
step with the reason recorded. A keypad PIN has opened the lock already
(`async_keypad_entry`): the holder is in, so nothing refuses the visit — a panel that
stays armed is told to the owner, a use past the grant's last is only logged, and no
unlock is sent.

A door never opens for a visit that is not on record: the visit's records up to
`access_granted` are written to the audit log as one batch, with one fsync, and the
unlock waits for it (only for it: the camera's first picture is taken meanwhile). After
a stop at the unlock, the next start rebuilds the visit and its use from those records
(`core/visit_replay.py`), locks the door and records the visit as interrupted. A disk
that refuses the batch is not a reason to keep the door shut: the site's data, which
holds the visit and the use, is written at once instead.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.exceptions import HomeAssistantError

from .alarm import AlarmError
from .core.delivery import GRANT_DENIALS, Conditions, denial, pets_home
from .core.deny import DenyReason
from .core.errors import ConciergeError
from .core.events import AccessEventType, Outcome, Source
from .core.grants import Grant, GrantAction, apply_action
from .core.ids import new_id
from .core.visits import Visit, VisitState, request_visit
from .evidence import EvidenceRecorder
from .flow_state import FlowState
from .site import PortalConfig
from .visit_alarm import VisitAlarm
from .visit_end import VisitEnd
from .visit_safety import SafetyWatch

_LOGGER = logging.getLogger(__name__)

type EndBatch = Callable[..., Awaitable[bool]]
"""Ends the audit batch of an admission: `await end()` writes it (True: on disk)."""


class AccessDenied(Exception):  # noqa: N818 - it names the outcome, as callers use it
    """A request was refused; `reason` is the code the requester and the audit log see."""

    def __init__(self, reason: DenyReason, visit: Visit | None = None) -> None:
        """Keep the reason and the denied visit."""
        super().__init__(reason.value)
        self.reason = reason
        self.visit = visit


class VisitAdmission:
    """Admits a site's visits, from the request to the started visit."""

    def __init__(
        self,
        state: FlowState,
        alarm: VisitAlarm,
        evidence: EvidenceRecorder,
        safety: SafetyWatch,
        end: VisitEnd,
    ) -> None:
        """Admit `state`'s visits; `safety` watches them once started, `end` secures a failure."""
        self._state = state
        self._host = state.host
        self._alarm = alarm
        self._evidence = evidence
        self._safety = safety
        self._end = end

    async def async_request(
        self, grant: Grant, portal: PortalConfig, source: Source, *, detail: str | None = None
    ) -> Visit:
        """Run a visit up to the unlocked door, or raise `AccessDenied` with the door shut.

        `detail` (e.g. `delivery`) goes into the request event's data as a kind, never an id.
        """
        end = self._host.audit.append_batch()
        try:
            visit = await self._async_requested(grant, portal, source, detail)
            conditions = Conditions(
                grant_state=self._host.state_of(grant.id),
                pets_home=self._pets_home(),
                cameras_working=self._cameras_working(portal),
                portal_busy=self._state.busy(portal.portal_id),
            )
            if (reason := denial(grant, portal.portal_id, conditions)) is not None:
                raise await self.async_deny(visit, reason)
            self._state.starting.add(portal.portal_id)
            try:
                return await self._async_enter(visit, grant, portal, end, at_the_door=False)
            finally:
                self._state.starting.discard(portal.portal_id)
        finally:
            await end(wait=False)  # a refusal's records are written as usual, not waited for

    async def async_keypad_entry(self, grant: Grant, portal: PortalConfig) -> Visit:
        """The lock opened itself for a grant's PIN: the same path, with the door unlocked."""
        end = self._host.audit.append_batch()
        try:
            visit = await self._async_requested(grant, portal, Source.KEYPAD)
            return await self._async_enter(visit, grant, portal, end, at_the_door=True)
        finally:
            await end(wait=False)

    async def async_deny(self, visit: Visit, reason: DenyReason) -> AccessDenied:
        """Record the refusal (the visit ends `denied`); returns the error to raise."""
        visit = await self._host.step(visit, AccessEventType.ACCESS_DENIED, Outcome.DENIED,
                                      VisitState.DENIED, reason=reason.value)  # fmt: skip
        self._host.save_and_publish()
        return AccessDenied(reason, visit)

    async def _async_requested(
        self, grant: Grant, portal: PortalConfig, source: Source, detail: str | None = None
    ) -> Visit:
        """Record the request and open its visit (`requested`)."""
        host = self._host
        now = host.now()  # site time: never goes backwards
        request = await host.async_emit(
            AccessEventType.ACCESS_REQUESTED,
            portal=portal.portal_id,
            grant=grant.id,
            visit=new_id(),
            source=source,
            data={"via": detail} if detail else {},
        )
        visit = request_visit(site=host.site_id, portal=portal.portal_id, source=source,
                              event=request, now=now, grant=grant.id)  # fmt: skip
        self._state.opened(visit)
        return visit

    async def _async_enter(
        self, visit: Visit, grant: Grant, portal: PortalConfig, end: EndBatch, *, at_the_door: bool
    ) -> Visit:
        """Disarm → count the use → admit; `at_the_door`: a PIN has opened the lock already."""
        host = self._host
        now = host.now()  # site time: never goes backwards
        try:
            visit = await self._alarm.async_disarm(visit, grant)
        except AlarmError:
            visit = self._state.current(visit)
            if not at_the_door:
                raise await self.async_deny(visit, DenyReason.ALARM_NOT_DISARMED) from None
            # The door is already open: the alarm's entry delay is running. Tell the owner.
            await host.async_notify_owner("alarm_disarm_failed", {"portal": portal.name})
        if not self._count_use(grant, now):
            if not at_the_door:
                raise await self._async_refuse_used_up(visit, grant)
            # The PIN opened the door after its grant ran out (a use counted meanwhile):
            # the holder is in, the visit is recorded; nothing more to count.
            _LOGGER.warning("A keypad entry at %s came after its grant's last use", portal.name)
        async with self._secured_on_failure(visit, portal):
            return await self._async_admit(visit, grant, portal, end, unlock=not at_the_door)

    def _count_use(self, grant: Grant, now: datetime) -> bool:
        """Count one use on the grant as it is now; False when it has none left.

        As it is now: a request racing this one may have taken its last use (or its
        window closed) while the panel was disarming.
        """
        host = self._host
        grants = host.site_data.grants
        try:
            used = apply_action(grants.get(grant.id, grant), GrantAction.RECORD_USE, now, host.tz)
        except ConciergeError:
            return False
        grants[grant.id] = used
        return True

    async def _async_refuse_used_up(self, visit: Visit, grant: Grant) -> AccessDenied:
        """The grant has no use left after all: refuse, and re-arm what was disarmed."""
        host = self._host
        reason = GRANT_DENIALS.get(host.state_of(grant.id), DenyReason.GRANT_USED_UP)
        denied = await self.async_deny(self._state.current(visit), reason)
        await self._alarm.async_rearm(self._state.current(visit), door_secure=True)
        host.save_and_publish()
        return denied

    @asynccontextmanager
    async def _secured_on_failure(self, visit: Visit, portal: PortalConfig) -> AsyncIterator[None]:
        """Whatever goes wrong once the alarm is disarmed, the visit ends secured.

        A failure nobody planned for (a bug, a grant that ended in between) must not leave
        the alarm disarmed or the door unlocked with no visit: lock, re-arm, abort, tell.
        """
        try:
            yield
        except Exception:
            current = self._state.current(visit)
            if not current.terminal:
                _LOGGER.exception("A visit at %s failed to start; securing the door", portal.name)
                await self._end.async_close(current, reason="internal_error")
            raise

    async def _async_admit(
        self, visit: Visit, grant: Grant, portal: PortalConfig, end: EndBatch, *, unlock: bool
    ) -> Visit:
        """Granted → on disk (evidence meanwhile) → unlocked → started, then saved at once.

        A keypad visit (`unlock=False`) starts with the lock already open by the PIN.
        """
        host = self._host
        visit = await host.step(self._state.current(visit), AccessEventType.ACCESS_GRANTED,
                                new_state=VisitState.AUTHORIZED)  # fmt: skip
        # The first picture is taken while the batch is written and the door unlocks; it
        # is awaited before anything else is recorded, so it always belongs to the visit.
        first_picture = (
            host.config_entry.async_create_task(
                self._state.hass,
                self._evidence.async_start(visit.id, portal.cameras),
                f"concierge evidence {portal.portal_id}",
            )
            if portal.cameras
            else None
        )
        if not await end():
            await host.async_flush()  # the log's disk refused: the data holds visit and use
        visit = self._state.current(visit)
        if unlock:
            try:
                await self._state.hass.services.async_call(
                    "lock", "unlock", {ATTR_ENTITY_ID: portal.lock}, blocking=True
                )
            except HomeAssistantError:
                if first_picture is not None:
                    await first_picture
                visit = await host.step(visit, AccessEventType.LOCK_FAILURE, Outcome.FAILED,
                                        reason="unlock_failed")  # fmt: skip
                await self._end.async_close(
                    visit, reason="unlock_failed", door_secure=True, lock=False
                )
                await host.async_refresh_grant(grant.id)
                raise
        if first_picture is not None:
            await first_picture
        visit = await host.step(self._state.current(visit), AccessEventType.UNLOCKED)
        visit = await host.step(visit, AccessEventType.VISIT_STARTED,
                                new_state=VisitState.IN_PROGRESS)  # fmt: skip
        self._safety.start(visit, grant, portal)
        await host.async_refresh_grant(grant.id)
        host.save_and_publish()
        await host.async_flush()
        return visit

    def _cameras_working(self, portal: PortalConfig) -> bool:
        cameras = portal.cameras
        return bool(cameras) and all(self._evidence.camera_working(c) for c in cameras)

    def _pets_home(self) -> bool:
        entity = self._host.site.pets_home_entity
        state = self._state.hass.states.get(entity) if entity else None
        return pets_home(None if state is None else state.state)
