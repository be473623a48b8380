"""Shipped blueprints, loaded through Home Assistant's own blueprint machinery."""

import shutil
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from .helpers import at, move_to, until

BLUEPRINTS = Path(__file__).parents[2] / "blueprints" / "automation" / "concierge"


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
