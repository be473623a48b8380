"""A change to one grant writes that grant's entities, whatever the number of other grants.

Every state write shows on the bus: `state_changed` when something changed, else
`state_reported`. The calendar shows the same events as asking every grant.
"""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_STATE_CHANGED, EVENT_STATE_REPORTED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.grants import Grant
from custom_components.concierge.core.schedule_times import current_interval, occurrences

from .helpers import BERLIN, at, call, entity_id, move_to
from .test_init import DATA


@pytest.fixture
async def entry(
    hass: HomeAssistant, home_entities: None, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """A loaded site in Berlin, on Monday 2026-10-19 at 08:00."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(at("2026-10-19 08:00"))
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="home", title="Home", data=DATA, options={"notify": []}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@contextmanager
def writes(hass: HomeAssistant) -> Iterator[Counter[str]]:
    """Count the state writes of each entity (changed or only reported)."""
    seen: Counter[str] = Counter()

    @callback
    def _write(event: Event[Any]) -> None:
        seen[event.data["entity_id"]] += 1

    @callback
    def _any(_event_data: Any) -> bool:
        return True

    stops = [
        hass.bus.async_listen(EVENT_STATE_CHANGED, _write),
        hass.bus.async_listen(EVENT_STATE_REPORTED, _write, event_filter=_any),
    ]
    try:
        yield seen
    finally:
        for stop in stops:
            stop()


async def add_grants(hass: HomeAssistant, count: int, day: int = 20) -> list[str]:
    """`count` grants, one hour each, one after another from `day` October at 09:00."""
    first = at(f"2026-10-{day} 09:00")
    made = []
    for n in range(count):
        start = first + timedelta(hours=n)
        response = await call(
            hass, "create_grant", label=f"Guest {day}.{n}", kind="guest", portals=["Front door"],
            start=start.strftime("%Y-%m-%d %H:%M:%S"),
            end=(start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
        )  # fmt: skip
        made.append(response["grant_id"])
    await hass.async_block_till_done()
    return made


def grant_entities(hass: HomeAssistant, entry: MockConfigEntry, grant_id: str) -> set[str]:
    return {
        entity_id(hass, entry, f"{grant_id}_grant_state", "sensor"),
        entity_id(hass, entry, f"{grant_id}_grant_enabled", "switch"),
    }


def all_grant_entities(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    registry = er.async_get(hass)
    return {
        e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.unique_id.endswith(("_grant_state", "_grant_enabled"))
    }


async def suspend_one(hass: HomeAssistant, grant_id: str) -> None:
    await call(hass, "suspend_grant", grant_id=grant_id)
    await hass.async_block_till_done()


async def test_a_change_to_one_grant_writes_only_its_entities_whatever_the_number(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    few = await add_grants(hass, 3)
    with writes(hass) as among_few:
        await suspend_one(hass, few[1])
    many = few + await add_grants(hass, 30, day=22)
    with writes(hass) as among_many:
        await suspend_one(hass, many[20])

    grants_written = set(among_many) & all_grant_entities(hass, entry)
    assert grants_written == grant_entities(hass, entry, many[20])
    assert set(among_few) & all_grant_entities(hass, entry) == grant_entities(hass, entry, few[1])
    assert sum(among_many.values()) == sum(among_few.values())  # the same writes, 3 or 33 grants
    state = hass.states.get(entity_id(hass, entry, f"{many[20]}_grant_state", "sensor"))
    assert state is not None
    assert state.state == "suspended"


async def test_a_window_edge_writes_only_its_grants_entities(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    grants = await add_grants(hass, 12)
    with writes(hass) as written:
        await move_to(hass, freezer, at("2026-10-20 09:00"))  # the first one's window opens

    assert set(written) & all_grant_entities(hass, entry) == grant_entities(hass, entry, grants[0])
    sensor = entity_id(hass, entry, f"{grants[0]}_grant_state", "sensor")
    assert hass.states.get(sensor).state == "active"  # type: ignore[union-attr]
    assert hass.states.get(entity_id(hass, entry, f"{grants[1]}_grant_state", "sensor")).state == (  # type: ignore[union-attr]
        "scheduled"
    )


def _asking_every_grant(
    grants: list[Grant], start: datetime, end: datetime
) -> list[tuple[str, str, str]]:
    """The calendar's events as it built them by asking every grant (label, start, end)."""
    found = []
    for grant in grants:
        if grant.revoked:
            continue
        for interval in occurrences(grant.schedule, BERLIN, start, end):
            whole = interval
            if start == interval.start or end == interval.end:
                whole = current_interval(grant.schedule, BERLIN, interval.start) or interval
            found.append((whole.start, whole.end, grant.label, grant.id))
    found.sort()
    return [
        (label, s.astimezone(BERLIN).isoformat(), e.astimezone(BERLIN).isoformat())
        for s, e, label, _ in found
    ]


async def test_the_calendar_shows_the_same_events_as_asking_every_grant(
    hass: HomeAssistant, entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    await add_grants(hass, 6)
    weekly = await call(
        hass, "create_grant", label="Cleaner", kind="cleaner", portals=["Front door"],
        weekdays=["mon", "thu"], start_time="22:00", end_time="02:00",
    )  # fmt: skip
    bounded = await call(
        hass, "create_grant", label="Nanny", kind="guest", portals=["Back door"],
        weekdays=["tue"], start_time="07:00", end_time="18:00",
        valid_from="2026-10-20 00:00:00", valid_until="2026-12-01 00:00:00",
    )  # fmt: skip
    gone = (await add_grants(hass, 2, day=28))[0]
    await call(hass, "revoke_grant", grant_id=gone)
    await call(hass, "update_grant", grant_id=weekly["grant_id"], label="Cleaner (new)")
    assert bounded["state"] == "scheduled"
    calendar = entity_id(hass, entry, "grants", "calendar")
    grants = list(entry.runtime_data.data.grants.values())
    ranges = [
        (at("2026-10-19 00:00"), at("2026-11-19 00:00")),  # a month, over the end of summer time
        (at("2026-10-20 09:30"), at("2026-10-20 11:30")),  # cutting windows at both ends
        (at("2026-12-01 00:00"), at("2027-01-01 00:00")),  # after the bounded one
    ]
    for start, end in ranges:
        response = await hass.services.async_call(
            "calendar", "get_events",
            {"start_date_time": start.isoformat(), "end_date_time": end.isoformat()},
            target={"entity_id": calendar}, blocking=True, return_response=True,
        )  # fmt: skip
        assert response is not None
        shown = [(e["summary"], e["start"], e["end"]) for e in response[calendar]["events"]]  # type: ignore[index]
        assert shown == _asking_every_grant(grants, start, end)
        assert shown
    state = hass.states.get(calendar)
    assert state is not None
    assert state.attributes["message"] == "Cleaner (new)"  # Monday 22:00 comes first
