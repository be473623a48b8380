"""The Zigbee rig: Home Assistant's real ZHA services and events against the simulated lock."""

import time

import pytest
from homeassistant.components.lock import LockState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from pytest_homeassistant_custom_component.common import async_capture_events
from zigpy.zcl import foundation
from zigpy.zcl.clusters.closures import DoorLock

from tests.waiting import until

from .conftest import ZhaLock

ENABLED = DoorLock.UserStatus.Enabled
UNRESTRICTED = DoorLock.UserType.Unrestricted


async def _set_code(hass: HomeAssistant, lock: ZhaLock, slot: int, code: str) -> None:
    await hass.services.async_call(
        "zha",
        "set_lock_user_code",
        {"entity_id": lock.entity_id, "code_slot": slot, "user_code": code},
        blocking=True,
    )


async def _clear_code(hass: HomeAssistant, lock: ZhaLock, slot: int) -> None:
    await hass.services.async_call(
        "zha",
        "clear_lock_user_code",
        {"entity_id": lock.entity_id, "code_slot": slot},
        blocking=True,
    )


def _event(lock: ZhaLock, source: str, operation: str, code_slot: int) -> dict[str, object]:
    return {
        "device_ieee": lock.ieee,
        "device_id": lock.device_id,
        "unique_id": f"{lock.ieee}:1:0x0101",
        "endpoint_id": 1,
        "cluster_id": 257,
        "command": "operation_event_notification",
        "args": {"source": source, "operation": operation, "code_slot": code_slot},
        "params": {},
    }


async def test_join_gives_a_locked_lock_entity(hass: HomeAssistant, zha_lock: ZhaLock) -> None:
    assert zha_lock.entity_id.startswith("lock.")
    assert hass.states.get(zha_lock.entity_id).state == LockState.LOCKED
    assert zha_lock.codes() == {}
    assert zha_lock.frames() == []


async def test_set_and_clear_user_code(hass: HomeAssistant, zha_lock: ZhaLock) -> None:
    await _set_code(hass, zha_lock, 3, "1234")
    assert zha_lock.codes() == {3: {"status": "Enabled", "pin": "1234"}}
    assert 2 in zha_lock.sim.pins  # user_id = code_slot - 1
    assert zha_lock.frames() == ["set_pin_code"]

    await hass.services.async_call(
        "zha",
        "disable_lock_user_code",
        {"entity_id": zha_lock.entity_id, "code_slot": 3},
        blocking=True,
    )
    assert zha_lock.codes() == {3: {"status": "Disabled", "pin": "1234"}}

    await _clear_code(hass, zha_lock, 3)
    assert zha_lock.codes() == {}
    assert zha_lock.frames() == ["set_pin_code", "set_user_status", "clear_pin_code"]
    zha_lock.reset_frames()
    assert zha_lock.frames() == []


async def test_keypad_manual_and_wrong_code_events(hass: HomeAssistant, zha_lock: ZhaLock) -> None:
    events = async_capture_events(hass, "zha_event")
    zha_lock.set_code(2, "4321")

    zha_lock.keypad_unlock(2)
    await hass.async_block_till_done()
    assert [e.data for e in events] == [_event(zha_lock, "Keypad", "Unlock", 2)]
    assert hass.states.get(zha_lock.entity_id).state == LockState.UNLOCKED

    zha_lock.wrong_code()
    zha_lock.manual_lock()
    await hass.async_block_till_done()
    assert [e.data for e in events[1:]] == [
        _event(zha_lock, "Keypad", "UnlockFailureInvalidPINorID", 0x10000),
        _event(zha_lock, "Manual", "Manual_Lock", 0x10000),
    ]
    assert hass.states.get(zha_lock.entity_id).state == LockState.LOCKED

    # The same event again is not dropped as a repeat: each frame has a fresh ZCL tsn.
    zha_lock.keypad_unlock(2)
    await hass.async_block_till_done()
    assert len(events) == 4
    assert hass.states.get(zha_lock.entity_id).state == LockState.UNLOCKED
    assert zha_lock.frames() == []  # the lock spoke; it received no DoorLock command


async def test_programming_event_reaches_a_cluster_listener(
    hass: HomeAssistant, zha_lock: ZhaLock
) -> None:
    received: list[tuple[int, list[object]]] = []

    class Listener:
        def cluster_command(self, _tsn: int, command_id: int, args: list[object]) -> None:
            received.append((command_id, list(args)))

    zha_lock.door_lock_cluster.add_listener(Listener())
    zha_lock.keypad_program(5, "2468")
    await hass.async_block_till_done()
    assert zha_lock.codes() == {5: {"status": "Enabled", "pin": "2468"}}
    [(command_id, args)] = received
    assert command_id == 0x21
    assert args[1] == DoorLock.ProgrammingEvent.PINCodeAdded
    assert args[2] == 4  # user_id


async def test_duplicate_pin_is_rejected(hass: HomeAssistant, zha_lock: ZhaLock) -> None:
    zha_lock.reject_duplicates()
    await _set_code(hass, zha_lock, 1, "1111")
    # ZHA ignores set_pin_code_response's status: no error reaches the service caller.
    await _set_code(hass, zha_lock, 2, "1111")
    assert zha_lock.codes() == {1: {"status": "Enabled", "pin": "1111"}}
    assert zha_lock.frames() == ["set_pin_code", "set_pin_code"]

    zha_lock.reject_duplicates(on=False)
    await _set_code(hass, zha_lock, 2, "1111")
    assert zha_lock.codes()[2] == {"status": "Enabled", "pin": "1111"}


async def test_zigpy_read_back_through_the_device_proxy(
    hass: HomeAssistant, zha_lock: ZhaLock
) -> None:
    from homeassistant.components.zha.helpers import async_get_zha_device_proxy  # noqa: PLC0415

    proxy = async_get_zha_device_proxy(hass, zha_lock.device_id)
    cluster = proxy.device.device.endpoints[1].in_clusters[DoorLock.cluster_id]
    assert cluster is zha_lock.door_lock_cluster

    await _set_code(hass, zha_lock, 4, "8642")
    rsp = await cluster.get_pin_code(3)
    assert (rsp.user_id, rsp.user_status, rsp.user_type, rsp.code) == (
        3,
        ENABLED,
        UNRESTRICTED,
        "8642",
    )
    empty = await cluster.get_pin_code(9)
    assert empty.user_status == DoorLock.UserStatus.Available
    assert empty.code == ""

    zha_lock.reject_duplicates()
    ok = await cluster.set_pin_code(5, ENABLED, UNRESTRICTED, "5678")
    assert ok.status == foundation.Status.SUCCESS
    dup = await cluster.set_pin_code(6, ENABLED, UNRESTRICTED, "5678")
    assert dup.status == 0x03  # duplicate code
    assert dup.status != foundation.Status.SUCCESS
    assert zha_lock.codes() == {
        4: {"status": "Enabled", "pin": "8642"},
        6: {"status": "Enabled", "pin": "5678"},
    }
    assert zha_lock.frames() == [
        "set_pin_code",
        "get_pin_code",
        "get_pin_code",
        "set_pin_code",
        "set_pin_code",
    ]


async def test_offline_fails_fast_then_recovers(hass: HomeAssistant, zha_lock: ZhaLock) -> None:
    zha_lock.offline()
    start = time.monotonic()
    with pytest.raises(HomeAssistantError, match="did not respond"):
        await _set_code(hass, zha_lock, 1, "1111")
    assert time.monotonic() - start < 2
    assert zha_lock.codes() == {}
    assert zha_lock.frames() == []  # dropped, never received
    assert zha_lock.sim.dropped == 3  # zigpy's three attempts

    zha_lock.offline(on=False)
    await _set_code(hass, zha_lock, 1, "1111")
    assert zha_lock.codes() == {1: {"status": "Enabled", "pin": "1111"}}
    assert zha_lock.frames() == ["set_pin_code"]


async def test_lock_and_unlock_services(hass: HomeAssistant, zha_lock: ZhaLock) -> None:
    events = async_capture_events(hass, "zha_event")
    await hass.services.async_call(
        "lock", "unlock", {"entity_id": zha_lock.entity_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(zha_lock.entity_id).state == LockState.UNLOCKED
    await hass.services.async_call("lock", "lock", {"entity_id": zha_lock.entity_id}, blocking=True)
    await hass.async_block_till_done()
    assert hass.states.get(zha_lock.entity_id).state == LockState.LOCKED
    assert zha_lock.frames() == ["unlock_door", "lock_door"]
    assert [e.data["args"] for e in events] == [
        {"source": "RF", "operation": "Unlock", "code_slot": 0x10000},
        {"source": "RF", "operation": "Lock", "code_slot": 0x10000},
    ]


async def test_fault_modes_fail_lose_and_answer_late(
    hass: HomeAssistant, zha_lock: ZhaLock
) -> None:
    cluster = zha_lock.door_lock_cluster
    zha_lock.set_code(4, "8642")

    # fail: a failure status, the table unchanged.
    zha_lock.fail("clear_pin_code")
    rsp = await cluster.clear_pin_code(3)
    assert rsp.status == foundation.Status.FAILURE
    assert zha_lock.codes() == {4: {"status": "Enabled", "pin": "8642"}}
    zha_lock.heal("clear_pin_code")
    assert (await cluster.clear_pin_code(3)).status == foundation.Status.SUCCESS
    assert zha_lock.codes() == {}

    # A command whose answer has no status fails with a Default Response.
    zha_lock.fail("get_pin_code", times=1)
    rsp = await cluster.get_pin_code(3)
    assert rsp.status == foundation.Status.FAILURE
    assert (await cluster.get_pin_code(3)).user_status == DoorLock.UserStatus.Available

    # lose: carried out, never answered; zigpy tries three times, then gives up.
    zha_lock.reset_frames()
    zha_lock.lose_answers("set_pin_code")
    with pytest.raises(TimeoutError):
        await cluster.set_pin_code(5, ENABLED, UNRESTRICTED, "5678")
    assert zha_lock.codes() == {6: {"status": "Enabled", "pin": "5678"}}
    assert zha_lock.frames() == ["set_pin_code"] * 3
    assert zha_lock.sim.withheld == 3
    zha_lock.heal()

    # times counts frames: one lost answer, and zigpy's second attempt is answered.
    zha_lock.lose_answers("clear_pin_code", times=1)
    assert (await cluster.clear_pin_code(5)).status == foundation.Status.SUCCESS
    assert zha_lock.codes() == {}
    assert zha_lock.sim.faults == {}

    # late: carried out, answered after zigpy gave up; the answer arrives unasked.
    zha_lock.reset_frames()
    received: list[int] = []

    class Listener:
        def cluster_command(self, _tsn: int, command_id: int, _args: list[object]) -> None:
            received.append(command_id)

    cluster.add_listener(Listener())
    zha_lock.answer_late("set_pin_code", delay=0.6)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await cluster.set_pin_code(7, ENABLED, UNRESTRICTED, "2468")
    assert time.monotonic() - started < 0.6
    assert zha_lock.codes() == {8: {"status": "Enabled", "pin": "2468"}}
    assert zha_lock.frames() == ["set_pin_code"] * 3
    times = zha_lock.frame_times("set_pin_code")
    assert times == sorted(times)
    assert len(times) == 3

    # The three late answers are alike (same sequence number): zigpy passes the first on.
    await until("the late answer reaches the cluster listener", lambda: received, seconds=3)
    assert set(received) == {DoorLock.ClientCommandDefs.set_pin_code_response.id}
    with pytest.raises(ValueError, match="not a DoorLock command"):
        zha_lock.fail("open_sesame")


async def test_factory_reset_and_keypad_delete_are_reported(
    hass: HomeAssistant, zha_lock: ZhaLock
) -> None:
    received: list[tuple[int, list[object]]] = []

    class Listener:
        def cluster_command(self, _tsn: int, command_id: int, args: list[object]) -> None:
            received.append((command_id, list(args)))

    zha_lock.door_lock_cluster.add_listener(Listener())
    zha_lock.set_code(2, "1111")
    zha_lock.set_code(11, "2222")
    zha_lock.keypad_delete(2)
    assert zha_lock.codes() == {11: {"status": "Enabled", "pin": "2222"}}
    assert zha_lock.factory_reset() == [11]
    await hass.async_block_till_done()
    assert zha_lock.codes() == {}
    assert [(c, a[1], a[2]) for c, a in received] == [
        (0x21, DoorLock.ProgrammingEvent.PINCodeDeleted, 1),
        (0x21, DoorLock.ProgrammingEvent.PINCodeDeleted, 0xFFFF),  # all users
    ]
    assert received[1][1][0] == DoorLock.OperationEventSource.Manual
    assert zha_lock.frames() == []
