"""The site coordinator: the imperative shell around Concierge's core.

It keeps a site's grants and visits, persists them, schedules one callback at each
grant's next window edge (no polling), records every access event in the audit chain,
fires it on the bus and hands it to the entities. Decisions are the core's; this module
carries them out in Home Assistant.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypedDict, Unpack
from zoneinfo import ZoneInfo

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_ENTITY_ID, STATE_ON
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later, async_track_state_change_event
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.translation import async_get_exception_message
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .audit_log import AuditLog
from .carriers import carriers_from_entry
from .const import DOMAIN, EVENT_ACCESS
from .core import clock
from .core.audit import ChainVerification, export_visit_bundle
from .core.carriers import Carrier
from .core.delivery import GRANT_DENIALS
from .core.deny import DenyReason
from .core.errors import ConciergeError, TransitionError
from .core.events import AccessEvent, AccessEventType, EvidenceRef, Outcome, Source, to_wire
from .core.grants import (
    TERMINAL_STATES,
    Credentials,
    Grant,
    GrantAction,
    GrantKind,
    GrantState,
    GrantUpdate,
    Policy,
    apply_action,
    grant_state,
    new_grant,
    next_state_change,
    settled_state,
)
from .core.guest_links import sign_guest_link
from .core.ids import new_id
from .core.pins import pin_conflict
from .core.visits import Visit, VisitState, add_event, advance
from .core.windows import Schedule, current_interval, occurrences
from .flow import AccessDenied, VisitFlow
from .http import GUEST_URL, Gatekeeper, gatekeeper, new_link_secret
from .keypad.manager import KeypadManager
from .site import PortalConfig, SiteConfig
from .store import SiteData, encode, site_store
from .store_recovery import async_load_site, async_report, recover_from_audit

if TYPE_CHECKING:
    from .store_site import StoreSite

_LOGGER = logging.getLogger(__name__)

SAVE_DELAY = 1
UNREACHABLE = frozenset({"unavailable", "unknown", "jammed"})
GUEST_LINK_HORIZON = timedelta(days=60)
STATE_EVENTS: dict[GrantState, AccessEventType] = {
    GrantState.ACTIVE: AccessEventType.GRANT_ACTIVATED,
    GrantState.EXPIRED: AccessEventType.GRANT_EXPIRED,
    GrantState.SUSPENDED: AccessEventType.GRANT_SUSPENDED,
    GrantState.REVOKED: AccessEventType.GRANT_REVOKED,
    GrantState.USED_UP: AccessEventType.GRANT_USED_UP,
}


def signal_event(entry_id: str) -> str:
    """Dispatcher signal that carries each access event of a site."""
    return f"{DOMAIN}_{entry_id}_event"


def signal_new_grant(entry_id: str) -> str:
    """Dispatcher signal that announces a grant created after setup."""
    return f"{DOMAIN}_{entry_id}_new_grant"


def validation_error(err: ConciergeError) -> ServiceValidationError:
    """Turn a core error into Home Assistant's translated validation error."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=err.translation_key,
        translation_placeholders=dict(err.placeholders),
    )


def _not_valid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


class EventFields(TypedDict, total=False):
    """The optional fields of an access event the shell fills in."""

    portal: str | None
    grant: str | None
    visit: str | None
    reason: str | None
    source: Source | None
    data: Mapping[str, str | int | float | bool]
    evidence: tuple[EvidenceRef, ...]


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    """What the entities show: grants with their states, open and last visits."""

    grants: MappingProxyType[str, Grant]
    states: MappingProxyType[str, GrantState]
    open_visits: MappingProxyType[str, Visit]
    """The visit in progress at each portal (by portal id)."""
    last_visits: MappingProxyType[str, Visit]
    """The newest visit that got in, at each portal (by portal id)."""


@dataclass(frozen=True, slots=True)
class EdgeTimer:
    """The timer of a grant's next window edge (a monotonic delay); call it to cancel."""

    edge: datetime
    cancel: CALLBACK_TYPE

    def __call__(self) -> None:
        """Cancel the timer."""
        self.cancel()


type ConciergeConfigEntry = ConfigEntry[ConciergeCoordinator | StoreSite]
"""A site's config entry: a home runs a coordinator, a store a `StoreSite`."""


def home_site(entry: ConciergeConfigEntry) -> ConciergeCoordinator | None:
    """The coordinator of a loaded home site; None for a store site."""
    runtime = entry.runtime_data
    return runtime if isinstance(runtime, ConciergeCoordinator) else None


class ConciergeCoordinator(DataUpdateCoordinator[SiteSnapshot]):
    """Keeps one site's grants and visits, and acts on them."""

    config_entry: ConciergeConfigEntry

    def __init__(self, hass: HomeAssistant, entry: ConciergeConfigEntry) -> None:
        """Prepare the site; `async_load` reads its stored state."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {entry.title}")
        self.site = SiteConfig.from_entry_data(entry.data, entry.options)
        self.site_id = entry.entry_id
        self._store = site_store(hass, entry.entry_id)
        self.audit = AuditLog(hass, entry.entry_id)
        self._data = SiteData()
        self._timers: dict[str, CALLBACK_TYPE] = {}  # grant id → its `EdgeTimer`
        self._clock: clock.ClockMark | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        self.site_device_id = ""
        self.keypad: KeypadManager | None = None
        self.flow = VisitFlow(self)
        self.gate: Gatekeeper = gatekeeper(self)

    # --- lifecycle -------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone (Home Assistant's)."""
        return ZoneInfo(self.hass.config.time_zone)

    async def async_load(self) -> None:
        """Read stored grants, visits and the audit chain; catch up on missed edges."""
        loaded = await async_load_site(self.hass, self._store)
        self._data = loaded.data
        records = await self.audit.async_load(self._data.audit_head, self._data.audit_count)
        if loaded.recovery is not None:
            # Damaged storage: started from the last good copy or without grants. The
            # audit chain says which codes are on the locks; write the result at once.
            recover_from_audit(self._data, loaded.recovery, records, self.site.portals)
            async_report(self.hass, self.site_id, self.site.name, loaded.recovery)
            await self.async_flush()
        if self.audit.count > self._data.audit_count:
            # The log is ahead of the stored head (saved late, or a gap record was added).
            self._data.audit_head, self._data.audit_count = self.audit.head, self.audit.count
        self.gate = gatekeeper(self)
        self._clock = None  # the first reading starts from the stored site time
        now = self.now()
        for grant in list(self._data.grants.values()):
            await self._refresh_grant(grant.id, now)
        self._unsubs.append(
            async_track_state_change_event(
                self.hass,
                [p.door_sensor for p in self.site.portals if p.door_sensor],
                self._async_door_changed,
            )
        )
        self._unsubs.append(
            async_track_state_change_event(
                self.hass, [p.lock for p in self.site.portals], self._async_lock_changed
            )
        )
        self.publish()
        self.keypad = KeypadManager(self)
        self.keypad.async_start()
        self._unsubs.append(async_at_started(self.hass, self._async_resolve_interrupted))

    async def _async_resolve_interrupted(self, _hass: HomeAssistant) -> None:
        """Visits a restart left open: resolve them once every lock has had time to load."""
        await self.flow.async_resolve_interrupted()

    @property
    def carriers(self) -> dict[str, Carrier]:
        """The site's carriers, read from its subentries (they change without a reload)."""
        return carriers_from_entry(self.config_entry)

    @property
    def site_data(self) -> SiteData:
        """The site's stored data (for the keypad manager)."""
        return self._data

    @callback
    def async_save(self) -> None:
        """Write the stored data soon."""
        self._save()

    async def _async_update_data(self) -> SiteSnapshot:
        """Build the snapshot; Concierge is push-only and never polls."""
        return self._snapshot()

    @callback
    def async_shutdown_listeners(self) -> None:
        """Cancel timers and listeners (on unload)."""
        if self.keypad is not None:
            self.keypad.async_stop()
        self.flow.async_stop()
        for unsub in (*self._timers.values(), *self._unsubs):
            unsub()
        self._timers.clear()
        self._unsubs.clear()

    async def async_flush(self) -> None:
        """Write pending changes now (on unload)."""
        await self._store.async_save(encode(self._data))

    def _save(self) -> None:
        self._store.async_delay_save(lambda: encode(self._data), SAVE_DELAY)

    def _snapshot(self) -> SiteSnapshot:
        now = self.now()
        open_visits = {v.portal: v for v in self._data.visits.values() if not v.terminal}
        entered = sorted(
            (
                v
                for v in self._data.visits.values()
                if v.state in {VisitState.IN_PROGRESS, VisitState.COMPLETED}
            ),
            key=lambda v: v.started_at,
        )
        return SiteSnapshot(
            grants=MappingProxyType(dict(self._data.grants)),
            states=MappingProxyType(
                {g.id: self._state_at(g, now) for g in self._data.grants.values()}
            ),
            open_visits=MappingProxyType(open_visits),
            last_visits=MappingProxyType({v.portal: v for v in entered}),
        )

    @callback
    def publish(self) -> None:
        """Save soon and hand the entities a fresh snapshot."""
        self._save()
        self.async_set_updated_data(self._snapshot())

    # --- access events ---------------------------------------------------------------

    async def async_emit(
        self,
        event_type: AccessEventType,
        outcome: Outcome = Outcome.INFO,
        **fields: Unpack[EventFields],
    ) -> AccessEvent:
        """Record an access event: audit chain first, then the bus and the entities."""
        event = AccessEvent(
            time=dt_util.utcnow(), site=self.site_id, type=event_type, outcome=outcome, **fields
        )
        await self.audit.async_append(event)
        self._data.audit_head = self.audit.head
        self._data.audit_count = self.audit.count
        self.hass.bus.async_fire(EVENT_ACCESS, to_wire(event))
        async_dispatcher_send(self.hass, signal_event(self.site_id), event)
        return event

    # --- grants ----------------------------------------------------------------------

    def grant(self, grant_id: str) -> Grant:
        """Find a grant of this site or raise a translated error."""
        if (grant := self._data.grants.get(grant_id)) is None:
            raise _not_valid("unknown_grant", grant=grant_id)
        return grant

    def state_of(self, grant_id: str) -> GrantState:
        """The grant's state now (site time; a terminal state once recorded stays)."""
        return self._state_at(self.grant(grant_id), self.now())

    def _state_at(self, grant: Grant, now: datetime) -> GrantState:
        return settled_state(
            self._data.grant_states.get(grant.id), grant_state(grant, now, self.tz)
        )

    def now(self, *, at_least: datetime | None = None) -> datetime:
        """Site time: the wall clock, never going backwards (see `core.clock`).

        Every grant decision uses it. A wall clock stepping back is ignored (site time
        runs on from where it was, on the event loop's monotonic clock); one stepping
        forward is followed. `at_least` moves site time forward to an instant already
        acted on. The value is kept in the site store for the next start.
        """
        wall, monotonic = dt_util.utcnow(), self.hass.loop.time()
        if self._clock is None:
            reading = clock.start(self._data.clock_mark, wall, monotonic)
        else:
            reading = clock.read(self._clock, wall, monotonic)
        mark = reading.mark if at_least is None else clock.advance(reading.mark, at_least)
        self._clock = mark
        self._data.clock_mark = mark.effective
        if reading.step is not None:
            self._clock_stepped(reading.step, mark.effective)
        return mark.effective

    def _clock_stepped(self, step: clock.ClockStep, now: datetime) -> None:
        """Say so once; after a step forward, each edge timer waits only as long as is left."""
        if step.direction is clock.StepDirection.BACK:
            _LOGGER.warning(
                "%s: the wall clock stepped back by %.0f s; grant windows ignore the step "
                "and keep running on elapsed time",
                self.site.name,
                step.seconds,
            )
            return
        _LOGGER.warning(
            "%s: the wall clock stepped forward by %.0f s; grant windows follow it",
            self.site.name,
            step.seconds,
        )
        for grant_id, timer in list(self._timers.items()):
            if isinstance(timer, EdgeTimer):  # an edge now passed is acted on at once
                timer()
                self._timers[grant_id] = self._edge_timer(grant_id, timer.edge, now)

    def _edge_timer(self, grant_id: str, edge: datetime, now: datetime) -> EdgeTimer:
        # A delay on the event loop's monotonic clock: a wall clock that steps back
        # moves neither the edge nor the moment it is acted on.
        cancel = async_call_later(
            self.hass, clock.seconds_until(edge, now), self._edge_callback(grant_id, edge)
        )
        return EdgeTimer(edge, cancel)

    def edge_timer(self, grant_id: str) -> datetime | None:
        """The window edge a grant's timer waits for; None if it has none."""
        timer = self._timers.get(grant_id)
        return timer.edge if isinstance(timer, EdgeTimer) else None

    def _check_pin(self, grant: Grant) -> None:
        """Refuse a PIN another grant that is not over already uses at one of its doors."""
        states = {g.id: self._state_at(g, self.now()) for g in self._data.grants.values()}
        if (conflict := pin_conflict(grant, self._data.grants.values(), states)) is not None:
            other, portal_id = conflict
            portal = self.site.portal(portal_id)
            raise _not_valid(
                "pin_in_use", grant=other.label, portal=portal.name if portal else portal_id
            )

    def _check_portals(self, portals: tuple[str, ...]) -> None:
        for portal in portals:
            if self.site.portal(portal) is None:
                raise _not_valid("unknown_portal", portal=portal)

    async def async_create_grant(  # noqa: PLR0913 - a grant has this many settings
        self,
        *,
        label: str,
        kind: GrantKind,
        portals: tuple[str, ...],
        schedule: Schedule,
        credentials: Credentials | None = None,
        policy: Policy | None = None,
        max_uses: int | None = None,
        max_visit_minutes: int | None = None,
    ) -> Grant:
        """Create a grant (validated by the core) and schedule its window edges."""
        self._check_portals(portals)
        now = self.now()
        try:
            grant = new_grant(
                now=now,
                label=label,
                kind=kind,
                portals=portals,
                schedule=schedule,
                credentials=credentials,
                policy=policy,
                max_uses=max_uses,
                max_visit_minutes=max_visit_minutes,
            )
        except ConciergeError as err:
            raise validation_error(err) from err
        if grant_state(grant, now, self.tz) is GrantState.EXPIRED:
            raise _not_valid("window_in_past")
        self._check_pin(grant)
        self._data.grants[grant.id] = grant
        await self.async_emit(AccessEventType.GRANT_CREATED, grant=grant.id, source=Source.MANUAL)
        await self._refresh_grant(grant.id, now)
        self.publish()
        async_dispatcher_send(self.hass, signal_new_grant(self.site_id), grant.id)
        return grant

    async def async_grant_action(
        self, grant_id: str, action: GrantAction, **changes: Unpack[GrantUpdate]
    ) -> Grant:
        """Apply an explicit action to a grant (the core checks it is allowed)."""
        grant = self.grant(grant_id)
        if "portals" in changes:
            self._check_portals(changes["portals"])
        now = self.now()
        if (state := self._state_at(grant, now)) in TERMINAL_STATES:
            # Recorded as over: no action brings it back, whatever the clock says.
            raise validation_error(
                TransitionError(
                    translation_key="transition_not_allowed",
                    placeholders={"action": action.value, "state": state.value},
                )
            )
        try:
            updated = apply_action(grant, action, now, self.tz, **changes)
        except ConciergeError as err:
            raise validation_error(err) from err
        if action is GrantAction.UPDATE and grant_state(updated, now, self.tz) is (
            GrantState.EXPIRED
        ):
            raise _not_valid("window_in_past")
        self._check_pin(updated)
        self._data.grants[grant_id] = updated
        if action is GrantAction.UPDATE:
            await self.async_emit(
                AccessEventType.GRANT_UPDATED, grant=grant_id, source=Source.MANUAL
            )
        elif action is GrantAction.RESUME:
            await self.async_emit(
                AccessEventType.GRANT_RESUMED, grant=grant_id, source=Source.MANUAL
            )
        await self._refresh_grant(grant_id, now)
        self.publish()
        return updated

    async def _refresh_grant(self, grant_id: str, now: datetime) -> None:
        """Emit the event of a state change and schedule the next window edge."""
        grant = self._data.grants[grant_id]
        previous = self._data.grant_states.get(grant_id)
        state = settled_state(previous, grant_state(grant, now, self.tz))
        self._data.grant_states[grant_id] = state
        if previous is not None and previous is not state and state in STATE_EVENTS:
            source = (
                Source.SCHEDULE
                if state in {GrantState.ACTIVE, GrantState.EXPIRED}
                else (Source.MANUAL)
            )
            await self.async_emit(STATE_EVENTS[state], grant=grant_id, source=source)
        elif previous is None and state is GrantState.ACTIVE:
            await self.async_emit(
                AccessEventType.GRANT_ACTIVATED, grant=grant_id, source=Source.SCHEDULE
            )
        if (timer := self._timers.pop(grant_id, None)) is not None:
            timer()
        if state in TERMINAL_STATES:
            return
        if (edge := next_state_change(grant, now, self.tz)) is not None:
            self._timers[grant_id] = self._edge_timer(grant_id, edge, now)

    def _edge_callback(self, grant_id: str, edge: datetime) -> Callable[[datetime], Any]:
        async def _at_edge(_fired: datetime) -> None:
            self._timers.pop(grant_id, None)
            if grant_id in self._data.grants:
                # Site time may be a hair before the edge (rounding): the edge is reached.
                await self._refresh_grant(grant_id, self.now(at_least=edge))
                self.publish()

        return _at_edge

    # --- visits (remote entry through any Home Assistant lock) ------------------------

    def _portal(self, portal_id: str) -> PortalConfig:
        if (portal := self.site.portal(portal_id)) is None:
            raise _not_valid("unknown_portal", portal=portal_id)
        return portal

    def visit(self, visit_id: str) -> Visit:
        """Find a visit or raise a translated error."""
        if (visit := self._data.visits.get(visit_id)) is None:
            raise _not_valid("unknown_visit", visit=visit_id)
        return visit

    async def step(  # noqa: PLR0913 - a step names its event's parts
        self,
        visit: Visit,
        event_type: AccessEventType,
        outcome: Outcome = Outcome.OK,
        new_state: VisitState | None = None,
        reason: str | None = None,
        *,
        data: Mapping[str, str | int | float | bool] | None = None,
        evidence: tuple[EvidenceRef, ...] = (),
    ) -> Visit:
        """Record one step of a visit: its access event, and the visit's new state."""
        event = await self.async_emit(
            event_type,
            outcome,
            portal=visit.portal,
            grant=visit.grant,
            visit=visit.id,
            source=visit.source,
            reason=reason,
            data=data or {},
            evidence=evidence,
        )
        now = dt_util.utcnow()
        if new_state is None:
            visit = add_event(visit, event)
        else:
            visit = advance(visit, new_state, event, now, reason=reason)
        self._data.visits[visit.id] = visit
        return visit

    async def async_refresh_grant(self, grant_id: str) -> None:
        """Re-evaluate a grant's state now (after a use)."""
        await self._refresh_grant(grant_id, self.now())

    async def async_start_visit(
        self, grant_id: str, portal_id: str, source: Source = Source.REMOTE
    ) -> Visit:
        """Let a grant's holder in through a portal (the owner's action): the whole flow."""
        grant = self.grant(grant_id)
        portal = self._portal(portal_id)
        try:
            return await self.flow.async_request(grant, portal, source)
        except AccessDenied as err:
            raise self._denied_error(err, grant, portal) from None
        except HomeAssistantError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="unlock_failed",
                translation_placeholders={"portal": portal.name},
            ) from err

    def _denied_error(
        self, err: AccessDenied, grant: Grant, portal: PortalConfig
    ) -> ServiceValidationError:
        state = self.state_of(grant.id)
        if err.reason is DenyReason.NO_COURIER_GRANT:
            return _not_valid("portal_not_in_grant", portal=portal.name, grant=grant.label)
        if err.reason is DenyReason.PORTAL_BUSY:
            return _not_valid("portal_busy", portal=portal.name)
        if err.reason in GRANT_DENIALS.values():
            return _not_valid("grant_not_active", grant=grant.label, state=state.value)
        return _not_valid(f"denied_{err.reason.value}", portal=portal.name, grant=grant.label)

    async def async_end_visit(self, visit_id: str, reason: str | None = None) -> Visit:
        """Lock the portal, re-arm, and close the visit (completed, or aborted with a reason)."""
        visit = self.visit(visit_id)
        if visit.terminal:
            raise _not_valid("visit_over", visit=visit_id, state=visit.state.value)
        portal = self._portal(visit.portal)
        visit = await self.flow.async_end(visit, reason)
        if any(e.type is AccessEventType.LOCK_FAILURE for e in visit.timeline):
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="lock_failed",
                translation_placeholders={"portal": portal.name},
            )
        return visit

    async def _async_door_changed(self, event: Event[EventStateChangedData]) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        if new is None or old is None or new.state == old.state:
            return
        if new.state not in {STATE_ON, "off"} or old.state not in {STATE_ON, "off"}:
            return
        for portal in self.site.portals:
            if portal.door_sensor != event.data["entity_id"]:
                continue
            await self.flow.async_door_changed(portal, opened=new.state == STATE_ON)

    async def async_keypad_entry(self, grant_id: str, portal_id: str) -> None:
        """The lock opened itself for a grant's PIN: record the visit from here on."""
        grant = self._data.grants[grant_id]
        portal = self._portal(portal_id)
        state = self._state_at(grant, self.now())
        if state is not GrantState.ACTIVE:
            # A code that should not be on the lock opened the door: say so loudly.
            await self.async_emit(
                AccessEventType.SAFETY_ALERT, Outcome.FAILED, portal=portal_id,
                grant=grant_id, source=Source.KEYPAD, reason=f"grant_{state.value}",
            )  # fmt: skip
            await self.async_notify_owner(
                "code_outside_window", {"grant": grant.label, "portal": portal.name}
            )
            self.publish()
            return
        await self.flow.async_keypad_entry(grant, portal)

    async def _async_lock_changed(self, event: Event[EventStateChangedData]) -> None:
        """A keypad visit (or one at a door without a sensor) ends when the lock locks."""
        new, old = event.data["new_state"], event.data["old_state"]
        for portal in self.site.portals:
            if portal.lock != event.data["entity_id"]:
                continue
            if new is None:
                await self.flow.async_lock_removed(portal)
                continue
            if new.state == "locked":
                if portal.portal_id in self._data.lock_on_close:
                    # A door a visit could not lock is locked at last: record it.
                    self._data.lock_on_close.discard(portal.portal_id)
                    await self.async_emit(
                        AccessEventType.LOCKED, portal=portal.portal_id, source=Source.SYSTEM
                    )
                    self.publish()
                await self.flow.async_lock_locked(portal)
            elif new.state == "unlocked" and (old is None or old.state in UNREACHABLE):
                await self.flow.async_lock_back(portal)

    async def async_notify_owner(
        self, key: str, placeholders: dict[str, str], *, image_portal: str | None = None
    ) -> None:
        """Tell the owner: a persistent notification, and each configured notify target.

        With `image_portal`, notify services that take pictures (the mobile app) get the
        portal's "last visit" image.
        """
        message = async_get_exception_message(DOMAIN, key, placeholders)
        title = f"Concierge: {self.site.name}"
        persistent_notification.async_create(
            self.hass, message, title, f"{DOMAIN}_{self.site_id}_{key}"
        )
        for target in self.site.notify:
            domain, _, name = target.partition(".")
            data: dict[str, Any]
            if self.hass.states.get(target) is not None:
                service, data = "send_message", {ATTR_ENTITY_ID: target}
            else:
                service, data = name, {}
                if (image := self._image_entity(image_portal)) is not None:
                    data = {"data": {"image": f"/api/image_proxy/{image}"}}
            try:
                await self.hass.services.async_call(
                    domain, service, {**data, "message": message, "title": title}, blocking=True
                )
            except HomeAssistantError as err:
                _LOGGER.warning("Could not notify %s: %s", target, err)

    def _image_entity(self, portal_id: str | None) -> str | None:
        if portal_id is None:
            return None
        return er.async_get(self.hass).async_get_entity_id(
            "image", DOMAIN, f"{self.site_id}_{portal_id}_last_visit"
        )

    # --- guest links -----------------------------------------------------------------

    async def async_create_guest_link(self, grant_id: str) -> dict[str, str]:
        """Sign a link for a guest grant's current or next window; returns its URL and id."""
        grant = self.grant(grant_id)
        if not grant.credentials.guest_link:
            raise _not_valid("guest_link_not_allowed", grant=grant.label)
        now = dt_util.utcnow()
        window = current_interval(grant.schedule, self.tz, now)
        if window is None:
            upcoming = occurrences(grant.schedule, self.tz, now, now + GUEST_LINK_HORIZON)
            window = upcoming[0] if upcoming else None
        state = self.state_of(grant_id)
        if window is None or state in {GrantState.REVOKED, GrantState.USED_UP}:
            raise _not_valid("grant_not_active", grant=grant.label, state=state.value)
        if self._data.link_secret is None:
            self._data.link_secret = new_link_secret()
        link_id = new_id()
        token = sign_guest_link(
            secret=bytes.fromhex(self._data.link_secret), site=self.site_id, grant_id=grant_id,
            link_id=link_id, not_before=window.start, expires=window.end,
        )  # fmt: skip
        self._data.guest_links[link_id] = {
            "grant": grant_id, "expires": window.end.isoformat(), "revoked": False,
        }  # fmt: skip
        self._prune_links(now)
        await self.async_flush()
        try:
            base = get_url(self.hass, prefer_external=True)
        except NoURLAvailableError:
            base = ""
        path = GUEST_URL.format(site=self.site_id)
        return {
            "link_id": link_id,
            "url": f"{base}{path}#{token}",
            "valid_from": window.start.isoformat(),
            "valid_until": window.end.isoformat(),
        }

    def _prune_links(self, now: datetime) -> None:
        for link_id, link in list(self._data.guest_links.items()):
            if datetime.fromisoformat(str(link["expires"])) < now:
                del self._data.guest_links[link_id]

    async def async_revoke_guest_link(self, link_id: str) -> None:
        """Revoke a guest link: it opens nothing from now on."""
        if (link := self._data.guest_links.get(link_id)) is None:
            raise _not_valid("unknown_guest_link", link=link_id)
        link["revoked"] = True
        await self.async_emit(
            AccessEventType.GRANT_UPDATED, grant=str(link["grant"]), source=Source.MANUAL,
            reason="guest_link_revoked",
        )  # fmt: skip
        await self.async_flush()

    # --- evidence --------------------------------------------------------------------

    async def async_export_visit(self, visit_id: str) -> dict[str, Any]:
        """The visit's evidence bundle: its events, their hashes and evidence references."""
        self.visit(visit_id)
        records = await self.audit.async_read()
        return await self.hass.async_add_executor_job(export_visit_bundle, records, visit_id)

    async def async_verify_audit(self) -> ChainVerification:
        """Check the whole audit chain against the head kept in storage."""
        return await self.audit.async_verify(self._data.audit_head)

    # --- diagnostics helpers ---------------------------------------------------------

    def grants_for_diagnostics(self) -> list[dict[str, object]]:
        """Grants with every secret redacted."""
        return [g.redacted_dict() for g in self._data.grants.values()]

    def visits_list(self) -> list[Visit]:
        """All kept visits, newest first."""
        return sorted(self._data.visits.values(), key=lambda v: v.started_at, reverse=True)

    async def async_forget_grant(self, grant_id: str) -> bool:
        """Delete a grant that can never be used again (its device was removed).

        Returns False, and keeps it, while the grant can still be used or has a visit open.
        """
        state = self.state_of(grant_id)
        busy = any(v.grant == grant_id and not v.terminal for v in self._data.visits.values())
        if busy or state not in {GrantState.EXPIRED, GrantState.REVOKED, GrantState.USED_UP}:
            return False
        del self._data.grants[grant_id]
        self._data.grant_states.pop(grant_id, None)
        if (timer := self._timers.pop(grant_id, None)) is not None:
            timer()
        self.publish()
        return True
