"""The logbook: one line per step of a visit, with an icon; its pictures summed up once.

Home Assistant's real recorder and logbook read what a visit left behind.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.logbook.helpers import async_determine_event_types
from homeassistant.components.logbook.processor import EventProcessor
from homeassistant.components.recorder import get_instance
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager

from custom_components.concierge.const import DOMAIN

from .helpers import call, entity_id
from .test_evidence import _cleaner, _tick, camera_site, front_camera  # noqa: F401 - fixtures


@pytest.fixture
async def mock_recorder_before_hass(
    async_setup_recorder_instance: RecorderInstanceContextManager,
) -> None:
    """The recorder is set up before Home Assistant (the logbook reads its database)."""


async def test_logbook_shows_each_step_once_and_sums_up_the_pictures(
    recorder_mock: Any,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    camera_site: MockConfigEntry,  # noqa: F811 - the fixture imported above
    front_camera: Path,  # noqa: F811
) -> None:
    assert await async_setup_component(hass, "logbook", {})
    grant_id = await _cleaner(hass, freezer)
    start = dt_util.utcnow() - timedelta(seconds=1)
    visit_id = (await call(hass, "start_visit", grant_id=grant_id, portal="Front door"))["visit_id"]
    await hass.async_block_till_done()
    for _ in range(3):
        await _tick(hass, freezer)
    await call(hass, "end_visit", visit_id=visit_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)

    # What the logbook panel asks for (its websocket call runs this processor).
    processor = EventProcessor(hass, async_determine_event_types(hass, None, None))
    lines: list[dict[str, Any]] = await get_instance(hass).async_add_executor_job(
        processor.get_events, start, dt_util.utcnow() + timedelta(seconds=1)
    )
    access = entity_id(hass, camera_site, "front_access", "event")
    steps = [
        e["attributes"]["event_type"] for e in lines if "state" in e and e["entity_id"] == access
    ]
    # One line per step: no second copy of the bus event, one line for the first picture.
    assert steps == [
        "access_requested",
        "access_granted",
        "evidence_captured",  # the first picture, taken as the visitor is let in
        "unlocked",
        "visit_started",
        "locked",
        "visit_completed",
    ]
    ours = [e for e in lines if e.get("domain") == DOMAIN]
    assert ours == [
        {
            "domain": DOMAIN,
            "entity_id": access,
            "icon": "mdi:cctv",
            "name": "Home Front door",
            "message": "Cleaner: pictures taken during the visit: 5",
            "when": ours[0]["when"],
        }
    ]
