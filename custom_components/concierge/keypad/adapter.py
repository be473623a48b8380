"""What every keypad-lock adapter offers the keypad manager."""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData

from ..core.slots import WriteResult

__all__ = ["KeypadAdapter", "KeypadEvent", "KeypadEventKind", "WriteResult", "back_online"]


class KeypadEventKind(StrEnum):
    """What a lock reported on its own."""

    UNLOCK = "unlock"
    """Unlocked from the keypad with the code in `slot`."""
    WRONG_CODE = "wrong_code"
    KEYPAD_DISABLED = "keypad_disabled"
    """The lock locked its keypad after too many wrong codes."""
    CODE_REJECTED = "code_rejected"
    """A code was not added because it duplicates another."""
    SLOT_CHANGED = "slot_changed"
    """A code was added, changed or deleted in `slot` (at the lock, or by anyone)."""
    ALL_CLEARED = "all_cleared"
    """The lock deleted every code (a factory reset, say)."""
    RESYNC = "resync"
    """The lock is reachable again: what it holds may have changed meanwhile."""


@dataclass(frozen=True, slots=True)
class KeypadEvent:
    """One report from a lock, protocol details removed.

    `code` is the code a lock reported for a changed slot, when it said it (kept only
    long enough to fingerprint it; never shown).
    """

    kind: KeypadEventKind
    slot: int | None = None
    occupied: bool | None = None
    code: str | None = field(default=None, repr=False)
    by_us: bool | None = None


class KeypadAdapter(Protocol):
    """A lock whose keypad codes Concierge can set, clear and read from local memory."""

    protocol: str
    lock_entity_id: str
    free_reads: bool
    """Whether reading the slots costs no radio frame (the integration caches them)."""

    async def async_occupied_slots(self, slots: range) -> dict[int, bool] | None:
        """Which slots hold a code (None if unknown)."""

    async def async_set_code(self, slot: int, pin: str) -> WriteResult:
        """Write a code and wait for the lock to confirm it."""

    async def async_clear_code(self, slot: int) -> WriteResult:
        """Clear a slot and wait for the lock to confirm it."""

    def subscribe(self, listener: Callable[[KeypadEvent], None]) -> CALLBACK_TYPE:
        """Call `listener` with each event the lock reports; returns the unsubscribe."""


def back_online(event: Event[EventStateChangedData], *, following: bool) -> bool:
    """Whether a lock entity's change means it is reachable again.

    True when it leaves `unavailable`, when it first appears, or when a subscription is
    not `following` the integration's device yet (it was not ready before).
    """
    new, old = event.data["new_state"], event.data["old_state"]
    if new is None or new.state == STATE_UNAVAILABLE:
        return False
    return old is None or old.state == STATE_UNAVAILABLE or not following
