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


class CodeStatus(StrEnum):
    """A grant's code at one door, as the grant's sensor shows it."""

    PROGRAMMED = "programmed"
    PENDING = "pending"
    """Wanted on the lock, not confirmed there yet."""
    REJECTED = "rejected"
    NO_FREE_SLOT = "no_free_slot"
    NOT_REMOVED = "not_removed"
    """The code is, or may still be, on the lock although it is no longer wanted."""


class DoorCodes(StrEnum):
    """How one keypad lock's codes stand, as the door's sensor shows it."""

    IN_SYNC = "in_sync"
    PENDING = "pending"
    NOT_REMOVED = "not_removed"


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


def _adopt(
    managed: SlotRange,
    known: Mapping[int, KnownSlot],
    assignments: Mapping[str, int],
    wanted: Mapping[str, WantedCode],
) -> dict[str, int]:
    """Slots of wanted grants: the one holding (or maybe holding) their code, else the last.

    No slot is given to two grants.
    """
    adopted: dict[str, int] = {}
    for slot in managed:
        state = known.get(slot)
        if state is None or state.status not in HELD or state.grant is None:
            continue
        if state.grant in wanted:
            adopted.setdefault(state.grant, slot)
    for grant_id, slot in assignments.items():
        if grant_id not in adopted and slot not in adopted.values():
            adopted[grant_id] = slot
    return adopted


def plan_lock(  # noqa: PLR0913 - the lock's whole situation, by keyword
    *,
    managed: SlotRange,
    known: Mapping[int, KnownSlot],
    assignments: Mapping[str, int],
    wanted: Iterable[WantedCode],
    rejected: frozenset[str] = frozenset(),
    hold: frozenset[int] = frozenset(),
    salt: str,
) -> LockPlan:
    """Decide the commands that bring one lock from its known state to the wanted codes.

    `assignments` are the slots grants held before; a grant keeps its slot while it
    wants a code. Grants in `rejected` are left alone (no retry loop). Slots outside
    `managed` are never named in a command, and neither are slots in `hold` (a clear the
    lock just refused or left unanswered waits for its retry instead of being re-sent).
    """
    wanted_by_grant = {w.grant: w for w in wanted if w.grant not in rejected}
    assignments = _adopt(managed, known, assignments, wanted_by_grant)
    new_assignments: dict[str, int] = {}
    commands: list[SlotCommand] = []
    foreign = tuple(
        slot
        for slot in managed
        if (state := known.get(slot)) is not None and state.status is SlotStatus.FOREIGN
    )

    # Codes of ours that are no longer wanted (or moved to another grant) are cleared,
    # and so are slots that may hold one (a write whose outcome is unknown).
    for managed_slot in managed:
        state = known.get(managed_slot)
        if state is None or state.status not in HELD:
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
    commands = [c for c in commands if isinstance(c, SetCode) or c.slot not in hold]
    # Clears first, then sets, each in slot order: a moved code never exists twice.
    commands.sort(key=lambda c: (isinstance(c, SetCode), c.slot))
    return LockPlan(
        commands=tuple(commands),
        assignments=new_assignments,
        no_free_slot=tuple(missing),
        foreign_slots=foreign,
    )


def after_write(  # noqa: PLR0911 - one answer per outcome, in order
    known: Mapping[int, KnownSlot], cmd: SlotCommand, result: WriteResult, salt: str
) -> dict[int, KnownSlot]:
    """The known state once a write ended with `result`.

    Only a confirmed write changes what the slot is known to hold. A refusal leaves it
    as it was (a refused clear leaves our code on the lock). A write with no answer may
    or may not have happened: the slot is `unsettled`, never `empty`.
    """
    before = known.get(cmd.slot, KnownSlot(SlotStatus.EMPTY))
    if result is WriteResult.REJECTED:
        return dict(known)
    if isinstance(cmd, SetCode):
        if result is WriteResult.CONFIRMED:
            return {
                **known,
                cmd.slot: KnownSlot(SlotStatus.OURS, cmd.grant, fingerprint(cmd.pin, salt)),
            }
        if before.status in HELD and before.grant != cmd.grant:
            # It holds the old grant's code or the new one's: it names neither.
            return {**known, cmd.slot: KnownSlot(SlotStatus.UNSETTLED)}
        return {
            **known,
            cmd.slot: KnownSlot(SlotStatus.UNSETTLED, cmd.grant, fingerprint(cmd.pin, salt)),
        }
    if result is WriteResult.CONFIRMED:
        # Remember whose code it was: a lock that reports it again (a confirmation that
        # was not true) shows our code is still there.
        return {
            **known,
            cmd.slot: KnownSlot(SlotStatus.EMPTY, before.grant, before.code_fingerprint),
        }
    if before.status in HELD:
        return {**known, cmd.slot: replace(before, status=SlotStatus.UNSETTLED)}
    return {**known, cmd.slot: KnownSlot(SlotStatus.UNSETTLED, cmd.grant)}


def after_set(known: Mapping[int, KnownSlot], cmd: SetCode, salt: str) -> dict[int, KnownSlot]:
    """The known state once the lock confirmed `cmd`."""
    return after_write(known, cmd, WriteResult.CONFIRMED, salt)


def after_clear(known: Mapping[int, KnownSlot], cmd: ClearCode) -> dict[int, KnownSlot]:
    """The known state once the lock confirmed `cmd`."""
    return after_write(known, cmd, WriteResult.CONFIRMED, "")


def observe(
    known: Mapping[int, KnownSlot], slot: int, *, occupied: bool, ours: KnownSlot | None = None
) -> dict[int, KnownSlot]:
    """Adopt what the lock's memory (read once) says about a slot.

    An occupied slot that Concierge did not write becomes `foreign`; one that Concierge
    wrote (`ours` or `unsettled`, from our own records) stays as recorded.
    """
    if not occupied:
        return {**known, slot: KnownSlot(SlotStatus.EMPTY)}
    current = known.get(slot)
    if current is not None and current.status in HELD:
        return dict(known)
    if ours is not None:
        return {**known, slot: ours}
    return {**known, slot: KnownSlot(SlotStatus.FOREIGN)}


@dataclass(frozen=True, slots=True)
class SlotReport:
    """What a lock reported on its own about one of its slots (never the PIN).

    `code_fingerprint` is the salted fingerprint of the code it reported, when it said
    which (a masked code says nothing). `by_us` says whether the change came over the
    radio from a controller (True), from the lock's own keypad or menu (False), or
    cannot be told (None).
    """

    slot: int
    occupied: bool
    code_fingerprint: str | None = None
    by_us: bool | None = None


def observe_report(  # noqa: PLR0911 - one answer per case, in order
    known: Mapping[int, KnownSlot], report: SlotReport, *, writing: frozenset[int] = frozenset()
) -> dict[int, KnownSlot]:
    """Adopt a report the lock sent on its own (a code added, changed, deleted, wiped).

    `writing` are the slots Concierge is writing right now: their reports are the echo
    of our own write, whose answer decides. A code that appears where Concierge did not
    put it, or replaces ours, is foreign; a slot reported empty is empty.
    """
    slot = report.slot
    current = known.get(slot)
    if not report.occupied:
        return {**known, slot: KnownSlot(SlotStatus.EMPTY)}
    if (
        current is not None
        and current.status is SlotStatus.EMPTY
        and report.code_fingerprint is not None
        and report.code_fingerprint == current.code_fingerprint
    ):
        # The code we took for cleared is reported back: it was never removed.
        return {**known, slot: replace(current, status=SlotStatus.OURS)}
    if current is not None and current.status in HELD:
        if report.code_fingerprint is not None:
            if report.code_fingerprint == current.code_fingerprint:
                return {**known, slot: replace(current, status=SlotStatus.OURS)}
            return {**known, slot: KnownSlot(SlotStatus.FOREIGN)}
        if report.by_us is False:
            return {**known, slot: KnownSlot(SlotStatus.FOREIGN)}
        return dict(known)
    if slot in writing or report.by_us is True:
        return dict(known)
    return {**known, slot: KnownSlot(SlotStatus.FOREIGN)}


def wiped(known: Mapping[int, KnownSlot], managed: SlotRange) -> dict[int, KnownSlot]:
    """The lock reported that it deleted every code (a factory reset, say)."""
    return {**known, **{slot: KnownSlot(SlotStatus.EMPTY) for slot in managed}}


def retry_delay(attempt: int) -> int:
    """Seconds before retry number `attempt` (1-based) of a lock that did not answer."""
    index = max(attempt, 1) - 1
    return RETRY_DELAYS[min(index, len(RETRY_DELAYS) - 1)]


def grant_for_slot(known: Mapping[int, KnownSlot], slot: int) -> str | None:
    """Which grant's code is in `slot` (for attributing a keypad unlock).

    Only a slot that holds (or may hold, its write unanswered) a grant's code names it;
    a foreign code never does, even in a slot a grant used before.
    """
    state = known.get(slot)
    if state is None or state.status not in HELD:
        return None
    return state.grant


def not_removed(known: Mapping[int, KnownSlot], wanted: Mapping[str, int]) -> dict[int, str | None]:
    """Slots holding (or maybe holding) a code of ours that no grant wants there.

    `wanted` maps each grant that wants a code to its slot. Returns slot → grant (None
    when the grant is not known, e.g. after the site's storage was lost).
    """
    return {
        slot: state.grant
        for slot, state in known.items()
        if state.status in HELD and (state.grant is None or wanted.get(state.grant) != slot)
    }


def code_statuses(
    *,
    known: Mapping[int, KnownSlot],
    assignments: Mapping[str, int],
    wanted: Mapping[str, str],
    rejected: Iterable[str] = (),
    no_free_slot: Iterable[str] = (),
) -> dict[str, CodeStatus]:
    """Where each grant's code stands on one lock.

    `wanted` maps each grant that wants a code now to the fingerprint of its PIN.
    """
    statuses: dict[str, CodeStatus] = dict.fromkeys(rejected, CodeStatus.REJECTED)
    statuses |= dict.fromkeys(no_free_slot, CodeStatus.NO_FREE_SLOT)
    for grant, fp in wanted.items():
        if grant in statuses:
            continue
        state = known.get(assignments.get(grant, -1))
        confirmed = (
            state is not None
            and state.status is SlotStatus.OURS
            and state.grant == grant
            and state.code_fingerprint == fp
        )
        statuses[grant] = CodeStatus.PROGRAMMED if confirmed else CodeStatus.PENDING
    slots = {g: s for g, s in assignments.items() if g in wanted}
    for stale in not_removed(known, slots).values():
        if stale is not None:
            statuses[stale] = CodeStatus.NOT_REMOVED
    return statuses


def door_codes(statuses: Mapping[str, CodeStatus], orphans: int = 0) -> DoorCodes:
    """How a lock's codes stand as a whole (`orphans`: codes of ours whose grant is gone)."""
    if orphans or CodeStatus.NOT_REMOVED in statuses.values():
        return DoorCodes.NOT_REMOVED
    if CodeStatus.PENDING in statuses.values():
        return DoorCodes.PENDING
    return DoorCodes.IN_SYNC


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
