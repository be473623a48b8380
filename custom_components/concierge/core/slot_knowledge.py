"""What a lock's slots are known to hold: after Concierge's writes, and from the lock's reports.

The lock is the truth. Only a confirmed write changes what a slot is known to hold; a
write with no answer leaves the slot `unsettled` (it may hold the code); what the lock
says on its own (a code added, changed or deleted at the lock, a wipe) is adopted.
"""

from collections.abc import Mapping
from dataclasses import replace

from .fingerprints import fingerprint
from .slot_types import (
    HELD,
    ClearCode,
    KnownSlot,
    SetCode,
    SlotCommand,
    SlotRange,
    SlotReport,
    SlotStatus,
    WriteResult,
)


def after_write(  # noqa: PLR0911 - one answer per outcome, in order
    known: Mapping[int, KnownSlot], cmd: SlotCommand, result: WriteResult, salt: str
) -> dict[int, KnownSlot]:
    """The known state once a write ended with `result` (`salt`: the lock's fingerprint key).

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


def grant_for_slot(known: Mapping[int, KnownSlot], slot: int) -> str | None:
    """Which grant's code is in `slot` (for attributing a keypad unlock).

    Only a slot that holds (or may hold, its write unanswered) a grant's code names it;
    a foreign code never does, even in a slot a grant used before.
    """
    state = known.get(slot)
    if state is None or state.status not in HELD:
        return None
    return state.grant
