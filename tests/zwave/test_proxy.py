"""The TCP proxy between Home Assistant's zwave_js and the Z-Wave JS server (the rig).

These check the fault tool itself: traffic passes, a cut is seen by Home Assistant as a
lost server (entry reloaded, lock unavailable, setup retried while the proxy refuses), and
``cut_after`` drops the connection after a Set reached the server and before its result
came back, so the lock holds the code while Home Assistant never heard the outcome.
"""

import asyncio
import contextlib

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from tests.waiting import until

from .helpers import EMPTY, ZWAVE, ProxiedLock, slot_is, state_of


async def _set_code(hass: HomeAssistant, lock: ProxiedLock, slot: int, code: str) -> None:
    await hass.services.async_call(
        ZWAVE,
        "set_lock_usercode",
        {"entity_id": lock.entity_id, "code_slot": slot, "usercode": code},
        blocking=True,
    )


async def _ha_slot(hass: HomeAssistant, lock: ProxiedLock, slot: int) -> dict[str, object]:
    response = await hass.services.async_call(
        ZWAVE,
        "get_lock_usercode",
        {"entity_id": lock.entity_id, "code_slot": slot},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response[lock.entity_id][str(slot)])  # type: ignore[index,call-overload]


async def _driver_shows(
    hass: HomeAssistant, lock: ProxiedLock, slot: int, expected: dict[str, object]
) -> None:
    """Wait until the driver's cache, as zwave_js reports it, shows ``expected``.

    Right after a reconnect the cache can still show a slot free that the lock fills: the
    driver's verification read of a Set comes later.
    """

    async def shows() -> bool:
        return await _ha_slot(hass, lock, slot) == expected

    await until(shows)


async def test_traffic_passes_and_a_cut_is_a_lost_server(
    hass: HomeAssistant, proxied_lock: ProxiedLock
) -> None:
    lock = proxied_lock
    proxy = lock.proxy
    assert proxy.accepted == 1
    assert proxy.connections == 1
    await _set_code(hass, lock, 5, "2468")
    await slot_is(lock.rig, 5, {"status": "enabled", "code": "2468"})
    assert any("node.set_value" in m and '"userCode"' in m for m in proxy.messages)

    proxy.cut()
    assert proxy.down
    await lock.disconnected(hass)

    async def retrying() -> bool:
        return lock.entry.state is ConfigEntryState.SETUP_RETRY

    await until(retrying)  # the proxy refuses: setup failed, retried later
    assert proxy.accepted == 1
    assert state_of(hass, lock.entity_id) == "unavailable"

    await lock.reconnect(hass)
    assert proxy.accepted == 2
    assert state_of(hass, lock.entity_id) == "locked"
    await _driver_shows(hass, lock, 5, {"usercode": "2468", "in_use": True})

    # A blip: connections drop, the port stays open, zwave_js comes back on its own.
    proxy.cut(down=False)
    await lock.disconnected(hass)

    async def back() -> bool:
        return (
            lock.entry.state is ConfigEntryState.LOADED
            and state_of(hass, lock.entity_id) == "locked"
        )

    await until(back, seconds=10)
    assert proxy.accepted == 3


async def test_cut_after_a_set_leaves_its_outcome_unknown(
    hass: HomeAssistant, proxied_lock: ProxiedLock
) -> None:
    lock = proxied_lock
    fired = lock.proxy.cut_after("node.set_value", '"userCode"')
    call = asyncio.ensure_future(_set_code(hass, lock, 6, "8642"))
    async with asyncio.timeout(5):
        await fired.wait()
    assert lock.proxy.triggered_by is not None
    assert '"propertyKey": 6' in lock.proxy.triggered_by
    # The caller never gets the result: today zwave-js-server-python cancels the command's
    # future when the connection drops, so the action ends with CancelledError (not a
    # HomeAssistantError).
    outcome: BaseException | None = None
    try:
        async with asyncio.timeout(5):
            await call
    except (asyncio.CancelledError, HomeAssistantError) as err:
        outcome = err
    assert outcome is not None
    # ... while the lock did take the code.
    await slot_is(lock.rig, 6, {"status": "enabled", "code": "8642"})
    await lock.disconnected(hass)
    assert lock.proxy.down

    await lock.reconnect(hass)
    # After the reconnect the driver's state (its own re-read of the slot) shows the code.
    await _driver_shows(hass, lock, 6, {"usercode": "8642", "in_use": True})

    # A clear cut the same way: done on the lock, unconfirmed for Home Assistant.
    fired = lock.proxy.cut_after("node.set_value", '"userIdStatus"')
    call = asyncio.ensure_future(
        hass.services.async_call(
            ZWAVE,
            "clear_lock_usercode",
            {"entity_id": lock.entity_id, "code_slot": 6},
            blocking=True,
        )
    )
    async with asyncio.timeout(5):
        await fired.wait()
    with contextlib.suppress(asyncio.CancelledError, HomeAssistantError, TimeoutError):
        async with asyncio.timeout(5):
            await call
    await slot_is(lock.rig, 6, EMPTY)
    await lock.reconnect(hass)
