"""Grants through the actions and entities, as an owner uses them, on the clock."""

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.site_storage import STORAGE_MINOR_VERSION

from .conftest import SITE_DATA
from .helpers import UTC, at, call, entity_id, grant_state, move_to


async def test_one_off_grant_activates_and_expires_at_its_edges(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    await move_to(hass, freezer, at("2026-11-24 08:00"))
    response = await call(
        hass,
        "create_grant",
        label="Plumber",
        kind="other",
        portals=["Front door"],
        start="2026-11-24 10:00:00",
        end="2026-11-24 12:00:00",
    )
    grant_id = response["grant_id"]
    assert response["state"] == "scheduled"
    assert grant_state(hass, site, grant_id) == "scheduled"
    sensor = hass.states.get(entity_id(hass, site, f"{grant_id}_grant_state", "sensor"))
    assert sensor is not None
    assert sensor.attributes["label"] == "Plumber"
    assert sensor.attributes["portals"] == ["Front door"]
    assert sensor.attributes["next_window_start"] == at("2026-11-24 10:00").astimezone(
        UTC
    ).isoformat().replace("+00:00", "+00:00")
    assert sensor.attributes["friendly_name"] == "Plumber State"

    await move_to(hass, freezer, at("2026-11-24 09:59:59"))
    assert grant_state(hass, site, grant_id) == "scheduled"
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    assert grant_state(hass, site, grant_id) == "active"
    await move_to(hass, freezer, at("2026-11-24 11:59:59"))
    assert grant_state(hass, site, grant_id) == "active"
    await move_to(hass, freezer, at("2026-11-24 12:00"))
    assert grant_state(hass, site, grant_id) == "expired"

    kinds = [e["type"] for e in access_events if e["grant"] == grant_id]
    assert kinds == ["grant_created", "grant_activated", "grant_expired"]
    activated = next(e for e in access_events if e["type"] == "grant_activated")
    assert activated["time"] == "2026-11-24T09:00:00.000Z"


async def test_weekly_grant_keeps_wall_clock_across_dst(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    # Tuesdays 09:00-12:00 in Berlin; summer time ends on Sunday 2026-10-25.
    await move_to(hass, freezer, at("2026-10-19 12:00"))
    response = await call(
        hass,
        "create_grant",
        label="Cleaner, Tuesdays",
        kind="cleaner",
        weekdays=["tue"],
        start_time="09:00",
        end_time="12:00",
        pin="482913",
    )
    grant_id = response["grant_id"]
    for day in ("2026-10-20", "2026-10-27"):
        await move_to(hass, freezer, at(f"{day} 08:59"))
        assert grant_state(hass, site, grant_id) == "scheduled", day
        await move_to(hass, freezer, at(f"{day} 09:00"))
        assert grant_state(hass, site, grant_id) == "active", day
        await move_to(hass, freezer, at(f"{day} 12:00"))
        assert grant_state(hass, site, grant_id) == "scheduled", day
    # The same wall-clock time is 07:00 UTC in summer and 08:00 UTC in winter.
    assert at("2026-10-20 09:00").astimezone(UTC).hour == 7
    assert at("2026-10-27 09:00").astimezone(UTC).hour == 8
    # The PIN never shows up in the entity's state or attributes.
    sensor = hass.states.get(entity_id(hass, site, f"{grant_id}_grant_state", "sensor"))
    assert sensor is not None
    assert "482913" not in str(sensor.as_dict())


async def test_restart_in_the_middle_of_a_window_keeps_the_grant_active(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    await move_to(hass, freezer, at("2026-11-24 09:00"))
    grant_id = (
        await call(
            hass,
            "create_grant",
            label="Dog sitter",
            kind="sitter",
            start="2026-11-24 10:00:00",
            end="2026-11-24 18:00:00",
        )
    )["grant_id"]
    await move_to(hass, freezer, at("2026-11-24 10:30"))
    assert grant_state(hass, site, grant_id) == "active"
    before = len(access_events)

    assert await hass.config_entries.async_unload(site.entry_id)
    await move_to(hass, freezer, at("2026-11-24 11:00"))
    assert await hass.config_entries.async_setup(site.entry_id)
    await hass.async_block_till_done()

    assert grant_state(hass, site, grant_id) == "active"
    assert len(access_events) == before  # no second "activated"
    await move_to(hass, freezer, at("2026-11-24 18:00"))
    assert grant_state(hass, site, grant_id) == "expired"


async def test_grant_that_ended_while_home_assistant_was_down_expires_on_start(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    await move_to(hass, freezer, at("2026-11-24 09:00"))
    grant_id = (
        await call(
            hass,
            "create_grant",
            label="Window cleaner",
            start="2026-11-24 10:00:00",
            end="2026-11-24 11:00:00",
        )
    )["grant_id"]
    assert await hass.config_entries.async_unload(site.entry_id)
    freezer.move_to(at("2026-11-24 13:00"))
    assert await hass.config_entries.async_setup(site.entry_id)
    await hass.async_block_till_done()
    assert grant_state(hass, site, grant_id) == "expired"
    assert access_events[-1]["type"] == "grant_expired"


async def test_switch_suspends_and_resumes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    grant_id = (
        await call(
            hass,
            "create_grant",
            label="Neighbour",
            kind="guest",
            start="2026-11-24 09:00:00",
            end="2026-11-25 09:00:00",
        )
    )["grant_id"]
    switch = entity_id(hass, site, f"{grant_id}_grant_enabled", "switch")
    assert hass.states.get(switch).state == "on"
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert hass.states.get(switch).state == "off"
    assert grant_state(hass, site, grant_id) == "suspended"
    await hass.services.async_call("switch", "turn_off", {"entity_id": switch}, blocking=True)
    assert grant_state(hass, site, grant_id) == "suspended"
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert grant_state(hass, site, grant_id) == "active"
    await hass.services.async_call("switch", "turn_on", {"entity_id": switch}, blocking=True)
    assert hass.states.get(switch).state == "on"

    assert (await call(hass, "suspend_grant", grant_id=grant_id))["state"] == "suspended"
    assert (await call(hass, "resume_grant", grant_id=grant_id))["state"] == "active"
    assert (await call(hass, "revoke_grant", grant_id=grant_id))["state"] == "revoked"
    assert grant_state(hass, site, grant_id) == "revoked"
    assert hass.states.get(switch).state == "unavailable"


async def test_update_grant_moves_the_window(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    grant_id = (
        await call(
            hass,
            "create_grant",
            label="Courier",
            kind="courier",
            start="2026-11-24 14:00:00",
            end="2026-11-24 16:00:00",
        )
    )["grant_id"]
    response = await call(
        hass,
        "update_grant",
        grant_id=grant_id,
        start="2026-11-24 09:30:00",
        end="2026-11-24 11:00:00",
        label="Courier (early)",
        max_uses=2,
        max_visit_minutes=15,
        kind="courier",
        portals=["front"],
        pin="1234",
        require_camera=True,
    )
    assert response["state"] == "active"
    sensor = hass.states.get(entity_id(hass, site, f"{grant_id}_grant_state", "sensor"))
    assert sensor.attributes["label"] == "Courier (early)"
    assert sensor.attributes["max_uses"] == 2
    assert sensor.attributes["window_end"] == at("2026-11-24 11:00").astimezone(UTC).isoformat()
    await move_to(hass, freezer, at("2026-11-24 11:00"))
    assert grant_state(hass, site, grant_id) == "expired"


BAD_CREATE = [
    ({"portals": ["Garage"], "start": "2026-11-24 12:00:00", "end": "2026-11-24 13:00:00"},
     "unknown_portal"),
    ({"start": "2026-11-24 12:00:00", "end": "2026-11-24 11:00:00"}, "window_end_before_start"),
    ({"start": "2026-11-20 12:00:00", "end": "2026-11-21 11:00:00"}, "window_in_past"),
    ({"start": "2026-11-24 12:00:00"}, "incomplete_window"),
    ({"weekdays": ["mon"], "start_time": "09:00"}, "incomplete_weekly"),
    ({"weekdays": ["mon"], "start_time": "09:00", "end_time": "10:00",
      "start": "2026-11-24 12:00:00", "end": "2026-11-24 13:00:00"}, "mixed_schedule"),
    ({"start": "2026-11-24 12:00:00", "end": "2026-11-24 13:00:00", "pin": "12"}, "invalid_pin"),
    ({"start": "2026-11-24 12:00:00", "end": "2026-11-24 13:00:00", "label": "  "}, "empty_label"),
    ({"start": "2026-11-24 12:00:00", "end": "2026-11-24 13:00:00",
      "portals": ["front", "Front door"]}, "duplicate_portal"),
    ({}, "schedule_required"),
    ({"config_entry_id": "nope", "start": "2026-11-24 12:00:00",
      "end": "2026-11-24 13:00:00"}, "unknown_site"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "key"), BAD_CREATE, ids=[k for _, k in BAD_CREATE])
async def test_create_grant_rejects_bad_input_and_changes_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
    data: dict[str, Any],
    key: str,
) -> None:
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    entities_before = len(er.async_entries_for_config_entry(er.async_get(hass), site.entry_id))
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_grant", **({"label": "Someone"} | data))
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert access_events == []
    assert not site.runtime_data.data.grants
    entities_after = len(er.async_entries_for_config_entry(er.async_get(hass), site.entry_id))
    assert entities_after == entities_before


async def test_other_actions_reject_bad_input(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    grant_id = (
        await call(
            hass,
            "create_grant",
            label="Guest",
            start="2026-11-24 09:00:00",
            end="2026-11-24 13:00:00",
        )
    )["grant_id"]
    stored = site.runtime_data.grant(grant_id)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("update_grant", {"grant_id": "missing"}, "unknown_grant"),
        ("update_grant", {"grant_id": grant_id}, "nothing_to_update"),
        ("update_grant", {"grant_id": grant_id, "portals": ["Attic"]}, "unknown_portal"),
        ("update_grant", {"grant_id": grant_id, "start": "2026-11-24 12:00:00",
                          "end": "2026-11-24 11:00:00"}, "window_end_before_start"),
        ("update_grant", {"grant_id": grant_id, "start": "2026-11-23 12:00:00",
                          "end": "2026-11-23 13:00:00"}, "window_in_past"),
        ("resume_grant", {"grant_id": grant_id}, "transition_not_allowed"),
        ("revoke_grant", {"grant_id": "missing"}, "unknown_grant"),
        ("start_visit", {"grant_id": grant_id, "portal": "Attic"}, "unknown_portal"),
        ("end_visit", {"visit_id": "missing"}, "unknown_visit"),
        ("export_visit", {"visit_id": "missing"}, "unknown_visit"),
    ]  # fmt: skip
    for service, data, key in cases:
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, service, **data)
        assert err.value.translation_key == key, (service, data)
    assert site.runtime_data.grant(grant_id) == stored


async def test_several_sites_need_a_site_id(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    other = MockConfigEntry(
        domain=DOMAIN,
        unique_id="cabin",
        title="Cabin",
        data={
            "site_name": "Cabin",
            "portals": [{"id": "c1", "name": "Cabin door", "lock": "lock.back_door"}],
        },
    )
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    window = {"start": "2026-11-24 12:00:00", "end": "2026-11-24 13:00:00"}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_grant", label="Someone", **window)
    assert err.value.translation_key == "site_required"
    response = await call(
        hass, "create_grant", label="Someone", config_entry_id=other.entry_id, **window
    )
    assert response["grant_id"] in other.runtime_data.data.grants
    assert response["grant_id"] not in site.runtime_data.data.grants
    verified = await call(hass, "verify_audit_log", config_entry_id=other.entry_id)
    assert verified["ok"] is True
    assert verified["count"] == 1


async def test_grants_survive_a_restart_of_the_site(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    grant_id = (
        await call(
            hass,
            "create_grant",
            label="Cleaner",
            kind="cleaner",
            weekdays=["tue", "fri"],
            start_time="09:00",
            end_time="12:00",
            pin="90817",
            max_uses=10,
        )
    )["grant_id"]
    assert await hass.config_entries.async_unload(site.entry_id)
    stored = hass_storage[f"{DOMAIN}.{site.entry_id}"]
    assert stored["version"] == 1
    assert stored["minor_version"] == STORAGE_MINOR_VERSION
    assert await hass.config_entries.async_setup(site.entry_id)
    await hass.async_block_till_done()
    grant = site.runtime_data.grant(grant_id)
    assert grant.label == "Cleaner"
    assert grant.credentials.pin == "90817"
    assert grant.max_uses == 10
    assert grant_state(hass, site, grant_id) == "active"


async def test_old_storage_is_migrated(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    real_locks: None,
    hass_storage: dict[str, Any],
) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    entry = MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA)
    grant = {
        "id": "g1", "label": "Old friend", "kind": "guest", "portals": ["front"],
        "schedule": {"windows": [{"type": "one_off", "start": "2026-11-24T08:00:00+00:00",
                                  "end": "2026-11-24T12:00:00+00:00"}],
                     "valid_from": None, "valid_until": None},
        "created_at": "2026-11-01T00:00:00+00:00", "max_uses": None,
        "max_visit_minutes": None,
        "credentials": {"pin": None, "remote_token": False, "guest_link": False},
        "policy": {"alarm": "leave_alone", "require_camera": False,
                   "refuse_when_pets_home": False, "notify": True},
        "uses": 0, "suspended": False, "revoked": False,
    }  # fmt: skip
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {"grants": [grant], "visits": []},
    }
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert grant_state(hass, entry, "g1") == "active"
