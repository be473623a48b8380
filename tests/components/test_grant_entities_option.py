"""The option "devices and entities for each grant": on by default; off, grants live on.

With the option off a site has no device or entity per grant, but its grants still work:
the actions create and change them, the calendar shows their windows and the site's own
entities stay. Switching it off removes the grants' devices and entities; switching it
on again brings them back.
"""

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.home_devices import grant_device_id

from .helpers import at, call, entity_id, grant_state
from .test_calendar import get_events
from .test_init import DATA

GRANT_KEYS = ("grant_state", "grant_enabled")


async def _site(hass: HomeAssistant, options: dict[str, Any]) -> MockConfigEntry:
    await hass.config.async_set_time_zone("Europe/Berlin")
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="home", title="Home", data=DATA, options=options
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _guest(hass: HomeAssistant, label: str = "Anna") -> str:
    response = await call(
        hass, "create_grant", label=label, kind="guest", portals=["Front door"],
        start="2026-10-20 09:00:00", end="2026-10-20 11:00:00",
    )  # fmt: skip
    await hass.async_block_till_done()
    return str(response["grant_id"])


def _grant_entities(hass: HomeAssistant, entry: MockConfigEntry) -> list[er.RegistryEntry]:
    return [
        e
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.unique_id.endswith(GRANT_KEYS)
    ]


def _grant_device(
    hass: HomeAssistant, entry: MockConfigEntry, grant_id: str
) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        grant_device_id(entry.entry_id, grant_id), entry.entry_id
    )


async def _set_option(hass: HomeAssistant, entry: MockConfigEntry, *, on: bool) -> None:
    """Change the option through the options form (saving reloads the site)."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"grant_entities": on}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("home_entities")
async def test_grants_have_devices_and_entities_by_default(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(at("2026-10-19 08:00"))
    entry = await _site(hass, {"notify": []})
    grant_id = await _guest(hass)
    assert grant_state(hass, entry, grant_id) == "scheduled"
    assert _grant_device(hass, entry, grant_id) is not None
    assert len(_grant_entities(hass, entry)) == 2

    # The options form offers the option, ticked.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    field = next(k for k in result["data_schema"].schema if str(k) == "grant_entities")
    assert field.default() is True
    hass.config_entries.options.async_abort(result["flow_id"])


@pytest.mark.usefixtures("home_entities")
async def test_without_grant_entities_grants_still_work(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(at("2026-10-19 08:00"))
    entry = await _site(hass, {"notify": [], "grant_entities": False})
    grant_id = await _guest(hass)

    # No device and no entity for the grant.
    assert _grant_device(hass, entry, grant_id) is None
    assert _grant_entities(hass, entry) == []
    assert not [s for s in hass.states.async_all() if s.attributes.get("grant_id") == grant_id]

    # The site keeps its own entities, and the calendar shows the grant's window.
    calendar = entity_id(hass, entry, "grants", "calendar")
    assert entity_id(hass, entry, "p1_visit_in_progress", "binary_sensor")
    events = await get_events(hass, calendar, at("2026-10-20 00:00"), at("2026-10-21 00:00"))
    assert [(e["summary"], e["start"], e["end"]) for e in events] == [
        ("Anna", "2026-10-20T09:00:00+02:00", "2026-10-20T11:00:00+02:00")
    ]
    calendar_state = hass.states.get(calendar)
    assert calendar_state is not None
    assert calendar_state.attributes["message"] == "Anna"

    # The actions still change it: suspended, the calendar says so; revoked, it is gone.
    await call(hass, "suspend_grant", grant_id=grant_id)
    events = await get_events(hass, calendar, at("2026-10-20 00:00"), at("2026-10-21 00:00"))
    assert "(suspended)" in events[0]["description"]
    await call(hass, "revoke_grant", grant_id=grant_id)
    await hass.async_block_till_done()
    assert await get_events(hass, calendar, at("2026-10-20 00:00"), at("2026-10-21 00:00")) == []
    assert _grant_entities(hass, entry) == []


@pytest.mark.usefixtures("home_entities")
async def test_switching_off_removes_them_and_on_brings_them_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(at("2026-10-19 08:00"))
    entry = await _site(hass, {"notify": []})
    anna = await _guest(hass, "Anna")
    sensor = entity_id(hass, entry, f"{anna}_grant_state", "sensor")
    assert _grant_device(hass, entry, anna) is not None

    await _set_option(hass, entry, on=False)
    assert entry.options["grant_entities"] is False
    assert _grant_device(hass, entry, anna) is None
    assert _grant_entities(hass, entry) == []
    assert hass.states.get(sensor) is None
    # A grant created meanwhile gets no device either.
    ben = await _guest(hass, "Ben")
    assert _grant_device(hass, entry, ben) is None
    assert _grant_entities(hass, entry) == []

    await _set_option(hass, entry, on=True)
    assert _grant_device(hass, entry, anna) is not None
    assert _grant_device(hass, entry, ben) is not None
    assert len(_grant_entities(hass, entry)) == 4
    assert entity_id(hass, entry, f"{anna}_grant_state", "sensor") == sensor
    assert grant_state(hass, entry, anna) == "scheduled"
    assert grant_state(hass, entry, ben) == "scheduled"
