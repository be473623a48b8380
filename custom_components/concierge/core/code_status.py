"""Where grants' codes stand on a lock, as the grant's and the door's sensors show it."""

from collections.abc import Iterable, Mapping
from enum import StrEnum

from .slot_types import HELD, KnownSlot, SlotStatus


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
