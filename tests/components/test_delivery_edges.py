"""In-home delivery when things go wrong: slow or stubborn alarm panels, locks that jam or
fail, restarts in the middle of a visit, guest links that are misused.

Real pieces only: Home Assistant's `manual` alarm panel, template alarm panels and a
template lock driven by input helpers (and an automation for a panel that answers slowly), a
`local_file` camera, HTTP through Home Assistant's own server. The owner's phone (a
legacy notify service) is the edge of the world: recorded, not delivered.
"""

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    CLIENT_ID,
    MockConfigEntry,
    MockUser,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.events import (
    AccessEvent,
    AccessEventType,
    Outcome,
    Source,
)
from custom_components.concierge.core.ids import new_id
from custom_components.concierge.core.rate_limit import RateLimiter
from custom_components.concierge.core.visits import request_visit
from custom_components.concierge.site_storage import storage_key
from tests.waiting import until

from .delivery_helpers import (
    ALARM,
    ALARM_CODE,
    CAMERA,
    PETS,
    Carrier,
    add_site,
    courier_url,
    guest_url,
    setup_house,
    site_data,
    site_options,
    window,
)
from .helpers import at, call, move_to

NOW = "2026-11-24 10:00"  # a Tuesday
FRONT = "lock.front_door"
CONTACT = "binary_sensor.front_door_contact"
MOTOR = "input_select.front_door_motor"
PANEL_STATES = ["disarmed", "disarming", "armed_away", "armed_home", "triggered"]


def _select(entity: str, option: str) -> dict[str, Any]:
    return {
        "action": "input_select.select_option",
        "target": {"entity_id": entity},
        "data": {"option": option},
    }


def _panel(
    name: str, *, disarm: list[dict[str, Any]], arm: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A template panel whose state is an input_select (`input_select.<name>_state`)."""
    state = f"input_select.{name}_state"
    arm_away = arm if arm is not None else [_select(state, "armed_away")]
    arm_home = arm if arm is not None else [_select(state, "armed_home")]
    return {
        "name": name.replace("_", " ").capitalize(),
        "state": f"{{{{ states('{state}') }}}}",
        "code_arm_required": False,
        "code_format": "no_code",
        "disarm": disarm,
        "arm_away": arm_away,
        "arm_home": arm_home,
    }


PANELS = {
    # Disarms in two steps, a moment after it was asked to.
    "slow_panel": _panel("slow_panel", disarm=[{"event": "slow_panel_disarm"}]),
    # Starts to disarm and does not finish in time; arms when asked.
    "stuck_panel": _panel(
        "stuck_panel", disarm=[_select("input_select.stuck_panel_state", "disarming")]
    ),
    # Starts to disarm and does not finish in time; refuses to arm.
    "refusing_panel": _panel(
        "refusing_panel",
        disarm=[_select("input_select.refusing_panel_state", "disarming")],
        arm=[{"action": "alarm_bus.arm"}],
    ),
    # Answers a disarm and does nothing for now (a cloud panel that queues it).
    "late_panel": _panel("late_panel", disarm=[{"event": "late_panel_disarm_queued"}]),
    # Disarms, but ignores every arm command (answers it, changes nothing).
    "deaf_panel": _panel(
        "deaf_panel",
        disarm=[_select("input_select.deaf_panel_state", "disarmed")],
        arm=[{"event": "deaf_panel_arm_ignored"}],
    ),
    # Disarms and arms, but has no siren to sound (no trigger action).
    "mute_panel": _panel(
        "mute_panel", disarm=[_select("input_select.mute_panel_state", "disarmed")]
    ),
}


def panel(name: str) -> str:
    return f"alarm_control_panel.{name}"


def _motor_is(mode: str) -> dict[str, Any]:
    return {"condition": "state", "entity_id": MOTOR, "state": mode}


FRONT_LOCK = {
    "name": "Front door",
    "state": (
        "{% if is_state('input_boolean.front_door_jammed', 'on') %}jammed"
        "{% elif is_state('input_boolean.front_door_bolt', 'on') %}locked"
        "{% else %}unlocked{% endif %}"
    ),
    "lock": [
        {
            "choose": [
                {
                    "conditions": [_motor_is("works")],
                    "sequence": [
                        {
                            "action": "input_boolean.turn_on",
                            "target": {"entity_id": "input_boolean.front_door_bolt"},
                        }
                    ],
                },
                {
                    "conditions": [_motor_is("jams")],
                    "sequence": [
                        {
                            "action": "input_boolean.turn_on",
                            "target": {"entity_id": "input_boolean.front_door_jammed"},
                        }
                    ],
                },
                {"conditions": [_motor_is("ignores")], "sequence": [{"event": "bolt_stuck"}]},
            ],
            # The motor is dead: the lock's integration answers with an error.
            "default": [{"action": "lock_motor.lock"}],
        }
    ],
    "unlock": [
        {
            "choose": [
                {
                    "conditions": [_motor_is("dead")],
                    "sequence": [{"action": "lock_motor.unlock"}],
                }
            ],
            "default": [
                {
                    "action": "input_boolean.turn_off",
                    "target": {"entity_id": "input_boolean.front_door_bolt"},
                }
            ],
        }
    ],
}


@pytest.fixture
async def rig(hass: HomeAssistant, tmp_path: Path) -> None:
    """The house (manual panel armed away, porch camera, pets away), the front door's lock
    (its motor set through `input_select.front_door_motor`), the template panels.
    """
    await setup_house(hass, tmp_path)
    assert await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "front_door_bolt": {"initial": True},
                "front_door_jammed": {"initial": False},
            }
        },
    )
    assert await async_setup_component(
        hass,
        "input_select",
        {
            "input_select": {
                "front_door_motor": {
                    "options": ["works", "jams", "dead", "ignores"],
                    "initial": "works",
                },
                **{
                    f"{name}_state": {"options": PANEL_STATES, "initial": "armed_away"}
                    for name in PANELS
                },
            }
        },
    )
    assert await async_setup_component(
        hass,
        "template",
        {"template": [{"lock": [FRONT_LOCK], "alarm_control_panel": list(PANELS.values())}]},
    )
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": [
                {
                    "alias": "Slow panel disarms",
                    "triggers": [{"trigger": "event", "event_type": "slow_panel_disarm"}],
                    "actions": [
                        _select("input_select.slow_panel_state", "disarming"),
                        _select("input_select.slow_panel_state", "disarmed"),
                    ],
                },
            ]
        },
    )
    await hass.async_block_till_done()
    door(hass, "off")
    assert hass.states.get(FRONT).state == "locked"
    for name in PANELS:
        assert hass.states.get(panel(name)).state == "armed_away"


async def open_site(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    *,
    alarm: str = ALARM,
    cameras: tuple[str, ...] = (),
    door_sensor: str | None = CONTACT,
    carrier: Carrier | None = None,
    **options: Any,
) -> MockConfigEntry:
    """Load the site at 10:00 with the given panel (template panels take no code)."""
    await move_to(hass, freezer, at(NOW))
    overrides: dict[str, Any] = {"alarm_panel": alarm}
    if alarm != ALARM:
        overrides["alarm_code"] = None
    return await add_site(
        hass,
        site_data(FRONT, door_sensor, list(cameras)),
        site_options(**(overrides | options)),
        carrier,
    )


async def create_grant(hass: HomeAssistant, **extra: Any) -> str:
    start, end = window(at(NOW))
    fields: dict[str, Any] = {"label": "Parcel Co", "kind": "courier", "start": start, "end": end}
    response = await call(hass, "create_grant", **(fields | extra))
    return str(response["grant_id"])


async def start_visit(hass: HomeAssistant, grant: str) -> str:
    return str((await call(hass, "start_visit", grant_id=grant, portal="front"))["visit_id"])


def door(hass: HomeAssistant, state: str) -> None:
    hass.states.async_set(CONTACT, state, {"device_class": "door"})


async def set_motor(hass: HomeAssistant, mode: str) -> None:
    await hass.services.async_call(
        "input_select", "select_option", {"entity_id": MOTOR, "option": mode}, blocking=True
    )


async def visit_with_the_door_open(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> str:
    """A courier visit at 10:00 whose visitor has opened the door; its id."""
    await open_site(hass, freezer)
    grant = await create_grant(hass)
    visit = await start_visit(hass, grant)
    door(hass, "on")
    await hass.async_block_till_done()
    return visit


async def visit_whose_lock_dies_at_the_end(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A courier visit at 10:00: in, the lock's motor dies, out (the lock fails to lock)."""
    await visit_with_the_door_open(hass, freezer)
    await set_motor(hass, "dead")
    door(hass, "off")
    await hass.async_block_till_done()


def notices(hass: HomeAssistant) -> list[str]:
    return [
        n["message"]
        for n in persistent_notification._async_get_or_create_notifications(hass).values()
    ]


def told(hass: HomeAssistant, text: str) -> bool:
    return any(text in message for message in notices(hass))


def of_visit(events: list[dict[str, Any]], visit: str) -> list[tuple[str, str | None]]:
    return [
        (e["type"], e["reason"])
        for e in events
        if e["visit"] == visit and e["type"] != "evidence_captured"
    ]


def system_events(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind and e["source"] == "system"]


@pytest.fixture
def lock_commands(hass: HomeAssistant) -> list[str]:
    """Every `lock.lock` command sent to the front door."""
    seen: list[str] = []

    @callback
    def _seen(event: Event[dict[str, Any]]) -> None:
        data = event.data
        if (data["domain"], data["service"]) == ("lock", "lock"):
            seen.append(str(data["service_data"].get("entity_id")))

    hass.bus.async_listen("call_service", _seen)
    return seen


# --- alarm panels that are slow or stubborn ----------------------------------------------


async def test_panel_that_takes_a_moment_to_disarm_lets_the_courier_in(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    await open_site(hass, freezer, alarm=panel("slow_panel"))
    grant = await create_grant(hass)
    visit = await start_visit(hass, grant)
    assert hass.states.get(panel("slow_panel")).state == "disarmed"
    assert hass.states.get(FRONT).state == "unlocked"
    door(hass, "on")
    await hass.async_block_till_done()
    door(hass, "off")
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"
    assert hass.states.get(panel("slow_panel")).state == "armed_away"
    assert of_visit(access_events, visit)[-1] == ("visit_completed", None)


@pytest.mark.parametrize(
    ("name", "armed_again"), [("stuck_panel", True), ("refusing_panel", False)]
)
async def test_panel_stuck_disarming_is_armed_again_or_the_owner_told(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
    name: str,
    armed_again: bool,
) -> None:
    """The panel starts disarming but does not get there in time: nobody is let in, and
    the panel must not be left half disarmed without a visit.
    """
    await open_site(hass, freezer, alarm=panel(name))
    grant = await create_grant(hass)
    request = hass.async_create_task(start_visit(hass, grant))
    await until(lambda: hass.states.get(panel(name)).state == "disarming")
    await move_to(hass, freezer, at("2026-11-24 10:00:06"))  # alarm_timeout: 5 s
    with pytest.raises(ServiceValidationError) as err:
        await request
    assert err.value.translation_key == "denied_alarm_not_disarmed"
    assert hass.states.get(FRONT).state == "locked"
    failure = next(e for e in access_events if e["type"] == "alarm_failure")
    assert failure["reason"] == "disarm_timeout"
    assert access_events[-1]["reason"] == "alarm_not_disarmed"
    if armed_again:
        assert hass.states.get(panel(name)).state == "armed_away"
        assert not told(hass, "disarmed too late")
    else:
        assert hass.states.get(panel(name)).state == "disarming"
        assert told(hass, "could not be armed again (armed_away). Check it now")


async def test_unavailable_panel_refuses_entry(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    entry = await open_site(hass, freezer, alarm="alarm_control_panel.not_there")
    grant = await create_grant(hass)
    with pytest.raises(ServiceValidationError) as err:
        await start_visit(hass, grant)
    assert err.value.translation_key == "denied_alarm_not_disarmed"
    assert hass.states.get(FRONT).state == "locked"
    failure = next(e for e in access_events if e["type"] == "alarm_failure")
    assert failure["reason"] == "disarm_unavailable"
    assert not entry.runtime_data.data.open_visits


async def test_panel_that_will_not_arm_after_a_visit_alerts_the_owner(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    await open_site(hass, freezer, alarm=panel("deaf_panel"))
    grant = await create_grant(hass)
    visit = await start_visit(hass, grant)
    assert hass.states.get(panel("deaf_panel")).state == "disarmed"
    door(hass, "on")
    await hass.async_block_till_done()
    door(hass, "off")
    await until(lambda: ("locked", None) in of_visit(access_events, visit))
    await move_to(hass, freezer, at("2026-11-24 10:00:06"))  # alarm_timeout: 5 s
    assert hass.states.get(FRONT).state == "locked"
    assert hass.states.get(panel("deaf_panel")).state == "disarmed"
    assert of_visit(access_events, visit)[-4:] == [
        ("locked", None), ("alarm_failure", "rearm_timeout"), ("safety_alert", "rearm_failed"),
        ("visit_completed", None),
    ]  # fmt: skip
    assert told(hass, "The alarm could not be armed (armed_away) after a visit at Front door")


# --- keypad visits -----------------------------------------------------------------------


async def test_keypad_visit_when_the_alarm_cannot_be_disarmed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    """A cleaner's PIN opened the lock, but Concierge's code for the panel is wrong: the
    owner is told at once, and the visit is still recorded until the lock locks again.
    """
    entry = await open_site(hass, freezer, alarm_code="0000")
    grant = await create_grant(hass, label="Cleaner", kind="cleaner", pin="2580")
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": "input_boolean.front_door_bolt"}, blocking=True
    )
    # What the keypad manager does when the lock reports the grant's slot.
    await entry.runtime_data.async_keypad_entry(grant, "front")
    await hass.async_block_till_done()
    assert told(hass, "A keypad visitor opened Front door, but the alarm could not be disarmed")
    assert hass.states.get(ALARM).state == "armed_away"
    (visit,) = entry.runtime_data.data.open_visits.values()
    assert visit.source is Source.KEYPAD
    assert [t for t, _ in of_visit(access_events, visit.id)] == [
        "access_requested", "alarm_failure", "access_granted", "unlocked", "visit_started",
    ]  # fmt: skip
    assert entry.runtime_data.grant(grant).uses == 1

    # The lock locks itself behind the cleaner: the visit ends there.
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": "input_boolean.front_door_bolt"}, blocking=True
    )
    await hass.async_block_till_done()
    assert of_visit(access_events, visit.id)[-2:] == [("locked", None), ("visit_completed", None)]
    assert hass.states.get(ALARM).state == "armed_away"


# --- restarts ----------------------------------------------------------------------------


async def test_restart_with_a_request_left_open_denies_it(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    hass_storage: dict[str, Any],
    access_events: list[dict[str, Any]],
) -> None:
    entry = await open_site(hass, freezer)
    grant = await create_grant(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    # Home Assistant stopped right after a request was stored, before it was decided.
    visit_id = new_id()
    requested = AccessEvent(
        time=at(NOW), site=entry.entry_id, type=AccessEventType.ACCESS_REQUESTED,
        outcome=Outcome.INFO, portal="front", grant=grant, visit=visit_id,
        source=Source.COURIER_TOKEN,
    )  # fmt: skip
    visit = request_visit(site=entry.entry_id, portal="front", source=Source.COURIER_TOKEN,
                          event=requested, now=at(NOW), grant=grant)  # fmt: skip
    hass_storage[storage_key(entry.entry_id)]["data"]["visits"].append(visit.to_dict())

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    stored = entry.runtime_data.visit(visit_id)
    assert stored.state.value == "denied"
    assert of_visit(access_events, visit_id) == [
        ("safety_alert", "interrupted"), ("access_denied", "interrupted"),
    ]  # fmt: skip
    assert hass.states.get(FRONT).state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"
    assert told(hass, "was open when Home Assistant restarted")


async def test_restart_with_the_door_open_arms_the_fallback_and_locks_on_close(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    entry = await open_site(hass, freezer)
    grant = await create_grant(hass)
    visit = await start_visit(hass, grant)
    door(hass, "on")
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # The door is still open: not locked, armed in the mode that does not rely on it.
    assert hass.states.get(FRONT).state == "unlocked"
    assert hass.states.get(ALARM).state == "armed_home"
    assert of_visit(access_events, visit)[-1] == ("visit_aborted", "interrupted")
    door(hass, "off")
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"
    assert access_events[-1]["type"] == "locked"
    assert access_events[-1]["source"] == "system"


async def test_restart_mid_visit_at_a_door_without_a_sensor(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    entry = await open_site(hass, freezer, door_sensor=None)
    grant = await create_grant(hass)
    visit = await start_visit(hass, grant)
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"
    assert of_visit(access_events, visit)[-4:] == [
        ("safety_alert", "interrupted"), ("locked", None), ("alarm_rearmed", None),
        ("visit_aborted", "interrupted"),
    ]  # fmt: skip


# --- locks that fail ---------------------------------------------------------------------


async def test_unlock_failure_over_http_keeps_the_door_locked_and_rearms(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    hass_client_no_auth: ClientSessionGenerator,
    access_events: list[dict[str, Any]],
) -> None:
    carrier = Carrier()
    entry = await open_site(hass, freezer, carrier=carrier)
    await create_grant(hass, remote_token=True)
    await set_motor(hass, "dead")
    client = await hass_client_no_auth()
    response = await client.post(
        courier_url(entry), json={"token": carrier.token(entry.entry_id, now=at(NOW))}
    )
    assert response.status == 502
    assert (await response.json())["error"] == "unlock_failed"
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"
    visit = next(e["visit"] for e in access_events if e["type"] == "lock_failure")
    assert of_visit(access_events, visit)[-3:] == [
        ("lock_failure", "unlock_failed"), ("alarm_rearmed", None),
        ("visit_aborted", "unlock_failed"),
    ]  # fmt: skip


async def test_jammed_lock_is_locked_once_it_is_freed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    visit = await visit_with_the_door_open(hass, freezer)
    await set_motor(hass, "jams")
    door(hass, "off")
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "jammed"
    assert hass.states.get(ALARM).state == "armed_home"
    assert of_visit(access_events, visit)[-2:] == [
        ("alarm_rearmed", None), ("visit_aborted", "lock_failed"),
    ]  # fmt: skip
    assert told(hass, "Front door did not lock")

    # Someone frees the bolt; the lock reports "unlocked" again and is locked at once.
    await set_motor(hass, "works")
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": "input_boolean.front_door_jammed"},
        blocking=True,
    )  # fmt: skip
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"
    locked = len(system_events(access_events, "locked"))
    assert locked >= 1  # how many: see test_a_door_locked_after_a_failure_is_recorded_once
    # The retry that was due finds nothing left to do.
    await move_to(hass, freezer, at("2026-11-24 10:01:00"))
    assert len(system_events(access_events, "locked")) == locked


async def test_lock_that_does_not_answer_in_time(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    visit = await visit_with_the_door_open(hass, freezer)
    await set_motor(hass, "ignores")
    door(hass, "off")
    await until(lambda: any(e["type"] == "door_closed" for e in access_events))
    await move_to(hass, freezer, at("2026-11-24 10:00:06"))  # lock_timeout: 5 s
    assert hass.states.get(FRONT).state == "unlocked"
    assert hass.states.get(ALARM).state == "armed_home"
    assert ("lock_failure", "lock_failed") in of_visit(access_events, visit)


async def test_lock_failure_is_retried_on_a_backoff_until_it_locks(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
    lock_commands: list[str],
) -> None:
    await visit_whose_lock_dies_at_the_end(hass, freezer)
    assert hass.states.get(FRONT).state == "unlocked"
    assert len(lock_commands) == 1
    # 5 s later: still dead, tried again.
    await move_to(hass, freezer, at("2026-11-24 10:00:06"))
    assert len(lock_commands) == 2
    assert hass.states.get(FRONT).state == "unlocked"
    # The motor comes back; the next try, 30 s later, locks the door.
    await set_motor(hass, "works")
    await move_to(hass, freezer, at("2026-11-24 10:00:37"))
    assert len(lock_commands) == 3
    assert hass.states.get(FRONT).state == "locked"
    assert system_events(access_events, "locked")[-1]["portal"] == "front"
    # Nothing more is tried once the door is locked.
    await move_to(hass, freezer, at("2026-11-24 11:00"))
    assert len(lock_commands) == 3


async def test_a_door_locked_after_a_failure_is_recorded_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    await visit_whose_lock_dies_at_the_end(hass, freezer)
    await set_motor(hass, "works")
    await move_to(hass, freezer, at("2026-11-24 10:00:06"))  # the first retry locks it
    assert hass.states.get(FRONT).state == "locked"
    assert len(system_events(access_events, "locked")) == 1


async def test_lock_that_never_recovers_is_retried_five_times_then_left_to_the_owner(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
    lock_commands: list[str],
) -> None:
    await visit_whose_lock_dies_at_the_end(hass, freezer)
    when = at(NOW)
    for wait in (5, 30, 120, 600, 1800):
        when += timedelta(seconds=wait + 1)
        await move_to(hass, freezer, when)
    assert len(lock_commands) == 6
    await move_to(hass, freezer, when + timedelta(hours=3))
    assert len(lock_commands) == 6
    assert hass.states.get(FRONT).state == "unlocked"
    # The owner was told once, at the failure; the retries are quiet.
    assert len([e for e in access_events if e["type"] == "lock_failure"]) == 1


async def test_retry_waits_for_a_reopened_door_and_a_failed_lock_on_close_is_reported(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
    lock_commands: list[str],
) -> None:
    await visit_whose_lock_dies_at_the_end(hass, freezer)
    door(hass, "on")  # the courier comes back for a forgotten parcel
    await hass.async_block_till_done()
    await move_to(hass, freezer, at("2026-11-24 10:00:06"))
    assert len(lock_commands) == 1  # not while the door is open
    door(hass, "off")
    await hass.async_block_till_done()
    assert len(lock_commands) == 2
    failure = system_events(access_events, "lock_failure")
    assert [e["reason"] for e in failure] == ["lock_failed"]
    assert hass.states.get(FRONT).state == "unlocked"


async def test_lock_locked_by_hand_does_not_end_a_courier_visit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    """A door with a contact: the visit ends when the door closes, not when the lock locks."""
    entry = await open_site(hass, freezer)
    grant = await create_grant(hass)
    visit = await start_visit(hass, grant)
    await hass.services.async_call(
        "input_boolean", "turn_on", {"entity_id": "input_boolean.front_door_bolt"}, blocking=True
    )
    await hass.async_block_till_done()
    assert visit in {v.id for v in entry.runtime_data.data.open_visits.values()}
    door(hass, "on")
    await hass.async_block_till_done()
    door(hass, "off")
    await hass.async_block_till_done()
    assert of_visit(access_events, visit)[-3:] == [
        ("locked", None), ("alarm_rearmed", None), ("visit_completed", None),
    ]  # fmt: skip


# --- cameras -----------------------------------------------------------------------------


async def test_camera_lost_without_a_camera_requirement_only_alerts(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    await open_site(hass, freezer, cameras=(CAMERA,))
    grant = await create_grant(hass)
    visit = await start_visit(hass, grant)
    hass.states.async_set(CAMERA, "unavailable")
    await until(lambda: ("safety_alert", "camera_lost") in of_visit(access_events, visit))
    await hass.async_block_till_done()
    assert hass.states.get(ALARM).state == "disarmed"
    assert told(hass, "The camera camera.porch at Front door stopped working")


async def test_camera_lost_with_a_panel_that_cannot_sound(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await open_site(hass, freezer, alarm=panel("mute_panel"), cameras=(CAMERA,))
    grant = await create_grant(hass, require_camera=True)
    visit = await start_visit(hass, grant)
    with caplog.at_level(logging.WARNING):
        hass.states.async_set(CAMERA, "unavailable")
        await until(lambda: ("safety_alert", "camera_lost") in of_visit(access_events, visit))
        await hass.async_block_till_done()
    assert hass.states.get(panel("mute_panel")).state == "disarmed"
    assert told(hass, "stopped working during a visit")
    assert "Could not trigger the alarm after a camera was lost" in caplog.text


# --- telling the owner -------------------------------------------------------------------


async def test_owner_phone_gets_the_last_visit_picture_unless_the_grant_is_quiet(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, rig: None
) -> None:
    phone = async_mock_service(hass, "notify", "mobile_app_owner")
    await open_site(hass, freezer, cameras=(CAMERA,), notify=["notify.mobile_app_owner"])
    quiet = await create_grant(hass, label="Newspaper", notify=False)
    await start_visit(hass, quiet)
    door(hass, "on")
    await hass.async_block_till_done()
    door(hass, "off")
    await hass.async_block_till_done()
    assert phone == []

    grant = await create_grant(hass)
    await start_visit(hass, grant)
    door(hass, "on")
    await hass.async_block_till_done()
    door(hass, "off")
    await hass.async_block_till_done()
    (message,) = phone
    assert message.data["message"].startswith("Parcel Co visited Front door at 10:00")
    assert message.data["data"] == {"image": "/api/image_proxy/image.front_door_last_visit"}
    assert hass.states.get("image.front_door_last_visit") is not None


async def test_start_visit_refused_for_pets_is_explained(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, rig: None
) -> None:
    await open_site(hass, freezer)
    grant = await create_grant(hass, refuse_when_pets_home=True)
    hass.states.async_set(PETS, "on", {"device_class": "presence"})
    with pytest.raises(ServiceValidationError) as err:
        await start_visit(hass, grant)
    assert err.value.translation_key == "denied_pets_home"
    assert str(err.value) == "Parcel Co may not enter Front door while pets are at home"
    assert hass.states.get(FRONT).state == "locked"


# --- the courier endpoint ----------------------------------------------------------------


async def test_courier_without_a_courier_grant_or_outside_its_window(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    carrier = Carrier()
    entry = await open_site(hass, freezer, carrier=carrier)
    client = await hass_client_no_auth()

    async def post(token: str) -> tuple[int, str]:
        response = await client.post(courier_url(entry), json={"token": token})
        return response.status, (await response.json()).get("error")

    assert await post(carrier.token(entry.entry_id, now=at(NOW))) == (403, "no_courier_grant")
    await create_grant(hass, remote_token=True)  # 09:00 to 12:00
    # A token that stays valid past the end of the window does not fit in it.
    late = at("2026-11-24 11:59")
    await move_to(hass, freezer, late)
    assert await post(carrier.token(entry.entry_id, now=late, lifetime=120)) == (
        403,
        "outside_window",
    )
    assert hass.states.get(FRONT).state == "locked"


# --- guest links -------------------------------------------------------------------------


async def guest_grant(hass: HomeAssistant, label: str = "Aunt Ida", **schedule: Any) -> str:
    if not schedule:
        start, end = window(at(NOW))
        schedule = {"start": start, "end": end}
    response = await call(
        hass, "create_grant", label=label, kind="guest", guest_link=True, **schedule
    )
    return str(response["grant_id"])


async def test_guest_endpoint_refusals(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    hass_client_no_auth: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
    access_events: list[dict[str, Any]],
) -> None:
    entry = await open_site(hass, freezer)
    assert await async_setup_component(hass, "config", {})
    # The owner signs in (now: the clock was moved forward since the test user was made).
    session = await hass.auth.async_create_refresh_token(hass_admin_user, CLIENT_ID)
    ws = await hass_ws_client(hass, hass.auth.async_create_access_token(session))
    entry.runtime_data.gate.clients = RateLimiter(capacity=1000)
    client = await hass_client_no_auth()

    async def post(site: str = entry.entry_id, **kwargs: Any) -> tuple[int, str | None]:
        response = await client.post(f"/api/concierge/{site}/guest", **kwargs)
        return response.status, (await response.json()).get("error")

    assert (await client.get("/api/concierge/nope/guest")).status == 404
    assert await post("nope", json={"token": "x"}) == (404, "unknown_site")
    # No link was ever made for this site, and a request without a token.
    assert await post(json={"token": "x"}) == (401, "invalid_token")
    grant = await guest_grant(hass)
    link = await call(hass, "create_guest_link", grant_id=grant)
    token = link["url"].split("#")[1]
    assert await post(json={}) == (401, "invalid_token")
    assert await post(json={"token": "garbage"}) == (401, "invalid_token")
    # Unproven requests are counted: the minute's summary says how many.
    await move_to(hass, freezer, dt_util.utcnow() + timedelta(seconds=61))
    assert (access_events[-1]["reason"], access_events[-1]["data"]["refusals"]) == ("malformed", 3)

    # The grant is revoked, then deleted with its device: its links open nothing.
    await call(hass, "revoke_grant", grant_id=grant)
    assert await post(headers={"Authorization": f"Bearer {token}"}) == (403, "grant_revoked")
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{entry.entry_id}_grant_{grant}"), entry.entry_id
    )
    await ws.send_json_auto_id(
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry.entry_id,
            "device_id": device.id,
        }
    )
    answer = await ws.receive_json()
    assert answer["success"], answer
    assert await post(json={"token": token}) == (403, "link_revoked")
    assert access_events[-1]["source"] == "guest_link"

    # A link of another grant, once its window is over.
    other = await guest_grant(hass)
    later = await call(hass, "create_guest_link", grant_id=other)
    await move_to(hass, freezer, at("2026-11-24 12:05"))
    assert await post(json={"token": later["url"].split("#")[1]}) == (403, "expired")
    assert hass.states.get(FRONT).state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"


async def test_guest_endpoint_is_rate_limited(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    entry = await open_site(hass, freezer)
    client = await hass_client_no_auth()
    answers = []
    for _ in range(7):
        response = await client.post(guest_url(entry), json={"token": "garbage"})
        answers.append(response.status)
    assert answers[:5] == [401] * 5
    assert answers[-1] == 429
    assert response.headers["Retry-After"] == "10"


async def test_guest_links_for_the_next_window_and_for_a_grant_that_is_over(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, rig: None
) -> None:
    await open_site(hass, freezer)
    today = await guest_grant(hass)  # 09:00 to 12:00 today
    first = await call(hass, "create_guest_link", grant_id=today)
    weekly = await guest_grant(
        hass, "Uncle Jo", weekdays=["tue"], start_time="14:00", end_time="15:00"
    )
    # Outside its window: the link is for the next one.
    link = await call(hass, "create_guest_link", grant_id=weekly)
    assert datetime.fromisoformat(link["valid_from"]) == at("2026-11-24 14:00")
    assert datetime.fromisoformat(link["valid_until"]) == at("2026-11-24 15:00")

    await move_to(hass, freezer, at("2026-11-24 12:30"))
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_guest_link", grant_id=today)
    assert err.value.translation_key == "grant_not_active"
    # Making a link forgets the links that are over.
    await call(hass, "create_guest_link", grant_id=weekly)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "revoke_guest_link", link_id=first["link_id"])
    assert err.value.translation_key == "unknown_guest_link"
    assert str(err.value) == f"There is no guest link {first['link_id']}"


async def test_owner_ends_a_visit_whose_door_is_held_open(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    visit = await visit_with_the_door_open(hass, freezer)
    await move_to(hass, freezer, at("2026-11-24 10:05:01"))  # door_held_open: 300 s
    assert of_visit(access_events, visit)[-1] == ("visit_aborted", "door_held_open")
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "end_visit", visit_id=visit)
    assert err.value.translation_key == "visit_over"
    assert hass.states.get(ALARM).state == "armed_home"
    door(hass, "off")
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"


async def test_end_visit_reports_a_lock_that_did_not_lock(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
) -> None:
    await open_site(hass, freezer)
    grant = await create_grant(hass)
    visit = await start_visit(hass, grant)
    await set_motor(hass, "dead")
    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "end_visit", visit_id=visit)
    assert str(err.value) == (
        "Front door could not be locked. The visit stays open until it is locked"
    )
    assert hass.states.get(ALARM).state == "armed_home"
    assert ALARM_CODE not in str(err.value)


async def test_panel_that_disarms_after_the_refusal_is_armed_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    """The courier was refused; the panel carries out the queued disarm a minute later.
    No visit explains a disarmed alarm, so Concierge arms it again.
    """
    await open_site(hass, freezer, alarm=panel("late_panel"))
    grant = await create_grant(hass)
    request = hass.async_create_task(start_visit(hass, grant))
    await until(lambda: any(e["type"] == "access_requested" for e in access_events))
    await move_to(hass, freezer, at("2026-11-24 10:00:06"))  # alarm_timeout: 5 s
    with pytest.raises(ServiceValidationError):
        await request
    assert hass.states.get(panel("late_panel")).state == "armed_away"
    await move_to(hass, freezer, at("2026-11-24 10:01:00"))
    await hass.services.async_call(
        "input_select", "select_option",
        {"entity_id": "input_select.late_panel_state", "option": "disarmed"}, blocking=True,
    )  # fmt: skip
    await hass.async_block_till_done()
    assert hass.states.get(panel("late_panel")).state == "armed_away"
    assert hass.states.get(FRONT).state == "locked"


async def test_owner_ends_a_visit_while_the_door_is_open(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rig: None,
    access_events: list[dict[str, Any]],
) -> None:
    """No bolt thrown into an open door: armed without it, locked once it closes."""
    visit = await visit_with_the_door_open(hass, freezer)
    await call(hass, "end_visit", visit_id=visit)
    assert hass.states.get(FRONT).state == "unlocked"
    assert hass.states.get(ALARM).state == "armed_home"
    assert of_visit(access_events, visit)[-1][0] == "visit_completed"
    door(hass, "off")
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"
