"""Shared pieces of the Z-Wave tests: the lock as Home Assistant sees it, and waiting."""

import importlib.util
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.tcp_proxy import TcpProxy
from tests.waiting import until

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


def _need_zwave_js() -> None:
    if missing := [pin for module, pin in NEEDED.items() if not importlib.util.find_spec(module)]:
        pytest.fail(f"zwave_js cannot load in tests without: {', '.join(missing)}")


async def _setup_zwave_js(
    hass: HomeAssistant, rig: ZWaveRig, url: str
) -> tuple[MockConfigEntry, er.RegistryEntry, er.RegistryEntry]:
    """Set up zwave_js against ``url``; return its entry, the lock and its node status."""
    _need_zwave_js()
    entry = MockConfigEntry(
        domain=ZWAVE,
        unique_id=str(rig.home_id),
        data={"url": url, "use_addon": False, "integration_created_addon": False},
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
    return entry, lock_entry, status_entry


@pytest.fixture
async def lock(hass: HomeAssistant, zwave_rig_reset: ZWaveRig) -> AsyncIterator[Lock]:
    """Set up the real zwave_js integration on the rig; unload it afterwards."""
    rig = zwave_rig_reset
    entry, lock_entry, status_entry = await _setup_zwave_js(hass, rig, rig.ws_url)
    assert lock_entry.device_id
    yield Lock(rig, lock_entry.entity_id, status_entry.entity_id, lock_entry.device_id)
    assert await hass.config_entries.async_unload(entry.entry_id)


@dataclass(frozen=True, slots=True)
class ProxiedLock:
    """The rig's lock, with Home Assistant's zwave_js talking to the server via a proxy.

    ``proxy.cut()`` / ``proxy.cut_after(...)`` drop the server connection: zwave_js then
    reloads its entry (the lock entity becomes unavailable) and retries its setup while the
    proxy refuses. ``reconnect()`` lets it back in.
    """

    rig: ZWaveRig
    proxy: TcpProxy
    entry: MockConfigEntry
    entity_id: str
    status_entity_id: str
    device_id: str

    async def reconnect(self, hass: HomeAssistant, seconds: float = 20.0) -> None:
        """Let connections through again; wait until the lock entity is back.

        Home Assistant retries a zwave_js setup that failed after 5 s, then 10 s, ...: an
        entry waiting out such a delay is reloaded at once (the same retry, sooner).
        """
        await self.proxy.restore()
        nudged = False

        async def back() -> bool:
            nonlocal nudged
            state = self.entry.state
            if state is ConfigEntryState.SETUP_RETRY and not nudged:
                nudged = True
                hass.config_entries.async_schedule_reload(self.entry.entry_id)
            elif state is not ConfigEntryState.SETUP_RETRY:
                nudged = False
            current = hass.states.get(self.entity_id)
            return (
                state is ConfigEntryState.LOADED
                and current is not None
                and current.state not in {"unavailable", "unknown"}
            )

        await until("the lock is back in Home Assistant", back, seconds=seconds)

    async def disconnected(self, hass: HomeAssistant, seconds: float = 10.0) -> None:
        """Wait until Home Assistant noticed the lost connection (lock unavailable)."""

        async def unavailable() -> bool:
            current = hass.states.get(self.entity_id)
            return current is None or current.state == "unavailable"

        await until("Home Assistant shows the lock unavailable", unavailable, seconds=seconds)


@pytest.fixture
async def proxied_lock(
    hass: HomeAssistant, zwave_rig_reset: ZWaveRig
) -> AsyncIterator[ProxiedLock]:
    """Like ``lock``, but zwave_js reaches the Z-Wave JS server through a ``TcpProxy``."""
    rig = zwave_rig_reset
    proxy = TcpProxy(int(rig.ws_url.rsplit(":", 1)[1]))
    await proxy.start()
    try:
        entry, lock_entry, status_entry = await _setup_zwave_js(hass, rig, proxy.url)
        assert lock_entry.device_id
        yield ProxiedLock(
            rig, proxy, entry, lock_entry.entity_id, status_entry.entity_id, lock_entry.device_id
        )
        await proxy.restore()
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
    finally:
        await proxy.close()


async def slot_is(
    rig: ZWaveRig, slot: int, expected: dict[str, Any], seconds: float = 3.0
) -> dict[int, Any]:
    """Wait until the lock's own memory holds ``expected`` in ``slot``."""

    async def check() -> dict[int, Any] | None:
        codes = await rig.async_codes()
        return codes if codes[slot] == expected else None

    return await until(f"the lock's slot {slot} holds {expected}", check, seconds=seconds)


async def state_is(hass: HomeAssistant, entity_id: str, state: str) -> None:
    await until(f"{entity_id} is {state}", lambda: state_of(hass, entity_id) == state)


async def wait_event(events: list[Event], event: int) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        return next((dict(e.data) for e in events if e.data.get("event") == event), None)

    return await until(f"a zwave_js notification event {event}", check)


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    current = hass.states.get(entity_id)
    return None if current is None else current.state
