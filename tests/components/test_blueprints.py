"""Shipped blueprints, loaded through Home Assistant's own blueprint machinery."""

import shutil
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
from homeassistant.util.yaml import load_yaml_dict
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from tests.waiting import settled, until

from .delivery_helpers import ALARM, ALARM_CODE, PETS, setup_house
from .helpers import at, call, grant_state, move_to

BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "concierge"
FRONT_EVENTS = "event.front_door_access"


async def _use_blueprint(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> None:
    """Install a shipped blueprint as a user would, and create an automation from it."""
    target = Path(hass.config.path("blueprints", "automation", "concierge"))
    await hass.async_add_executor_job(lambda: target.mkdir(parents=True, exist_ok=True))
    await hass.async_add_executor_job(shutil.copy, BLUEPRINTS / name, target)
    assert await async_setup_component(
        hass,
        "automation",
        {"automation": {"use_blueprint": {"path": f"concierge/{name}", "input": inputs}}},
    )
    await hass.async_block_till_done()
    # A blueprint whose automation does not validate gives an unavailable automation.
    assert [state.state for state in hass.states.async_all("automation")] == ["on"]


def _fire(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: str) -> None:
    """Move the clock without waiting for running automations (they may be waiting)."""
    freezer.move_to(at(when))
    async_fire_time_changed(hass, at(when))


def _runs(hass: HomeAssistant) -> int:
    """How many runs of the (one) automation are going on: waiting, in these tests."""
    (automation,) = hass.states.async_all("automation")
    return int(automation.attributes["current"])


def _door(hass: HomeAssistant, state: str) -> None:
    hass.states.async_set("binary_sensor.front_door_contact", state, {"device_class": "door"})


def _last_event(hass: HomeAssistant) -> str:
    return str(hass.states.get(FRONT_EVENTS).attributes["event_type"])


async def _grant(hass: HomeAssistant, label: str = "Parcel Co", kind: str = "courier") -> str:
    response = await call(
        hass, "create_grant", label=label, kind=kind, portals=["Front door"],
        start="2026-11-24 08:00:00", end="2026-11-24 20:00:00", alarm="leave_alone",
    )  # fmt: skip
    return str(response["grant_id"])


@pytest.fixture
async def house(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry, tmp_path: Path
) -> None:
    """The site's front door, a real `manual` alarm panel (armed away, with a code)."""
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    await setup_house(hass, tmp_path, camera=False)


async def _arm_disarm(hass: HomeAssistant, **inputs: Any) -> list[ServiceCall]:
    phone = async_mock_service(hass, "notify", "mobile_app_x")
    await _use_blueprint(
        hass,
        "arm_disarm_around_deliveries.yaml",
        {
            "access_events": [FRONT_EVENTS],
            "alarm_panel": ALARM,
            "alarm_code": ALARM_CODE,
            "notify_action": "notify.mobile_app_x",
        }
        | inputs,
    )
    return phone


async def test_arm_disarm_around_a_delivery(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, house: None
) -> None:
    phone = await _arm_disarm(hass)
    grant = await _grant(hass)
    await call(hass, "start_visit", grant_id=grant, portal="Front door")
    await until(lambda: hass.states.get(ALARM).state == "disarmed")
    _door(hass, "on")
    await until(lambda: _last_event(hass) == "door_opened")
    _fire(hass, freezer, "2026-11-24 10:02")
    _door(hass, "off")
    # Concierge locks the door and completes the visit; the automation re-arms.
    await until(lambda: hass.states.get(ALARM).state == "armed_away")
    await until(lambda: _last_event(hass) == "visit_completed")
    assert phone == []


async def test_arm_disarm_rearms_after_the_timeout(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, house: None
) -> None:
    phone = await _arm_disarm(hass, visit_timeout=1)
    grant = await _grant(hass)
    await call(hass, "start_visit", grant_id=grant, portal="Front door")
    await until(lambda: hass.states.get(ALARM).state == "disarmed")
    _door(hass, "on")  # and it stays open: the visit goes on
    await until(lambda: _last_event(hass) == "door_opened")
    _fire(hass, freezer, "2026-11-24 10:00:59")
    await settled(hass)  # what 10:00:59 sets in motion has happened: no re-arm yet
    assert hass.states.get(ALARM).state == "disarmed"
    assert _runs(hass) == 1  # still waiting for the visit's end or the timeout
    _fire(hass, freezer, "2026-11-24 10:01:01")
    await until(lambda: hass.states.get(ALARM).state == "armed_away")
    assert _last_event(hass) == "door_opened"
    assert phone == []


async def test_arm_disarm_notifies_when_the_panel_stays_armed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, house: None
) -> None:
    phone = await _arm_disarm(hass, alarm_code="0000", state_timeout=5)
    grant = await _grant(hass)
    await call(hass, "start_visit", grant_id=grant, portal="Front door")
    await until(lambda: _last_event(hass) == "visit_started")
    assert hass.states.get(ALARM).state == "armed_away"
    _fire(hass, freezer, "2026-11-24 10:00:06")
    await until(lambda: len(phone) == 1)
    assert phone[0].data["message"] == (
        "House did not disarm for the visit at Front door (it is armed_away)."
    )


def _blueprint_files() -> list[Path]:
    return sorted(BLUEPRINTS.glob("*.yaml"))


@pytest.mark.parametrize("path", _blueprint_files(), ids=lambda path: path.stem)
def test_blueprint_is_valid(path: Path) -> None:
    """Every shipped blueprint passes Home Assistant's blueprint schema, and our rules."""
    data = load_yaml_dict(path)
    blueprint = Blueprint(
        data, path=str(path), expected_domain="automation", schema=AUTOMATION_BLUEPRINT_SCHEMA
    )
    assert blueprint.validate() is None
    meta = blueprint.metadata
    assert meta["homeassistant"]["min_version"] == "2026.10.0"
    assert meta["source_url"].endswith(f"/blueprints/automation/concierge/{path.name}")
    assert meta["name"].startswith("Concierge \N{EN DASH} ")
    assert meta["description"]
    assert all(spec.get("name") for spec in blueprint.inputs.values())
    assert {"mode", "triggers", "actions"} <= set(data)
    assert not {"trigger", "action", "condition"} & set(data)
    assert len(_blueprint_files()) >= 5


async def test_lock_when_door_closes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    target = Path(hass.config.path("blueprints", "automation", "concierge"))
    await hass.async_add_executor_job(lambda: target.mkdir(parents=True))
    await hass.async_add_executor_job(
        shutil.copy, BLUEPRINTS / "lock_when_door_closes.yaml", target
    )
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "use_blueprint": {
                    "path": "concierge/lock_when_door_closes.yaml",
                    "input": {
                        "access_event": "event.front_door_access",
                        "lock": "lock.front_door",
                        "delay": 5,
                    },
                }
            }
        },
    )
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    # Someone in the family unlocks by hand (a Concierge visit locks its door by itself).
    await hass.services.async_call(
        "lock", "unlock", {"entity_id": "lock.front_door"}, blocking=True
    )
    assert hass.states.get("lock.front_door").state == "unlocked"
    hass.states.async_set("binary_sensor.front_door_contact", "on", {"device_class": "door"})
    await hass.async_block_till_done()
    hass.states.async_set("binary_sensor.front_door_contact", "off", {"device_class": "door"})
    # The automation now waits 5 s (waiting for it here would wait for its delay).
    await until(
        lambda: (
            hass.states.get("event.front_door_access").attributes["event_type"] == "door_closed"
        ),
    )
    assert hass.states.get("lock.front_door").state == "unlocked"
    freezer.move_to(at("2026-11-24 10:00:06"))
    async_fire_time_changed(hass, at("2026-11-24 10:00:06"))
    await until(lambda: hass.states.get("lock.front_door").state == "locked")


async def _announce(hass: HomeAssistant, **inputs: Any) -> tuple[list[ServiceCall], ...]:
    satellite = async_mock_service(hass, "assist_satellite", "announce")
    speaker = async_mock_service(hass, "tts", "speak")
    await _use_blueprint(
        hass,
        "announce_arrivals.yaml",
        {
            "access_events": [FRONT_EVENTS],
            "satellites": ["assist_satellite.hall"],
            "media_players": ["media_player.kitchen"],
            "tts_engine": "tts.piper",
        }
        | inputs,
    )
    return satellite, speaker


async def _visit(hass: HomeAssistant, freezer: FrozenDateTimeFactory, grant: str) -> str:
    """A whole visit at the front door: in, door open, door closed, locked."""
    visit = (await call(hass, "start_visit", grant_id=grant, portal="Front door"))["visit_id"]
    _door(hass, "on")
    await until(lambda: _last_event(hass) == "door_opened")
    _fire(hass, freezer, "2026-11-24 10:02")
    _door(hass, "off")
    await until(lambda: _last_event(hass) == "visit_completed")
    return str(visit)


async def test_announce_arrivals(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, house: None
) -> None:
    satellite, speaker = await _announce(
        hass, completed_message="The {{ label | lower }} has left by the {{ door | lower }}."
    )
    grant = await _grant(hass, label="Cleaner", kind="cleaner")
    await _visit(hass, freezer, grant)
    await until(lambda: len(satellite) == 2 and len(speaker) == 2)
    assert [c.data["message"] for c in satellite] == [
        "Cleaner is at the front door.",
        "The cleaner has left by the front door.",
    ]
    assert satellite[0].data["entity_id"] == ["assist_satellite.hall"]
    assert [c.data["message"] for c in speaker] == [c.data["message"] for c in satellite]
    assert speaker[0].data["entity_id"] == ["tts.piper"]
    assert speaker[0].data["media_player_entity_id"] == ["media_player.kitchen"]


async def test_announce_arrivals_keeps_quiet_hours(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, house: None
) -> None:
    satellite, speaker = await _announce(
        hass, quiet_start="09:30:00", quiet_end="10:30:00", media_players=[]
    )
    grant = await _grant(hass)
    await _visit(hass, freezer, grant)
    await hass.async_block_till_done()  # nothing in this automation waits
    assert satellite == []
    assert speaker == []
    # After the quiet hours, the next visit is announced again (to the satellites only).
    await move_to(hass, freezer, at("2026-11-24 10:45"))
    await call(hass, "start_visit", grant_id=grant, portal="Front door")
    await until(lambda: len(satellite) == 1)
    assert satellite[0].data["message"] == "Parcel Co is at the front door."
    await hass.async_block_till_done()
    assert speaker == []


async def _notify_with_snapshot(hass: HomeAssistant) -> list[ServiceCall]:
    phone = async_mock_service(hass, "notify", "mobile_app_x")
    await _use_blueprint(
        hass,
        "notify_with_snapshot.yaml",
        {
            "access_event": FRONT_EVENTS,
            "lock": "lock.front_door",
            "notify_action": "notify.mobile_app_x",
        },
    )
    return phone


def _buttons(notification: ServiceCall) -> dict[str, str]:
    return {b["title"]: b["action"] for b in notification.data["data"]["actions"]}


async def test_notify_with_snapshot_ends_the_visit(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, house: None
) -> None:
    phone = await _notify_with_snapshot(hass)
    grant = await _grant(hass)
    visit = (await call(hass, "start_visit", grant_id=grant, portal="Front door"))["visit_id"]
    await until(lambda: len(phone) == 1)
    notification = phone[0]
    assert notification.data["message"] == "Parcel Co came in at Front door."
    assert notification.data["data"]["image"] == "/api/image_proxy/image.front_door_last_visit"
    assert notification.data["data"]["tag"] == f"concierge_{visit}"
    buttons = _buttons(notification)
    assert set(buttons) == {"Lock now", "End visit"}
    # Some other phone's answer (another notification) does nothing.
    hass.bus.async_fire("mobile_app_notification_action", {"action": "CONCIERGE_END_other"})
    await settled(hass)  # the answer has been heard (and ignored)
    assert _last_event(hass) == "visit_started"
    assert _runs(hass) == 1  # still waiting for an answer to its own buttons
    hass.bus.async_fire("mobile_app_notification_action", {"action": buttons["End visit"]})
    # Concierge ends the visit: locks the door (verified) and completes it.
    await until(lambda: _last_event(hass) == "visit_completed")
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get(FRONT_EVENTS).attributes["visit_id"] == visit


async def test_notify_with_snapshot_locks_now(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, house: None
) -> None:
    phone = await _notify_with_snapshot(hass)
    grant = await _grant(hass)
    await call(hass, "start_visit", grant_id=grant, portal="Front door")
    await until(lambda: len(phone) == 1)
    assert hass.states.get("lock.front_door").state == "unlocked"  # the visitor is coming in
    hass.bus.async_fire(
        "mobile_app_notification_action", {"action": _buttons(phone[0])["Lock now"]}
    )
    await until(lambda: hass.states.get("lock.front_door").state == "locked")


async def test_pets_at_home_suspends_and_resumes_grants(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry, house: None
) -> None:
    courier = await _grant(hass)
    sitter = await _grant(hass, label="Pet sitter", kind="sitter")
    tomorrow = {"start": "2026-11-25 09:00:00", "end": "2026-11-25 12:00:00"}
    response = await call(
        hass, "create_grant", label="Cleaner", kind="cleaner", portals=["Front door"], **tomorrow
    )
    cleaner = response["grant_id"]
    paused = await _grant(hass, label="Paused courier")
    await call(hass, "suspend_grant", grant_id=paused)
    await _use_blueprint(
        hass, "pets_at_home.yaml", {"pets_entity": PETS, "kinds": ["courier", "cleaner"]}
    )

    def states() -> dict[str, str]:
        return {g: grant_state(hass, site, g) for g in (courier, sitter, cleaner, paused)}

    assert states() == {
        courier: "active", sitter: "active", cleaner: "scheduled", paused: "suspended"
    }  # fmt: skip
    hass.states.async_set(PETS, "on", {"device_class": "presence"})
    await until(lambda: states()[cleaner] == states()[courier] == "suspended")
    assert states() == {
        courier: "suspended", sitter: "active", cleaner: "suspended", paused: "suspended"
    }  # fmt: skip
    # A courier at the door now is refused.
    with pytest.raises(ServiceValidationError):
        await call(hass, "start_visit", grant_id=courier, portal="Front door")
    hass.states.async_set(PETS, "unavailable")
    await settled(hass)  # the automation has seen the sensor go unavailable
    assert states()[courier] == "suspended"
    assert _runs(hass) == 1  # still waiting for the pets to leave
    hass.states.async_set(PETS, "off", {"device_class": "presence"})
    await until(lambda: states()[cleaner] == "scheduled" and states()[courier] == "active")
    assert states() == {
        courier: "active", sitter: "active", cleaner: "scheduled", paused: "suspended"
    }  # fmt: skip
