"""The site's calendar of grant windows, driven through Home Assistant's calendar API."""

import json
from datetime import datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components import concierge
from custom_components.concierge.const import DOMAIN

from .helpers import at, call, entity_id, grant_state, move_to
from .test_init import DATA

PIN = "482913"
EXCEPTIONS: dict[str, dict[str, str]] = json.loads(
    (Path(concierge.__file__).parent / "translations" / "en.json").read_text(encoding="utf-8")
)["exceptions"]


def message(key: str, **placeholders: str) -> str:
    """An error's English text as Home Assistant reports it."""
    return EXCEPTIONS[key]["message"].rstrip(".").format(**placeholders)


@pytest.fixture
async def entry(
    hass: HomeAssistant, home_entities: None, freezer: FrozenDateTimeFactory
) -> MockConfigEntry:
    """A loaded site in Berlin, on Monday 2026-10-19 at 08:00 (summer time ends on the 25th)."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    freezer.move_to(at("2026-10-19 08:00"))
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="home", title="Home", data=DATA, options={"notify": []}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
def calendar(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The calendar's entity id."""
    return entity_id(hass, entry, "grants", "calendar")


def created(access_events: list[dict[str, Any]]) -> list[str]:
    """Ids of the grants created, in order (from the access events on the bus)."""
    return [e["grant"] for e in access_events if e["type"] == "grant_created"]


class Socket:
    """A websocket connection that numbers its commands."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.ids = count(1)

    async def command(self, **message: Any) -> dict[str, Any]:
        await self.client.send_json({"id": next(self.ids), **message})
        response: dict[str, Any] = await self.client.receive_json()
        return response


@pytest.fixture
async def ws(hass: HomeAssistant, entry: MockConfigEntry, hass_ws_client: WebSocketGenerator):
    return Socket(await hass_ws_client(hass))


async def create_event(hass: HomeAssistant, calendar: str, **data: Any) -> None:
    await hass.services.async_call(
        "calendar", "create_event", data, target={"entity_id": calendar}, blocking=True
    )
    await hass.async_block_till_done()


async def get_events(
    hass: HomeAssistant, calendar: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {"start_date_time": start.isoformat(), "end_date_time": end.isoformat()},
        target={"entity_id": calendar},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    events = response[calendar]["events"]  # type: ignore[index]
    assert isinstance(events, list)
    return events


def spans(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["start"], e["end"]) for e in events]


def sensor(hass: HomeAssistant, entry: MockConfigEntry, grant_id: str) -> dict[str, Any]:
    state = hass.states.get(entity_id(hass, entry, f"{grant_id}_grant_state", "sensor"))
    assert state is not None
    return dict(state.attributes)


# --- creating one-off events ----------------------------------------------------------


async def test_calendar_sits_on_the_site_device(
    hass: HomeAssistant, entry: MockConfigEntry, calendar: str
) -> None:
    registered = er.async_get(hass).async_get(calendar)
    assert registered is not None
    assert registered.translation_key == "grants"
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, entry.entry_id), entry.entry_id
    )
    assert device is not None
    assert registered.device_id == device.id
    state = hass.states.get(calendar)
    assert state is not None
    assert state.state == "off"
    assert "message" not in state.attributes
    assert state.attributes["supported_features"] == 7


async def test_event_creates_a_grant_that_opens_and_closes_on_time(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
) -> None:
    await create_event(
        hass,
        calendar,
        summary="Plumber",
        description="Fixes the kitchen sink",
        start_date_time="2026-11-24 10:00:00",
        end_date_time="2026-11-24 12:00:00",
    )
    (grant_id,) = created(access_events)
    assert grant_state(hass, entry, grant_id) == "scheduled"
    attributes = sensor(hass, entry, grant_id)
    assert attributes["label"] == "Plumber"
    assert attributes["kind"] == "other"
    assert attributes["portals"] == ["Front door", "Back door"]

    state = hass.states.get(calendar)
    assert state is not None
    assert state.state == "off"
    assert state.attributes["message"] == "Plumber"
    assert state.attributes["start_time"] == "2026-11-24 10:00:00"
    assert state.attributes["end_time"] == "2026-11-24 12:00:00"
    assert (
        state.attributes["description"]
        == "Fixes the kitchen sink\nOther “Plumber”: Front door, Back door"
    )

    events = await get_events(hass, calendar, at("2026-11-24 00:00"), at("2026-11-25 00:00"))
    assert events == [
        {
            "start": "2026-11-24T10:00:00+01:00",
            "end": "2026-11-24T12:00:00+01:00",
            "summary": "Plumber",
            "description": "Fixes the kitchen sink\nOther “Plumber”: Front door, Back door",
        }
    ]

    await move_to(hass, freezer, at("2026-11-24 09:59:59"))
    assert grant_state(hass, entry, grant_id) == "scheduled"
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    assert grant_state(hass, entry, grant_id) == "active"
    assert hass.states.get(calendar).state == "on"  # type: ignore[union-attr]
    await move_to(hass, freezer, at("2026-11-24 11:59:59"))
    assert grant_state(hass, entry, grant_id) == "active"
    await move_to(hass, freezer, at("2026-11-24 12:00"))
    assert grant_state(hass, entry, grant_id) == "expired"
    state = hass.states.get(calendar)
    assert state is not None
    assert state.state == "off"
    assert "message" not in state.attributes
    # The window stays on the calendar as history.
    events = await get_events(hass, calendar, at("2026-11-24 00:00"), at("2026-11-25 00:00"))
    assert spans(events) == [("2026-11-24T10:00:00+01:00", "2026-11-24T12:00:00+01:00")]


@pytest.mark.parametrize(
    ("description", "kind"),
    [
        ("Cleaner, every other week", "cleaner"),
        ("  COURIER parcel from the shop", "courier"),
        ("sitter", "sitter"),
        ("guest: aunt Mia", "guest"),
        ("Sunday lunch", "other"),
        ("42 boxes", "other"),
        ("", "other"),
    ],
)
async def test_description_first_word_names_the_kind(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    description: str,
    kind: str,
) -> None:
    await create_event(
        hass,
        calendar,
        summary="Visitor",
        description=description,
        start_date_time="2026-11-24 10:00:00",
        end_date_time="2026-11-24 12:00:00",
    )
    (grant_id,) = created(access_events)
    assert sensor(hass, entry, grant_id)["kind"] == kind


async def test_all_day_event_runs_from_local_midnight_to_midnight(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
) -> None:
    # Sunday 2026-10-25 has 25 hours in Berlin: the window follows the wall clock.
    await create_event(
        hass, calendar, summary="Open house", start_date="2026-10-25", end_date="2026-10-26"
    )
    (grant_id,) = created(access_events)
    events = await get_events(hass, calendar, at("2026-10-24 00:00"), at("2026-10-27 00:00"))
    assert spans(events) == [("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00")]
    await move_to(hass, freezer, at("2026-10-24 23:59:59"))
    assert grant_state(hass, entry, grant_id) == "scheduled"
    await move_to(hass, freezer, at("2026-10-25 00:00"))
    assert grant_state(hass, entry, grant_id) == "active"
    await move_to(hass, freezer, at("2026-10-26 00:00"))
    assert grant_state(hass, entry, grant_id) == "expired"


async def test_event_in_the_past_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, calendar: str, access_events: list[dict[str, Any]]
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await create_event(
            hass,
            calendar,
            summary="Too late",
            start_date_time="2026-10-18 10:00:00",
            end_date_time="2026-10-18 12:00:00",
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "window_in_past"
    assert created(access_events) == []
    assert await get_events(hass, calendar, at("2026-10-18 00:00"), at("2026-10-20 00:00")) == []


async def test_event_longer_than_a_year_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry, calendar: str, access_events: list[dict[str, Any]]
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await create_event(
            hass, calendar, summary="Forever", start_date="2026-11-01", end_date="2028-11-01"
        )
    assert err.value.translation_key == "window_too_long"
    assert err.value.translation_placeholders == {"max_days": "366"}
    assert created(access_events) == []


# --- weekly events ----------------------------------------------------------------------


async def test_weekly_event_keeps_its_wall_clock_across_dst(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
) -> None:
    response = await ws.command(
        type="calendar/event/create",
        entity_id=calendar,
        event={
            "summary": "Cleaner",
            "description": "cleaner, Tuesdays and Thursdays",
            "dtstart": "2026-10-20T09:00:00+02:00",
            "dtend": "2026-10-20T12:00:00+02:00",
            "rrule": "FREQ=WEEKLY;BYDAY=TU,TH",
        },
    )
    assert response["success"], response
    await hass.async_block_till_done()
    (grant_id,) = created(access_events)
    attributes = sensor(hass, entry, grant_id)
    assert attributes["kind"] == "cleaner"
    assert attributes["label"] == "Cleaner"

    events = await get_events(hass, calendar, at("2026-10-19 00:00"), at("2026-11-02 00:00"))
    assert spans(events) == [
        ("2026-10-20T09:00:00+02:00", "2026-10-20T12:00:00+02:00"),
        ("2026-10-22T09:00:00+02:00", "2026-10-22T12:00:00+02:00"),
        ("2026-10-27T09:00:00+01:00", "2026-10-27T12:00:00+01:00"),
        ("2026-10-29T09:00:00+01:00", "2026-10-29T12:00:00+01:00"),
    ]
    assert {e["summary"] for e in events} == {"Cleaner"}
    assert {e["description"] for e in events} == {
        "cleaner, Tuesdays and Thursdays\nCleaner “Cleaner”: Front door, Back door"
    }

    for day in ("2026-10-20", "2026-10-27"):
        await move_to(hass, freezer, at(f"{day} 08:59"))
        assert grant_state(hass, entry, grant_id) == "scheduled", day
        await move_to(hass, freezer, at(f"{day} 09:00"))
        assert grant_state(hass, entry, grant_id) == "active", day
        assert hass.states.get(calendar).state == "on"  # type: ignore[union-attr]
        await move_to(hass, freezer, at(f"{day} 12:00"))
        assert grant_state(hass, entry, grant_id) == "scheduled", day
        state = hass.states.get(calendar)
        assert state is not None
        assert state.state == "off"
    assert state.attributes["start_time"] == "2026-10-29 09:00:00"


@pytest.mark.parametrize(
    ("rrule", "dates"),
    [
        # A date includes its whole day.
        ("FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20261029", ["10-20", "10-22", "10-27", "10-29"]),
        # 09:00 in Berlin is 08:00 UTC in winter: the occurrence starting then counts.
        ("FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20261027T080000Z", ["10-20", "10-22", "10-27"]),
        # A floating time is the site's local time.
        ("FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20261027T085959", ["10-20", "10-22"]),
        # Without BYDAY the event's own weekday repeats.
        ("FREQ=WEEKLY;UNTIL=20261103", ["10-20", "10-27", "11-03"]),
        ("FREQ=WEEKLY;INTERVAL=1;WKST=MO;BYDAY=TU;UNTIL=20261027", ["10-20", "10-27"]),
    ],
)
async def test_weekly_event_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
    rrule: str,
    dates: list[str],
) -> None:
    response = await ws.command(
        type="calendar/event/create",
        entity_id=calendar,
        event={
            "summary": "Cleaner",
            "dtstart": "2026-10-20T09:00:00+02:00",
            "dtend": "2026-10-20T12:00:00+02:00",
            "rrule": rrule,
        },
    )
    assert response["success"], response
    await hass.async_block_till_done()
    (grant_id,) = created(access_events)
    events = await get_events(hass, calendar, at("2026-10-19 00:00"), at("2026-11-30 00:00"))
    assert [e["start"][5:10] for e in events] == dates
    assert {e["start"][11:19] for e in events} == {"09:00:00"}
    assert {e["end"][11:19] for e in events} == {"12:00:00"}
    # After the last occurrence the grant is over.
    last = at(f"2026-{dates[-1]} 12:00")
    await move_to(hass, freezer, last - timedelta(minutes=1))
    assert grant_state(hass, entry, grant_id) == "active"
    await move_to(hass, freezer, last)
    assert grant_state(hass, entry, grant_id) == "expired"


async def test_weekly_overnight_and_all_day_events(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
) -> None:
    for event in (
        {
            "summary": "Night baker",
            "dtstart": "2026-10-23T22:00:00+02:00",
            "dtend": "2026-10-24T06:00:00+02:00",
            "rrule": "FREQ=WEEKLY;BYDAY=FR;UNTIL=20261030",
        },
        {
            "summary": "Gardener",
            "dtstart": "2026-10-20",
            "dtend": "2026-10-21",
            "rrule": "FREQ=WEEKLY;BYDAY=TU",
        },
    ):
        response = await ws.command(type="calendar/event/create", entity_id=calendar, event=event)
        assert response["success"], response
    await hass.async_block_till_done()
    assert len(created(access_events)) == 2
    events = await get_events(hass, calendar, at("2026-10-19 00:00"), at("2026-11-02 00:00"))
    assert [(e["summary"], e["start"], e["end"]) for e in events] == [
        ("Gardener", "2026-10-20T00:00:00+02:00", "2026-10-21T00:00:00+02:00"),
        ("Night baker", "2026-10-23T22:00:00+02:00", "2026-10-24T06:00:00+02:00"),
        ("Gardener", "2026-10-27T00:00:00+01:00", "2026-10-28T00:00:00+01:00"),
        ("Night baker", "2026-10-30T22:00:00+01:00", "2026-10-31T06:00:00+01:00"),
    ]


@pytest.mark.parametrize(
    ("rrule", "start", "end"),
    [
        ("FREQ=DAILY", "2026-10-20T09:00:00+02:00", "2026-10-20T12:00:00+02:00"),
        ("FREQ=MONTHLY;BYDAY=1TU", "2026-10-20T09:00:00+02:00", "2026-10-20T12:00:00+02:00"),
        ("FREQ=WEEKLY;COUNT=3", "2026-10-20T09:00:00+02:00", "2026-10-20T12:00:00+02:00"),
        ("FREQ=WEEKLY;INTERVAL=2", "2026-10-20T09:00:00+02:00", "2026-10-20T12:00:00+02:00"),
        ("FREQ=WEEKLY;BYDAY=1TU", "2026-10-20T09:00:00+02:00", "2026-10-20T12:00:00+02:00"),
        ("FREQ=WEEKLY;BYDAY=TU;BYDAY=TH", "2026-10-20T09:00:00+02:00", "2026-10-20T12:00:00+02:00"),
        ("FREQ=WEEKLY;UNTIL=2026-11-03", "2026-10-20T09:00:00+02:00", "2026-10-20T12:00:00+02:00"),
        # Longer than a day, and shorter than the minute a weekly window counts in.
        ("FREQ=WEEKLY", "2026-10-20T09:00:00+02:00", "2026-10-21T09:30:00+02:00"),
        ("FREQ=WEEKLY", "2026-10-20T09:00:00+02:00", "2026-10-20T09:00:30+02:00"),
    ],
)
async def test_unsupported_repeat_creates_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
    rrule: str,
    start: str,
    end: str,
) -> None:
    response = await ws.command(
        type="calendar/event/create",
        entity_id=calendar,
        event={"summary": "Cleaner", "dtstart": start, "dtend": end, "rrule": rrule},
    )
    assert not response["success"]
    assert response["error"]["code"] == "failed"
    assert response["error"]["message"] == message("unsupported_recurrence")
    await hass.async_block_till_done()
    assert created(access_events) == []
    assert await get_events(hass, calendar, at("2026-10-19 00:00"), at("2026-11-30 00:00")) == []


async def test_weekly_event_ending_before_it_starts_is_refused(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
) -> None:
    response = await ws.command(
        type="calendar/event/create",
        entity_id=calendar,
        event={
            "summary": "Cleaner",
            "dtstart": "2026-10-20T09:00:00+02:00",
            "dtend": "2026-10-20T12:00:00+02:00",
            "rrule": "FREQ=WEEKLY;UNTIL=20261019",
        },
    )
    assert not response["success"]
    assert response["error"]["message"] == message("invalid_validity")
    assert created(access_events) == []


# --- what the calendar shows ------------------------------------------------------------


async def test_calendar_shows_grants_made_elsewhere_without_secrets(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    calendar: str,
) -> None:
    courier = (
        await call(
            hass,
            "create_grant",
            label="Parcel",
            kind="courier",
            portals=["Back door"],
            start="2026-10-19 10:00:00",
            end="2026-10-19 11:00:00",
            pin=PIN,
        )
    )["grant_id"]
    sitter = (
        await call(
            hass,
            "create_grant",
            label="Dog sitter",
            kind="sitter",
            weekdays=["mon", "wed"],
            start_time="09:30",
            end_time="10:30",
            pin="111111",
        )
    )["grant_id"]
    await hass.async_block_till_done()
    events = await get_events(hass, calendar, at("2026-10-19 00:00"), at("2026-10-22 00:00"))
    assert [(e["summary"], e["start"], e["end"], e["description"]) for e in events] == [
        (
            "Dog sitter",
            "2026-10-19T09:30:00+02:00",
            "2026-10-19T10:30:00+02:00",
            "Sitter “Dog sitter”: Front door, Back door",
        ),
        (
            "Parcel",
            "2026-10-19T10:00:00+02:00",
            "2026-10-19T11:00:00+02:00",
            "Courier “Parcel”: Back door",
        ),
        (
            "Dog sitter",
            "2026-10-21T09:30:00+02:00",
            "2026-10-21T10:30:00+02:00",
            "Sitter “Dog sitter”: Front door, Back door",
        ),
    ]
    assert PIN not in str(events)
    assert "111111" not in str(events)

    # The calendar's state is the window open now, else the next one.
    state = hass.states.get(calendar)
    assert state is not None
    assert (state.state, state.attributes["message"]) == ("off", "Dog sitter")
    await move_to(hass, freezer, at("2026-10-19 10:15"))
    state = hass.states.get(calendar)
    assert state is not None
    assert (state.state, state.attributes["message"]) == ("on", "Dog sitter")
    await move_to(hass, freezer, at("2026-10-19 10:30"))
    state = hass.states.get(calendar)
    assert state is not None
    assert (state.state, state.attributes["message"]) == ("on", "Parcel")
    assert PIN not in str(state.as_dict())
    await move_to(hass, freezer, at("2026-10-19 11:00"))
    state = hass.states.get(calendar)
    assert state is not None
    assert (state.state, state.attributes["message"]) == ("off", "Dog sitter")
    assert state.attributes["start_time"] == "2026-10-21 09:30:00"
    assert grant_state(hass, entry, courier) == "expired"

    # Suspended: still on the calendar, marked as such.
    await call(hass, "suspend_grant", grant_id=sitter)
    await hass.async_block_till_done()
    events = await get_events(hass, calendar, at("2026-10-21 00:00"), at("2026-10-22 00:00"))
    assert [e["description"] for e in events] == [
        "Sitter “Dog sitter”: Front door, Back door (suspended)"
    ]
    state = hass.states.get(calendar)
    assert state is not None
    assert (
        state.attributes["description"] == "Sitter “Dog sitter”: Front door, Back door (suspended)"
    )


async def test_events_cut_by_the_range_are_shown_whole(
    hass: HomeAssistant, entry: MockConfigEntry, calendar: str
) -> None:
    await call(
        hass,
        "create_grant",
        label="Movers",
        start="2026-10-20 08:00:00",
        end="2026-10-22 18:00:00",
    )
    await hass.async_block_till_done()
    whole = [("2026-10-20T08:00:00+02:00", "2026-10-22T18:00:00+02:00")]
    for start, end in (
        ("2026-10-21 10:00", "2026-10-21 11:00"),
        ("2026-10-19 00:00", "2026-10-21 00:00"),
        ("2026-10-21 00:00", "2026-10-23 00:00"),
        ("2026-10-20 08:00", "2026-10-22 18:00"),
    ):
        assert spans(await get_events(hass, calendar, at(start), at(end))) == whole, start
    assert await get_events(hass, calendar, at("2026-10-22 18:00"), at("2026-10-23 00:00")) == []
    assert await get_events(hass, calendar, at("2026-10-19 00:00"), at("2026-10-20 08:00")) == []


# --- changing and deleting events -------------------------------------------------------


async def test_update_moves_the_window(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
) -> None:
    await create_event(
        hass,
        calendar,
        summary="Plumber",
        description="courier",
        start_date_time="2026-10-20 10:00:00",
        end_date_time="2026-10-20 12:00:00",
    )
    (grant_id,) = created(access_events)
    response = await ws.command(
        type="calendar/event/update",
        entity_id=calendar,
        uid=grant_id,
        event={
            "summary": "Plumber, second visit",
            "description": "whatever",
            "dtstart": "2026-10-21T14:00:00+02:00",
            "dtend": "2026-10-21T15:30:00+02:00",
        },
    )
    assert response["success"], response
    await hass.async_block_till_done()
    attributes = sensor(hass, entry, grant_id)
    assert attributes["label"] == "Plumber, second visit"
    assert attributes["kind"] == "courier"  # an update changes label and schedule only
    events = await get_events(hass, calendar, at("2026-10-19 00:00"), at("2026-10-26 00:00"))
    assert [(e["summary"], e["start"], e["end"]) for e in events] == [
        ("Plumber, second visit", "2026-10-21T14:00:00+02:00", "2026-10-21T15:30:00+02:00")
    ]

    await move_to(hass, freezer, at("2026-10-20 10:00"))
    assert grant_state(hass, entry, grant_id) == "scheduled"
    await move_to(hass, freezer, at("2026-10-21 14:00"))
    assert grant_state(hass, entry, grant_id) == "active"
    await move_to(hass, freezer, at("2026-10-21 15:30"))
    assert grant_state(hass, entry, grant_id) == "expired"


async def test_update_turns_a_one_off_event_weekly_and_back_is_refused(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
) -> None:
    await create_event(
        hass,
        calendar,
        summary="Cleaner",
        start_date_time="2026-10-20 10:00:00",
        end_date_time="2026-10-20 12:00:00",
    )
    (grant_id,) = created(access_events)
    one_week = (at("2026-10-19 00:00"), at("2026-11-02 00:00"))
    weekly = {
        "summary": "Cleaner",
        "dtstart": "2026-10-21T08:00:00+02:00",
        "dtend": "2026-10-21T10:00:00+02:00",
        "rrule": "FREQ=WEEKLY;BYDAY=WE",
    }
    response = await ws.command(
        type="calendar/event/update", entity_id=calendar, uid=grant_id, event=weekly
    )
    assert response["success"], response
    await hass.async_block_till_done()
    assert spans(await get_events(hass, calendar, *one_week)) == [
        ("2026-10-21T08:00:00+02:00", "2026-10-21T10:00:00+02:00"),
        ("2026-10-28T08:00:00+01:00", "2026-10-28T10:00:00+01:00"),
    ]

    # An edit without the repeat would drop every other occurrence: refused.
    response = await ws.command(
        type="calendar/event/update",
        entity_id=calendar,
        uid=grant_id,
        event={key: value for key, value in weekly.items() if key != "rrule"},
    )
    assert not response["success"]
    assert response["error"]["message"] == message("weekly_grant_needs_repeat")
    await hass.async_block_till_done()
    assert len(spans(await get_events(hass, calendar, *one_week))) == 2

    # Unsupported repeats are refused on update too.
    response = await ws.command(
        type="calendar/event/update",
        entity_id=calendar,
        uid=grant_id,
        event=weekly | {"rrule": "FREQ=MONTHLY"},
    )
    assert not response["success"]
    assert len(spans(await get_events(hass, calendar, *one_week))) == 2


async def test_update_errors(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
) -> None:
    await create_event(
        hass,
        calendar,
        summary="Plumber",
        start_date_time="2026-10-20 10:00:00",
        end_date_time="2026-10-20 12:00:00",
    )
    (grant_id,) = created(access_events)
    event = {
        "summary": "Plumber",
        "dtstart": "2026-10-21T14:00:00+02:00",
        "dtend": "2026-10-21T15:00:00+02:00",
    }
    unknown = "0123456789abcdef0123456789abcdef"
    past = {"dtstart": "2026-10-18T14:00:00+02:00", "dtend": "2026-10-18T15:00:00+02:00"}
    for uid, changes, expected in (
        (unknown, {}, message("unknown_grant", grant=unknown)),
        (grant_id, past, message("window_in_past")),
        (
            grant_id,
            {"dtstart": "2026-10-21", "dtend": "2028-10-21"},
            message("window_too_long", max_days="366"),
        ),
        (grant_id, {"summary": " "}, message("empty_label")),
    ):
        response = await ws.command(
            type="calendar/event/update", entity_id=calendar, uid=uid, event=event | changes
        )
        assert not response["success"], (uid, changes)
        assert response["error"] == {"code": "failed", "message": expected}
    await hass.async_block_till_done()
    events = await get_events(hass, calendar, at("2026-10-19 00:00"), at("2026-10-26 00:00"))
    assert [(e["summary"], e["start"]) for e in events] == [
        ("Plumber", "2026-10-20T10:00:00+02:00")
    ]


async def test_delete_revokes_the_grant(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    calendar: str,
    access_events: list[dict[str, Any]],
    ws: Socket,
) -> None:
    response = await ws.command(
        type="calendar/event/create",
        entity_id=calendar,
        event={
            "summary": "Cleaner",
            "dtstart": "2026-10-19T09:00:00+02:00",
            "dtend": "2026-10-19T12:00:00+02:00",
            "rrule": "FREQ=WEEKLY;BYDAY=MO,TH",
        },
    )
    assert response["success"], response
    await hass.async_block_till_done()
    (grant_id,) = created(access_events)
    await move_to(hass, freezer, at("2026-10-19 10:00"))
    assert grant_state(hass, entry, grant_id) == "active"
    assert hass.states.get(calendar).state == "on"  # type: ignore[union-attr]

    response = await ws.command(type="calendar/event/delete", entity_id=calendar, uid=grant_id)
    assert response["success"], response
    await hass.async_block_till_done()
    assert grant_state(hass, entry, grant_id) == "revoked"
    assert await get_events(hass, calendar, at("2026-10-19 00:00"), at("2026-11-02 00:00")) == []
    state = hass.states.get(calendar)
    assert state is not None
    assert state.state == "off"
    assert "message" not in state.attributes

    # Deleting it again, or a grant that does not exist, fails.
    unknown = "0123456789abcdef0123456789abcdef"
    for uid, expected in (
        (grant_id, message("transition_not_allowed", action="revoke", state="revoked")),
        (unknown, message("unknown_grant", grant=unknown)),
    ):
        response = await ws.command(type="calendar/event/delete", entity_id=calendar, uid=uid)
        assert not response["success"], uid
        assert response["error"] == {"code": "failed", "message": expected}
