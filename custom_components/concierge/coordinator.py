"""A home site: loads and saves its data, records its events, and hands out its snapshot.

The coordinator owns the site's stored data and its audit chain; it records every access
event (audit chain, bus, entities) and builds what the entities show. The rest is
delegated, each to its own file: grants over time to `GrantKeeper`, site time to
`SiteClock`, visits to `VisitFlow`, keypad locks to `KeypadManager`, door contacts and
locks to `portal_watch`, guest links to `GuestLinkIssuer`, owner messages to
`OwnerNotifier`. Collaborators see it through narrow protocols (`hosts.py`). Nothing is
polled. To the shell (setup, unload, diagnostics, logbook, platforms) it is a
`site_runtime.ConciergeSite`, as a store site is.
"""

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, Unpack
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .audit_log import AuditLog
from .carriers import carriers_from_subentries
from .const import DOMAIN, EVENT_ACCESS
from .core.audit import ChainVerification
from .core.carriers import Carrier
from .core.events import AccessEvent, AccessEventType, EvidenceRef, Outcome, Source, to_wire
from .core.grants import Grant, GrantAction, GrantState, GrantUpdate
from .core.visits import Visit, VisitState, add_event, advance
from .flow import VisitFlow
from .gatekeeper import Gatekeeper
from .grant_feed import GrantFeed
from .grant_keeper import GrantKeeper, GrantSettings
from .grant_retirement import GrantRetirement
from .guest_link_issuer import GuestLinkIssuer
from .home_devices import grant_entities_wanted
from .home_diagnostics import async_home_diagnostics
from .home_load import async_read_home
from .home_site import HomeAsSite
from .keypad.manager import KeypadManager
from .owner_notifier import OwnerNotifier
from .portal_watch import async_watch_portals
from .service_errors import not_valid
from .site import PortalConfig, SiteConfig
from .site_clock import SiteClock
from .site_storage import SiteData, encode, site_store
from .site_types import EventFields, SiteSnapshot, signal_event

_LOGGER = logging.getLogger(__name__)

SAVE_DELAY = 1

type HomeEntities = Callable[[ConciergeCoordinator, AddConfigEntryEntitiesCallback], None]
"""Adds a platform's entities of a home site."""


class ConciergeCoordinator(HomeAsSite, DataUpdateCoordinator[SiteSnapshot]):
    """Keeps one site's grants and visits, and acts on them."""

    config_entry: ConfigEntry[Any]

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Prepare the site; `async_load` reads its stored state."""
        super().__init__(hass, _LOGGER, config_entry=entry, name=f"{DOMAIN} {entry.title}")
        self.site = SiteConfig.from_entry_data(entry.data, entry.options)
        self.site_id = entry.entry_id
        self.grant_entities = grant_entities_wanted(entry.options)
        """Whether each grant has a device and entities (the site's option)."""
        self._store = site_store(hass, entry.entry_id)
        self.audit = AuditLog(hass, entry.entry_id)
        self._data = SiteData()
        self._unsubs: list[CALLBACK_TYPE] = []
        self.site_device_id = ""
        self.keypad: KeypadManager | None = None
        self.grants = GrantKeeper(self)
        self.feed = GrantFeed()
        self.clock = SiteClock(
            hass, lambda: self.site.name, lambda: self._data, on_forward=self.grants.rearm
        )
        self.notifier = OwnerNotifier(hass, self.site_id, lambda: self.site)
        self.guest_links = GuestLinkIssuer(self)
        self.flow = VisitFlow(self)
        self.gate = Gatekeeper(hass, entry.entry_id)

    # --- lifecycle -------------------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone (Home Assistant's)."""
        return ZoneInfo(self.hass.config.time_zone)

    async def async_load(self) -> None:
        """Read stored grants, visits and the audit chain; catch up on missed edges."""
        self._data, changed = await async_read_home(
            self.hass, self._store, self.audit, self.site, self.site_id
        )
        if self._data.replay:  # earlier versions kept the used tokens in the data
            changed = True
        await self.gate.async_load(self._data.replay)
        self._data.replay = {}
        self.clock.restart()  # the first reading starts from the stored site time
        now = self.now()
        # Every grant settled at `now`, one timer for all their edges.
        if await self.grants.async_load(now):
            changed = True
        self._unsubs.extend(async_watch_portals(self.hass, self.site, self.flow))
        # Every grant's state was just recorded at `now`: the first snapshot shows those
        # (an edge since has its timer), rather than working each out again.
        recorded = self._data.grant_states
        if changed:  # data read as stored is not written back
            self._save()
        self.async_set_updated_data(self._snapshot(state_at=lambda g: recorded[g.id]))
        self.keypad = KeypadManager(self)
        self.keypad.async_start()
        self._unsubs.append(await GrantRetirement(self).async_start())  # ended grants leave
        self._unsubs.append(async_at_started(self.hass, self._async_resolve_interrupted))

    async def _async_resolve_interrupted(self, _hass: HomeAssistant) -> None:
        """Visits a restart left open: resolve them once every lock has had time to load."""
        await self.flow.async_resolve_interrupted()

    @property
    def carriers(self) -> dict[str, Carrier]:
        """The site's carriers, read from its subentries (they change without a reload)."""
        return carriers_from_subentries(self.config_entry.subentries.values())

    @property
    def site_data(self) -> SiteData:
        """The site's stored data (its collaborators change their own parts)."""
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
        self.grants.cancel_all()
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    async def async_flush(self) -> None:
        """Write pending changes now (on unload)."""
        await self._store.async_save(encode(self._data))

    def _save(self) -> None:
        self._store.async_delay_save(lambda: encode(self._data), SAVE_DELAY)

    def _snapshot(
        self, grants: Iterable[str] = (), state_at: Callable[[Grant], GrantState] | None = None
    ) -> SiteSnapshot:
        """What the entities show; the states only of the grants that changed, or `grants`."""
        now = self.now()
        self.feed.refresh(
            self._data.grants,
            self._data.grant_states,
            state_at or (lambda g: self._state_at(g, now)),
            grants,
        )
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
            grants=MappingProxyType(self.feed.grants),
            states=MappingProxyType(self.feed.states),
            open_visits=MappingProxyType(open_visits),
            last_visits=MappingProxyType({v.portal: v for v in entered}),
        )

    @callback
    def save_and_publish(self, *, grants: Iterable[str] = ()) -> None:
        """Save the stored data soon, and hand the entities a fresh snapshot now.

        Only the entities of the grants that changed (and of `grants`, at a window edge)
        are written; those of the site and its doors are told every time.
        """
        self._save()
        self.async_set_updated_data(self._snapshot(grants))

    @callback
    def async_update_listeners(self) -> None:
        """Tell the entities: the site's and doors' always, a grant's when it changed."""
        self.feed.refresh_codes(self.keypad.status if self.keypad is not None else {})
        changed = self.feed.take()
        super().async_update_listeners()
        self.feed.notify(changed)

    @callback
    def async_listen_grant(self, grant_id: str, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `listener` whenever the grant changes (settings, state, codes, window edge)."""
        return self.feed.listen(grant_id, listener)

    @property
    def changed_grants(self) -> frozenset[str]:
        """The grants changed at the last update (the calendar follows only those)."""
        return self.feed.changed

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
            raise not_valid("unknown_grant", grant=grant_id)
        return grant

    def state_of(self, grant_id: str) -> GrantState:
        """The grant's state now (site time; a terminal state once recorded stays)."""
        return self._state_at(self.grant(grant_id), self.now())

    def _state_at(self, grant: Grant, now: datetime) -> GrantState:
        return self.grants.state_at(grant, now)

    def now(self, *, at_least: datetime | None = None) -> datetime:
        """Site time: the wall clock, never going backwards (see `site_clock`)."""
        return self.clock.now(at_least=at_least)

    def edge_timer(self, grant_id: str) -> datetime | None:
        """The window edge a grant's timer waits for; None if it has none."""
        return self.grants.edge_timer(grant_id)

    async def async_create_grant(self, **settings: Unpack[GrantSettings]) -> Grant:
        """Create a grant (validated by the core) and schedule its window edges."""
        return await self.grants.async_create(**settings)

    async def async_grant_action(
        self, grant_id: str, action: GrantAction, **changes: Unpack[GrantUpdate]
    ) -> Grant:
        """Apply an explicit action to a grant (the core checks it is allowed)."""
        return await self.grants.async_act(self.grant(grant_id), action, **changes)

    # --- visits (remote entry through any Home Assistant lock) ------------------------

    def portal(self, portal_id: str) -> PortalConfig:
        """Find a portal (a door) or raise a translated error."""
        if (portal := self.site.portal(portal_id)) is None:
            raise not_valid("unknown_portal", portal=portal_id)
        return portal

    def visit(self, visit_id: str) -> Visit:
        """Find a visit or raise a translated error."""
        if (visit := self._data.visits.get(visit_id)) is None:
            raise not_valid("unknown_visit", visit=visit_id)
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
        await self.grants.async_refresh(grant_id, self.now())

    async def async_keypad_entry(self, grant_id: str, portal_id: str) -> None:
        """The lock opened itself for a grant's PIN: record the visit from here on."""
        grant = self._data.grants[grant_id]
        portal = self.portal(portal_id)
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
            self.save_and_publish()
            return
        await self.flow.async_keypad_entry(grant, portal)

    async def async_notify_owner(
        self, key: str, placeholders: dict[str, str], *, image_portal: str | None = None
    ) -> None:
        """Tell the owner (see `OwnerNotifier`)."""
        await self.notifier.async_notify(key, placeholders, image_portal=image_portal)

    # --- guest links -----------------------------------------------------------------

    async def async_create_guest_link(self, grant_id: str) -> dict[str, str]:
        """Sign a link for a guest grant's current or next window; returns its URL and id."""
        return await self.guest_links.async_create(grant_id)

    async def async_revoke_guest_link(self, link_id: str) -> None:
        """Revoke a guest link: it opens nothing from now on."""
        await self.guest_links.async_revoke(link_id)

    # --- evidence --------------------------------------------------------------------

    async def async_verify_audit(self) -> ChainVerification:
        """Check the whole audit chain against the head kept in storage."""
        return await self.audit.async_verify(self._data.audit_head)

    def visits_list(self) -> list[Visit]:
        """All kept visits, newest first."""
        return sorted(self._data.visits.values(), key=lambda v: v.started_at, reverse=True)

    # --- as the shell sees a site (`site_runtime.ConciergeSite`) ----------------------

    @property
    def title(self) -> str:
        """The config entry's title."""
        return self.config_entry.title

    @property
    def home(self) -> ConciergeCoordinator:
        """This site is a home."""
        return self

    @callback
    def add_entities(
        self,
        add: AddConfigEntryEntitiesCallback,
        *,
        home: HomeEntities | None = None,
        store: object = None,  # noqa: ARG002 - what a platform adds for a store
    ) -> None:
        """Add what a platform adds for a home."""
        if home is not None:
            home(self, add)

    async def async_diagnostics(self) -> dict[str, Any]:
        """The home's diagnostics, before redaction (see `home_diagnostics`)."""
        return await async_home_diagnostics(self)
