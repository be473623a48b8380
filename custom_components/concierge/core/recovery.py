"""Rebuilding what a lost or outdated site store knew, from the audit chain.

The site store remembers which managed slot of which lock holds which grant's code.
When that store is lost (or only an older copy of it survives), the audit chain still
tells the story: every code Concierge put on a lock was recorded (`code_programmed`,
once the lock confirmed it) and so was every code it removed (`code_cleared`); a write
that got no answer is recorded too, with outcome `failed`, and replays as `unsettled`. The last
such record of a slot says whether a code of ours is there now.

`replay_codes` rebuilds the slot knowledge from those records, so that the keypad
manager clears codes whose grants no longer exist (its plan clears every slot of ours
whose grant is not wanted). `later_changes` names the grants of an older copy that the
owner changed after the copy was made (so that none gives more access than the owner
last allowed).
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from .events import AccessEventType, Outcome
from .slots import KnownSlot, SlotRange, SlotStatus


@dataclass(frozen=True, slots=True)
class PortalSlots:
    """A portal's lock and the slots Concierge manages on it."""

    lock: str
    managed: SlotRange


def _slot_change(
    event: Mapping[str, object], portals: Mapping[str, PortalSlots], grants: Collection[str]
) -> tuple[str, int, KnownSlot] | None:
    """The lock, slot and new state a record's event tells of (None: not a code change)."""
    kind = event.get("type")
    portal_id = event.get("portal")
    portal = portals.get(portal_id) if isinstance(portal_id, str) else None
    data = event.get("data")
    slot = data.get("slot") if isinstance(data, Mapping) else None
    if portal is None or type(slot) is not int or slot not in portal.managed:
        return None
    grant = event.get("grant")
    owner = grant if isinstance(grant, str) and grant in grants else None
    confirmed = event.get("outcome") != Outcome.FAILED.value
    if kind == AccessEventType.CODE_PROGRAMMED.value:
        return (
            portal.lock,
            slot,
            KnownSlot(SlotStatus.OURS if confirmed else SlotStatus.UNSETTLED, owner),
        )
    if kind == AccessEventType.CODE_CLEARED.value:
        # A clear that got no answer may have left the code: unsettled, not empty.
        state = KnownSlot(SlotStatus.EMPTY) if confirmed else KnownSlot(SlotStatus.UNSETTLED, owner)
        return portal.lock, slot, state
    return None


def replay_codes(
    events: Iterable[Mapping[str, object]],
    portals: Mapping[str, PortalSlots],
    known: Mapping[str, Mapping[int, KnownSlot]] | None = None,
    grants: Collection[str] = frozenset(),
) -> dict[str, dict[int, KnownSlot]]:
    """Apply the code records of an audit chain, in order, to what was known of the slots.

    `events` are the records' events (wire form) in chain order; `portals` maps each
    configured portal to its lock and managed range (records of other portals, and of
    slots outside the managed range, are ignored: Concierge never writes there). A slot
    whose last record is `code_programmed` holds a code of ours, without a fingerprint
    (the PIN is never recorded): of the recorded grant if it is among `grants` (the
    grants the site still has), else of no grant (an orphan, cleared as soon as the lock
    can be reached). One whose last record is `code_cleared` is empty. Slots without
    records keep what `known` said of them.
    """
    result = {lock: dict(slots) for lock, slots in (known or {}).items()}
    for event in events:
        change = _slot_change(event, portals, grants)
        if change is not None:
            lock, slot, state = change
            result.setdefault(lock, {})[slot] = state
    return result


def assign_ours(known: Mapping[int, KnownSlot], assignments: Mapping[str, int]) -> dict[str, int]:
    """Give each grant that holds a slot of ours, and has no slot assigned, that slot.

    A grant whose code was written after the store's copy was made then keeps its slot
    (rewritten once, since its fingerprint is unknown) instead of getting a second one.
    """
    result = dict(assignments)
    for slot, state in sorted(known.items()):
        if state.status is SlotStatus.OURS and state.grant and state.grant not in result:
            result[state.grant] = slot
    return result


CHANGES = frozenset(
    {
        AccessEventType.GRANT_UPDATED.value,
        AccessEventType.GRANT_SUSPENDED.value,
        AccessEventType.GRANT_RESUMED.value,
        AccessEventType.GRANT_USED_UP.value,
    }
)
"""Records of a change to a grant whose new settings the record does not hold."""


@dataclass(frozen=True, slots=True)
class LaterChanges:
    """What happened to an older copy's grants after the copy was made."""

    revoked: frozenset[str] = frozenset()
    """Revoked since: they stay revoked."""
    changed: frozenset[str] = frozenset()
    """Updated, suspended, resumed or used up since (and not revoked): settings unknown."""


def later_changes(events: Iterable[Mapping[str, object]], grants: Collection[str]) -> LaterChanges:
    """Which of `grants` the records (those made after a store copy) say were changed.

    Revocation is final, so a revoked grant is known to be revoked. Any other change
    (new window or PIN, a suspension or resumption, uses running out, a guest link
    revoked) cannot be replayed from the record, which never holds the settings: the
    grant from the copy may give more access than the owner last allowed.
    """
    revoked: set[str] = set()
    changed: set[str] = set()
    for event in events:
        grant = event.get("grant")
        if not isinstance(grant, str) or grant not in grants:
            continue
        if event.get("type") == AccessEventType.GRANT_REVOKED.value:
            revoked.add(grant)
        elif event.get("type") in CHANGES:
            changed.add(grant)
    return LaterChanges(frozenset(revoked), frozenset(changed - revoked))
