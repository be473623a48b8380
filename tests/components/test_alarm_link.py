"""The alarm link drives the panel's entity itself: no action, so no code on the bus.

Real pieces: Home Assistant's `manual` alarm panel (code required, armed away before Home
Assistant started). What counts is what the panel does and what the bus carries.
"""

import asyncio
from typing import Any

import pytest
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import mock_restore_cache

from custom_components.concierge.alarm import AlarmError, AlarmLink

PANEL = "alarm_control_panel.house"
CODE = "80447316"


@pytest.fixture
async def panel(hass: HomeAssistant) -> None:
    """The house's panel, armed away, its code `CODE`, in the entity registry."""
    mock_restore_cache(hass, [State(PANEL, "armed_away")])
    assert await async_setup_component(
        hass,
        "alarm_control_panel",
        {
            "alarm_control_panel": [
                {
                    "platform": "manual",
                    "name": "House",
                    "unique_id": "house-panel",
                    "code": CODE,
                    "arming_time": 0,
                    "delay_time": 0,
                }
            ]
        },
    )
    await hass.async_block_till_done()
    assert _state(hass) == "armed_away"


@pytest.fixture
def bus(hass: HomeAssistant) -> list[tuple[str, str]]:
    """Every event fired from now on: its type and its data as text."""
    seen: list[tuple[str, str]] = []

    @callback
    def _seen(event: Event[Any]) -> None:
        seen.append((str(event.event_type), str(event.data)))

    hass.bus.async_listen(MATCH_ALL, _seen)
    return seen


def _state(hass: HomeAssistant) -> str | None:
    state = hass.states.get(PANEL)
    return None if state is None else state.state


async def test_disarm_and_arm_without_an_action_and_without_the_code_on_the_bus(
    hass: HomeAssistant, panel: None, bus: list[tuple[str, str]]
) -> None:
    link = AlarmLink(hass, PANEL, CODE, timeout=5)

    assert await link.async_disarm() == "armed_away"
    assert _state(hass) == "disarmed"
    await link.async_arm("armed_home")
    assert _state(hass) == "armed_home"

    kinds = [kind for kind, _ in bus]
    assert kinds.count("state_changed") == 2  # the bus was heard: the panel's two changes
    assert "call_service" not in kinds
    assert not [text for _, text in bus if CODE in text]


async def test_a_wrong_code_is_refused_by_the_panel(
    hass: HomeAssistant, panel: None, bus: list[tuple[str, str]]
) -> None:
    link = AlarmLink(hass, PANEL, "1111", timeout=5)

    with pytest.raises(AlarmError) as err:
        await link.async_disarm()

    assert err.value.reason == "refused"
    assert _state(hass) == "armed_away"
    # The panel itself checked the code, as it does for its action.
    assert "manual_alarm_bad_code_attempt" in [kind for kind, _ in bus]


async def test_the_panels_default_code_is_used_when_concierge_has_none(
    hass: HomeAssistant, panel: None
) -> None:
    er.async_get(hass).async_update_entity_options(
        PANEL, "alarm_control_panel", {"default_code": CODE}
    )
    await hass.async_block_till_done()
    link = AlarmLink(hass, PANEL, None, timeout=5)

    await link.async_disarm()
    assert _state(hass) == "disarmed"
    await link.async_arm("armed_away")
    assert _state(hass) == "armed_away"


async def test_arming_without_a_code_is_refused_when_the_panel_requires_one(
    hass: HomeAssistant, panel: None
) -> None:
    await AlarmLink(hass, PANEL, CODE, timeout=5).async_disarm()
    link = AlarmLink(hass, PANEL, None, timeout=5)

    with pytest.raises(AlarmError) as err:
        await link.async_arm("armed_home")

    assert err.value.reason == "refused"
    assert _state(hass) == "disarmed"


async def test_a_panel_that_is_not_there_is_unavailable_at_once(
    hass: HomeAssistant, panel: None
) -> None:
    link = AlarmLink(hass, "alarm_control_panel.gone", CODE, timeout=600)

    async with asyncio.timeout(5):  # a bound, not a wait: it must not wait for a state
        with pytest.raises(AlarmError) as err:
            await link.async_arm("armed_away")

    assert err.value.reason == "unavailable"
    assert _state(hass) == "armed_away"
