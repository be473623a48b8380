"""Keypad codes on Zigbee locks, through Home Assistant's own `zha` integration.

ZHA's `set_lock_user_code` action ignores the lock's answer, so Concierge sends the
DoorLock commands itself, on the zigpy device that ZHA already runs (its device proxy:
no second radio connection), and reads the lock's response status: a write counts only
when the lock says success, and a failure status (a duplicate PIN, say) is a rejection.
zigpy is imported only when a Zigbee lock is in use, so homes without ZHA need nothing.
No action is called, so no PIN is fired on Home Assistant's event bus (as an action's
`call_service` event) or stored by its recorder.

ZHA turns only operation events into `zha_event`s; the lock's programming event
notifications (a code added, changed or deleted at the lock, every code deleted) are
heard as a listener on the same zigpy cluster — no polling, no extra frame.

ZHA numbers code slots from 1; the DoorLock cluster numbers users from 0
(`user_id = slot - 1`), and `zha_event` reports `code_slot = user_id + 1`.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

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

DOOR_LOCK_CLUSTER = 0x0101
REQUEST_TIMEOUT = 10.0
"""Seconds to wait for the lock's answer before calling it unreachable."""
WRONG_CODE_OPERATIONS = frozenset({"UnlockFailureInvalidPINorID", "LockFailureInvalidPINorID"})
STATUS_AVAILABLE = 0
PROGRAMMING_EVENT = 0x21
"""`programming_event_notification`, a client command of the DoorLock cluster."""
ALL_USERS = 0xFFFF
CODE_ADDED = frozenset({2, 4})
"""ProgrammingEvent PINCodeAdded, PINCodeChanged (MasterCodeChanged is not a user code)."""
CODE_DELETED = 3
SOURCE_RF = 1
"""OperationEventSource: the change came over the radio (from a controller)."""


def _programming_event(args: list[Any]) -> KeypadEvent | None:
    """Turn a `programming_event_notification` into a keypad event."""
    try:
        source, code, user_id = int(args[0]), int(args[1]), int(args[2])
    except IndexError, TypeError, ValueError:
        return None
    if code == CODE_DELETED and user_id == ALL_USERS:
        return KeypadEvent(KeypadEventKind.ALL_CLEARED)
    if code == CODE_DELETED:
        return KeypadEvent(KeypadEventKind.SLOT_CHANGED, user_id + 1, occupied=False)
    if code in CODE_ADDED:
        # Over the radio it may be our own write's echo: the write's answer decides.
        return KeypadEvent(
            KeypadEventKind.SLOT_CHANGED, user_id + 1, occupied=True,
            by_us=None if source == SOURCE_RF else False,
        )  # fmt: skip
    return None


def _event_kind(args: dict[str, Any]) -> KeypadEvent | None:
    """Turn an `operation_event_notification` into a keypad event."""
    operation = str(args.get("operation", ""))
    if operation in WRONG_CODE_OPERATIONS:
        return KeypadEvent(KeypadEventKind.WRONG_CODE)
    if operation == "Unlock" and args.get("source") == "Keypad":
        slot = args.get("code_slot")
        return KeypadEvent(KeypadEventKind.UNLOCK, slot if isinstance(slot, int) else None)
    return None


class ZhaKeypad:
    """A Zigbee lock with a keypad (DoorLock cluster PIN codes), driven through `zha`."""

    protocol = "zigbee"
    free_reads = False

    def __init__(self, hass: HomeAssistant, lock_entity_id: str, device_id: str | None) -> None:
        """Wrap the lock entity; `device_id` finds its zigpy device and events."""
        self.hass = hass
        self.lock_entity_id = lock_entity_id
        self._device_id = device_id

    @classmethod
    def for_entity(cls, hass: HomeAssistant, entry: er.RegistryEntry) -> ZhaKeypad:
        """Build the adapter of a registered `zha` lock entity."""
        return cls(hass, entry.entity_id, entry.device_id)

    def _cluster(self) -> Any:  # noqa: ANN401 - zigpy's cluster, typed by zigpy only when present
        """The lock's DoorLock cluster on ZHA's zigpy device (None while ZHA is not ready)."""
        if self._device_id is None:
            return None
        from homeassistant.components.zha.helpers import (  # noqa: PLC0415 - ZHA is optional
            async_get_zha_device_proxy,
        )

        try:
            proxy = async_get_zha_device_proxy(self.hass, self._device_id)
        except KeyError, ValueError, StopIteration, LookupError:
            return None
        for endpoint_id, endpoint in proxy.device.device.endpoints.items():
            if endpoint_id and DOOR_LOCK_CLUSTER in getattr(endpoint, "in_clusters", {}):
                return endpoint.in_clusters[DOOR_LOCK_CLUSTER]
        return None  # pragma: no cover - ZHA made a lock entity, so the cluster exists

    async def _async_request(self, command: str, *args: object) -> Any | None:  # noqa: ANN401
        cluster = self._cluster()
        if cluster is None:
            return None
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return await getattr(cluster, command)(*args)
        except (TimeoutError, OSError, RuntimeError, ValueError) as err:
            _LOGGER.info(
                "Lock %s did not answer %s (%s)", self.lock_entity_id, command, type(err).__name__
            )
            return None
        except Exception as err:  # noqa: BLE001 - zigpy's DeliveryError and friends
            _LOGGER.info(
                "Lock %s did not answer %s (%s)", self.lock_entity_id, command, type(err).__name__
            )
            return None

    async def async_occupied_slots(self, slots: range) -> dict[int, bool] | None:
        """Ask the lock which slots hold a code (one read per slot, once per lock)."""
        occupied: dict[int, bool] = {}
        for slot in slots:
            response = await self._async_request("get_pin_code", slot - 1)
            if response is None or not hasattr(response, "user_status"):
                return None
            occupied[slot] = int(response.user_status) != STATUS_AVAILABLE
        return occupied

    @staticmethod
    def _result(response: Any) -> WriteResult:  # noqa: ANN401
        if response is None:
            return WriteResult.UNREACHABLE
        status = getattr(response, "status", None)
        if status is None and isinstance(response, list | tuple) and response:
            status = response[0]
        return WriteResult.CONFIRMED if int(status or 0) == 0 else WriteResult.REJECTED

    async def async_set_code(self, slot: int, pin: str) -> WriteResult:
        """Write `pin` for user `slot - 1`; the lock's response status decides."""
        from zigpy.zcl.clusters.closures import DoorLock  # noqa: PLC0415 - ZHA is optional

        response = await self._async_request(
            "set_pin_code",
            slot - 1,
            DoorLock.UserStatus.Enabled,
            DoorLock.UserType.Unrestricted,
            pin,
        )
        return self._result(response)

    async def async_clear_code(self, slot: int) -> WriteResult:
        """Clear user `slot - 1`; the lock's response status decides."""
        return self._result(await self._async_request("clear_pin_code", slot - 1))

    def subscribe(self, listener: Callable[[KeypadEvent], None]) -> CALLBACK_TYPE:
        """Pass this lock's keypad operation and programming events to `listener`."""
        return _Subscription(self, listener).unsubscribe


class _Subscription:
    """What one listener hears from a Zigbee lock.

    Operation events arrive as ZHA's `zha_event`s; programming events are heard on the
    zigpy cluster itself (zigpy calls `cluster_command` on its listeners). When the lock
    comes back after being unavailable, `RESYNC` says so, and the cluster listener is
    attached again (ZHA may have been reloaded meanwhile).
    """

    def __init__(self, lock: ZhaKeypad, listener: Callable[[KeypadEvent], None]) -> None:
        self._lock = lock
        self._listener = listener
        self._cluster: Any = None
        self._attach()
        self._unsubs = [
            lock.hass.bus.async_listen("zha_event", self._on_zha_event),
            async_track_state_change_event(lock.hass, [lock.lock_entity_id], self._on_lock_state),
        ]

    @callback
    def unsubscribe(self) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._detach()

    def _attach(self) -> None:
        self._detach()
        self._cluster = self._lock._cluster()  # noqa: SLF001
        if self._cluster is not None:
            self._cluster.add_listener(self)

    def _detach(self) -> None:
        if self._cluster is not None:
            self._cluster.remove_listener(self)
            self._cluster = None

    def cluster_command(self, _tsn: int, command_id: int, args: list[Any]) -> None:
        """A command from the lock's DoorLock cluster (zigpy's listener call)."""
        if command_id != PROGRAMMING_EVENT:
            return
        keypad_event = _programming_event(list(args))
        if keypad_event is not None:
            self._listener(keypad_event)

    @callback
    def _on_zha_event(self, event: Event) -> None:
        if event.data.get("device_id") != self._lock._device_id:  # noqa: SLF001
            return
        if event.data.get("command") != "operation_event_notification":
            return
        keypad_event = _event_kind(dict(event.data.get("args") or {}))
        if keypad_event is not None:
            self._listener(keypad_event)

    @callback
    def _on_lock_state(self, event: Event[EventStateChangedData]) -> None:
        if back_online(event, following=self._cluster is not None):
            self._attach()
            self._listener(KeypadEvent(KeypadEventKind.RESYNC))
