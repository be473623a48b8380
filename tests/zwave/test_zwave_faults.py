"""Keypad PINs on a Z-Wave lock under faults: no access outlives its window (issue 12).

The real Z-Wave JS driver and server (rigs/zwave/rig.mjs) and Home Assistant's real
zwave_js, connected directly (``lock``) or through a TCP proxy that drops the server
connection on demand (``proxied_lock``, tests/tcp_proxy.py): between a Set and its
result, between a Clear and its result. The lock also refuses clears, gets a code typed
in at its own menu, and is wiped by a factory reset. Each test ends on the lock's own
memory (``/codes``, never Concierge's state): no grant's PIN is on the lock outside its
window. Along the way it checks what the owner is shown and told (tests/fault_helpers.py).
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, ServiceCall
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_capture_events

from custom_components.concierge.const import DOMAIN, EVENT_ACCESS
from custom_components.concierge.keypad import manager as keypad_manager
from custom_components.concierge.keypad import writes as keypad_writes
from custom_components.concierge.keypad import zwave as zwave_adapter
from tests.fault_helpers import (
    IN_SYNC,
    NO_FREE_SLOT,
    NOT_REMOVED,
    PENDING,
    PROGRAMMED,
    CodesSeen,
    all_told,
    door_status,
    grant_codes,
    grant_state,
    keypad_state,
    repair,
    repairs,
    told,
)
from tests.keypad_helpers import PIN, create_grant, local_time, setup_site
from tests.waiting import until

from .conftest import ZWaveRig
from .helpers import Lock, ProxiedLock

MANAGED = range(10, 15)
FOREIGN = "55555"
SEED = {"status": "enabled", "code": "13579"}
SET_FRAME = "UserCode.ExtendedUserCodeSet"  # User Code v2: sets and clears alike


@pytest.fixture(autouse=True)
def quick_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter waits than in a home, so tests stay fast: 2 s to confirm, 1 s to retry."""
    monkeypatch.setattr(zwave_adapter, "CONFIRM_TIMEOUT", 2.0)
    monkeypatch.setattr(keypad_writes, "WRITE_TIMEOUT", 3.0)
    monkeypatch.setattr(keypad_manager, "retry_delay", lambda _attempt: 1)


@pytest.fixture
async def site(
    hass: HomeAssistant, lock: Lock, phone: list[ServiceCall]
) -> AsyncIterator[MockConfigEntry]:
    """A Concierge site whose front door is the rig's lock (slots 10-14 managed)."""
    entry = await setup_site(hass, lock.entity_id, last_slot=14)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def proxied_site(
    hass: HomeAssistant, proxied_lock: ProxiedLock, phone: list[ServiceCall]
) -> AsyncIterator[MockConfigEntry]:
    """The same site, its lock reached through the proxy."""
    entry = await setup_site(hass, proxied_lock.entity_id, last_slot=14)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def _pins(rig: ZWaveRig) -> dict[int, str]:
    """The lock's own memory: slot -> code, for the slots holding one."""
    return {s: c["code"] for s, c in (await rig.async_codes()).items() if c["code"]}


async def _slot_of(rig: ZWaveRig, pin: str) -> int | None:
    return next((s for s, code in (await _pins(rig)).items() if code == pin), None)


async def _gone(rig: ZWaveRig, pin: str) -> bool:
    return await _slot_of(rig, pin) is None


async def _sets(rig: ZWaveRig) -> int:
    return int((await rig.async_frames()).get(SET_FRAME, 0))


async def _programmed(hass: HomeAssistant, rig: ZWaveRig, grant_id: str, pin: str = PIN) -> int:
    """Wait until the grant's code is on the lock and the grant shows it; its slot."""
    slot = await until(f"the PIN {pin} is written to the lock", lambda: _slot_of(rig, pin))
    await until(
        "the grant shows its code as programmed once the lock confirmed it",
        lambda: door_status(hass, grant_id),
        want=lambda v: v == PROGRAMMED,
    )
    return int(slot)


async def _window_over(hass: HomeAssistant, grant_id: str) -> None:
    await until(
        "the window ends",
        lambda: grant_state(hass, grant_id),
        want=lambda v: v == "expired",
        seconds=12,
    )


async def _not_removed_is_shown(
    hass: HomeAssistant, lock_entity_id: str, grant_id: str, phone: list[ServiceCall]
) -> None:
    """The owner sees (grant, door, repair) and is told that a code outlives its window."""
    await until(
        "a grant whose code may still be on the lock after its window shows `not_removed`",
        lambda: grant_codes(hass, grant_id),
        want=lambda v: v == {"Front door": NOT_REMOVED},
    )
    await until(
        "the door's keypad sensor shows `not_removed`",
        lambda: keypad_state(hass),
        want=lambda v: v == NOT_REMOVED,
    )
    issue = await until(
        f"the repair code_not_removed_{lock_entity_id} is raised (repairs now: {repairs(hass)})",
        lambda: repair(hass, "code_not_removed", lock_entity_id),
    )
    assert "Cleaner" in (issue.translation_placeholders or {}).get("grants", ""), issue
    await until(
        f"the owner is told code_not_removed (phone got: {all_told(phone)})",
        lambda: told(phone, "code_not_removed"),
    )


async def _settled(hass: HomeAssistant, lock_entity_id: str, grant_id: str) -> None:
    """Once the lock confirmed the clear: no repair, the door in sync, the grant clear."""
    await until(
        "the repair code_not_removed goes once the lock confirmed the clear",
        lambda: repair(hass, "code_not_removed", lock_entity_id) is None,
    )
    await until(
        "the door's keypad sensor is back `in_sync`",
        lambda: keypad_state(hass),
        want=lambda v: v == IN_SYNC,
    )
    await until(
        "the grant no longer shows `not_removed`",
        lambda: door_status(hass, grant_id),
        want=lambda v: v != NOT_REMOVED,
    )


# --- a) the server connection drops mid-write ------------------------------------------


async def test_a_connection_lost_between_set_and_result_leaves_no_code_after_the_window(
    hass: HomeAssistant,
    proxied_lock: ProxiedLock,
    proxied_site: MockConfigEntry,
    phone: list[ServiceCall],
    caplog: pytest.LogCaptureFixture,
) -> None:
    lock = proxied_lock
    rig = lock.rig
    seen = CodesSeen(hass)
    cut = lock.proxy.cut_after("node.set_value", '"userCode"')
    grant_id = await create_grant(hass, local_time(-60), local_time(4))
    await until("Concierge sends the Set (and the connection drops after it)", cut.is_set)
    slot = await until("the lock takes the code", lambda: _slot_of(rig, PIN))
    assert slot in MANAGED
    await lock.disconnected(hass)

    # The connection stays down past the window end.
    await _window_over(hass, grant_id)
    await _not_removed_is_shown(hass, lock.entity_id, grant_id, phone)
    assert await _slot_of(rig, PIN) == slot  # the fault held: the code is on the lock
    during = seen.since_first(grant_id)
    assert set(during) <= {PENDING, NOT_REMOVED}, (
        "while the write was unconfirmed the grant showed only pending / not_removed "
        f"(never programmed, never nothing): {during}"
    )

    await lock.reconnect(hass)
    await until(
        "once the server is back, the code whose Set was never confirmed is cleared from the "
        "lock (an unconfirmed write is unknown, never empty)",
        lambda: _gone(rig, PIN),
        seconds=20,
    )
    await _settled(hass, lock.entity_id, grant_id)
    assert len(told(phone, "code_not_removed")) == 1, all_told(phone)
    assert PIN not in (await _pins(rig)).values()
    assert (await rig.async_codes())[1] == SEED
    _no_pin_in_our_logs(caplog)


async def test_a_connection_lost_between_clear_and_result_is_not_removed_until_settled(
    hass: HomeAssistant,
    proxied_lock: ProxiedLock,
    proxied_site: MockConfigEntry,
    phone: list[ServiceCall],
    caplog: pytest.LogCaptureFixture,
) -> None:
    lock = proxied_lock
    rig = lock.rig
    grant_id = await create_grant(hass, local_time(-60), local_time(3))
    await _programmed(hass, rig, grant_id)
    cut = lock.proxy.cut_after("node.set_value", '"userIdStatus"')
    await until("Concierge sends the Clear at the window end", cut.is_set, seconds=10)
    await until("the lock carries the clear out", lambda: _gone(rig, PIN))
    await lock.disconnected(hass)

    # Nothing confirmed the clear: as far as Concierge can know, the code may be there.
    await _not_removed_is_shown(hass, lock.entity_id, grant_id, phone)

    await lock.reconnect(hass)
    await _settled(hass, lock.entity_id, grant_id)
    assert len(told(phone, "code_not_removed")) == 1, all_told(phone)
    assert PIN not in (await _pins(rig)).values()
    _no_pin_in_our_logs(caplog)


def _no_pin_in_our_logs(caplog: pytest.LogCaptureFixture) -> None:
    """A failed write is logged by its kind, never with the call's data (the PIN)."""
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("custom_components")]
    assert ours, "Concierge logged the failed write"
    assert not [m for m in ours if PIN in m], ours


# --- c) the lock refuses a clear -------------------------------------------------------


async def test_a_clear_the_lock_refuses_is_retried_until_it_takes_it(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry, phone: list[ServiceCall]
) -> None:
    rig = lock.rig
    grant_id = await create_grant(hass, local_time(-60), local_time(3))
    await _programmed(hass, rig, grant_id)
    await rig.async_post("/frames/reset")
    await rig.async_post("/refuse-clears", {"on": True})

    await until(
        "Concierge tries to clear the code at the window end", lambda: _sets(rig), seconds=10
    )
    # The driver's cache shows the slot free for a moment after the Set, until its own
    # read brings the code back: only what the lock reports confirms a clear.
    await _not_removed_is_shown(hass, lock.entity_id, grant_id, phone)
    assert await _slot_of(rig, PIN) is not None
    await until("a refused clear is retried", lambda: _sets(rig), want=lambda n: n >= 3, seconds=15)
    assert len(told(phone, "code_not_removed")) == 1, (
        f"one message per episode, not one per retry: {all_told(phone)}"
    )

    await rig.async_post("/refuse-clears", {"on": False})
    await until("the clear is retried until the lock takes it", lambda: _gone(rig, PIN), seconds=15)
    await _settled(hass, lock.entity_id, grant_id)
    assert len(told(phone, "code_not_removed")) == 1, all_told(phone)
    assert PIN not in (await _pins(rig)).values()


# --- d) a code typed in at the lock ----------------------------------------------------


@pytest.mark.parametrize("where", ["free", "used"])
async def test_a_code_typed_in_at_the_lock_is_foreign(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry, where: str
) -> None:
    rig = lock.rig
    grant_id = await create_grant(hass, local_time(-60), local_time(5))
    own = await _programmed(hass, rig, grant_id)
    target = own if where == "used" else min(set(MANAGED) - {own})
    await rig.async_post("/keypad-program", {"slot": target, "code": FOREIGN})

    issue = await until(
        f"a code typed in at the lock into managed slot {target} raises the repair "
        f"foreign_codes_{lock.entity_id} (repairs now: {repairs(hass)})",
        lambda: repair(hass, "foreign_codes", lock.entity_id),
    )
    assert str(target) in (issue.translation_placeholders or {}).get("slots", ""), issue

    other = await create_grant(hass, local_time(-60), local_time(5), pin="246810")
    other_slot = await _programmed(hass, rig, other, "246810")
    assert other_slot != target
    assert (await _pins(rig))[target] == FOREIGN

    events = async_capture_events(hass, EVENT_ACCESS)
    await rig.async_post("/keypad-unlock", {"slot": target})
    await until(
        "the keypad unlock with a foreign code is recorded",
        lambda: [e for e in events if e.data.get("source") == "keypad"],
    )
    await hass.async_block_till_done()
    credited: list[dict[str, Any]] = [
        dict(e.data)
        for e in events
        if e.data.get("grant") is not None
        and (e.data.get("source") == "keypad" or str(e.data["type"]).startswith("visit"))
    ]
    assert not credited, f"a foreign code's use is never attributed to a grant: {credited}"
    await rig.async_post("/manual-lock")

    await until(
        "the second grant's code is cleared at its window end",
        lambda: _gone(rig, "246810"),
        seconds=15,
    )
    await until("the first grant's code is gone", lambda: _gone(rig, PIN))
    await hass.async_block_till_done()
    pins = await _pins(rig)
    assert pins.get(target) == FOREIGN, (
        f"a foreign code is never erased at a window end: slot {target} holds {pins.get(target)!r}"
    )
    assert {PIN, "246810"}.isdisjoint(pins.values())


# --- e) codes wiped at the lock --------------------------------------------------------


@pytest.mark.parametrize("wipe", ["/wipe", "/keypad-delete"])
async def test_codes_wiped_at_the_lock_are_noticed_and_put_back(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry, wipe: str
) -> None:
    rig = lock.rig
    grant_id = await create_grant(hass, local_time(-60), local_time(7))
    slot = await _programmed(hass, rig, grant_id)
    await rig.async_post("/frames/reset")
    await rig.async_post(wipe, {"slot": slot})

    back = await until(
        f"after the lock reported the wipe ({wipe}: a notification and User Code reports, "
        "no polling) Concierge puts the grant's code back",
        lambda: _slot_of(rig, PIN),
        seconds=5,
    )
    assert back in MANAGED
    assert await _sets(rig) >= 1  # written again
    await until(
        "the grant shows its code programmed again",
        lambda: door_status(hass, grant_id),
        want=lambda v: v == PROGRAMMED,
    )
    await until(
        "the door's keypad sensor is `in_sync`",
        lambda: keypad_state(hass),
        want=lambda v: v == IN_SYNC,
    )
    await until("the code leaves the lock at the window end", lambda: _gone(rig, PIN), seconds=12)
    assert PIN not in (await _pins(rig)).values()


# --- g) more grants than slots -------------------------------------------------------


async def test_running_out_of_slots_is_a_repair_and_one_message(
    hass: HomeAssistant, lock: Lock, phone: list[ServiceCall]
) -> None:
    rig = lock.rig
    entry = await setup_site(hass, lock.entity_id, last_slot=11)  # 2 slots
    await rig.async_post("/frames/reset")
    start, end = local_time(2), local_time(3600)
    labels = {"1111": "Cleaner A", "2222": "Cleaner B", "3333": "Cleaner C"}
    grants = {
        pin: await create_grant(hass, start, end, pin=pin, label=label)
        for pin, label in labels.items()
    }

    async def written() -> int:
        return len(set(labels) & set((await _pins(rig)).values()))

    await until(
        "two codes are written when the windows open", written, want=lambda n: n == 2, seconds=10
    )
    left_out = await until(
        "the grant left without a slot shows `no_free_slot`",
        lambda: [p for p, g in grants.items() if door_status(hass, g) == NO_FREE_SLOT],
        want=lambda v: len(v) == 1,
    )
    (waiting,) = left_out
    issue = await until(
        f"running out of slots raises the repair no_free_slot_{lock.entity_id} "
        f"(repairs now: {repairs(hass)})",
        lambda: repair(hass, "no_free_slot", lock.entity_id),
    )
    named = (issue.translation_placeholders or {}).get("grants", "")
    assert labels[waiting] in named, named
    assert not [label for pin, label in labels.items() if pin != waiting and label in named]
    await until(
        f"the owner is told no_free_slot (phone got: {all_told(phone)})",
        lambda: told(phone, "no_free_slot"),
    )
    assert labels[waiting] in told(phone, "no_free_slot")[0]
    assert await _sets(rig) == 2, await rig.async_frames()  # one Set per code written

    revoked = next(p for p in labels if p != waiting)
    await hass.services.async_call(
        DOMAIN, "revoke_grant", {"grant_id": grants[revoked]}, blocking=True
    )
    await until(
        "the waiting grant's code is written into the freed slot",
        lambda: _slot_of(rig, waiting),
        seconds=10,
    )
    await until(
        "the repair no_free_slot goes once every grant has its code",
        lambda: repair(hass, "no_free_slot", lock.entity_id) is None,
    )
    assert len(told(phone, "no_free_slot")) == 1, all_told(phone)
    assert await _sets(rig) in {3, 4}, await rig.async_frames()  # (a clear, and) one Set
    assert revoked not in (await _pins(rig)).values()
    await hass.config_entries.async_unload(entry.entry_id)
