"""Keypad codes on Z-Wave locks, through Home Assistant's own `zwave_js` integration.

Concierge opens no connection of its own and calls no action: it works on the lock's node
on the integration's own client (zwave-js-server-python's `Node`). It sets and clears user
codes with that library's lock utilities (what the integration's `set_lock_usercode` and
`clear_lock_usercode` actions do), reads the driver's value cache, and listens to the
node's value updates (User Code CC reports: a code added, changed or deleted at the lock,
a wipe) and to `zwave_js_notification` events. An action would put its data, the PIN, on
Home Assistant's event bus (a `call_service` event, which the recorder stores).

Confirming a write costs no radio frame of ours: after a Set the driver itself re-reads
the slot once, and we wait until its cache shows the new code. When the lock (or the
connection to the Z-Wave server) comes back, the cache is read again — no frame either.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event

from .adapter import KeypadEvent, KeypadEventKind, WriteResult, back_online

_LOGGER = logging.getLogger(__name__)

EVENT_NOTIFICATION = "zwave_js_notification"
ACCESS_CONTROL = 6
KEYPAD_UNLOCK = 0x06
ALL_CODES_DELETED = 0x0C
SINGLE_CODE_DELETED = 0x0D
NEW_CODE_ADDED = 0x0E
DUPLICATE_CODE = 0x0F
KEYPAD_DISABLED = 0x10
WRONG_CODE_EVENTS = frozenset({0x13, 0x14, 0x15, 0x32})
USER_CODE_CC = 99
CONFIRM_TIMEOUT = 10.0
"""Seconds to wait for the lock to confirm a write (the driver re-reads the slot)."""
CONFIRM_POLL = 0.05
MASKED = frozenset("*")


def _event_kind(data: dict[str, Any]) -> KeypadEvent | None:  # noqa: PLR0911 - one per event
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
    if event == ALL_CODES_DELETED:
        return KeypadEvent(KeypadEventKind.ALL_CLEARED)
    if event == KEYPAD_DISABLED:
        return KeypadEvent(KeypadEventKind.KEYPAD_DISABLED)
    if event in WRONG_CODE_EVENTS:
        return KeypadEvent(KeypadEventKind.WRONG_CODE)
    return None


class ZWaveKeypad:
    """A Z-Wave lock with a keypad (User Code CC), driven through `zwave_js`."""

    protocol = "zwave"
    free_reads = True

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

    def _cached_codes(self) -> dict[int, dict[str, Any]] | None:
        """The driver's cached user codes on the integration's node (no radio frame)."""
        node = self._live_node()
        if node is None:
            return None
        from zwave_js_server.util.lock import get_usercodes  # noqa: PLC0415 - optional

        try:
            slots = get_usercodes(node)
        except Exception:  # noqa: BLE001 - a node without (readable) user codes: not known
            return None
        return {
            int(s["code_slot"]): {"in_use": s.get("in_use"), "usercode": s.get("usercode")}
            for s in slots
        }

    async def async_occupied_slots(self, slots: range) -> dict[int, bool] | None:
        """Which of `slots` the lock reports as in use (None while it is not known)."""
        codes = self._cached_codes()
        if codes is None:
            return None
        return {s: bool(codes[s]["in_use"]) for s in slots if s in codes}

    async def _async_confirm(self, slot: int, *, want_in_use: bool, pin: str | None) -> bool:
        """Wait until the driver's cache shows the slot as wanted."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONFIRM_TIMEOUT
        rejections = self._rejections
        while loop.time() < deadline:
            codes = self._cached_codes() or {}
            value = codes.get(slot)
            if self._rejections != rejections:
                return False
            if value is not None and bool(value["in_use"]) is want_in_use:
                code = str(value.get("usercode") or "")
                if pin is None or code == pin or (code and set(code) <= MASKED):
                    return True
            await asyncio.sleep(CONFIRM_POLL)
        return False

    async def _async_write(self, slot: int, pin: str | None) -> WriteResult:
        """Set (`pin`) or clear (None) `slot` on the node, then wait for the confirmation.

        As the integration's actions did: nothing is sent to a lock Home Assistant shows
        as unavailable (a dead node, or no connection to the Z-Wave server).
        """
        node = self._live_node()
        if node is None:
            _LOGGER.info("Lock %s is not reachable for a code write", self.lock_entity_id)
            return WriteResult.UNREACHABLE
        from zwave_js_server.util.lock import (  # noqa: PLC0415 - optional
            clear_usercode,
            set_usercode,
        )

        rejections = self._rejections
        try:
            if pin is None:
                await clear_usercode(node, slot)
            else:
                await set_usercode(node, slot, pin)
        except Exception as err:  # noqa: BLE001 - a lost connection raises its own errors
            # A refused duplicate may also fail the command (Supervision Fail): give its
            # notification a moment to arrive before calling the lock unreachable.
            await asyncio.sleep(0.3)
            if self._rejections != rejections:
                return WriteResult.REJECTED
            _LOGGER.info(  # the kind only: a message may quote the command (the PIN)
                "Lock %s did not take a code write (%s)", self.lock_entity_id, type(err).__name__
            )
            return WriteResult.UNREACHABLE
        if await self._async_confirm(slot, want_in_use=pin is not None, pin=pin):
            return WriteResult.CONFIRMED
        if self._rejections != rejections:
            return WriteResult.REJECTED
        return WriteResult.UNREACHABLE

    async def async_set_code(self, slot: int, pin: str) -> WriteResult:
        """Write `pin` into `slot` and wait for the lock to confirm it."""
        return await self._async_write(slot, pin)

    async def async_clear_code(self, slot: int) -> WriteResult:
        """Clear `slot` and wait for the lock to confirm it."""
        return await self._async_write(slot, None)

    def subscribe(self, listener: Callable[[KeypadEvent], None]) -> CALLBACK_TYPE:
        """Pass this lock's keypad notifications and user-code reports to `listener`."""
        return _Subscription(self, listener).unsubscribe

    @callback
    def count_rejection(self) -> None:
        """A duplicate-code notification arrived (the write in progress was refused)."""
        self._rejections += 1

    def _node(self) -> Any:  # noqa: ANN401 - zwave-js-server-python's node, typed there
        """The lock's node on the integration's client (None while it is not connected)."""
        from homeassistant.components.zwave_js.helpers import (  # noqa: PLC0415 - optional
            async_get_node_from_entity_id,
        )

        try:
            return async_get_node_from_entity_id(self.hass, self.lock_entity_id)
        except ValueError, KeyError, AttributeError:
            return None

    def _live_node(self) -> Any:  # noqa: ANN401 - zwave-js-server-python's node, typed there
        """The node, while Home Assistant shows the lock as available (else None)."""
        state = self.hass.states.get(self.lock_entity_id)
        if state is None or state.state == STATE_UNAVAILABLE:
            return None
        return self._node()


class _Subscription:
    """What one listener hears from a Z-Wave lock.

    The node's value updates come from the integration's client, which is replaced when
    the connection to the Z-Wave server is re-established: the subscription follows it,
    and what the driver's cache holds then is reported slot by slot.
    """

    def __init__(self, lock: ZWaveKeypad, listener: Callable[[KeypadEvent], None]) -> None:
        self._lock = lock
        self._listener = listener
        self._node_unsub: Callable[[], None] | None = None
        self._follow_node()
        self._unsubs = [
            lock.hass.bus.async_listen(EVENT_NOTIFICATION, self._on_notification),
            async_track_state_change_event(lock.hass, [lock.lock_entity_id], self._on_lock_state),
        ]

    @callback
    def unsubscribe(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        if self._node_unsub is not None:
            self._node_unsub()
            self._node_unsub = None

    @callback
    def _on_notification(self, event: Event) -> None:
        if event.data.get("device_id") != self._lock._device_id:  # noqa: SLF001
            return
        keypad_event = _event_kind(dict(event.data))
        if keypad_event is None:
            return
        if keypad_event.kind is KeypadEventKind.CODE_REJECTED:
            self._lock.count_rejection()
        self._listener(keypad_event)

    @callback
    def _on_value(self, event: dict[str, Any]) -> None:
        report = _slot_report(event.get("args") or {})
        if report is not None:
            self._listener(report)

    @callback
    def _follow_node(self) -> None:
        if self._node_unsub is not None:
            self._node_unsub()
            self._node_unsub = None
        node = self._lock._node()  # noqa: SLF001
        if node is not None:
            self._node_unsub = node.on("value updated", self._on_value)

    @callback
    def _on_lock_state(self, event: Event[EventStateChangedData]) -> None:
        if back_online(event, following=self._node_unsub is not None):
            self._follow_node()
            self._lock.hass.async_create_task(self._async_resync(), eager_start=False)

    async def _async_resync(self) -> None:
        codes = self._lock._cached_codes()  # noqa: SLF001
        for slot, value in (codes or {}).items():
            in_use = bool(value.get("in_use"))
            code = str(value.get("usercode") or "")
            known = code if in_use and code and not set(code) <= MASKED else None
            self._listener(
                KeypadEvent(KeypadEventKind.SLOT_CHANGED, slot, occupied=in_use, code=known)
            )
        self._listener(KeypadEvent(KeypadEventKind.RESYNC))


def _slot_report(args: dict[str, Any]) -> KeypadEvent | None:  # noqa: PLR0911 - one per case
    """Turn a User Code CC value update into a report about one slot."""
    if args.get("commandClass") != USER_CODE_CC:
        return None
    slot = args.get("propertyKey")
    if not isinstance(slot, int):
        return None
    value = args.get("newValue")
    if args.get("property") == "userIdStatus":
        if not isinstance(value, int):
            return None
        return KeypadEvent(KeypadEventKind.SLOT_CHANGED, slot, occupied=value != 0)
    if args.get("property") == "userCode":
        code = str(value or "")
        if not code:
            return KeypadEvent(KeypadEventKind.SLOT_CHANGED, slot, occupied=False)
        known = None if set(code) <= MASKED else code
        return KeypadEvent(KeypadEventKind.SLOT_CHANGED, slot, occupied=True, code=known)
    return None
