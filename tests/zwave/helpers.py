"""Shared pieces of the Z-Wave tests: the lock as Home Assistant sees it, and waiting."""

import asyncio
import importlib.util
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .conftest import ZWaveRig

ZWAVE = "zwave_js"
EMPTY = {"status": "available", "code": None}


@dataclass(frozen=True, slots=True)
class Lock:
    """The rig's lock as Home Assistant sees it."""

    rig: ZWaveRig
    entity_id: str
    status_entity_id: str
    device_id: str


# What Home Assistant needs to load zwave_js (and its dependency usb) in tests, which do
# not pip-install requirements.
NEEDED = {
    "zwave_js_server": "zwave-js-server-python==0.73.1",
    "aiousbwatcher": "aiousbwatcher==1.1.2",
    "serialx": "serialx==1.11.0",
}


@pytest.fixture
async def lock(hass: HomeAssistant, zwave_rig_reset: ZWaveRig) -> AsyncIterator[Lock]:
    """Set up the real zwave_js integration on the rig; unload it afterwards."""
    if missing := [pin for module, pin in NEEDED.items() if not importlib.util.find_spec(module)]:
        pytest.fail(f"zwave_js cannot load in tests without: {', '.join(missing)}")
    rig = zwave_rig_reset
    entry = MockConfigEntry(
        domain=ZWAVE,
        unique_id=str(rig.home_id),
        data={"url": rig.ws_url, "use_addon": False, "integration_created_addon": False},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    entries = er.async_entries_for_config_entry(registry, entry.entry_id)
    lock_entry = next(e for e in entries if e.domain == "lock")
    status_entry = next(
        e
        for e in entries
        if e.device_id == lock_entry.device_id and e.entity_id.endswith("_node_status")
    )
    assert lock_entry.device_id
    assert hass.states.get(lock_entry.entity_id) is not None
    yield Lock(rig, lock_entry.entity_id, status_entry.entity_id, lock_entry.device_id)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def eventually[T](check: Callable[[], Awaitable[T | None]], seconds: float = 3.0) -> T:
    """Poll ``check`` until it returns something truthy; fail after ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            while True:
                if result := await check():
                    return result
                await asyncio.sleep(0.02)  # the rig's memory can only be polled
    except TimeoutError:
        pytest.fail(f"not true within {seconds} s: {check.__qualname__}")


async def slot_is(
    rig: ZWaveRig, slot: int, expected: dict[str, Any], seconds: float = 3.0
) -> dict[int, Any]:
    """Wait until the lock's own memory holds ``expected`` in ``slot``."""

    async def check() -> dict[int, Any] | None:
        codes = await rig.async_codes()
        return codes if codes[slot] == expected else None

    return await eventually(check, seconds)


async def state_is(hass: HomeAssistant, entity_id: str, state: str) -> None:
    async def check() -> bool:
        return state_of(hass, entity_id) == state

    await eventually(check)


async def wait_event(events: list[Event], event: int) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        return next((dict(e.data) for e in events if e.data.get("event") == event), None)

    return await eventually(check)


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    current = hass.states.get(entity_id)
    return None if current is None else current.state
