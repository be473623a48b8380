"""Fixtures for tests that run Home Assistant with Concierge loaded."""

from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN, EVENT_ACCESS


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> None:
    """Let Home Assistant find custom_components/concierge in every test."""


@pytest.fixture
def home_entities(hass: HomeAssistant) -> None:
    """Entities of a small home: two locks, a door contact, a camera, an alarm panel, a notifier."""
    hass.states.async_set("lock.front_door", "locked")
    hass.states.async_set("lock.back_door", "locked")
    hass.states.async_set("binary_sensor.front_door_contact", "off", {"device_class": "door"})
    hass.states.async_set("camera.porch", "idle")
    hass.states.async_set("alarm_control_panel.home", "armed_away")
    hass.states.async_set("switch.kettle", "off")
    hass.services.async_register("notify", "mobile_app_owner", lambda _call: None)


@pytest.fixture(autouse=True)
def freeze_before_setup(request: pytest.FixtureRequest) -> None:
    """A test that moves the clock freezes it before any site reads it.

    freezegun moves the event loop's monotonic clock with the wall clock. Frozen only after
    a site is loaded, that clock would jump by decades, which site time (`core/clock.py`)
    rightly counts as elapsed time.
    """
    if "freezer" in request.fixturenames:
        request.getfixturevalue("freezer")


@pytest.fixture(autouse=True)
def config_dir_in_tmp(hass: HomeAssistant, tmp_path: Path) -> None:
    """Keep files Home Assistant writes (the audit log) in a fresh folder per test."""
    hass.config.config_dir = str(tmp_path)
    # Evidence goes to the media folder: keep it per test too (the test harness points it
    # into its own package otherwise).
    hass.config.media_dirs = {"local": str(tmp_path / "media")}


SITE_DATA = {
    "site_name": "Home",
    "portals": [
        {
            "id": "front",
            "name": "Front door",
            "lock": "lock.front_door",
            "door_sensor": "binary_sensor.front_door_contact",
            "cameras": [],
        },
        {
            "id": "back",
            "name": "Back door",
            "lock": "lock.back_door",
            "door_sensor": None,
            "cameras": [],
        },
    ],
}


def _bolt(name: str, unlock: list[dict[str, Any]]) -> dict[str, Any]:
    bolt = f"input_boolean.{name}_bolt"
    return {
        "name": name.replace("_", " ").capitalize(),
        "state": f"{{{{ 'locked' if is_state('{bolt}', 'on') else 'unlocked' }}}}",
        "lock": [{"action": "input_boolean.turn_on", "target": {"entity_id": bolt}}],
        "unlock": unlock,
    }


@pytest.fixture
async def real_locks(hass: HomeAssistant) -> None:
    """Two real Home Assistant locks (template locks on input_booleans) and a door contact.

    The front door works. The back door's motor fails on unlock (its unlock action
    calls a service that does not exist), as a jammed lock would.
    """
    await async_setup_component(
        hass,
        "input_boolean",
        {
            "input_boolean": {
                "front_door_bolt": {"initial": True},
                "back_door_bolt": {"initial": True},
            }
        },
    )
    await async_setup_component(
        hass,
        "template",
        {
            "template": [
                {
                    "lock": [
                        _bolt(
                            "front_door",
                            [
                                {
                                    "action": "input_boolean.turn_off",
                                    "target": {"entity_id": "input_boolean.front_door_bolt"},
                                }
                            ],
                        ),
                        _bolt("back_door", [{"action": "lock_motor.unlock"}]),
                    ]
                }
            ]
        },
    )
    await hass.async_block_till_done()
    hass.states.async_set("binary_sensor.front_door_contact", "off", {"device_class": "door"})
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get("lock.back_door").state == "locked"


@pytest.fixture
async def site(hass: HomeAssistant, real_locks: None) -> MockConfigEntry:
    """A loaded Concierge site with the front and back door, in Berlin."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA, options={"notify": []}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


@pytest.fixture
def access_events(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every access event fired on the bus, in wire form."""
    seen: list[dict[str, Any]] = []

    @callback
    def _seen(event: Event[dict[str, Any]]) -> None:
        # A callback runs in the event loop, in firing order (a plain function would be
        # run in the executor, and could append out of order).
        seen.append(dict(event.data))

    hass.bus.async_listen(EVENT_ACCESS, _seen)
    return seen
