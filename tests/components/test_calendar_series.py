"""Weekly grants as recurring calendar series: this occurrence, this and following, all."""

# ruff: noqa: F811 - the fixtures imported from test_calendar are used by name

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .helpers import at, grant_state, move_to
from .test_calendar import (  # noqa: F401 - fixtures
    Socket,
    calendar,
    created,
    entry,
    message,
    spans,
    ws,
)

TWO_WEEKS = (at("2026-10-19 00:00"), at("2026-11-02 00:00"))
CLEANER = {
    "summary": "Cleaner",
    "description": "cleaner, key under the mat",
    "dtstart": "2026-10-19T09:00:00+02:00",
    "dtend": "2026-10-19T12:00:00+02:00",
    "rrule": "FREQ=WEEKLY;BYDAY=MO,TH",
}


async def events(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, calendar: str
) -> list[dict[str, Any]]:
    """Every event of the two weeks as the calendar panel reads them (uid, rrule...)."""
    client = await hass_client()
    start, end = (t.isoformat() for t in TWO_WEEKS)
    response = await client.get(f"/api/calendars/{calendar}", params={"start": start, "end": end})
    assert response.status == 200
    found: list[dict[str, Any]] = await response.json()
    return found


async def cleaner(
    hass: HomeAssistant, ws: Socket, calendar: str, access_events: list[dict[str, Any]]
) -> str:
    response = await ws.command(type="calendar/event/create", entity_id=calendar, event=CLEANER)
    assert response["success"], response
    await hass.async_block_till_done()
    (grant_id,) = created(access_events)
    return grant_id


def starts(found: list[dict[str, Any]]) -> list[str]:
    return [e["start"]["dateTime"] for e in found]


async def test_a_weekly_grant_is_one_series_with_the_description_typed(
    hass: HomeAssistant,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
    hass_client: ClientSessionGenerator,
) -> None:
    grant_id = await cleaner(hass, ws, calendar, access_events)
    found = await events(hass, hass_client, calendar)
    assert starts(found) == [
        "2026-10-19T09:00:00+02:00",
        "2026-10-22T09:00:00+02:00",
        "2026-10-26T09:00:00+01:00",
        "2026-10-29T09:00:00+01:00",
    ]
    assert {e["uid"] for e in found} == {grant_id}
    assert {e["rrule"] for e in found} == {"FREQ=WEEKLY;BYDAY=MO,TH"}
    assert [e["recurrence_id"] for e in found] == [
        "20261019T090000",
        "20261022T090000",
        "20261026T090000",
        "20261029T090000",
    ]
    assert {e["description"] for e in found} == {
        "cleaner, key under the mat\nCleaner “Cleaner”: Front door, Back door"
    }


async def test_deleting_this_occurrence_only_closes_that_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
    hass_client: ClientSessionGenerator,
) -> None:
    grant_id = await cleaner(hass, ws, calendar, access_events)
    response = await ws.command(
        type="calendar/event/delete",
        entity_id=calendar,
        uid=grant_id,
        recurrence_id="20261022T090000",
        recurrence_range="",
    )
    assert response["success"], response
    await hass.async_block_till_done()
    assert starts(await events(hass, hass_client, calendar)) == [
        "2026-10-19T09:00:00+02:00",
        "2026-10-26T09:00:00+01:00",
        "2026-10-29T09:00:00+01:00",
    ]
    assert not any(e["type"] == "grant_revoked" for e in access_events)
    await move_to(hass, freezer, at("2026-10-19 10:00"))
    assert grant_state(hass, entry, grant_id) == "active"
    await move_to(hass, freezer, at("2026-10-22 10:00"))
    assert grant_state(hass, entry, grant_id) == "scheduled"  # left out: closed that day
    await move_to(hass, freezer, at("2026-10-26 10:00"))
    assert grant_state(hass, entry, grant_id) == "active"


async def test_deleting_this_and_following_ends_the_series_and_from_the_first_revokes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
    hass_client: ClientSessionGenerator,
) -> None:
    grant_id = await cleaner(hass, ws, calendar, access_events)
    response = await ws.command(
        type="calendar/event/delete",
        entity_id=calendar,
        uid=grant_id,
        recurrence_id="20261026T090000",
        recurrence_range="THISANDFUTURE",
    )
    assert response["success"], response
    await hass.async_block_till_done()
    found = await events(hass, hass_client, calendar)
    assert starts(found) == ["2026-10-19T09:00:00+02:00", "2026-10-22T09:00:00+02:00"]
    assert {e["rrule"] for e in found} == {"FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20261026T080000Z"}
    await move_to(hass, freezer, at("2026-10-22 12:00"))
    assert grant_state(hass, entry, grant_id) == "expired"

    access_events.clear()
    other = await cleaner(hass, ws, calendar, access_events)
    response = await ws.command(
        type="calendar/event/delete",
        entity_id=calendar,
        uid=other,
        recurrence_id="20261026T090000",
        recurrence_range="THISANDFUTURE",
    )
    assert response["success"], response
    await hass.async_block_till_done()
    assert grant_state(hass, entry, other) == "revoked"  # nothing of it was left to come


async def test_changing_one_occurrence_is_refused_and_a_series_change_keeps_its_start(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
    hass_client: ClientSessionGenerator,
) -> None:
    grant_id = await cleaner(hass, ws, calendar, access_events)
    shown = (await events(hass, hass_client, calendar))[2]
    moved = {
        "summary": "Cleaner",
        "description": shown["description"].replace("mat", "pot"),
        "dtstart": "2026-10-26T10:00:00+01:00",
        "dtend": "2026-10-26T13:00:00+01:00",
        "rrule": shown["rrule"],
    }
    response = await ws.command(
        type="calendar/event/update",
        entity_id=calendar,
        uid=grant_id,
        recurrence_id=shown["recurrence_id"],
        recurrence_range="",
        event=moved,
    )
    assert not response["success"]
    assert response["error"]["message"] == message("one_occurrence_unchangeable", grant="Cleaner")
    assert starts(await events(hass, hass_client, calendar))[2] == "2026-10-26T09:00:00+01:00"

    response = await ws.command(
        type="calendar/event/update",
        entity_id=calendar,
        uid=grant_id,
        recurrence_id=shown["recurrence_id"],
        recurrence_range="THISANDFUTURE",
        event=moved,
    )
    assert response["success"], response
    await hass.async_block_till_done()
    found = await events(hass, hass_client, calendar)
    assert spans([{"start": e["start"]["dateTime"], "end": e["end"]["dateTime"]} for e in found])[
        0
    ] == ("2026-10-19T10:00:00+02:00", "2026-10-19T13:00:00+02:00")
    assert len(found) == 4
    assert {e["description"] for e in found} == {
        "cleaner, key under the pot\nCleaner “Cleaner”: Front door, Back door"
    }
