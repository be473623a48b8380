"""A calendar per site: every grant's access windows, and grants made from events.

Each occurrence of a grant's schedule is one event (uid = the grant's id, summary =
its label, description = what the owner typed, then the grant named with its kind and
doors). A grant with one weekly window is a recurring series: each occurrence carries
the series' repeat rule (`FREQ=WEEKLY;BYDAY=..;UNTIL=..`) and its recurrence id, so Home
Assistant asks "this event" or "this and all following".

Creating an event creates a grant for all of the site's portals. Deleting "this event"
of a series leaves that occurrence out (`core.skips`: closed that day, the PIN off the
lock); "this and all following" ends the series before it, or revokes the grant from
its first occurrence; deleting a one-off event revokes the grant. Changing an event
changes the grant's label, description and schedule; a change to one occurrence of a
series alone is refused (a translated message says what to do instead).

The calendar finds grants by time (`core.window_index`): a range asks only the grants
whose windows may fall in it, the open or next window is the top of a heap, and an
update takes only the grants that changed. Its state is written when the open or next
window changed; a change elsewhere on the calendar only refreshes subscribed views.
"""

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, override
from zoneinfo import ZoneInfo

from homeassistant.components.calendar import CalendarEntity, CalendarEvent
from homeassistant.components.calendar.const import (
    EVENT_DESCRIPTION,
    EVENT_END,
    EVENT_RRULE,
    EVENT_START,
    EVENT_SUMMARY,
    CalendarEntityFeature,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import ConciergeCoordinator
from .core.errors import ConciergeError
from .core.grants import Grant, GrantAction, GrantKind, GrantState, grant_state
from .core.schedule_times import current_interval, occurrences, resolve_local
from .core.skips import occurrence_day, recurrence_id, with_skipped
from .core.window_index import WindowIndex, index_of
from .core.windows import Interval, OneOffWindow, Schedule, WeeklyWindow
from .entity import ConciergeEntity, async_setup_site_entities
from .service_errors import validation_error
from .site_runtime import ConciergeConfigEntry

PARALLEL_UPDATES = 0

RRULE_WEEKDAYS: Mapping[str, int] = {
    "MO": 0,
    "TU": 1,
    "WE": 2,
    "TH": 3,
    "FR": 4,
    "SA": 5,
    "SU": 6,
}
"""iCalendar weekday codes (BYDAY) and Python's weekday numbers."""

THIS_AND_FOLLOWING = "THISANDFUTURE"
"""The recurrence range of "this and all following events" (RFC 5545)."""

FLAGGED_STATES = frozenset({GrantState.SUSPENDED, GrantState.USED_UP})
"""States named in an event's description: its window is there, but lets nobody in."""

_KINDS: Mapping[str, GrantKind] = {kind.value: kind for kind in GrantKind}
_FIRST_WORD = re.compile(r"\s*([^\W\d_]+)")
_UNTIL_DATE = re.compile(r"[0-9]{8}")
_UNTIL_DATETIME = re.compile(r"[0-9]{8}T[0-9]{6}Z?")
_DAY = timedelta(days=1)
_WEEK_DAYS = 7


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the site's calendar of grant windows (a store has none)."""
    async_setup_site_entities(entry, async_add_entities, home=_home)


def _home(coordinator: ConciergeCoordinator, add: AddConfigEntryEntitiesCallback) -> None:
    add([GrantCalendar(coordinator)])


def _unsupported() -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key="unsupported_recurrence"
    )


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    """An event's start or end as an instant; a date is the site's local midnight."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    return resolve_local(value, time(0), tz)


def _kind(description: str | None) -> GrantKind:
    """The kind named by the description's first word ("Cleaner, every week"); else other."""
    match = _FIRST_WORD.match(description or "")
    return _KINDS.get(match[1].casefold(), GrantKind.OTHER) if match else GrantKind.OTHER


def _rule_parts(rule: str) -> dict[str, str]:
    """Split `FREQ=WEEKLY;BYDAY=TU,TH` into its parts (names upper-cased)."""
    parts: dict[str, str] = {}
    for item in rule.upper().split(";"):
        name, sep, value = item.partition("=")
        if not sep or name in parts:
            raise _unsupported()
        parts[name] = value
    return parts


def _weekdays(byday: str | None, first: datetime) -> frozenset[int]:
    """Weekdays from BYDAY; without it, the weekday of the first occurrence."""
    if byday is None:
        return frozenset({first.weekday()})
    codes = byday.split(",")
    if not all(code in RRULE_WEEKDAYS for code in codes):
        raise _unsupported()  # also "1TU" and the like: they need a monthly or yearly rule
    return frozenset(RRULE_WEEKDAYS[code] for code in codes)


def _until_limit(until: str, tz: ZoneInfo) -> datetime:
    """The latest instant an occurrence may start at, from an UNTIL value.

    A date includes the whole local day; a date-time ending in Z is UTC, one without
    it is local (a floating time) in the site's time zone.
    """
    if _UNTIL_DATE.fullmatch(until):
        next_day = date.fromisoformat(until) + _DAY
        return resolve_local(next_day, time(0), tz) - timedelta(microseconds=1)
    if not _UNTIL_DATETIME.fullmatch(until):
        raise _unsupported()
    moment = datetime.fromisoformat(until)
    return moment if moment.tzinfo is not None else resolve_local(moment.date(), moment.time(), tz)


def _last_end(window: WeeklyWindow, limit: datetime, tz: ZoneInfo) -> datetime:
    """The end of the last occurrence of `window` that starts at or before `limit`."""
    day = limit.astimezone(tz).date()
    starts = [
        d
        for d in (day - timedelta(days=n) for n in range(_WEEK_DAYS + 1))
        if d.weekday() in window.weekdays and resolve_local(d, window.start, tz) <= limit
    ]
    last = max(starts)  # never empty: the same weekday a week before always qualifies
    return resolve_local(last + _DAY if window.overnight else last, window.end, tz)


def _weekly(rule: str, start: datetime, end: datetime, tz: ZoneInfo) -> Schedule:
    """A weekly schedule from `FREQ=WEEKLY[;BYDAY=..][;UNTIL=..]` and the first occurrence.

    The occurrence's local wall-clock times become the window's times; it may last a
    day at most (an end at or before the start time runs overnight). The schedule
    starts with the first occurrence and ends with the last one starting by UNTIL.
    """
    parts = _rule_parts(rule)
    if parts.pop("FREQ", None) != "WEEKLY" or parts.pop("INTERVAL", "1") != "1":
        raise _unsupported()
    parts.pop("WKST", None)  # the week's first day only matters for longer intervals
    byday = parts.pop("BYDAY", None)
    until = parts.pop("UNTIL", None)
    local_start = start.astimezone(tz)
    local_end = end.astimezone(tz)
    wall_length = local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None)
    if parts or not timedelta(0) < wall_length <= _DAY:
        raise _unsupported()
    window = WeeklyWindow(
        weekdays=_weekdays(byday, local_start),
        start=time(local_start.hour, local_start.minute),
        end=time(local_end.hour, local_end.minute),
    )
    if window.start == window.end and wall_length != _DAY:
        raise _unsupported()  # shorter than a minute: it would become a whole day
    valid_until = None if until is None else _last_end(window, _until_limit(until, tz), tz)
    return Schedule((window,), valid_from=start, valid_until=valid_until)


def _series_window(grant: Grant) -> WeeklyWindow | None:
    """The weekly window of a grant shown as a recurring series (it has only that one)."""
    windows = grant.schedule.windows
    if len(windows) == 1 and isinstance(window := windows[0], WeeklyWindow):
        return window
    return None


def _series_rule(grant: Grant) -> str | None:
    """The repeat rule of a grant's series; None for a grant shown event by event."""
    if (window := _series_window(grant)) is None:
        return None
    days = ",".join(code for code, day in RRULE_WEEKDAYS.items() if day in window.weekdays)
    rule = f"FREQ=WEEKLY;BYDAY={days}"
    if (until := grant.schedule.valid_until) is not None:
        rule += ";UNTIL=" + until.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return rule


def _typed(text: str | None, generated: str) -> str:
    """What the owner typed: the description without the line the calendar adds."""
    lines = (text or "").rstrip().splitlines()
    if lines and lines[-1].strip() == generated:
        lines.pop()
    return "\n".join(lines).strip()


def _schedule(event: Mapping[str, Any], tz: ZoneInfo) -> Schedule:
    """The schedule of a calendar event: one window, or a weekly one with a repeat rule."""
    start = _instant(event[EVENT_START], tz)
    end = _instant(event[EVENT_END], tz)
    if rule := event.get(EVENT_RRULE):
        return _weekly(rule, start, end, tz)
    return Schedule((OneOffWindow(start, end),))


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
        rule = _series_rule(grant)
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
                schedule=_schedule(kwargs, coordinator.tz),
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
        series = _series_window(grant) is not None
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
            schedule = _schedule(event, coordinator.tz)
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
        window = _series_window(grant)
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
