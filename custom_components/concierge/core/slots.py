"""Keypad codes in lock slots: which PIN belongs in which slot, and what to send to get there.

The same rules serve every protocol (Z-Wave, Zigbee); only the adapter that carries
out a `SetCode` or `ClearCode` differs. They answer the field's most common complaints:

- Concierge writes only inside a lock's managed slot range, and never overwrites a
  code it did not put there (`foreign` slots are reported, not touched).
- A write happens only where desired and known state differ; nothing is read or
  re-written periodically, and a restart changes nothing (the known state is stored).
- A code the lock rejects (a duplicate, say) is not retried: the grant is marked
  `rejected` until its PIN or window changes.
- A lock that does not answer is retried with a growing delay (`retry_delay`).

The PIN itself is never stored in the known state: a slot records which grant's code
it holds and a fingerprint of that code, so a changed PIN is noticed without the
state holding secrets.
"""

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from . import _parse
from .errors import ConciergeError

_WHAT = "slot"
RETRY_DELAYS: tuple[int, ...] = (10, 30, 60, 300, 900, 3600)
"""Seconds to wait before the n-th retry of a lock that did not answer (then hourly)."""


class SlotStatus(StrEnum):
    """What Concierge knows about one slot of a lock."""

    EMPTY = "empty"
    OURS = "ours"
    """Holds the code of a grant (confirmed by the lock)."""
    FOREIGN = "foreign"
    """Holds a code Concierge did not put there; never touched."""
    UNKNOWN = "unknown"
    """Not yet seen; treated like foreign until the lock reports it."""


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


def fingerprint(pin: str, salt: str) -> str:
    """A one-way fingerprint of a PIN, salted per lock, to notice a changed PIN."""
    return hashlib.sha256(f"{salt}:{pin}".encode()).hexdigest()[:16]


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
class LockPlan:
    """What to send to one lock, and what to tell the owner."""

    commands: tuple[SlotCommand, ...]
    assignments: Mapping[str, int]
    """Grant → slot, after this plan (stable: a grant keeps its slot)."""
    no_free_slot: tuple[str, ...] = ()
    """Grants that want a code but found no free managed slot."""
    foreign_slots: tuple[int, ...] = ()
    """Managed slots holding codes Concierge did not write."""


def plan_lock(  # noqa: PLR0913 - the lock's whole situation, by keyword
    *,
    managed: SlotRange,
    known: Mapping[int, KnownSlot],
    assignments: Mapping[str, int],
    wanted: Iterable[WantedCode],
    rejected: frozenset[str] = frozenset(),
    salt: str,
) -> LockPlan:
    """Decide the commands that bring one lock from its known state to the wanted codes.

    `assignments` are the slots grants held before; a grant keeps its slot while it
    wants a code. Grants in `rejected` are left alone (no retry loop). Slots outside
    `managed` are never named in a command.
    """
    wanted_by_grant = {w.grant: w for w in wanted if w.grant not in rejected}
    new_assignments: dict[str, int] = {}
    commands: list[SlotCommand] = []
    foreign = tuple(
        slot
        for slot in managed
        if (state := known.get(slot)) is not None and state.status is SlotStatus.FOREIGN
    )

    # Codes of ours that are no longer wanted (or moved to another grant) are cleared.
    for managed_slot in managed:
        state = known.get(managed_slot)
        if state is None or state.status is not SlotStatus.OURS:
            continue
        want = wanted_by_grant.get(state.grant or "")
        if want is None or assignments.get(want.grant, managed_slot) != managed_slot:
            commands.append(ClearCode(managed_slot, state.grant))

    taken = {
        slot
        for slot in managed
        if (state := known.get(slot)) is not None and state.status is not SlotStatus.EMPTY
    }
    taken -= {c.slot for c in commands}
    for grant_id, slot in assignments.items():
        if grant_id in wanted_by_grant and slot in managed and slot not in foreign:
            new_assignments[grant_id] = slot
            taken.add(slot)

    missing: list[str] = []
    for grant_id in sorted(wanted_by_grant):
        want = wanted_by_grant[grant_id]
        found = new_assignments.get(grant_id)
        if found is None:
            # Only a slot the lock reported empty: an unseen slot may hold someone's code.
            found = next((s for s in managed if s not in taken and s in known), None)
            if found is None:
                missing.append(grant_id)
                continue
            new_assignments[grant_id] = found
            taken.add(found)
        slot = found
        state = known.get(slot, KnownSlot(SlotStatus.EMPTY))
        fp = fingerprint(want.pin, salt)
        if (
            state.status is SlotStatus.OURS
            and state.grant == grant_id
            and state.code_fingerprint == fp
        ):
            continue
        commands = [c for c in commands if c.slot != slot]
        commands.append(SetCode(slot, grant_id, want.pin))
    # Clears first, then sets, each in slot order: a moved code never exists twice.
    commands.sort(key=lambda c: (isinstance(c, SetCode), c.slot))
    return LockPlan(
        commands=tuple(commands),
        assignments=new_assignments,
        no_free_slot=tuple(missing),
        foreign_slots=foreign,
    )


def after_set(known: Mapping[int, KnownSlot], cmd: SetCode, salt: str) -> dict[int, KnownSlot]:
    """The known state once the lock confirmed `cmd`."""
    return {
        **known,
        cmd.slot: KnownSlot(SlotStatus.OURS, cmd.grant, fingerprint(cmd.pin, salt)),
    }


def after_clear(known: Mapping[int, KnownSlot], cmd: ClearCode) -> dict[int, KnownSlot]:
    """The known state once the lock confirmed `cmd`."""
    return {**known, cmd.slot: KnownSlot(SlotStatus.EMPTY)}


def observe(
    known: Mapping[int, KnownSlot], slot: int, *, occupied: bool, ours: KnownSlot | None = None
) -> dict[int, KnownSlot]:
    """Adopt what the lock itself reported about a slot.

    An occupied slot that Concierge did not confirm writing becomes `foreign`; one that
    Concierge wrote (`ours`, from our own records) stays ours.
    """
    if not occupied:
        return {**known, slot: KnownSlot(SlotStatus.EMPTY)}
    current = known.get(slot)
    if current is not None and current.status is SlotStatus.OURS:
        return dict(known)
    if ours is not None:
        return {**known, slot: ours}
    return {**known, slot: KnownSlot(SlotStatus.FOREIGN)}


def retry_delay(attempt: int) -> int:
    """Seconds before retry number `attempt` (1-based) of a lock that did not answer."""
    index = max(attempt, 1) - 1
    return RETRY_DELAYS[min(index, len(RETRY_DELAYS) - 1)]


def grant_for_slot(assignments: Mapping[str, int], slot: int) -> str | None:
    """Which grant's code is in `slot` (for attributing a keypad unlock)."""
    return next((grant for grant, s in assignments.items() if s == slot), None)


@dataclass(frozen=True, slots=True)
class AttackWatch:
    """Counts wrong keypad codes in a sliding window of time."""

    threshold: int = 5
    window_seconds: int = 300
    attempts: tuple[float, ...] = ()

    def record(self, at: float) -> tuple[AttackWatch, bool]:
        """Record a wrong code at `at` (seconds); say whether this crosses the threshold.

        The alarm fires once when the count reaches the threshold, then again only
        after the window has emptied.
        """
        recent = (*(t for t in self.attempts if at - t < self.window_seconds), at)
        return replace(self, attempts=recent), len(recent) == self.threshold
