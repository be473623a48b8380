"""How each protocol's lock reports are read, and adapters for locks that are not there.

The report payloads are the ones the real integrations fire (captured on the rigs:
zwave_js_notification from Z-Wave JS, zha_event from ZHA).
"""

from typing import Any

import pytest
from homeassistant.core import HomeAssistant

from custom_components.concierge.keypad.adapter import KeypadEvent, KeypadEventKind, WriteResult
from custom_components.concierge.keypad.zha import ZhaKeypad
from custom_components.concierge.keypad.zha import _event_kind as zha_event
from custom_components.concierge.keypad.zwave import ZWaveKeypad
from custom_components.concierge.keypad.zwave import _event_kind as zwave_event


def access_control(event: int, **parameters: Any) -> dict[str, Any]:
    return {"command_class": 113, "type": 6, "event": event, "parameters": parameters}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (access_control(6, userId=11), KeypadEvent(KeypadEventKind.UNLOCK, 11)),
        (access_control(6), KeypadEvent(KeypadEventKind.UNLOCK, None)),
        (access_control(0x0F), KeypadEvent(KeypadEventKind.CODE_REJECTED)),
        (access_control(0x10), KeypadEvent(KeypadEventKind.KEYPAD_DISABLED)),
        (access_control(0x13), KeypadEvent(KeypadEventKind.WRONG_CODE)),
        (access_control(0x01), None),  # manual lock
        ({"command_class": 113, "type": 7, "event": 3, "parameters": {}}, None),  # burglar
    ],
)
def test_zwave_notifications(data: dict[str, Any], expected: KeypadEvent | None) -> None:
    assert zwave_event(data) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"source": "Keypad", "operation": "Unlock", "code_slot": 11},
         KeypadEvent(KeypadEventKind.UNLOCK, 11)),
        ({"source": "Keypad", "operation": "UnlockFailureInvalidPINorID", "code_slot": 65536},
         KeypadEvent(KeypadEventKind.WRONG_CODE)),
        ({"source": "Manual", "operation": "Unlock", "code_slot": 65536}, None),
        ({"source": "Keypad", "operation": "Lock", "code_slot": 11}, None),
    ],
)  # fmt: skip
def test_zha_operation_events(args: dict[str, Any], expected: KeypadEvent | None) -> None:
    assert zha_event(args) == expected


async def test_adapters_of_locks_whose_integration_is_not_running(hass: HomeAssistant) -> None:
    """No zwave_js or zha loaded: nothing is sent, the lock counts as unreachable."""
    zwave = ZWaveKeypad(hass, "lock.front_door", "device-1")
    assert await zwave.async_occupied_slots(range(10, 12)) is None
    assert await zwave.async_set_code(10, "1234") is WriteResult.UNREACHABLE
    zha = ZhaKeypad(hass, "lock.back_door", None)
    assert await zha.async_occupied_slots(range(10, 12)) is None
    assert await zha.async_clear_code(10) is WriteResult.UNREACHABLE
    seen: list[KeypadEvent] = []
    unsubscribe = zha.subscribe(seen.append)
    hass.bus.async_fire("zha_event", {"device_id": "other", "command": "x"})
    hass.bus.async_fire("zha_event", {"device_id": None, "command": "attribute_updated"})
    unsubscribe()
    unsubscribe_zwave = zwave.subscribe(seen.append)
    hass.bus.async_fire("zwave_js_notification", {"device_id": "other", **access_control(6)})
    hass.bus.async_fire("zwave_js_notification", {"device_id": "device-1", **access_control(1)})
    await hass.async_block_till_done()
    unsubscribe_zwave()
    assert seen == []


def test_zha_response_status() -> None:
    class Response:
        def __init__(self, status: int) -> None:
            self.status = status

    assert ZhaKeypad._result(Response(0)) is WriteResult.CONFIRMED
    assert ZhaKeypad._result(Response(3)) is WriteResult.REJECTED
    assert ZhaKeypad._result([0, None]) is WriteResult.CONFIRMED  # a default response
    assert ZhaKeypad._result(None) is WriteResult.UNREACHABLE
