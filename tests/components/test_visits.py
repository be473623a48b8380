"""Visits through a plain Home Assistant lock, their evidence, and the audit chain."""

import json
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from jsonschema import Draft202012Validator, FormatChecker
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN, EVENT_ACCESS
from custom_components.concierge.diagnostics import async_get_config_entry_diagnostics
from custom_components.concierge.logbook import async_describe_events

from .helpers import at, call, entity_id, grant_state, move_to

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schema" / "access-event.v1.schema.json").read_text()
)


@pytest.fixture
async def cleaner(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> str:
    """An active grant for the front door, two visits at most, with a PIN."""
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    response = await call(
        hass,
        "create_grant",
        label="Cleaner",
        kind="cleaner",
        portals=["Front door", "Back door"],
        start="2026-11-24 09:00:00",
        end="2026-11-24 13:00:00",
        max_uses=2,
        pin="735194",
    )
    return str(response["grant_id"])


def _door(hass: HomeAssistant, state: str) -> None:
    hass.states.async_set("binary_sensor.front_door_contact", state, {"device_class": "door"})


async def test_visit_through_a_plain_lock_has_its_full_timeline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    cleaner: str,
    access_events: list[dict[str, Any]],
) -> None:
    in_progress = entity_id(hass, site, "front_visit_in_progress", "binary_sensor")
    last_visitor = entity_id(hass, site, "front_last_visitor", "sensor")
    access = entity_id(hass, site, "front_access", "event")
    assert hass.states.get(in_progress).state == "off"
    assert hass.states.get(last_visitor).state == "unknown"

    response = await call(hass, "start_visit", grant_id=cleaner, portal="Front door")
    visit_id = response["visit_id"]
    assert response["state"] == "in_progress"
    assert hass.states.get("lock.front_door").state == "unlocked"
    assert hass.states.get(in_progress).state == "on"
    assert hass.states.get(in_progress).attributes["visit_id"] == visit_id
    assert hass.states.get(last_visitor).state == "Cleaner"
    event_state = hass.states.get(access)
    assert event_state.attributes["event_type"] == "visit_started"
    assert event_state.attributes["label"] == "Cleaner"

    await move_to(hass, freezer, at("2026-11-24 10:01"))
    _door(hass, "on")
    await hass.async_block_till_done()
    await move_to(hass, freezer, at("2026-11-24 10:03"))
    _door(hass, "off")
    await hass.async_block_till_done()
    # The visitor closed the door: Concierge locks it (verified) and completes the visit.
    assert hass.states.get(access).attributes["event_type"] == "visit_completed"
    assert hass.states.get("lock.front_door").state == "locked"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "end_visit", visit_id=visit_id)
    assert err.value.translation_key == "visit_over"
    assert hass.states.get(in_progress).state == "off"
    assert hass.states.get(last_visitor).state == "Cleaner"
    assert hass.states.get(last_visitor).attributes["visit_state"] == "completed"

    timeline = [e["type"] for e in access_events if e["visit"] == visit_id]
    assert timeline == [
        "access_requested", "access_granted", "unlocked", "visit_started",
        "door_opened", "door_closed", "locked", "visit_completed",
    ]  # fmt: skip
    sensor = hass.states.get(entity_id(hass, site, f"{cleaner}_grant_state", "sensor"))
    assert sensor.attributes["uses"] == 1

    bundle = await call(hass, "export_visit", visit_id=visit_id)
    assert bundle["visit"] == visit_id
    assert [r["event"]["type"] for r in bundle["records"]] == timeline
    assert bundle["verified"]["ok"] is True
    assert "735194" not in json.dumps(bundle)

    # With the door shut and no visit open, door events are still recorded.
    _door(hass, "on")
    await hass.async_block_till_done()
    assert access_events[-1]["type"] == "door_opened"
    assert access_events[-1]["visit"] is None
    hass.states.async_set("binary_sensor.front_door_contact", "unavailable")
    await hass.async_block_till_done()
    assert access_events[-1]["type"] == "door_opened"


async def test_every_event_validates_against_the_schema_file(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str, access_events: list[dict[str, Any]]
) -> None:
    visit_id = (await call(hass, "start_visit", grant_id=cleaner, portal="front"))["visit_id"]
    await call(hass, "end_visit", visit_id=visit_id, reason="left_early")
    await call(hass, "revoke_grant", grant_id=cleaner)
    validator = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
    assert len(access_events) >= 7
    for event in access_events:
        validator.validate(event)
        assert "735194" not in json.dumps(event)
    assert access_events[-2]["type"] == "visit_aborted"
    assert access_events[-2]["reason"] == "left_early"


async def test_uses_run_out(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str, access_events: list[dict[str, Any]]
) -> None:
    for _ in range(2):
        visit_id = (await call(hass, "start_visit", grant_id=cleaner, portal="front"))["visit_id"]
        await call(hass, "end_visit", visit_id=visit_id)
    assert grant_state(hass, site, cleaner) == "used_up"
    assert "grant_used_up" in [e["type"] for e in access_events]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "start_visit", grant_id=cleaner, portal="front")
    assert err.value.translation_key == "grant_not_active"
    assert access_events[-1]["type"] == "access_denied"
    assert access_events[-1]["reason"] == "grant_used_up"
    assert hass.states.get("lock.front_door").state == "locked"


async def test_refusals_leave_the_door_locked(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    later = (
        await call(
            hass,
            "create_grant",
            label="Later",
            portals=["front"],
            start="2026-11-24 15:00:00",
            end="2026-11-24 16:00:00",
        )
    )["grant_id"]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "start_visit", grant_id=later, portal="front")
    assert err.value.translation_key == "grant_not_active"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "start_visit", grant_id=later, portal="back")
    assert err.value.translation_key == "portal_not_in_grant"
    assert hass.states.get("lock.front_door").state == "locked"
    assert access_events[-1]["outcome"] == "denied"


async def test_one_visit_at_a_time_per_door(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str
) -> None:
    visit_id = (await call(hass, "start_visit", grant_id=cleaner, portal="front"))["visit_id"]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "start_visit", grant_id=cleaner, portal="front")
    assert err.value.translation_key == "portal_busy"
    await call(hass, "end_visit", visit_id=visit_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "end_visit", visit_id=visit_id)
    assert err.value.translation_key == "visit_over"


async def test_lock_that_will_not_unlock_aborts_the_visit(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str, access_events: list[dict[str, Any]]
) -> None:
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "start_visit", grant_id=cleaner, portal="Back door")
    assert err.value.translation_key == "unlock_failed"
    assert hass.states.get("lock.back_door").state == "locked"
    assert [e["type"] for e in access_events[-3:]] == [
        "access_granted", "lock_failure", "visit_aborted",
    ]  # fmt: skip
    visit = site.runtime_data.visits_list()[0]
    assert visit.state == "aborted"
    assert visit.abort_reason == "unlock_failed"
    assert (
        hass.states.get(entity_id(hass, site, "back_visit_in_progress", "binary_sensor")).state
        == "off"
    )


async def test_lock_that_will_not_lock_alerts_the_owner_and_ends_the_visit(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str, access_events: list[dict[str, Any]]
) -> None:
    visit_id = (await call(hass, "start_visit", grant_id=cleaner, portal="front"))["visit_id"]
    # The bolt's motor dies: locking now fails.
    hass.services.async_remove("input_boolean", "turn_on")
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "end_visit", visit_id=visit_id)
    assert err.value.translation_key == "lock_failed"
    types = [e["type"] for e in access_events if e["visit"] == visit_id]
    assert types[-3:] == ["lock_failure", "safety_alert", "visit_aborted"]
    assert access_events[-1]["reason"] == "lock_failed"
    assert hass.states.get("lock.front_door").state == "unlocked"
    # The owner is told, in Home Assistant's notifications, which door stayed unlocked.
    notices = persistent_notification._async_get_or_create_notifications(hass)
    assert any(n["message"].startswith("Front door did not lock") for n in notices.values())


async def test_audit_chain_detects_an_edited_or_removed_record(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str
) -> None:
    visit_id = (await call(hass, "start_visit", grant_id=cleaner, portal="front"))["visit_id"]
    await call(hass, "end_visit", visit_id=visit_id)
    result = await call(hass, "verify_audit_log")
    assert result["ok"] is True
    count = result["count"]
    assert count == 8  # created, activated, and the six steps of the visit

    log = site.runtime_data.audit.path
    lines = log.read_text().splitlines()
    original = list(lines)
    # Someone rewrites history: the visit was "denied" rather than granted.
    lines[3] = lines[3].replace('"access_granted"', '"access_denied"')
    log.write_text("\n".join(lines) + "\n")
    result = await call(hass, "verify_audit_log")
    assert result == result | {"ok": False, "problem": "hash_mismatch", "first_bad_seq": 4}
    bundle = await call(hass, "export_visit", visit_id=visit_id)
    assert bundle["verified"]["ok"] is False

    # Someone deletes the last record.
    log.write_text("\n".join(original[:-1]) + "\n")
    result = await call(hass, "verify_audit_log")
    assert result["ok"] is False
    assert result["problem"] == "head_mismatch"

    log.write_text("\n".join(original) + "\n")
    assert (await call(hass, "verify_audit_log"))["ok"] is True


async def test_diagnostics_are_redacted(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str
) -> None:
    visit_id = (await call(hass, "start_visit", grant_id=cleaner, portal="front"))["visit_id"]
    # Called directly: the test clock is a day ahead of the HTTP client's login token.
    diagnostics = await async_get_config_entry_diagnostics(hass, site)
    text = json.dumps(diagnostics)
    assert "735194" not in text
    assert diagnostics["grants"][0]["credentials"]["pin"] == "**REDACTED**"
    assert diagnostics["visits"][0]["id"] == visit_id
    assert diagnostics["audit"]["ok"] is True
    assert diagnostics["entry"]["data"]["site_name"] == "Home"


async def test_missing_lock_raises_a_repair_issue(
    hass: HomeAssistant, real_locks: None, site: MockConfigEntry
) -> None:
    from homeassistant.helpers import entity_registry as er  # noqa: PLC0415

    issues = ir.async_get(hass)
    key = f"missing_entity_{site.entry_id}_back_lock.back_door"
    assert issues.async_get_issue(DOMAIN, key) is None
    # The lock vanishes (removed from its integration).
    hass.states.async_remove("lock.back_door")
    await hass.async_block_till_done()
    issue = issues.async_get_issue(DOMAIN, key)
    assert issue is not None
    assert issue.translation_key == "missing_entity"
    assert issue.translation_placeholders == {
        "site": "Home", "portal": "Back door", "entity_id": "lock.back_door",
    }  # fmt: skip
    # It comes back (re-paired): the issue goes away by itself.
    hass.states.async_set("lock.back_door", "locked")
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, key) is None
    # Gone again, then known to the entity registry (its integration is still starting):
    # no issue while it is registered; removing it from the registry raises it again.
    hass.states.async_remove("lock.back_door")
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, key) is not None
    registry = er.async_get(hass)
    registry.async_get_or_create("lock", "zwave_js", "node-7", suggested_object_id="back_door")
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, key) is None
    registry.async_remove("lock.back_door")
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, key) is not None
    assert await hass.config_entries.async_unload(site.entry_id)
    assert issues.async_get_issue(DOMAIN, key) is None


async def test_logbook_leaves_the_steps_to_the_doors_event_entities(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str
) -> None:
    """Each step is one logbook line, the event entity's: the bus event is not described."""
    describers: dict[str, Any] = {}
    async_describe_events(hass, lambda _domain, event, fn: describers.setdefault(event, fn))
    assert EVENT_ACCESS not in describers
    summary = describers["concierge_visit_evidence"]
    line = summary(
        Event(
            "concierge_visit_evidence",
            {
                "site": site.entry_id,
                "portal": "front",
                "grant": cleaner,
                "pictures": 3,
                "entity_id": "event.front_door_access",
                "message": "pictures: 3",
            },
        )
    )
    assert line == {
        "name": "Home Front door",
        "message": "Cleaner: pictures: 3",
        "icon": "mdi:cctv",
        "entity_id": "event.front_door_access",
    }


async def test_events_in_the_same_instant_keep_the_audit_chain_whole(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str
) -> None:
    """A door sensor and several sources report at once: each record chains onto the last."""
    await call(hass, "start_visit", grant_id=cleaner, portal="front")
    for state in ("on", "off", "on", "off"):
        hass.states.async_set("binary_sensor.front_door_contact", state, {"device_class": "door"})
    await hass.async_block_till_done()
    result = await call(hass, "verify_audit_log")
    assert result["ok"] is True
    # created, activated, four visit steps, the visit's door events (opened, closed, then
    # locked and completed), and two door events after it.
    assert result["count"] == 12


async def test_update_entity_refreshes_from_concierge_records(
    hass: HomeAssistant, site: MockConfigEntry, cleaner: str
) -> None:
    """Home Assistant's "update entity" works, and asks no device anything."""
    await async_setup_component(hass, "homeassistant", {})
    sensor = entity_id(hass, site, f"{cleaner}_grant_state", "sensor")
    state = hass.states.get(sensor).state
    await hass.services.async_call(
        "homeassistant", "update_entity", {"entity_id": sensor}, blocking=True
    )
    assert hass.states.get(sensor).state == state
    assert hass.states.get("lock.front_door").state == "locked"
