"""A calendar per site: every grant's access windows, and grants made from events.

Each occurrence of a grant's schedule is one event (uid = the grant's id, summary =
its label, description = what the owner typed, then the grant named with its kind and
doors). A grant with one weekly window is a recurring series: each occurrence carries
the series' repeat rule (`FREQ=WEEKLY;BYDAY=..;UNTIL=..`, made and read by
`calendar_series`) and its recurrence id, so Home Assistant asks "this event" or "this and
all following".

Creating an event creates a grant for all of the site's portals. Deleting "this event"
of a series leaves that occurrence out (`core.skips`: closed that day, the PIN off the
lock); "this and all following" ends the series before it, or revokes the grant from
its first occurrence; deleting a one-off event revokes the grant. Changing an event
changes the grant's label, description and schedule; a change to one occurrence of a
series alone is refused (a translated message says what to do instead).

The calendar finds grants by time (`core.window_index`): a range asks only the grants
whose windows may fall in it, the open or next window is the top of a heap (each grant's
window worked out only when it comes near the top), and an update takes only the grants
that changed. Its state is written when the open or next
window changed; a change elsewhere on the calendar only refreshes subscribed views.
"""

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, override

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.components.calendar.const import (
    EVENT_DESCRIPTION,
    EVENT_RRULE,
    EVENT_SUMMARY,
    CalendarEntityFeature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .calendar_series import event_schedule, series_rule, series_window
from .const import DOMAIN
from .coordinator import ConciergeCoordinator
from .core.errors import ConciergeError
from .core.grants import Grant, GrantAction, GrantKind, GrantState, grant_state
from .core.schedule_times import current_interval, occurrences, resolve_local
from .core.skips import occurrence_day, recurrence_id, with_skipped
from .core.window_index import WindowIndex, index_of
from .core.windows import Interval, Schedule
from .entity import ConciergeEntity, async_setup_site_entities
from .service_errors import validation_error
from .site_runtime import ConciergeConfigEntry

PARALLEL_UPDATES = 0

THIS_AND_FOLLOWING = "THISANDFUTURE"
"""The recurrence range of "this and all following events" (RFC 5545)."""

FLAGGED_STATES = frozenset({GrantState.SUSPENDED, GrantState.USED_UP})
"""States named in an event's description: its window is there, but lets nobody in."""

_KINDS: Mapping[str, GrantKind] = {kind.value: kind for kind in GrantKind}
_FIRST_WORD = re.compile(r"\s*([^\W\d_]+)")


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the site's calendar of grant windows (a store has none)."""
    async_setup_site_entities(entry, async_add_entities, home=_home)


def _home(coordinator: ConciergeCoordinator, add: AddConfigEntryEntitiesCallback) -> None:
    add([GrantCalendar(coordinator)])


def _kind(description: str | None) -> GrantKind:
    """The kind named by the description's first word ("Cleaner, every week"); else other."""
    match = _FIRST_WORD.match(description or "")
    return _KINDS.get(match[1].casefold(), GrantKind.OTHER) if match else GrantKind.OTHER


def _typed(text: str | None, generated: str) -> str:
    """What the owner typed: the description without the line the calendar adds."""
    lines = (text or "").rstrip().splitlines()
    if lines and lines[-1].strip() == generated:
        lines.pop()
    return "\n".join(lines).strip()


class GrantCalendar(ConciergeEntity, CalendarEntity):
    """The site's grant windows; events create, change and revoke grants."""

    _attr_translation_key = "grants"
    _attr_supported_features = (
        CalendarEntityFeature.CREATE_EVENT
        | CalendarEntityFeature.DELETE_EVENT
        | CalendarEntityFeature.UPDATE_EVENT
    )

    def __init__(self, coordinator: ConciergeCoordinator) -> None:
        """Create the calendar of a site, on the site's device."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.site_id}_grants"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, coordinator.site_id)})
        self._index = WindowIndex(coordinator.tz)
        self._written: CalendarEvent | None = None

    async def async_added_to_hass(self) -> None:
        """Index the grants, then follow their changes."""
        coordinator = self.coordinator
        self._index = index_of(coordinator.data.grants.values(), coordinator.tz, dt_util.utcnow())
        await super().async_added_to_hass()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Take the grants that changed; write the state if the open or next window did."""
        grants = self.coordinator.data.grants
        now = dt_util.utcnow()
        changed = self.coordinator.changed_grants
        for grant_id in changed:
            if (grant := grants.get(grant_id)) is None:
                self._index.drop(grant_id)
            else:
                self._index.put(grant, now)
        if self.event != self._written:
            self.async_write_ha_state()
        elif changed:
            self.async_update_event_listeners()  # views of a range may show them

    @callback
    @override
    def _async_write_ha_state(self) -> None:
        self._written = self.event
        super()._async_write_ha_state()

    def _about(self, grant: Grant) -> str:
        """The line naming a grant, its kind and doors (and a state that lets nobody in)."""
        names = {portal.portal_id: portal.name for portal in self.coordinator.site.portals}
        about = f"{grant.kind.value.capitalize()} “{grant.label}”: " + ", ".join(
            names.get(portal, portal) for portal in grant.portals
        )
        state = self.coordinator.data.states.get(grant.id)
        return about + (f" ({state})" if state in FLAGGED_STATES else "")

    def _event(self, grant: Grant, interval: Interval) -> CalendarEvent:
        """One window of a grant: label, times, description, kind and doors (no credential)."""
        tz = self.coordinator.tz
        start = interval.start.astimezone(tz)
        rule = series_rule(grant)
        about = self._about(grant)
        return CalendarEvent(
            start=start,
            end=interval.end.astimezone(tz),
            summary=grant.label,
            description=f"{grant.description}\n{about}" if grant.description else about,
            uid=grant.id,
            rrule=rule,
            recurrence_id=None if rule is None else recurrence_id(start),
        )

    @property
    @override
    def event(self) -> CalendarEvent | None:
        """The window open now, or else the next one to open, of any grant not revoked."""
        found = self._index.open_or_next(dt_util.utcnow())
        return None if found is None else self._event(found[1], found[0])

    @override
    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Every window of every grant not revoked that overlaps `[start_date, end_date)`."""
        tz = self.coordinator.tz
        found: list[tuple[Interval, Grant]] = []
        for grant in self._index.in_range(start_date, end_date):
            for interval in occurrences(grant.schedule, tz, start_date, end_date):
                whole = interval
                if interval.start == start_date or interval.end == end_date:
                    # Possibly cut at the range's edge: show the window as it is.
                    whole = current_interval(grant.schedule, tz, interval.start) or interval
                found.append((whole, grant))
        found.sort(key=lambda f: (f[0].start, f[0].end, f[1].label, f[1].id))
        return [self._event(grant, interval) for interval, grant in found]

    @override
    async def async_create_event(self, **kwargs: Any) -> None:
        """Create a grant for all the site's portals from an event.

        The description's first word may name the kind ("Cleaner ..."); a weekly
        repeat rule makes a weekly grant.
        """
        coordinator = self.coordinator
        try:
            await coordinator.async_create_grant(
                label=kwargs[EVENT_SUMMARY],
                kind=_kind(kwargs.get(EVENT_DESCRIPTION)),
                portals=tuple(portal.portal_id for portal in coordinator.site.portals),
                schedule=event_schedule(kwargs, coordinator.tz),
                description=(kwargs.get(EVENT_DESCRIPTION) or "").strip(),
            )
        except ConciergeError as err:
            raise validation_error(err) from err

    @override
    async def async_update_event(
        self,
        uid: str,
        event: dict[str, Any],
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Change the grant's label, description and schedule (the whole grant).

        A weekly grant keeps repeating only through a weekly repeat rule; an event
        without one would silently drop its other occurrences, so it is refused, as is a
        change to one occurrence alone. A change from an occurrence on keeps the series'
        start: the grant is one permission, its past is in the audit log.
        """
        coordinator = self.coordinator
        grant = coordinator.grant(uid)
        series = series_window(grant) is not None
        if series and recurrence_id and recurrence_range != THIS_AND_FOLLOWING:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="one_occurrence_unchangeable",
                translation_placeholders={"grant": grant.label},
            )
        if grant.schedule.has_weekly and not event.get(EVENT_RRULE):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="weekly_grant_needs_repeat"
            )
        try:
            schedule = event_schedule(event, coordinator.tz)
            if series and recurrence_id and schedule.has_weekly:
                old = grant.schedule.valid_from
                new = schedule.valid_from
                start = None if old is None or new is None else min(old, new)
                schedule = replace(schedule, valid_from=start, skipped=grant.schedule.skipped)
            await coordinator.async_grant_action(
                uid,
                GrantAction.UPDATE,
                label=event[EVENT_SUMMARY],
                schedule=schedule,
                description=_typed(event.get(EVENT_DESCRIPTION), self._about(grant)),
            )
        except ConciergeError as err:
            raise validation_error(err) from err

    @override
    async def async_delete_event(
        self,
        uid: str,
        recurrence_id: str | None = None,
        recurrence_range: str | None = None,
    ) -> None:
        """Leave out one occurrence, end the series before one, or revoke the grant."""
        coordinator = self.coordinator
        grant = coordinator.grant(uid)
        window = series_window(grant)
        day = None if not recurrence_id else occurrence_day(recurrence_id)
        if window is None or day is None:
            await coordinator.async_grant_action(uid, GrantAction.REVOKE)
            return
        tz = coordinator.tz
        now = coordinator.now()
        schedule: Schedule | None = grant.schedule
        try:
            if recurrence_range == THIS_AND_FOLLOWING:
                end = resolve_local(day, window.start, tz)
                first = grant.schedule.valid_from
                until = grant.schedule.valid_until
                schedule = (
                    None
                    if end <= now or (first is not None and end <= first)
                    else replace(grant.schedule, valid_until=min(end, until or end))
                )
            else:
                skipped = with_skipped(grant.schedule.skipped, day)
                schedule = replace(grant.schedule, skipped=skipped)
        except ConciergeError as err:
            raise validation_error(err) from err
        if schedule is None or grant_state(replace(grant, schedule=schedule), now, tz) is (
            GrantState.EXPIRED
        ):
            # Nothing of the grant would be left to come: it ends now.
            await coordinator.async_grant_action(uid, GrantAction.REVOKE)
            return
        await coordinator.async_grant_action(uid, GrantAction.UPDATE, schedule=schedule)
