"""Fixtures for tests that run Home Assistant with Concierge loaded."""

import pytest
from homeassistant.core import HomeAssistant


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
