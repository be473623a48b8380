"""What a keypad lock reports about its use: an unlock with a code, wrong codes, an attack."""

import logging
import time

from homeassistant.util import dt as dt_util

from ..core.events import AccessEventType, Outcome, Source
from ..core.slots import grant_for_slot
from ..hosts import KeypadHost
from ..site_storage import LockCodes
from .adapter import KeypadEvent, KeypadEventKind
from .door import DoorState

_LOGGER = logging.getLogger(__name__)


async def async_on_use(
    host: KeypadHost, door: DoorState, codes: LockCodes, event: KeypadEvent
) -> None:
    """Turn a keypad unlock into a visit of the grant whose code it was; count wrong codes."""
    _LOGGER.debug("Lock %s reported %s", door.adapter.lock_entity_id, event)
    portal = door.portal.portal_id
    if event.kind is KeypadEventKind.UNLOCK:
        # Only a slot holding a grant's code names it; a foreign code never does. A
        # code being set may open the door before its confirmation reaches us.
        grant_id = None
        if event.slot is not None:
            grant_id = door.writing.get(event.slot) or grant_for_slot(codes.known, event.slot)
        if grant_id is not None and grant_id in host.data.grants:
            await host.async_keypad_entry(grant_id, portal)
        else:
            await host.async_emit(
                AccessEventType.UNLOCKED, Outcome.INFO, portal=portal,
                source=Source.KEYPAD, reason="code_not_managed",
            )  # fmt: skip
        return
    if event.kind is KeypadEventKind.CODE_REJECTED:
        return  # the write that caused it reports it
    door.watch, alarm = door.watch.record(time.monotonic())
    if event.kind is KeypadEventKind.KEYPAD_DISABLED or alarm:
        reason = (
            "keypad_disabled" if event.kind is KeypadEventKind.KEYPAD_DISABLED else ("wrong_codes")
        )
        await host.async_emit(
            AccessEventType.KEYPAD_ATTACK, Outcome.DENIED, portal=portal,
            source=Source.KEYPAD, reason=reason,
            data={"attempts": len(door.watch.attempts)},
        )  # fmt: skip
        await host.async_notify_owner(
            "keypad_attack",
            {"portal": door.portal.name, "time": dt_util.now().strftime("%H:%M")},
        )
    else:
        await host.async_emit(
            AccessEventType.ACCESS_DENIED, Outcome.DENIED, portal=portal,
            source=Source.KEYPAD, reason="wrong_code",
        )  # fmt: skip
