"""Keypad codes on Z-Wave locks, through Home Assistant's own `zwave_js` integration.

Concierge opens no connection of its own: it calls the integration's actions
(`zwave_js.set_lock_usercode`, `clear_lock_usercode`, `get_lock_usercode`) and listens
to its `zwave_js_notification` events. `get_lock_usercode` answers from the driver's
value cache, so confirming a write costs no radio frame of ours: after a Set the
driver itself re-reads the slot once, and we wait until its cache shows the new code.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from .adapter import KeypadEvent, KeypadEventKind, WriteResult

_LOGGER = logging.getLogger(__name__)

ZWAVE = "zwave_js"
EVENT_NOTIFICATION = "zwave_js_notification"
ACCESS_CONTROL = 6
KEYPAD_UNLOCK = 0x06
DUPLICATE_CODE = 0x0F
KEYPAD_DISABLED = 0x10
WRONG_CODE_EVENTS = frozenset({0x13, 0x14, 0x15, 0x32})
CONFIRM_TIMEOUT = 10.0
"""Seconds to wait for the lock to confirm a write (the driver re-reads the slot)."""
CONFIRM_POLL = 0.05
MASKED = frozenset("*")


def _event_kind(data: dict[str, Any]) -> KeypadEvent | None:
    """Turn a Notification CC Access Control report into a keypad event."""
    if data.get("type") != ACCESS_CONTROL:
        return None
    event = data.get("event")
    parameters = data.get("parameters") or {}
    slot = parameters.get("userId") if isinstance(parameters, dict) else None
    if event == KEYPAD_UNLOCK:
        return KeypadEvent(KeypadEventKind.UNLOCK, slot if isinstance(slot, int) else None)
    if event == DUPLICATE_CODE:
        return KeypadEvent(KeypadEventKind.CODE_REJECTED)
    if event == KEYPAD_DISABLED:
        return KeypadEvent(KeypadEventKind.KEYPAD_DISABLED)
    if event in WRONG_CODE_EVENTS:
        return KeypadEvent(KeypadEventKind.WRONG_CODE)
    return None


class ZWaveKeypad:
    """A Z-Wave lock with a keypad (User Code CC), driven through `zwave_js`."""

    protocol = "zwave"

    def __init__(self, hass: HomeAssistant, lock_entity_id: str, device_id: str | None) -> None:
        """Wrap the lock entity; `device_id` tells its notifications apart."""
        self.hass = hass
        self.lock_entity_id = lock_entity_id
        self._device_id = device_id
        self._rejections = 0

    @classmethod
    def for_entity(cls, hass: HomeAssistant, entry: er.RegistryEntry) -> ZWaveKeypad:
        """Build the adapter of a registered `zwave_js` lock entity."""
        return cls(hass, entry.entity_id, entry.device_id)

    async def _async_cached_codes(self) -> dict[int, dict[str, Any]] | None:
        """The driver's cached user codes, read through the integration (no radio)."""
        try:
            response = await self.hass.services.async_call(
                ZWAVE,
                "get_lock_usercode",
                {ATTR_ENTITY_ID: self.lock_entity_id},
                blocking=True,
                return_response=True,
            )
        except HomeAssistantError:
            return None
        codes = (response or {}).get(self.lock_entity_id)
        if not isinstance(codes, dict):
            return None
        return {int(slot): value for slot, value in codes.items() if isinstance(value, dict)}

    async def async_occupied_slots(self, slots: range) -> dict[int, bool] | None:
        """Which of `slots` the lock reports as in use (None while it is not known)."""
        codes = await self._async_cached_codes()
        if codes is None:
            return None
        return {s: bool(codes[s]["in_use"]) for s in slots if s in codes}

    async def _async_confirm(self, slot: int, *, want_in_use: bool, pin: str | None) -> bool:
        """Wait until the driver's cache shows the slot as wanted."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONFIRM_TIMEOUT
        rejections = self._rejections
        while loop.time() < deadline:
            codes = await self._async_cached_codes() or {}
            value = codes.get(slot)
            if self._rejections != rejections:
                return False
            if value is not None and bool(value["in_use"]) is want_in_use:
                code = str(value.get("usercode") or "")
                if pin is None or code == pin or (code and set(code) <= MASKED):
                    return True
            await asyncio.sleep(CONFIRM_POLL)
        return False

    async def _async_write(
        self, service: str, data: dict[str, Any], slot: int, pin: str | None
    ) -> WriteResult:
        rejections = self._rejections
        try:
            await self.hass.services.async_call(
                ZWAVE, service, {ATTR_ENTITY_ID: self.lock_entity_id, **data}, blocking=True
            )
        except HomeAssistantError as err:
            # A refused duplicate may also fail the command (Supervision Fail): give its
            # notification a moment to arrive before calling the lock unreachable.
            await asyncio.sleep(0.3)
            if self._rejections != rejections:
                return WriteResult.REJECTED
            _LOGGER.info("Lock %s did not take a code write: %s", self.lock_entity_id, err)
            return WriteResult.UNREACHABLE
        if await self._async_confirm(slot, want_in_use=pin is not None, pin=pin):
            return WriteResult.CONFIRMED
        if self._rejections != rejections:
            return WriteResult.REJECTED
        return WriteResult.UNREACHABLE

    async def async_set_code(self, slot: int, pin: str) -> WriteResult:
        """Write `pin` into `slot` and wait for the lock to confirm it."""
        return await self._async_write(
            "set_lock_usercode", {"code_slot": slot, "usercode": pin}, slot, pin
        )

    async def async_clear_code(self, slot: int) -> WriteResult:
        """Clear `slot` and wait for the lock to confirm it."""
        return await self._async_write("clear_lock_usercode", {"code_slot": slot}, slot, None)

    def subscribe(self, listener: Callable[[KeypadEvent], None]) -> CALLBACK_TYPE:
        """Pass this lock's keypad notifications to `listener`."""

        @callback
        def _on_notification(event: Event) -> None:
            if event.data.get("device_id") != self._device_id:
                return
            keypad_event = _event_kind(dict(event.data))
            if keypad_event is None:
                return
            if keypad_event.kind is KeypadEventKind.CODE_REJECTED:
                self._rejections += 1
            listener(keypad_event)

        return self.hass.bus.async_listen(EVENT_NOTIFICATION, _on_notification)
