"""What every keypad-lock adapter offers the keypad manager."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from homeassistant.core import CALLBACK_TYPE


class WriteResult(StrEnum):
    """How a code write ended."""

    CONFIRMED = "confirmed"
    """The lock acknowledged it and reports the slot as we wanted."""
    REJECTED = "rejected"
    """The lock refused it (a duplicate code, say); do not retry."""
    UNREACHABLE = "unreachable"
    """No answer (offline, asleep, jammed radio): retry later."""


class KeypadEventKind(StrEnum):
    """What a lock reported on its own."""

    UNLOCK = "unlock"
    """Unlocked from the keypad with the code in `slot`."""
    WRONG_CODE = "wrong_code"
    KEYPAD_DISABLED = "keypad_disabled"
    """The lock locked its keypad after too many wrong codes."""
    CODE_REJECTED = "code_rejected"
    """A code was not added because it duplicates another."""


@dataclass(frozen=True, slots=True)
class KeypadEvent:
    """One report from a lock, protocol details removed."""

    kind: KeypadEventKind
    slot: int | None = None


class KeypadAdapter(Protocol):
    """A lock whose keypad codes Concierge can set, clear and read from local memory."""

    protocol: str
    lock_entity_id: str

    async def async_occupied_slots(self, slots: range) -> dict[int, bool] | None:
        """Which slots hold a code, from the integration's cache (no radio); None if unknown."""

    async def async_set_code(self, slot: int, pin: str) -> WriteResult:
        """Write a code and wait for the lock to confirm it."""

    async def async_clear_code(self, slot: int) -> WriteResult:
        """Clear a slot and wait for the lock to confirm it."""

    def subscribe(self, listener: Callable[[KeypadEvent], None]) -> CALLBACK_TYPE:
        """Call `listener` with each event the lock reports; returns the unsubscribe."""
