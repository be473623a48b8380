"""Helpers for driving a Concierge site in tests: the clock, actions and entity ids."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.concierge.const import DOMAIN

BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")


def at(text: str) -> datetime:
    """A Berlin wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


async def call(hass: HomeAssistant, service: str, **data: Any) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


def entity_id(hass: HomeAssistant, entry: MockConfigEntry, key: str, platform: str) -> str:
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{entry.entry_id}_{key}")
    assert found is not None, key
    return found


def grant_state(hass: HomeAssistant, entry: MockConfigEntry, grant_id: str) -> str:
    state = hass.states.get(entity_id(hass, entry, f"{grant_id}_grant_state", "sensor"))
    assert state is not None
    return state.state


async def move_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    freezer.move_to(when)
    async_fire_time_changed(hass, when)
    await hass.async_block_till_done()
