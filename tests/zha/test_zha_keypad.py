"""Keypad PINs on a Zigbee lock through Home Assistant's real ZHA, on a simulated radio.

Only the radio and the lock are simulated (tests/zha/conftest.py); zigpy's request path,
ZCL serialisation and reply matching, ZHA and Concierge run for real. What a test expects
of the lock it reads from the simulated lock's own PIN table, never from Concierge.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.concierge.const import DOMAIN, EVENT_ACCESS
from tests.keypad_helpers import PIN, create_grant, local_time, setup_site
from tests.waiting import until

from .conftest import ZhaLock

pytestmark = pytest.mark.usefixtures("quick_retry")


def _slot_of(lock: ZhaLock, pin: str) -> int | None:
    return next((s for s, c in lock.codes().items() if c["pin"] == pin), None)


@pytest.fixture
async def site(
    hass: HomeAssistant, zha_lock: ZhaLock, phone: list[ServiceCall]
) -> AsyncIterator[MockConfigEntry]:
    """A Concierge site whose front door is the simulated Zigbee lock (slots 10-12)."""
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12, attack_threshold=3)
    # The first look at the managed slots: one get_pin_code each, once.
    await until(lambda: entry.runtime_data.site_data.keypad.get(zha_lock.entity_id))
    await until(lambda: entry.runtime_data.site_data.keypad[zha_lock.entity_id].known)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def test_code_is_on_the_lock_exactly_during_the_window(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry
) -> None:
    zha_lock.set_code(1, "13579")  # the owner's own code, outside the managed range
    zha_lock.reset_frames()
    grant_id = await create_grant(hass, local_time(1.5), local_time(4))
    await hass.async_block_till_done()
    assert _slot_of(zha_lock, PIN) is None

    slot = await until(lambda: _slot_of(zha_lock, PIN))
    assert slot == 10

    def programmed() -> bool:
        return site.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"}

    await until(programmed)
    await until(lambda: _slot_of(zha_lock, PIN) is None, seconds=6)
    assert zha_lock.codes()[1]["pin"] == "13579"
    # The clear is confirmed and the manager has nothing left to send.
    await until(lambda: site.runtime_data.keypad.status.get(grant_id) is None)
    await until(lambda: site.runtime_data.keypad.idle)
    # Set at the start (its response confirms it), clear at the end, nothing in between.
    assert zha_lock.frames() == ["set_pin_code", "clear_pin_code"]


async def test_keypad_unlock_starts_the_right_visit_and_restart_sends_nothing(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry
) -> None:
    grant_id = await create_grant(hass, local_time(-60), local_time(3600))
    slot = await until(lambda: _slot_of(zha_lock, PIN))
    await until(lambda: site.runtime_data.keypad.status.get(grant_id))
    events = async_capture_events(hass, EVENT_ACCESS)

    zha_lock.keypad_unlock(slot)

    def started() -> list[dict[str, Any]]:
        return [dict(e.data) for e in events if e.data["type"] == "visit_started"]

    (visit,) = await until(started)
    assert visit["grant"] == grant_id
    assert visit["source"] == "keypad"

    zha_lock.reset_frames()
    assert await hass.config_entries.async_reload(site.entry_id)
    await hass.async_block_till_done()
    # The restart is over: the interrupted visit is closed and the keypad has settled.
    await until(lambda: [e for e in events if e.data["type"] == "visit_aborted"])
    await until(lambda: site.runtime_data.keypad.status.get(grant_id))
    await until(lambda: site.runtime_data.keypad.idle)
    # No code is written again. The visit the restart interrupted is closed safely:
    # the door is locked (the one frame sent), and the visit recorded as interrupted.
    assert zha_lock.frames() == ["lock_door"]
    assert _slot_of(zha_lock, PIN) == slot
    aborted = [e.data for e in events if e.data["type"] == "visit_aborted"]
    assert [e["reason"] for e in aborted] == ["interrupted"]


async def test_an_offline_lock_gets_the_code_when_it_is_back(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry, phone: list[ServiceCall]
) -> None:
    zha_lock.offline(on=True)
    grant_id = await create_grant(hass, local_time(-60), local_time(3600))

    def pending() -> bool:
        return site.runtime_data.keypad.status.get(grant_id) == {"front": "pending"}

    await until(pending)
    (told,) = phone
    assert "could not be put on the lock of Front door" in told.data["message"]
    assert _slot_of(zha_lock, PIN) is None

    zha_lock.offline(on=False)
    await until(lambda: _slot_of(zha_lock, PIN), seconds=8)


async def test_a_refused_code_is_tried_once_and_raises_a_repair(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry
) -> None:
    zha_lock.set_code(1, "13579")
    zha_lock.reject_duplicates(on=True)
    zha_lock.reset_frames()
    grant_id = await create_grant(hass, local_time(-60), local_time(3600), pin="13579")
    issue_id = f"code_rejected_{zha_lock.entity_id}_{grant_id}"
    await until(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id))
    await create_grant(hass, local_time(1800), local_time(5400), pin="246810")
    await hass.async_block_till_done()
    # The pass after the new grant is over and no retry waits: nothing more is sent.
    await until(lambda: site.runtime_data.keypad.idle)
    assert zha_lock.frames().count("set_pin_code") == 1
    assert site.runtime_data.keypad.status[grant_id] == {"front": "rejected"}

    await hass.services.async_call(
        DOMAIN, "update_grant", {"grant_id": grant_id, "pin": "97531"}, blocking=True
    )
    await until(lambda: _slot_of(zha_lock, "97531"))
    await until(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None)


async def test_foreign_codes_are_kept_and_wrong_codes_raise_an_attack(
    hass: HomeAssistant, zha_lock: ZhaLock, phone: list[ServiceCall]
) -> None:
    zha_lock.set_code(10, "55555")  # somebody's own code inside the managed range
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=11, attack_threshold=2)
    issue_id = f"foreign_codes_{zha_lock.entity_id}"
    issue = await until(lambda: ir.async_get(hass).async_get_issue(DOMAIN, issue_id))
    assert issue.translation_placeholders["slots"] == "10"
    await create_grant(hass, local_time(-60), local_time(3600), pin="1111")
    assert await until(lambda: _slot_of(zha_lock, "1111")) == 11
    assert zha_lock.codes()[10]["pin"] == "55555"

    events = async_capture_events(hass, EVENT_ACCESS)
    zha_lock.wrong_code()
    zha_lock.wrong_code()

    def attacked() -> list[Any]:
        return [e for e in events if e.data["type"] == "keypad_attack"]

    await until(attacked)
    await until(lambda: phone)
    assert phone[-1].data["message"].startswith("Several wrong codes were entered at Front door")
    await hass.config_entries.async_unload(entry.entry_id)
