"""Home Assistant's real zwave_js integration against the Z-Wave rig's keypad lock.

Nothing of Home Assistant, zwave-js-server-python, the Z-Wave JS Server or the driver is
faked: only the lock is simulated (see rigs/zwave/rig.mjs). What a test expects from the
lock it reads from the lock's own memory (``/codes``), never from the driver's cache.
"""

import time
from typing import Any

import aiohttp
import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import async_capture_events

from tests.waiting import until

from .helpers import EMPTY, ZWAVE, Lock, slot_is, state_is, state_of, wait_event

NOTIFICATION_CC = 0x71
ACCESS_CONTROL = 6


async def _ask(hass: HomeAssistant, lock: Lock, service: str, **data: Any) -> Any:
    """Call a zwave_js action that returns a response; give the lock's part of it."""
    response = await hass.services.async_call(
        ZWAVE,
        service,
        {"entity_id": lock.entity_id, **data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return response[lock.entity_id]


async def _set_code(hass: HomeAssistant, lock: Lock, slot: int, code: str) -> None:
    await hass.services.async_call(
        ZWAVE,
        "set_lock_usercode",
        {"entity_id": lock.entity_id, "code_slot": slot, "usercode": code},
        blocking=True,
    )


async def _ha_slot(hass: HomeAssistant, lock: Lock, slot: int) -> dict[str, Any]:
    return dict((await _ask(hass, lock, "get_lock_usercode", code_slot=slot))[str(slot)])


async def test_set_and_clear_reach_the_lock_memory(hass: HomeAssistant, lock: Lock) -> None:
    rig = lock.rig
    codes = await rig.async_codes()
    assert codes[1] == {"status": "enabled", "code": "13579"}  # the seed slot
    assert codes[5] == EMPTY
    assert await rig.async_frames() == {}

    await _set_code(hass, lock, 5, "2468")
    await slot_is(rig, 5, {"status": "enabled", "code": "2468"})
    # User Code v2: the driver sends one Extended User Code Set, then re-reads the slot.
    frames = await rig.async_frames()
    assert frames["UserCode.ExtendedUserCodeSet"] == 1
    assert "UserCode.Set" not in frames

    async def ha_sees_code() -> bool:
        return await _ha_slot(hass, lock, 5) == {"usercode": "2468", "in_use": True}

    await until(ha_sees_code)

    await hass.services.async_call(
        ZWAVE, "clear_lock_usercode", {"entity_id": lock.entity_id, "code_slot": 5}, blocking=True
    )
    codes = await slot_is(rig, 5, EMPTY)
    assert codes[1]["code"] == "13579"
    assert (await rig.async_frames())["UserCode.ExtendedUserCodeSet"] == 2

    async def ha_sees_free_slot() -> bool:
        return (await _ha_slot(hass, lock, 5))["in_use"] is False

    await until(ha_sees_free_slot)


async def test_keypad_and_manual_operations_reach_home_assistant(
    hass: HomeAssistant, lock: Lock
) -> None:
    rig = lock.rig
    await _set_code(hass, lock, 5, "2468")
    await slot_is(rig, 5, {"status": "enabled", "code": "2468"})
    assert state_of(hass, lock.entity_id) == "locked"
    events = async_capture_events(hass, "zwave_js_notification")

    await rig.async_post("/keypad-unlock", {"slot": 5})
    unlock = await wait_event(events, 0x06)
    assert unlock == {
        "domain": ZWAVE,
        "node_id": rig.node_id,
        "home_id": rig.home_id,
        "home_id_hex": hex(rig.home_id),
        "endpoint": 0,
        "device_id": lock.device_id,
        "command_class": NOTIFICATION_CC,
        "command_class_name": "Notification",
        "label": "Access Control",
        "type": ACCESS_CONTROL,
        "event": 0x06,
        "event_label": "Keypad unlock operation",
        "parameters": {"userId": 5},
    }
    await state_is(hass, lock.entity_id, "unlocked")

    await rig.async_post("/manual-lock")
    manual = await wait_event(events, 0x01)
    assert manual["event_label"] == "Manual lock operation"
    await state_is(hass, lock.entity_id, "locked")

    await rig.async_post("/manual-unlock")
    assert (await wait_event(events, 0x02))["event_label"] == "Manual unlock operation"
    await state_is(hass, lock.entity_id, "unlocked")

    await rig.async_post("/keypad-lock", {"slot": 5})
    keypad_lock = await wait_event(events, 0x05)
    assert keypad_lock["event_label"] == "Keypad lock operation"
    assert keypad_lock["parameters"] == {"userId": 5}
    await state_is(hass, lock.entity_id, "locked")

    await rig.async_post("/wrong-code")
    wrong = await wait_event(events, 0x13)
    assert wrong["event_label"] == "Manually enter user access code exceeds code limit"

    # A real lock only opens for a code it holds.
    with pytest.raises(aiohttp.ClientResponseError) as refused:
        await rig.async_post("/keypad-unlock", {"slot": 6})
    assert refused.value.status == 409
    assert state_of(hass, lock.entity_id) == "locked"


async def test_a_duplicate_code_is_refused_by_the_lock(hass: HomeAssistant, lock: Lock) -> None:
    rig = lock.rig
    await _set_code(hass, lock, 5, "2468")
    await slot_is(rig, 5, {"status": "enabled", "code": "2468"})
    await rig.async_post("/reject-duplicates", {"on": True})
    events = async_capture_events(hass, "zwave_js_notification")

    # Home Assistant reports success: the refusal only shows as a notification.
    await _set_code(hass, lock, 6, "2468")
    duplicate = await wait_event(events, 0x0F)
    assert duplicate["event_label"] == "New user code not added due to duplicate code"
    assert duplicate["parameters"] == {"userId": 6}
    codes = await rig.async_codes()
    assert codes[6] == EMPTY
    assert codes[5] == {"status": "enabled", "code": "2468"}
    assert (await rig.async_frames())["UserCode.ExtendedUserCodeSet"] == 2
    assert (await _ha_slot(hass, lock, 6))["in_use"] is False

    # A code nobody else holds is still accepted.
    await _set_code(hass, lock, 6, "8642")
    await slot_is(rig, 6, {"status": "enabled", "code": "8642"})


async def test_an_offline_lock_fails_the_set(hass: HomeAssistant, lock: Lock) -> None:
    rig = lock.rig
    await rig.async_post("/offline", {"on": True})

    started = time.monotonic()
    with pytest.raises(HomeAssistantError, match="did not acknowledge"):
        await _set_code(hass, lock, 7, "1122")
    elapsed = time.monotonic() - started
    # One attempt (the rig's default) and the mock's 1 s ACK timeout.
    assert 0.9 < elapsed < 3.0
    assert (await rig.async_codes())[7] == EMPTY
    # The lock heard no write. (A verification read the driver scheduled after the previous
    # test's write can still land just before the lock goes offline.)
    assert not [frame for frame in await rig.async_frames() if "Set" in frame]
    await state_is(hass, lock.status_entity_id, "dead")
    assert state_of(hass, lock.entity_id) == "locked"

    # To a node the driver has marked dead, zwave-js-server-python does not wait for the
    # result: Home Assistant reports success at once. The driver still sends the command
    # (shortly after), and it fails unseen.
    started = time.monotonic()
    await _set_code(hass, lock, 7, "1122")
    assert time.monotonic() - started < 0.5

    async def second_attempt_sent() -> bool:
        return bool((await rig.async_get("/status"))["unheard"] >= 2)

    await until(second_attempt_sent)
    await rig.async_post("/offline", {"on": False})  # waits until the driver gave up
    await state_is(hass, lock.status_entity_id, "alive")
    assert (await rig.async_codes())[7] == EMPTY
    await _set_code(hass, lock, 8, "3344")
    await slot_is(rig, 8, {"status": "enabled", "code": "3344"})


async def test_the_credential_actions_drive_a_user_code_lock(
    hass: HomeAssistant, lock: Lock
) -> None:
    rig = lock.rig
    capabilities = await _ask(hass, lock, "get_credential_capabilities")
    assert capabilities == {
        "supports_user_management": True,
        "max_users": 20,
        "supported_user_types": ["general"],
        "max_user_name_length": 0,
        "supported_credential_rules": ["single"],
        "supported_credential_types": {
            "pin_code": {
                "num_slots": 20,
                "min_length": 4,
                "max_length": 10,
                "supports_learn": False,
            }
        },
    }

    response = await _ask(
        hass, lock, "set_credential", user_id=9, credential_type="pin_code", credential_data="97531"
    )
    assert response["user_id"] == 9
    # On User Code CC the user is the slot, whatever credential_slot the response names.
    await slot_is(rig, 9, {"status": "enabled", "code": "97531"})

    users = await _ask(hass, lock, "get_users")
    assert {user["user_id"] for user in users["users"]} == {1, 9}

    await hass.services.async_call(
        ZWAVE, "delete_user", {"entity_id": lock.entity_id, "user_id": 9}, blocking=True
    )
    await slot_is(rig, 9, EMPTY)

    # set_user cannot create a user without a code on a User Code CC lock (ZW0322).
    with pytest.raises(HomeAssistantError):
        await _ask(hass, lock, "set_user", user_id=10)


async def test_codes_programmed_and_wiped_at_the_lock_are_reported(
    hass: HomeAssistant, lock: Lock
) -> None:
    rig = lock.rig
    events = async_capture_events(hass, "zwave_js_notification")

    # A code typed in at the lock's own menu: the slot, then "new user code added".
    await rig.async_post("/keypad-program", {"slot": 11, "code": "55555"})
    assert (await rig.async_codes())[11] == {"status": "enabled", "code": "55555"}
    added = await wait_event(events, 0x0E)
    assert added["event_label"] == "New user code added"
    assert added["parameters"]["userId"] == 11

    async def ha_sees(slot: int, *, in_use: bool) -> bool:
        return (await _ha_slot(hass, lock, slot))["in_use"] is in_use

    await until(lambda: ha_sees(11, in_use=True))
    assert await rig.async_frames() == {}  # the lock told; nothing was asked

    await rig.async_post("/keypad-delete", {"slot": 11})
    deleted = await wait_event(events, 0x0D)
    assert deleted["event_label"] == "Single user code deleted"
    assert deleted["parameters"]["userId"] == 11
    await until(lambda: ha_sees(11, in_use=False))

    # A factory reset: every slot (the seed's too) is freed, then "all user codes deleted".
    await _set_code(hass, lock, 12, "2468")
    await slot_is(rig, 12, {"status": "enabled", "code": "2468"})
    await until(lambda: ha_sees(12, in_use=True))
    wiped = await rig.async_post("/wipe")
    assert wiped["wiped"] == [1, 12]
    assert all(entry == EMPTY for entry in (await rig.async_codes()).values())
    everything = await wait_event(events, 0x0C)
    assert everything["event_label"] == "All user codes deleted"
    await until(lambda: ha_sees(1, in_use=False))
    await until(lambda: ha_sees(12, in_use=False))

    with pytest.raises(aiohttp.ClientResponseError) as refused:
        await rig.async_post("/keypad-program", {"slot": 11, "code": "12"})
    assert refused.value.status == 400


async def test_a_lock_that_refuses_clears_keeps_the_code(hass: HomeAssistant, lock: Lock) -> None:
    rig = lock.rig
    await _set_code(hass, lock, 5, "2468")
    await slot_is(rig, 5, {"status": "enabled", "code": "2468"})
    assert (await rig.async_post("/refuse-clears", {"on": True}))["refuse_clears"] is True

    # Supervision Fail. Home Assistant reports success (as for a refused duplicate): only the
    # slot, which the driver still shows in use, tells that the code stayed.
    await rig.async_post("/frames/reset")
    await hass.services.async_call(
        ZWAVE, "clear_lock_usercode", {"entity_id": lock.entity_id, "code_slot": 5},
        blocking=True,
    )  # fmt: skip

    async def clear_heard() -> bool:
        return bool((await rig.async_frames()).get("UserCode.ExtendedUserCodeSet"))

    await until(clear_heard)
    assert (await rig.async_codes())[5] == {"status": "enabled", "code": "2468"}

    # The driver's cache shows the slot free at first (it assumes the Set worked), until its
    # own verification read brings back what the lock holds.
    async def driver_reread() -> bool:
        return await _ha_slot(hass, lock, 5) == {"usercode": "2468", "in_use": True}

    await until(driver_reread)
    assert (await rig.async_frames())["UserCode.Get"] >= 1
    # Writing a code is still accepted.
    await _set_code(hass, lock, 6, "8642")
    await slot_is(rig, 6, {"status": "enabled", "code": "8642"})

    await rig.async_post("/refuse-clears", {"on": False})
    await hass.services.async_call(
        ZWAVE, "clear_lock_usercode", {"entity_id": lock.entity_id, "code_slot": 5},
        blocking=True,
    )  # fmt: skip
    await slot_is(rig, 5, EMPTY)
