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
it holds and a keyed fingerprint of that code (`fingerprints`), so a changed PIN is
noticed without the state holding secrets.

This module plans; the rest of the rules live by job and are re-exported here:
`slot_types` (slots, commands, reports), `fingerprints`, `slot_knowledge` (what a slot
holds after a write or a report) and `code_status` (what the sensors show).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from .code_status import CodeStatus, DoorCodes, code_statuses, door_codes, not_removed
from .fingerprints import fingerprint
from .slot_knowledge import (
    after_clear,
    after_set,
    after_write,
    grant_for_slot,
    observe,
    observe_report,
    wiped,
)
from .slot_types import (
    HELD,
    ClearCode,
    KnownSlot,
    SetCode,
    SlotCommand,
    SlotRange,
    SlotReport,
    SlotStatus,
    WantedCode,
    WriteResult,
)

__all__ = [
    "HELD",
    "RETRY_DELAYS",
    "AttackWatch",
    "ClearCode",
    "CodeStatus",
    "DoorCodes",
    "KnownSlot",
    "LockPlan",
    "SetCode",
    "SlotCommand",
    "SlotRange",
    "SlotReport",
    "SlotStatus",
    "WantedCode",
    "WriteResult",
    "after_clear",
    "after_set",
    "after_write",
    "code_statuses",
    "door_codes",
    "fingerprint",
    "grant_for_slot",
    "not_removed",
    "observe",
    "observe_report",
    "plan_lock",
    "retry_delay",
    "wiped",
]

RETRY_DELAYS: tuple[int, ...] = (10, 30, 60, 300, 900, 3600)
"""Seconds to wait before the n-th retry of a lock that did not answer (then hourly)."""


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


def retry_delay(attempt: int) -> int:
    """Seconds before retry number `attempt` (1-based) of a lock that did not answer."""
    index = max(attempt, 1) - 1
    return RETRY_DELAYS[min(index, len(RETRY_DELAYS) - 1)]


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
