"""A visit is admitted the same way however it starts: the owner's action or a keypad PIN.

What a user would notice if the two paths drifted apart: a power cut right after the door
opened loses the visit (and the door stays unlocked after the restart) on one path only.
"""

import copy
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .helpers import at, call, entity_id, move_to

type Start = Callable[[HomeAssistant, MockConfigEntry, str], Awaitable[str]]


@pytest.fixture
async def cleaner(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> str:
    """An active grant for the front door, with a PIN."""
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    response = await call(
        hass,
        "create_grant",
        label="Cleaner",
        kind="cleaner",
        portals=["Front door"],
        start="2026-11-24 09:00:00",
        end="2026-11-24 13:00:00",
        max_uses=2,
        pin="735194",
    )
    return str(response["grant_id"])


async def _owner_lets_in(hass: HomeAssistant, site: MockConfigEntry, grant: str) -> str:
    response = await call(hass, "start_visit", grant_id=grant, portal="Front door")
    return str(response["visit_id"])


async def _pin_opens(hass: HomeAssistant, site: MockConfigEntry, grant: str) -> str:
    # The cleaner's PIN turns the bolt; the keypad manager reports the grant's slot.
    await hass.services.async_call(
        "input_boolean", "turn_off", {"entity_id": "input_boolean.front_door_bolt"}, blocking=True
    )
    await site.runtime_data.async_keypad_entry(grant, "front")
    (visit,) = site.runtime_data.data.open_visits.values()
    return visit.id


@pytest.mark.parametrize("start", [_owner_lets_in, _pin_opens], ids=["owner", "keypad"])
async def test_a_power_cut_right_after_the_door_opened_still_ends_the_visit_safely(
    hass: HomeAssistant,
    site: MockConfigEntry,
    cleaner: str,
    hass_storage: dict[str, Any],
    start: Start,
) -> None:
    visit = await start(hass, site, cleaner)
    assert hass.states.get("lock.front_door").state == "unlocked"
    # The power goes: what is on disk now is all the restart will find.
    on_disk = copy.deepcopy(hass_storage)
    assert await hass.config_entries.async_unload(site.entry_id)
    hass_storage.clear()
    hass_storage.update(on_disk)

    assert await hass.config_entries.async_setup(site.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "locked"
    assert site.runtime_data.visit(visit).abort_reason == "interrupted"
    grant_state = hass.states.get(entity_id(hass, site, f"{cleaner}_grant_state", "sensor"))
    assert grant_state.attributes["uses"] == 1
