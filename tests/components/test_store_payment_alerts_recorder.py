"""What Home Assistant's real recorder keeps of a store's payment alerts: no visit, no amount."""

from typing import Any

import pytest
from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.history import get_significant_states
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager

from tests.waiting import until

from . import test_store_site as site
from .test_store_checkout import ALERTS, _checkout
from .test_store_site import Bridge, event, state

mqtt_entry = site.mqtt_entry
bridge = site.bridge
store = site.store
access_events = site.access_events


@pytest.fixture
async def mock_recorder_before_hass(
    async_setup_recorder_instance: RecorderInstanceContextManager,
) -> None:
    """The recorder is set up before Home Assistant."""


async def test_the_recorder_keeps_no_visit_and_no_amount_of_a_payment_alert(
    recorder_mock: Any, hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    start = dt_util.utcnow()
    await _checkout(hass, bridge)
    await bridge.events(
        event(
            "payment_failed",
            visit="trip-secret-4711",
            outcome="failed",
            reason="card_declined",
            data={"amount": 1198, "currency": "EUR"},
        )
    )
    await until(lambda: state(hass, ALERTS).attributes.get("event_type") == "payment_failed")
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    history = await get_instance(hass).async_add_executor_job(
        get_significant_states, hass, start, None, [ALERTS]
    )
    recorded = [s.attributes for s in history[ALERTS]]
    assert any(a.get("event_type") == "payment_failed" for a in recorded)
    assert all(a.get("reason") in {None, "card_declined"} for a in recorded)
    text = repr(recorded)
    assert "trip-secret-4711" not in text
    assert "11.98" not in text
    assert "1198" not in text
