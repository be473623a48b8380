"""Sending one planned code command to a keypad lock, and what its outcome means.

A command (set a grant's code in a slot, or clear a slot) is carried out bounded in time
(`writes.py`); its outcome updates what the slot is known to hold (`core.slots`), is
recorded as an access event (programmed, cleared, refused by the lock, or
`write_unconfirmed` when no answer came, so that a lost site store can still find the
slot) and, for a code that is now on the lock or that the lock refused, reaches the
owner's notices. Which commands to send is `manager.py`'s call.
"""

from ..core.events import AccessEventType, Outcome, Source
from ..core.slots import ClearCode, SetCode, after_write, fingerprint
from ..hosts import KeypadHost
from ..site_storage import LockCodes
from .adapter import WriteResult
from .door import DoorState
from .notices import KeypadNotices
from .writes import async_bounded_write

UNCONFIRMED = "write_unconfirmed"
"""The reason of a code record whose write got no answer: the slot may hold the code."""


class CodeCommands:
    """Sends code commands to a site's keypad locks and records what came of them."""

    def __init__(self, host: KeypadHost, notices: KeypadNotices) -> None:
        """Record through `host`; tell the owner through `notices`."""
        self.host = host
        self.hass = host.hass
        self.notices = notices

    async def async_send(
        self, door: DoorState, codes: LockCodes, command: SetCode | ClearCode, salt: str
    ) -> WriteResult:
        """Carry out `command` on the door's lock; adopt, record and report its outcome."""
        adapter = door.adapter
        portal = door.portal.portal_id
        door.writing[command.slot] = command.grant if isinstance(command, SetCode) else None
        try:
            result = await async_bounded_write(
                self.hass,
                adapter.async_set_code(command.slot, command.pin)
                if isinstance(command, SetCode)
                else adapter.async_clear_code(command.slot),
                adapter.lock_entity_id,
            )
        finally:
            door.writing.pop(command.slot, None)
        codes.known = after_write(codes.known, command, result, salt)
        self.host.async_save()
        emit = self.host.async_emit
        if isinstance(command, ClearCode):
            if result is WriteResult.CONFIRMED:
                door.hold.discard(command.slot)
                # The code a lock refused as a duplicate may have been this one: a
                # refused PIN gets one more try now (bounded: one per confirmed clear).
                codes.rejected.clear()
                await emit(AccessEventType.CODE_CLEARED, Outcome.OK, portal=portal,
                           grant=command.grant, source=Source.SCHEDULE,
                           data={"slot": command.slot})  # fmt: skip
            else:
                door.hold.add(command.slot)
                if result is WriteResult.REJECTED:
                    await emit(AccessEventType.CODE_REJECTED, Outcome.FAILED, portal=portal,
                               grant=command.grant, source=Source.SCHEDULE,
                               reason="clear_refused_by_lock",
                               data={"slot": command.slot})  # fmt: skip
                else:  # recorded, so that a lost site store can still find the slot
                    await emit(AccessEventType.CODE_CLEARED, Outcome.FAILED, portal=portal,
                               grant=command.grant, source=Source.SCHEDULE,
                               reason=UNCONFIRMED, data={"slot": command.slot})  # fmt: skip
            return result
        if result is WriteResult.CONFIRMED:
            await emit(AccessEventType.CODE_PROGRAMMED, Outcome.OK, portal=portal,
                       grant=command.grant, source=Source.SCHEDULE,
                       data={"slot": command.slot})  # fmt: skip
            self.notices.code_accepted(door, command.grant)
        elif result is WriteResult.REJECTED:
            codes.rejected[command.grant] = fingerprint(command.pin, salt)
            codes.assignments.pop(command.grant, None)
            await emit(AccessEventType.CODE_REJECTED, Outcome.FAILED, portal=portal,
                       grant=command.grant, source=Source.SCHEDULE, reason="refused_by_lock",
                       data={"slot": command.slot})  # fmt: skip
            self.notices.code_rejected(door, command.grant)
        else:  # the code may be on the lock: recorded like a code that is
            await emit(AccessEventType.CODE_PROGRAMMED, Outcome.FAILED, portal=portal,
                       grant=command.grant, source=Source.SCHEDULE, reason=UNCONFIRMED,
                       data={"slot": command.slot})  # fmt: skip
        return result
