"""Ended grants leave the site: their device and entities go some days after their end.

How long an ended grant stays is the site's option `retire_after_days` (default 7; 0: as
soon as it ended). Which grants are due is `core.retirement`'s decision. A due grant
leaves the way a user deletes its device: the grant keeper forgets it
(`GrantKeeper.forget`), then its device goes from the registry, and with it its
entities. Its visits and its audit records stay (visit exports and the log's
verification need nothing else of it).

One timer waits for the next grant to become due (on setup, the grants already due
leave at once; the audit log says when revoked and used-up grants ended). The ended
grants wait in a queue by when they are due (`core.due_queue`): each grant's end is
worked out once, at setup or when its end is recorded, not at every look. A grant whose
code is, or may still be, on a lock waits until the lock confirmed the clear, and one
with a visit open until the visit is over: while such a grant waits, every change of
the site's snapshot (the keypad's statuses, a visit that ends) looks again, and so does
the change after a grant's end is recorded. Nothing is polled.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_call_later

from .audit_log import AuditLog
from .const import CONF_RETIRE_AFTER_DAYS, DEFAULT_RETIRE_AFTER_DAYS
from .core import clock
from .core.due_queue import DueQueue
from .core.events import AccessEvent
from .core.grants import TERMINAL_STATES, Grant, GrantState
from .core.retirement import END_EVENTS, codes_left, ended_at, plan_retirement, recorded_ends
from .grant_keeper import GrantKeeper
from .home_devices import grant_device_id
from .hosts import SiteHost
from .keypad.manager import KeypadManager
from .site_types import SiteSnapshot, signal_event

_LOGGER = logging.getLogger(__name__)


class RetirementHost(SiteHost, Protocol):
    """What retiring grants needs from a home site."""

    grants: GrantKeeper
    keypad: KeypadManager | None
    audit: AuditLog
    data: SiteSnapshot
    """What the entities show: each grant's state now (published at every change and edge)."""

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""

    def now(self, *, at_least: datetime | None = None) -> datetime:
        """Site time."""

    def async_add_listener(
        self,
        update_callback: CALLBACK_TYPE,
        context: Any = None,  # noqa: ANN401 - as HA types it
    ) -> Callable[[], None]:
        """Be called after every change of the site's snapshot."""


def retire_after(options: Mapping[str, Any]) -> timedelta:
    """How long an ended grant stays, from the site's options."""
    days = options.get(CONF_RETIRE_AFTER_DAYS, DEFAULT_RETIRE_AFTER_DAYS)
    return timedelta(days=max(0, int(days)))


class GrantRetirement:
    """Removes a home's ended grants, their devices and entities, when they are due."""

    def __init__(self, host: RetirementHost) -> None:
        """Retire `host`'s grants (started by `async_start`)."""
        self._host = host
        self._keep = retire_after(host.config_entry.options)
        self._ended: dict[str, datetime] = {}
        """When each grant's end was recorded (the audit log, then the events)."""
        self._first_seen: dict[str, datetime] = {}
        """Ended grants whose end nobody recorded (a lost log): since when they are known."""
        self._queue = DueQueue()
        """Each ended grant, by when it is due to leave."""
        self._ending: set[str] = set()
        """Grants whose end was recorded since the last look (their due time is next)."""
        self._waiting: set[str] = set()
        """Grants due, but held (a code maybe on a lock, a visit open)."""
        self._timer: tuple[datetime, CALLBACK_TYPE] | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        self._checking = False
        self._look_again = False
        """A grant is due but waits, or an end was recorded: the next change looks again."""

    async def async_start(self) -> CALLBACK_TYPE:
        """Retire what is due now, then follow the site; returns the call that stops it."""
        host = self._host
        stopped = {GrantState.REVOKED, GrantState.USED_UP}
        if any(state in stopped for state in host.data.states.values()):
            self._ended = recorded_ends(r.event for r in await host.audit.async_read())
        self._unsubs.append(
            async_dispatcher_connect(host.hass, signal_event(host.site_id), self._on_event)
        )
        self._unsubs.append(host.async_add_listener(self._on_change))
        now = host.now()
        shown = host.data.states  # worked out at setup, not again here
        grants = host.site_data.grants.values()
        self._queue.set_many(
            (grant.id, end + self._keep)
            for grant in grants
            if (state := shown.get(grant.id)) is None or state in TERMINAL_STATES
            if (end := self._end(grant, state or host.grants.state_at(grant, now), now))
        )
        self._check()
        return self.stop

    @callback
    def stop(self) -> None:
        """Cancel the timer and stop following the site (on unload)."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._cancel_timer()

    @callback
    def _on_event(self, event: AccessEvent) -> None:
        if event.type.value in END_EVENTS and event.grant is not None:
            self._ended.setdefault(event.grant, event.time)
            self._ending.add(event.grant)
            self._look_again = True

    @callback
    def _on_change(self) -> None:
        if self._look_again:
            self._check()

    def _end(self, grant: Grant, state: GrantState, now: datetime) -> datetime | None:
        """When the grant ended; None while it has not."""
        end = ended_at(grant, state, self._ended.get(grant.id), self._host.tz)
        if end is None and state in TERMINAL_STATES:
            end = self._first_seen.setdefault(grant.id, now)
        return end

    def _take_ending(self, now: datetime) -> None:
        """Queue the grants whose end was recorded since the last look."""
        host = self._host
        grants = host.site_data.grants
        for grant_id in self._ending:
            if (grant := grants.get(grant_id)) is None:
                self._queue.drop(grant_id)
            elif (end := self._end(grant, host.grants.state_at(grant, now), now)) is not None:
                self._queue.set(grant_id, end + self._keep)
        self._ending.clear()

    def _held(self) -> frozenset[str]:
        """Grants that must wait: a code maybe on a lock, or a visit still open."""
        data = self._host.site_data
        keypad = self._host.keypad
        codes = codes_left(
            (lock.known for lock in data.keypad.values()),
            keypad.status if keypad is not None else {},
        )
        visits = {v.grant for v in data.visits.values() if v.grant and not v.terminal}
        return codes | visits

    @callback
    def _check(self, now: datetime | None = None) -> None:
        if self._checking or not self._unsubs:
            return  # our own change of the snapshot, or stopped
        self._checking = True
        try:
            now = self._host.now(at_least=now)
            self._take_ending(now)
            grants = self._host.site_data.grants
            ready = {g: due for g, due in self._queue.pop_due(now) if g in grants}
            ready.update((g, now) for g in self._waiting if g in grants and g not in ready)
            held = self._held() if ready else frozenset[str]()
            plan = plan_retirement(ready, timedelta(0), now, held)
            # A grant its keeper keeps (not over after all) is looked at again too.
            kept = [grant_id for grant_id in plan.due if not self._retire(grant_id)]
            self._waiting = {*plan.waiting, *kept}
            self._look_again = bool(self._waiting)
            self._schedule(self._queue.first(), now)
        finally:
            self._checking = False

    def _retire(self, grant_id: str) -> bool:
        host = self._host
        if not host.grants.forget(grant_id):
            return False
        self._ended.pop(grant_id, None)
        self._first_seen.pop(grant_id, None)
        self._queue.drop(grant_id)
        registry = dr.async_get(host.hass)
        device = registry.async_get_device_by_identifier(
            grant_device_id(host.site_id, grant_id), host.site_id
        )
        if device is not None:
            registry.async_update_device(device.id, remove_config_entry_id=host.site_id)
        _LOGGER.debug("%s: the ended grant %s left", host.site.name, grant_id)
        return True

    def _schedule(self, due: datetime | None, now: datetime) -> None:
        if self._timer is not None and self._timer[0] == due:
            return
        self._cancel_timer()
        if due is None:
            return

        @callback
        def _at_due(_fired: datetime) -> None:
            self._timer = None
            # Site time may be a hair before the due time (rounding): it is reached.
            self._check(due)

        delay = clock.seconds_until(due, now)
        self._timer = (due, async_call_later(self._host.hass, delay, _at_due))

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer[1]()
            self._timer = None
