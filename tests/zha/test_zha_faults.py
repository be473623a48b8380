"""Keypad PINs on a Zigbee lock under faults: no access outlives its window (issue 12).

Real ZHA on the simulated radio (tests/zha/conftest.py), whose lock answers a clear with
a failure, carries a command out but never answers, answers late, is wiped by a factory
reset, or gets a code typed in at its own menu. Each test ends on the lock's own PIN
table (never Concierge's state): no grant's PIN is on the lock outside its window. Along
the way it checks what the owner is shown and told (tests/fault_helpers.py).
"""

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.concierge.const import DOMAIN, EVENT_ACCESS
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
    grant_count,
    grant_state,
    keypad_state,
    repair,
    repairs,
    told,
)
from tests.keypad_helpers import PIN, create_grant, local_time, setup_site
from tests.waiting import until

from .conftest import ZhaLock

pytestmark = pytest.mark.usefixtures("quick_retry")

RETRY_S = 1.0  # quick_retry
MANAGED = range(10, 13)
FOREIGN = "55555"


@pytest.fixture
async def site(
    hass: HomeAssistant, zha_lock: ZhaLock, phone: list[ServiceCall]
) -> AsyncIterator[MockConfigEntry]:
    """A Concierge site whose front door is the simulated Zigbee lock (slots 10-12)."""
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12, attack_threshold=3)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


def _slot_of(lock: ZhaLock, pin: str) -> int | None:
    return next((s for s, c in lock.codes().items() if c["pin"] == pin), None)


def _pins(lock: ZhaLock) -> dict[int, str]:
    return {slot: entry["pin"] for slot, entry in lock.codes().items()}


def _count(lock: ZhaLock, command: str) -> int:
    return lock.frames().count(command)


async def _programmed(hass: HomeAssistant, lock: ZhaLock, grant_id: str, pin: str = PIN) -> int:
    """Wait until the grant's code is on the lock and the grant shows it; its slot."""
    slot = await until(
        f"the PIN {pin} is written to the lock", lambda: _slot_of(lock, pin), seconds=5
    )
    await until(
        "the grant shows its code as programmed once the lock confirmed it",
        lambda: door_status(hass, grant_id),
        want=lambda v: v == PROGRAMMED,
    )
    return int(slot)


async def _not_removed_is_shown(
    hass: HomeAssistant, lock: ZhaLock, grant_id: str, phone: list[ServiceCall]
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
        f"the repair code_not_removed_{lock.entity_id} is raised (repairs now: {repairs(hass)})",
        lambda: repair(hass, "code_not_removed", lock.entity_id),
    )
    assert "Cleaner" in (issue.translation_placeholders or {}).get("grants", ""), issue
    await until(
        f"the owner is told code_not_removed (phone got: {all_told(phone)})",
        lambda: told(phone, "code_not_removed"),
    )


async def _settled(hass: HomeAssistant, lock: ZhaLock, grant_id: str) -> None:
    """Once the lock confirmed the clear: no repair, the door in sync, the grant clear."""
    await until(
        "the repair code_not_removed goes once the lock confirmed the clear",
        lambda: repair(hass, "code_not_removed", lock.entity_id) is None,
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


# --- b) an answer lost or late -------------------------------------------------------


async def test_a_set_whose_answer_is_lost_is_cleared_at_the_window_end(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry
) -> None:
    seen = CodesSeen(hass)
    zha_lock.lose_answers("set_pin_code")  # carried out, never answered
    grant_id = await create_grant(hass, local_time(-60), local_time(3))
    slot = await until("the lock carries the set out", lambda: _slot_of(zha_lock, PIN))
    assert slot in MANAGED
    await until(
        "a code written without confirmation shows `pending`",
        lambda: door_status(hass, grant_id),
        want=lambda v: v == PENDING,
    )

    await until(
        "at the window end the code whose write was never confirmed is cleared from the lock "
        "(an unconfirmed write is unknown, never empty)",
        lambda: _slot_of(zha_lock, PIN) is None,
        seconds=8,
    )
    await _settled(hass, zha_lock, grant_id)
    assert PROGRAMMED not in seen.of(grant_id), seen.of(grant_id)
    assert PIN not in _pins(zha_lock).values()


async def test_a_lost_set_answer_then_silence_shows_not_removed_until_the_lock_answers(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry, phone: list[ServiceCall]
) -> None:
    seen = CodesSeen(hass)
    zha_lock.lose_answers("set_pin_code")
    grant_id = await create_grant(hass, local_time(-60), local_time(2.5))
    await until("the lock carries the set out", lambda: _slot_of(zha_lock, PIN))
    zha_lock.offline()  # ... and then answers nothing at all, past the window end

    await until(
        "the window ends",
        lambda: grant_state(hass, grant_id),
        want=lambda v: v == "expired",
        seconds=8,
    )
    await _not_removed_is_shown(hass, zha_lock, grant_id, phone)
    assert _slot_of(zha_lock, PIN) is not None  # the fault held: the code is still there
    during = seen.since_first(grant_id)
    assert set(during) <= {PENDING, NOT_REMOVED}, (
        "while the write was unconfirmed the grant showed only pending / not_removed "
        f"(never programmed, never nothing): {during}"
    )

    zha_lock.offline(on=False)
    zha_lock.heal()
    await until(
        "once the lock answers again, the code that outlived its window is cleared",
        lambda: _slot_of(zha_lock, PIN) is None,
        seconds=10,
    )
    await _settled(hass, zha_lock, grant_id)
    assert len(told(phone, "code_not_removed")) == 1, all_told(phone)
    assert PIN not in _pins(zha_lock).values()


async def test_a_clear_answered_late_is_settled(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry
) -> None:
    grant_id = await create_grant(hass, local_time(-60), local_time(2.5))
    await _programmed(hass, zha_lock, grant_id)
    zha_lock.answer_late("clear_pin_code")  # carried out, answered after zigpy gave up

    await until(
        "the clear is carried out at the window end",
        lambda: _slot_of(zha_lock, PIN) is None,
        seconds=8,
    )
    # The lock holds nothing, but never confirmed in time: Concierge settles it (by reading
    # the slot or clearing again) rather than showing it forever, or calling it done unseen.
    await _settled(hass, zha_lock, grant_id)
    assert PIN not in _pins(zha_lock).values()


# --- c) a clear answered with failure ----------------------------------------------


async def test_a_clear_answered_with_failure_is_retried_until_the_lock_takes_it(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry, phone: list[ServiceCall]
) -> None:
    grant_id = await create_grant(hass, local_time(-60), local_time(2.5))
    await _programmed(hass, zha_lock, grant_id)
    zha_lock.fail("clear_pin_code")

    await until(
        "Concierge tries to clear the code at the window end",
        lambda: _count(zha_lock, "clear_pin_code"),
        seconds=8,
    )
    assert _slot_of(zha_lock, PIN) is not None  # refused: the code stays
    await _not_removed_is_shown(hass, zha_lock, grant_id, phone)
    await until(
        "a refused clear is retried",
        lambda: _count(zha_lock, "clear_pin_code"),
        want=lambda n: n >= 4,
        seconds=10,
    )
    clears = zha_lock.frame_times("clear_pin_code")
    span = clears[-1] - clears[0]
    assert len(clears) <= span / (0.9 * RETRY_S) + 1, (
        "one retry chain per lock: no more than one clear per retry period "
        f"(clears at {[round(t - clears[0], 2) for t in clears]} s)"
    )
    assert len(told(phone, "code_not_removed")) == 1, (
        f"one message per episode, not one per retry: {all_told(phone)}"
    )

    zha_lock.heal("clear_pin_code")
    await until(
        "the clear is retried until the lock takes it",
        lambda: _slot_of(zha_lock, PIN) is None,
        seconds=10,
    )
    await _settled(hass, zha_lock, grant_id)
    assert len(told(phone, "code_not_removed")) == 1, all_told(phone)
    assert PIN not in _pins(zha_lock).values()


async def test_unloading_stops_the_retries_and_a_restart_finishes_the_clear(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry
) -> None:
    grant_id = await create_grant(hass, local_time(-60), local_time(2.5))
    await _programmed(hass, zha_lock, grant_id)
    zha_lock.fail("clear_pin_code")
    await until(
        "a refused clear is retried",
        lambda: _count(zha_lock, "clear_pin_code"),
        want=lambda n: n >= 2,
        seconds=10,
    )

    assert await hass.config_entries.async_unload(site.entry_id)
    await hass.async_block_till_done()
    frames = zha_lock.frames()
    # Many retry periods pass (every timer due in the next 60 s fires, step by step).
    passed: list[Any] = []
    async_call_later(hass, 55, passed.append)
    now = dt_util.utcnow()
    for second in range(1, 61):
        async_fire_time_changed(hass, now + timedelta(seconds=second))
        await hass.async_block_till_done()
    assert passed, "the marker 55 s later fired: the retry periods have passed"
    assert zha_lock.frames() == frames, (
        "after unload no retry chain is left sending frames: "
        f"{zha_lock.frames()[len(frames) :]} came after the unload"
    )

    # The code is still on the lock; Concierge starts again and still knows to clear it.
    assert _slot_of(zha_lock, PIN) is not None
    zha_lock.heal()
    assert await hass.config_entries.async_setup(site.entry_id)
    await until(
        "after a restart Concierge still clears the code that outlived its window",
        lambda: _slot_of(zha_lock, PIN) is None,
        seconds=10,
    )
    await _settled(hass, zha_lock, grant_id)


# --- d) a code typed in at the lock --------------------------------------------------


@pytest.mark.parametrize("where", ["free", "used"])
async def test_a_code_typed_in_at_the_lock_is_foreign(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry, where: str
) -> None:
    grant_id = await create_grant(hass, local_time(-60), local_time(4))
    own = await _programmed(hass, zha_lock, grant_id)
    # Into a managed slot that is free, or into the very slot Concierge wrote.
    target = own if where == "used" else min(set(MANAGED) - {own})
    zha_lock.keypad_program(target, FOREIGN)

    issue = await until(
        f"a code typed in at the lock into managed slot {target} raises the repair "
        f"foreign_codes_{zha_lock.entity_id} (repairs now: {repairs(hass)})",
        lambda: repair(hass, "foreign_codes", zha_lock.entity_id),
    )
    assert str(target) in (issue.translation_placeholders or {}).get("slots", ""), issue

    # Another grant, opened after the foreign code appeared, does not take its slot.
    other = await create_grant(hass, local_time(-60), local_time(4), pin="246810")
    other_slot = await _programmed(hass, zha_lock, other, "246810")
    assert other_slot != target
    assert _pins(zha_lock)[target] == FOREIGN

    # Whoever knows the foreign code opens the door: that is no grant's visit.
    events = async_capture_events(hass, EVENT_ACCESS)
    zha_lock.keypad_unlock(target)
    await until(
        "the keypad unlock with a foreign code is recorded",
        lambda: [e for e in events if e.data.get("source") == "keypad"],
    )
    await hass.async_block_till_done()
    credited = [
        dict(e.data)
        for e in events
        if e.data.get("grant") is not None
        and (e.data.get("source") == "keypad" or str(e.data["type"]).startswith("visit"))
    ]
    assert not credited, f"a foreign code's use is never attributed to a grant: {credited}"
    zha_lock.manual_lock()

    # Both windows end: Concierge's own codes go, the foreign code stays.
    await until(
        "the second grant's code is cleared at its window end",
        lambda: _slot_of(zha_lock, "246810") is None,
        seconds=10,
    )
    await until("the first grant's code is gone", lambda: _slot_of(zha_lock, PIN) is None)
    await hass.async_block_till_done()
    assert _pins(zha_lock).get(target) == FOREIGN, (
        f"a foreign code is never erased at a window end: slot {target} holds "
        f"{_pins(zha_lock).get(target)!r}"
    )
    assert {PIN, "246810"}.isdisjoint(_pins(zha_lock).values())
    assert grant_count(hass) == 2
    assert other != grant_id


# --- e) codes wiped at the lock ------------------------------------------------------


@pytest.mark.parametrize("wipe", ["factory_reset", "keypad_delete"])
async def test_codes_wiped_at_the_lock_are_noticed_and_put_back(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry, wipe: str
) -> None:
    grant_id = await create_grant(hass, local_time(-60), local_time(5))
    slot = await _programmed(hass, zha_lock, grant_id)
    zha_lock.reset_frames()
    # (Home Assistant starts tasks eagerly: Concierge may react before this call returns.)
    if wipe == "factory_reset":
        assert slot in zha_lock.factory_reset()
    else:
        zha_lock.keypad_delete(slot)

    back = await until(
        f"after the lock reported the {wipe} (a programming event, no polling) Concierge "
        "puts the grant's code back",
        lambda: _slot_of(zha_lock, PIN),
        seconds=4,
    )
    assert back in MANAGED
    assert _count(zha_lock, "set_pin_code") >= 1  # written again, not just never wiped
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
    await until(
        "the code leaves the lock at the window end",
        lambda: _slot_of(zha_lock, PIN) is None,
        seconds=10,
    )
    assert PIN not in _pins(zha_lock).values()


# --- f) the same PIN twice on one door -----------------------------------------------


async def test_the_same_pin_for_two_open_grants_on_one_door_is_refused(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry
) -> None:
    first = await create_grant(hass, local_time(-60), local_time(3600))
    await _programmed(hass, zha_lock, first)
    events = async_capture_events(hass, EVENT_ACCESS)
    grants = grant_count(hass)

    with pytest.raises(ServiceValidationError) as refused:
        await create_grant(hass, local_time(1800), local_time(5400), label="Gardener")
    assert refused.value.translation_key == "pin_in_use", refused.value
    assert "Cleaner" in (refused.value.translation_placeholders or {}).values(), (
        f"the message names the grant that holds the PIN: {refused.value.translation_placeholders}"
    )
    await hass.async_block_till_done()
    assert grant_count(hass) == grants
    assert not [e for e in events if e.data["type"] == "grant_created"]
    assert list(_pins(zha_lock).values()).count(PIN) == 1

    # Once the first grant is over its PIN is free again.
    await hass.services.async_call(DOMAIN, "revoke_grant", {"grant_id": first}, blocking=True)
    await until("a revoked grant's code leaves the lock", lambda: _slot_of(zha_lock, PIN) is None)
    second = await create_grant(hass, local_time(-60), local_time(2.5), label="Gardener")
    await _programmed(hass, zha_lock, second)
    await until(
        "the code leaves the lock at the window end",
        lambda: _slot_of(zha_lock, PIN) is None,
        seconds=8,
    )
    assert PIN not in _pins(zha_lock).values()


async def test_changing_a_grant_to_a_pin_in_use_is_refused(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry
) -> None:
    first = await create_grant(hass, local_time(-60), local_time(3600))
    other = await create_grant(hass, local_time(-60), local_time(3600), pin="246810")
    await _programmed(hass, zha_lock, first)
    await _programmed(hass, zha_lock, other, "246810")

    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN, "update_grant", {"grant_id": other, "pin": PIN}, blocking=True
        )
    assert refused.value.translation_key == "pin_in_use", refused.value
    await hass.async_block_till_done()
    pins = list(_pins(zha_lock).values())
    assert pins.count(PIN) == 1
    assert pins.count("246810") == 1

    for grant_id in (first, other):
        await hass.services.async_call(
            DOMAIN, "revoke_grant", {"grant_id": grant_id}, blocking=True
        )
    await until(
        "revoked grants' codes leave the lock",
        lambda: {PIN, "246810"}.isdisjoint(_pins(zha_lock).values()),
    )


# --- g) more grants than slots ---------------------------------------------------------


async def test_running_out_of_slots_is_a_repair_and_one_message(
    hass: HomeAssistant, zha_lock: ZhaLock, phone: list[ServiceCall]
) -> None:
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=11)  # 2 slots
    zha_lock.reset_frames()
    start, end = local_time(2), local_time(3600)
    labels = {"1111": "Cleaner A", "2222": "Cleaner B", "3333": "Cleaner C"}
    grants = {
        pin: await create_grant(hass, start, end, pin=pin, label=label)
        for pin, label in labels.items()
    }
    # The three windows open at once.
    await until(
        "two codes are written when the windows open",
        lambda: len(set(labels) & set(_pins(zha_lock).values())) == 2,
        seconds=8,
    )
    left_out = await until(
        "the grant left without a slot shows `no_free_slot`",
        lambda: [p for p, g in grants.items() if door_status(hass, g) == NO_FREE_SLOT],
        want=lambda v: len(v) == 1,
    )
    (waiting,) = left_out
    assert waiting not in _pins(zha_lock).values()
    issue = await until(
        f"running out of slots raises the repair no_free_slot_{zha_lock.entity_id} "
        f"(repairs now: {repairs(hass)})",
        lambda: repair(hass, "no_free_slot", zha_lock.entity_id),
    )
    named = (issue.translation_placeholders or {}).get("grants", "")
    assert labels[waiting] in named, named
    assert not [label for pin, label in labels.items() if pin != waiting and label in named]
    await until(
        f"the owner is told no_free_slot (phone got: {all_told(phone)})",
        lambda: told(phone, "no_free_slot"),
    )
    assert labels[waiting] in told(phone, "no_free_slot")[0]
    assert zha_lock.frames().count("set_pin_code") == 2, zha_lock.frames()
    assert "clear_pin_code" not in zha_lock.frames()

    # A slot frees up: the waiting grant gets it, the repair goes, nobody is told again.
    revoked = next(p for p in labels if p != waiting)
    await hass.services.async_call(
        DOMAIN, "revoke_grant", {"grant_id": grants[revoked]}, blocking=True
    )
    await until(
        "the waiting grant's code is written into the freed slot",
        lambda: _slot_of(zha_lock, waiting),
        seconds=8,
    )
    await until(
        "the repair no_free_slot goes once every grant has its code",
        lambda: repair(hass, "no_free_slot", zha_lock.entity_id) is None,
    )
    assert len(told(phone, "no_free_slot")) == 1, all_told(phone)
    # Minimal frames: one set per code written (the freed slot may be overwritten at once).
    frames = zha_lock.frames()
    assert frames.count("set_pin_code") == 3, frames
    assert frames.count("clear_pin_code") <= 1, frames
    assert revoked not in _pins(zha_lock).values()
    await hass.config_entries.async_unload(entry.entry_id)
