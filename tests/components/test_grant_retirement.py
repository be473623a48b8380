"""Ended grants leave the device and entity registries some days after their end (issue 15).

Their visits stay exportable and the audit log keeps their records. The site's option
`retire_after_days` (default 7, 0: at once) says how long they stay.
"""

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from tests.waiting import settled

from .conftest import SITE_DATA
from .helpers import at, call, grant_state, move_to


def _device(hass: HomeAssistant, site: MockConfigEntry, grant_id: str) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{site.entry_id}_grant_{grant_id}"), site.entry_id
    )


def _entities(hass: HomeAssistant, site: MockConfigEntry, grant_id: str) -> list[str]:
    """The grant's entities in the entity registry."""
    return [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), site.entry_id)
        if e.unique_id.startswith(f"{site.entry_id}_{grant_id}_")
    ]


def _present(hass: HomeAssistant, site: MockConfigEntry, grant_id: str) -> list[str]:
    """The grant's entities; its device and their states must be there too."""
    entities = _entities(hass, site, grant_id)
    assert entities, "the grant has entities"
    assert _device(hass, site, grant_id) is not None, "the grant has a device"
    assert all(hass.states.get(e) is not None for e in entities), entities
    return entities


def _gone(hass: HomeAssistant, site: MockConfigEntry, grant_id: str, entities: list[str]) -> bool:
    """Neither the grant's device nor its entities (registry and states) are left."""
    return (
        _device(hass, site, grant_id) is None
        and not _entities(hass, site, grant_id)
        and all(hass.states.get(e) is None for e in entities)
    )


@pytest.fixture
async def site(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, real_locks: None
) -> MockConfigEntry:
    """The home of `conftest.site`, started on 2026-11-24 at 08:00 (site time starts there)."""
    freezer.move_to(at("2026-11-24 08:00"))
    await hass.config.async_set_time_zone("Europe/Berlin")
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA, options={"notify": []}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _one_off(hass: HomeAssistant, label: str, start: str, end: str, **extra: Any) -> str:
    response = await call(
        hass, "create_grant", label=label, portals=["Front door"], start=start, end=end, **extra
    )
    return str(response["grant_id"])


async def _options(hass: HomeAssistant, site: MockConfigEntry, **values: Any) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(site.entry_id)
    return await hass.config_entries.options.async_configure(result["flow_id"], values)


async def test_an_ended_grant_leaves_seven_days_after_its_end_and_its_records_stay(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    plumber = await _one_off(hass, "Plumber", "2026-11-24 10:00:00", "2026-11-24 12:00:00")
    entities = _present(hass, site, plumber)
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    visit_id = (await call(hass, "start_visit", grant_id=plumber, portal="front"))["visit_id"]
    await call(hass, "end_visit", visit_id=visit_id, reason="left_early")
    before = await call(hass, "export_visit", visit_id=visit_id)

    await move_to(hass, freezer, at("2026-11-24 12:00"))
    assert grant_state(hass, site, plumber) == "expired"
    await move_to(hass, freezer, at("2026-12-01 11:59"))
    assert _present(hass, site, plumber) == entities, "an ended grant stays 7 days (default)"

    await move_to(hass, freezer, at("2026-12-01 12:00"))
    assert _gone(hass, site, plumber, entities), "7 days after its end, device and entities go"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "revoke_grant", grant_id=plumber)
    assert err.value.translation_key == "unknown_grant"

    # Its visit is still exported, with the same records, and the chain still verifies.
    after = await call(hass, "export_visit", visit_id=visit_id)
    assert after["records"] == before["records"]
    assert {r["event"]["grant"] for r in after["records"]} == {plumber}
    assert after["verified"]["ok"] is True
    verified = await call(hass, "verify_audit_log")
    assert verified["ok"] is True
    assert verified["count"] == before["chain"]["count"] + 1  # grant_expired came on top


async def test_grants_already_due_leave_when_the_site_starts(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    plumber = await _one_off(hass, "Plumber", "2026-11-24 10:00:00", "2026-11-24 12:00:00")
    # Revoked on its first day, with a window that would have run into next year.
    sitter = await _one_off(hass, "Sitter", "2026-11-24 09:00:00", "2027-01-31 18:00:00")
    # A grant that ended only yesterday stays.
    later = await _one_off(hass, "Window cleaner", "2026-11-30 09:00:00", "2026-11-30 10:00:00")
    entities = {g: _present(hass, site, g) for g in (plumber, sitter, later)}
    await move_to(hass, freezer, at("2026-11-24 09:30"))
    await call(hass, "revoke_grant", grant_id=sitter)

    assert await hass.config_entries.async_unload(site.entry_id)
    await hass.async_block_till_done()
    freezer.move_to(at("2026-12-01 12:30"))
    assert await hass.config_entries.async_setup(site.entry_id)
    await hass.async_block_till_done()

    assert _gone(hass, site, plumber, entities[plumber]), "ended 7 days and 30 minutes ago"
    assert _gone(hass, site, sitter, entities[sitter]), "revoked 7 days and 3 hours ago"
    assert _present(hass, site, later) == entities[later]
    assert grant_state(hass, site, later) == "expired"


async def test_a_suspended_grant_stays(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    neighbour = await _one_off(hass, "Neighbour", "2026-11-24 09:00:00", "2027-06-30 18:00:00")
    courier = await _one_off(hass, "Courier", "2026-11-24 09:00:00", "2027-06-30 18:00:00")
    entities = _present(hass, site, courier)
    await call(hass, "suspend_grant", grant_id=neighbour)
    await call(hass, "revoke_grant", grant_id=courier)

    await move_to(hass, freezer, at("2027-02-01 08:00"))
    assert _gone(hass, site, courier, entities), "revoked long ago: it left"
    assert _present(hass, site, neighbour), "a suspended grant may be resumed: it stays"
    assert grant_state(hass, site, neighbour) == "suspended"
    await call(hass, "resume_grant", grant_id=neighbour)
    assert grant_state(hass, site, neighbour) == "active"


async def test_with_zero_days_a_grant_leaves_as_soon_as_it_ends(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    result = await _options(hass, site, retire_after_days=0)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert site.options["retire_after_days"] == 0
    plumber = await _one_off(hass, "Plumber", "2026-11-24 10:00:00", "2026-11-24 12:00:00")
    courier = await _one_off(
        hass, "Courier", "2026-11-24 09:00:00", "2026-11-24 18:00:00", max_uses=1
    )
    plumber_entities = _present(hass, site, plumber)
    courier_entities = _present(hass, site, courier)

    await move_to(hass, freezer, at("2026-11-24 11:59"))
    visit_id = (await call(hass, "start_visit", grant_id=courier, portal="front"))["visit_id"]
    await settled(hass)
    assert grant_state(hass, site, courier) == "used_up"
    assert _present(hass, site, courier) == courier_entities, "its visit is still open"
    await call(hass, "end_visit", visit_id=visit_id)
    await settled(hass)
    assert _gone(hass, site, courier, courier_entities), "used up, visit over: it leaves"

    assert _present(hass, site, plumber) == plumber_entities
    await move_to(hass, freezer, at("2026-11-24 12:00"))
    assert _gone(hass, site, plumber, plumber_entities)


async def test_the_option_is_offered_and_checked(
    hass: HomeAssistant, site: MockConfigEntry
) -> None:
    result = await hass.config_entries.options.async_init(site.entry_id)
    fields = {str(key): key for key in result["data_schema"].schema}
    assert fields["retire_after_days"].default() == 7
    for wrong in (-1, 3651, "a week"):
        with pytest.raises(InvalidData):
            await hass.config_entries.options.async_configure(
                result["flow_id"], {"retire_after_days": wrong}
            )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"retire_after_days": 30}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert site.options["retire_after_days"] == 30
    # The form shows the stored value next time.
    result = await hass.config_entries.options.async_init(site.entry_id)
    suggested = {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
    }
    assert suggested["retire_after_days"] == 30
