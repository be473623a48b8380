"""A site's grants over time: creating and changing them, and acting at their window edges.

Each grant that can still change by time alone waits for its next window edge; one
timer, on the event loop's monotonic clock, waits for the earliest of them
(`core.due_queue`), whatever the number of grants (a wall clock that steps back moves
neither an edge nor the moment it is acted on). At an edge, every grant whose edge is
reached has its state settled at site time and its state-change event recorded; the
timer then waits for the next edge. States only move forward: a grant recorded as
expired, revoked or used up never comes back, and its PIN is erased (it can never use it
again). A suspended grant, or one between two of its windows, keeps its PIN.
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol, Required, TypedDict, Unpack
from zoneinfo import ZoneInfo

from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later

from .core import clock
from .core.due_queue import DueQueue
from .core.errors import ConciergeError, TransitionError
from .core.events import AccessEvent, AccessEventType, Outcome, Source
from .core.fast_times import last_end, next_edge
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
    settled_state,
    without_pin,
)
from .core.pins import pin_conflict
from .core.windows import Schedule
from .keypad.manager import adapter_for
from .service_errors import not_valid, validation_error
from .site import SiteConfig
from .site_storage import SiteData
from .site_types import EventFields, signal_new_grant

STATE_EVENTS: dict[GrantState, AccessEventType] = {
    GrantState.ACTIVE: AccessEventType.GRANT_ACTIVATED,
    GrantState.EXPIRED: AccessEventType.GRANT_EXPIRED,
    GrantState.SUSPENDED: AccessEventType.GRANT_SUSPENDED,
    GrantState.REVOKED: AccessEventType.GRANT_REVOKED,
    GrantState.USED_UP: AccessEventType.GRANT_USED_UP,
}


class GrantSettings(TypedDict, total=False):
    """What a new grant is made of (`core.grants.new_grant`)."""

    label: Required[str]
    kind: Required[GrantKind]
    portals: Required[tuple[str, ...]]
    schedule: Required[Schedule]
    credentials: Credentials | None
    policy: Policy | None
    max_uses: int | None
    max_visit_minutes: int | None
    carriers: tuple[str, ...]
    description: str


class GrantHost(Protocol):
    """What the grant keeper needs from its site."""

    hass: HomeAssistant
    site: SiteConfig
    site_id: str

    @property
    def site_data(self) -> SiteData:
        """The site's stored data."""

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""

    def now(self, *, at_least: datetime | None = None) -> datetime:
        """Site time."""

    async def async_emit(
        self, event_type: AccessEventType, outcome: Outcome = ..., **fields: Unpack[EventFields]
    ) -> AccessEvent:
        """Record an access event."""

    def save_and_publish(self, *, grants: Iterable[str] = ()) -> None:
        """Save soon and refresh the entities (those of `grants` even if unchanged)."""


class GrantKeeper:
    """Creates, changes and forgets a site's grants, and acts at their window edges."""

    def __init__(self, host: GrantHost) -> None:
        """Keep the grants of `host`'s site."""
        self._host = host
        self._edges = DueQueue()
        """Each grant's next window edge (a grant that changes by time alone has one)."""
        self._timer: tuple[datetime, CALLBACK_TYPE] | None = None
        """The one timer: at the earliest edge, and that edge."""
        self._at_edges = False

    @property
    def _data(self) -> SiteData:
        return self._host.site_data

    # --- states ----------------------------------------------------------------------

    def state_at(self, grant: Grant, now: datetime) -> GrantState:
        """A grant's state at `now`; a terminal state once recorded stays.

        A grant recorded as expired, neither revoked nor used up since, stays expired
        without its schedule being looked at (most of a large site's grants are).
        """
        recorded = self._data.grant_states.get(grant.id)
        if (
            recorded is GrantState.EXPIRED
            and not grant.revoked
            and (grant.max_uses is None or grant.uses < grant.max_uses)
        ):
            return recorded
        return settled_state(recorded, grant_state(grant, now, self._host.tz))

    def edge_timer(self, grant_id: str) -> datetime | None:
        """The window edge the grant waits for; None if it waits for none."""
        return self._edges.get(grant_id)

    async def async_load(self, now: datetime) -> bool:
        """Settle every grant at load: record its state, wait for its next edge.

        Returns whether anything stored changed (a state recorded anew, a PIN erased).
        """
        data = self._data
        events: list[tuple[str, AccessEventType]] = []
        changed = False
        for grant_id, grant in list(data.grants.items()):
            recorded = data.grant_states.get(grant_id)
            if (
                recorded is GrantState.EXPIRED
                and grant.credentials.pin is None
                and not grant.revoked
                and (grant.max_uses is None or grant.uses < grant.max_uses)
            ):
                continue  # expired for good, nothing to erase: the common case
            state, event = self._settle(grant_id, now)
            changed = changed or state is not recorded or data.grants[grant_id] is not grant
            if event is not None:
                events.append((grant_id, event))
        for grant_id, event in events:
            await self._async_emit_state(grant_id, event)
        self._arm(now)
        return changed

    async def async_refresh(self, grant_id: str, now: datetime) -> None:
        """Record a state change of the grant, and wait for its next window edge."""
        _, event = self._settle(grant_id, now)
        if event is not None:
            await self._async_emit_state(grant_id, event)
        if not self._at_edges:
            self._arm(now)

    def _settle(self, grant_id: str, now: datetime) -> tuple[GrantState, AccessEventType | None]:
        """Record the grant's state at `now` and its next edge; the event to record, if any."""
        host = self._host
        grant = self._data.grants[grant_id]
        previous = self._data.grant_states.get(grant_id)
        state = self.state_at(grant, now)
        self._data.grant_states[grant_id] = state
        if state in TERMINAL_STATES:
            self._data.grants[grant_id] = without_pin(grant)
        event: AccessEventType | None = None
        if previous is not None and previous is not state and state in STATE_EVENTS:
            event = STATE_EVENTS[state]
        elif previous is None and state is GrantState.ACTIVE:
            event = AccessEventType.GRANT_ACTIVATED
        self._edges.drop(grant_id)
        if state in TERMINAL_STATES:
            return state, event
        # As `next_state_change`, from the state just found (not worked out again).
        edge = (
            last_end(grant.schedule, host.tz)
            if state is GrantState.SUSPENDED
            else next_edge(grant.schedule, host.tz, now)
        )
        if edge is not None:
            self._edges.set(grant_id, edge)
        return state, event

    async def _async_emit_state(self, grant_id: str, event: AccessEventType) -> None:
        by_time = event in {AccessEventType.GRANT_ACTIVATED, AccessEventType.GRANT_EXPIRED}
        source = Source.SCHEDULE if by_time else Source.MANUAL
        await self._host.async_emit(event, grant=grant_id, source=source)

    def rearm(self, now: datetime) -> None:
        """Site time jumped forward: the timer waits only as long as is left."""
        self._cancel_timer()
        self._arm(now)

    def cancel_all(self) -> None:
        """Cancel the edge timer and forget every edge (on unload)."""
        self._cancel_timer()
        self._edges.clear()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer[1]()
            self._timer = None

    def _arm(self, now: datetime) -> None:
        """One timer, at the earliest edge any grant waits for."""
        first = self._edges.first()
        if self._timer is not None and self._timer[0] == first:
            return
        self._cancel_timer()
        if first is not None:
            delay = clock.seconds_until(first, now)
            self._timer = (first, async_call_later(self._host.hass, delay, self._edge_job(first)))

    def _edge_job(self, edge: datetime) -> Callable[[datetime], Any]:
        async def _at_edge(_fired: datetime) -> None:
            self._timer = None
            # Site time may be a hair before the edge (rounding): the edge is reached.
            now = self._host.now(at_least=edge)
            reached: list[str] = []
            self._at_edges = True
            try:
                while due := self._edges.pop_due(now):
                    for grant_id, at in due:
                        if grant_id in self._data.grants:
                            await self.async_refresh(grant_id, self._host.now(at_least=at))
                            reached.append(grant_id)
            finally:
                self._at_edges = False
            self._arm(self._host.now())
            if reached:
                # Their windows moved on even where their states did not: entities show it.
                self._host.save_and_publish(grants=reached)

        return _at_edge

    # --- changes ---------------------------------------------------------------------

    def check_portals(self, portals: tuple[str, ...]) -> None:
        """Refuse doors the site does not have."""
        for portal in portals:
            if self._host.site.portal(portal) is None:
                raise not_valid("unknown_portal", portal=portal)

    def check_pin(self, grant: Grant) -> None:
        """Refuse a PIN another grant that is not over already uses at one of its doors.

        Only the grants with the same PIN are looked at closely (their states computed).
        """
        pin = grant.credentials.pin
        if pin is None:
            return
        now = self._host.now()
        same = [g for g in self._data.grants.values() if g.credentials.pin == pin]
        states = {g.id: self.state_at(g, now) for g in same}
        if (conflict := pin_conflict(grant, same, states)) is not None:
            other, portal_id = conflict
            portal = self._host.site.portal(portal_id)
            raise not_valid(
                "pin_in_use", grant=other.label, portal=portal.name if portal else portal_id
            )

    def check_label(self, grant: Grant) -> None:
        """Refuse the label of another grant that is not over (in any case)."""
        label = grant.label.casefold()
        now = self._host.now()
        for other in self._data.grants.values():
            if (
                other.id != grant.id
                and other.label.casefold() == label
                and self.state_at(other, now) not in TERMINAL_STATES
            ):
                raise not_valid("label_in_use", grant=other.label)

    def check_keypads(self, grant: Grant, before: Grant | None = None) -> None:
        """Refuse a PIN for a door whose lock is known to have no keypad Concierge drives.

        A lock whose entity is not (yet) registered is not known and passes. Checked
        when the PIN or the doors are set, not when something else of the grant changes.
        """
        if grant.credentials.pin is None or (
            before is not None
            and before.credentials.pin == grant.credentials.pin
            and before.portals == grant.portals
        ):
            return
        registry = er.async_get(self._host.hass)
        for portal_id in grant.portals:
            portal = self._host.site.portal(portal_id)
            if (
                portal is not None
                and registry.async_get(portal.lock) is not None
                and adapter_for(self._host.hass, portal.lock) is None
            ):
                raise not_valid("pin_without_keypad", portal=portal.name)

    async def async_create(self, **settings: Unpack[GrantSettings]) -> Grant:
        """Create a grant (validated by the core) and schedule its window edges."""
        host = self._host
        self.check_portals(settings["portals"])
        now = host.now()
        try:
            grant = new_grant(now=now, **settings)
        except ConciergeError as err:
            raise validation_error(err) from err
        if grant_state(grant, now, host.tz) is GrantState.EXPIRED:
            raise not_valid("window_in_past")
        self.check_label(grant)
        self.check_keypads(grant)
        self.check_pin(grant)
        self._data.grants[grant.id] = grant
        await host.async_emit(AccessEventType.GRANT_CREATED, grant=grant.id, source=Source.MANUAL)
        await self.async_refresh(grant.id, now)
        host.save_and_publish()
        async_dispatcher_send(host.hass, signal_new_grant(host.site_id), grant.id)
        return grant

    async def async_act(
        self, grant: Grant, action: GrantAction, **changes: Unpack[GrantUpdate]
    ) -> Grant:
        """Apply an explicit action to a grant (the core checks it is allowed)."""
        host = self._host
        if "portals" in changes:
            self.check_portals(changes["portals"])
        now = host.now()
        if (state := self.state_at(grant, now)) in TERMINAL_STATES:
            # Recorded as over: no action brings it back, whatever the clock says.
            raise validation_error(
                TransitionError(
                    translation_key="transition_not_allowed",
                    placeholders={"action": action.value, "state": state.value},
                )
            )
        try:
            updated = apply_action(grant, action, now, host.tz, **changes)
        except ConciergeError as err:
            raise validation_error(err) from err
        if action is GrantAction.UPDATE and grant_state(updated, now, host.tz) is (
            GrantState.EXPIRED
        ):
            raise not_valid("window_in_past")
        if updated.label != grant.label:
            self.check_label(updated)
        self.check_keypads(updated, grant)
        self.check_pin(updated)
        self._data.grants[grant.id] = updated
        if action is GrantAction.UPDATE:
            await host.async_emit(
                AccessEventType.GRANT_UPDATED, grant=grant.id, source=Source.MANUAL
            )
        elif action is GrantAction.RESUME:
            await host.async_emit(
                AccessEventType.GRANT_RESUMED, grant=grant.id, source=Source.MANUAL
            )
        await self.async_refresh(grant.id, now)
        host.save_and_publish()
        return updated

    def forget(self, grant_id: str) -> bool:
        """Delete a grant that can never be used again; False (kept) while it still can."""
        grant = self._data.grants[grant_id]
        state = self.state_at(grant, self._host.now())
        busy = any(v.grant == grant_id and not v.terminal for v in self._data.visits.values())
        if busy or state not in TERMINAL_STATES:
            return False
        del self._data.grants[grant_id]
        self._data.grant_states.pop(grant_id, None)
        self._edges.drop(grant_id)  # the timer, if it waits for this edge, finds none due
        self._host.save_and_publish()
        return True
