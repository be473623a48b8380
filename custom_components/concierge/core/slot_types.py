"""The vocabulary of lock slots: what a slot is known to hold, and the commands that change it.

Shared by the slot rules (`slots`, `slot_knowledge`, `code_status`). A slot's known state
never holds a PIN: only whose code it is and a keyed fingerprint of it (`fingerprints`).
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from . import _parse
from .errors import ConciergeError

_WHAT = "slot"


class SlotStatus(StrEnum):
    """What Concierge knows about one slot of a lock."""

    EMPTY = "empty"
    OURS = "ours"
    """Holds the code of a grant (confirmed by the lock)."""
    FOREIGN = "foreign"
    """Holds a code Concierge did not put there; never touched."""
    UNKNOWN = "unknown"
    """Not yet seen; treated like foreign until the lock reports it."""
    UNSETTLED = "unsettled"
    """A write of ours whose outcome is unknown: it may hold `grant`'s code, or not.

    Never taken for empty: it is settled by writing it again (the grant still wants it)
    or clearing it (it does not), or by what the lock reports about it.
    """


HELD = frozenset({SlotStatus.OURS, SlotStatus.UNSETTLED})
"""Slot states in which a code of ours is (or may be) on the lock."""


class WriteResult(StrEnum):
    """How a code write ended, as far as anyone can tell."""

    CONFIRMED = "confirmed"
    """The lock acknowledged it and reports the slot as we wanted."""
    REJECTED = "rejected"
    """The lock answered that it did not do it (a duplicate code, a failed clear)."""
    UNREACHABLE = "unreachable"
    """No answer (offline, asleep, connection lost): the outcome is unknown."""


@dataclass(frozen=True, slots=True)
class SlotRange:
    """The slots of one lock that Concierge may write (inclusive)."""

    first: int
    last: int

    def __post_init__(self) -> None:
        """Check the range."""
        if (
            type(self.first) is not int
            or type(self.last) is not int
            or not (1 <= self.first <= self.last)
        ):
            raise ConciergeError(
                translation_key="invalid_slot_range",
                placeholders={"first": str(self.first), "last": str(self.last)},
            )

    def __contains__(self, slot: object) -> bool:
        """Whether a slot is managed."""
        return type(slot) is int and self.first <= slot <= self.last

    def __iter__(self) -> Iterator[int]:
        """Every managed slot, in order."""
        return iter(range(self.first, self.last + 1))


@dataclass(frozen=True, slots=True)
class KnownSlot:
    """The last confirmed state of a slot (no PIN, only whose it is)."""

    status: SlotStatus
    grant: str | None = None
    code_fingerprint: str | None = None

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage."""
        return {"status": self.status.value, "grant": self.grant, "fp": self.code_fingerprint}

    @classmethod
    def from_dict(cls, data: object) -> KnownSlot:
        """Rebuild from `to_dict` output."""
        obj = _parse.as_mapping(data, _WHAT)
        return cls(
            status=_parse.get_enum(obj, "status", SlotStatus, _WHAT),
            grant=_parse.get_opt_str(obj, "grant", _WHAT),
            code_fingerprint=_parse.get_opt_str(obj, "fp", _WHAT),
        )


@dataclass(frozen=True, slots=True)
class WantedCode:
    """A grant's PIN that should be on a lock now."""

    grant: str
    pin: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SetCode:
    """Write `pin` into `slot` for `grant`."""

    slot: int
    grant: str
    pin: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ClearCode:
    """Clear `slot` (it holds a code of ours that is no longer wanted)."""

    slot: int
    grant: str | None


type SlotCommand = SetCode | ClearCode


@dataclass(frozen=True, slots=True)
class SlotReport:
    """What a lock reported on its own about one of its slots (never the PIN).

    `code_fingerprint` is the keyed fingerprint of the code it reported, when it said
    which (a masked code says nothing). `by_us` says whether the change came over the
    radio from a controller (True), from the lock's own keypad or menu (False), or
    cannot be told (None).
    """

    slot: int
    occupied: bool
    code_fingerprint: str | None = None
    by_us: bool | None = None
