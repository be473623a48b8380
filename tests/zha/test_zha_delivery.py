"""In-home delivery through a Zigbee lock on Home Assistant's real ZHA: whole visits.

Real pieces: Concierge, Home Assistant's zha integration, the zha library and zigpy (only
the radio and the lock are simulated, tests/zha/conftest.py), Home Assistant's `manual`
alarm panel with a code, a `local_file` camera and HTTP through Home Assistant's own
server. What a test expects of the lock it reads from the simulated lock itself (its
``lock_state`` attribute and the DoorLock commands it received). Real time throughout.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from zigpy.zcl.clusters.closures import DoorLock

from custom_components.concierge.const import DOMAIN
from tests.components.delivery_helpers import ALARM, Carrier, said
from tests.keypad_helpers import PIN, create_grant, local_time
from tests.rig_delivery_helpers import (
    add_rig_site,
    assert_evidence_verifies,
    assert_lock_failure_handled,
    courier_grant,
    deliver,
    door,
    ended,
    state_of,
    timeline,
)
from tests.waiting import until

from .conftest import ZhaLock

pytestmark = pytest.mark.usefixtures("quick_retry")

OPENING = ["access_requested", "alarm_disarmed", "access_granted", "unlocked", "visit_started"]
LOCK_STATE = DoorLock.AttributeDefs.lock_state.id


@pytest.fixture
async def home(
    hass: HomeAssistant, zha_lock: ZhaLock, house: None, carrier: Carrier
) -> AsyncIterator[MockConfigEntry]:
    """A site whose front door is the Zigbee lock, with a contact, the camera and the alarm."""
    entry = await add_rig_site(hass, zha_lock.entity_id, carrier)
    # The keypad manager's first look at its slots (get_pin_code each) is over.
    keypad = entry.runtime_data.site_data.keypad
    await until(lambda: keypad.get(zha_lock.entity_id) and keypad[zha_lock.entity_id].known)
    zha_lock.reset_frames()
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)


def bolt(zha_lock: ZhaLock) -> DoorLock.LockState:
    """The lock's own ``lock_state``, as the device holds it."""
    return DoorLock.LockState(zha_lock.sim.attributes[DoorLock.cluster_id][LOCK_STATE])


async def bolt_is(zha_lock: ZhaLock, state: DoorLock.LockState) -> None:
    """Wait until the device's bolt is in `state`."""

    await until(f"the lock's bolt is {state.name}", lambda: bolt(zha_lock) == state, seconds=5)


async def start_visit(hass: HomeAssistant, grant_id: str) -> str:
    """The owner lets the grant's holder in at the front door (the whole flow)."""
    response = await hass.services.async_call(
        DOMAIN, "start_visit", {"grant_id": grant_id, "portal": "front"},
        blocking=True, return_response=True,
    )  # fmt: skip
    assert response is not None
    return str(response["visit_id"])


async def test_courier_delivery_over_http(
    hass: HomeAssistant,
    zha_lock: ZhaLock,
    home: MockConfigEntry,
    carrier: Carrier,
    access_events: list[dict[str, Any]],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    await courier_grant(hass)
    client = await hass_client_no_auth()

    status, body = await deliver(client, home, carrier)
    assert status == 200, body
    visit = body["visit"]
    # Disarmed (verified on the panel) before the lock was told to open; then it opened.
    assert state_of(hass, ALARM) == "disarmed"
    await bolt_is(zha_lock, DoorLock.LockState.Unlocked)
    assert zha_lock.frames() == ["unlock_door"]
    assert timeline(access_events, visit) == OPENING

    door(hass, "on")
    await until(lambda: "door_opened" in timeline(access_events, visit))
    door(hass, "off")
    finished = await until(lambda: ended(access_events, visit))

    assert finished["type"] == "visit_completed", timeline(access_events, visit)
    await bolt_is(zha_lock, DoorLock.LockState.Locked)
    assert zha_lock.frames() == ["unlock_door", "lock_door"]
    assert state_of(hass, zha_lock.entity_id) == "locked"
    assert state_of(hass, ALARM) == "armed_away"
    assert timeline(access_events, visit) == [
        *OPENING, "door_opened", "door_closed", "locked", "alarm_rearmed", "visit_completed",
    ]  # fmt: skip
    await assert_evidence_verifies(hass, visit)
    assert "4711" not in said(access_events)


async def test_keypad_pin_visit_ends_when_the_lock_is_locked_by_hand(
    hass: HomeAssistant,
    zha_lock: ZhaLock,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    grant_id = await create_grant(hass, local_time(-60), local_time(3600))

    def pin_slot() -> int | None:
        return next((s for s, c in zha_lock.codes().items() if c["pin"] == PIN), None)

    slot = await until(pin_slot)
    await until(lambda: home.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"})
    assert state_of(hass, ALARM) == "armed_away"

    # The cleaner types the PIN: the lock opens by itself, the visit starts at the unlock.
    zha_lock.keypad_unlock(slot)

    def started() -> dict[str, Any] | None:
        return next((e for e in access_events if e["type"] == "visit_started"), None)

    first = await until(started)
    visit = first["visit"]
    assert (first["grant"], first["source"]) == (grant_id, "keypad")
    assert state_of(hass, ALARM) == "disarmed"
    assert timeline(access_events, visit) == OPENING
    assert bolt(zha_lock) == DoorLock.LockState.Unlocked
    zha_lock.reset_frames()

    # On the way out the cleaner turns the thumb turn: the lock reports locked.
    zha_lock.manual_lock()
    finished = await until(lambda: ended(access_events, visit))

    assert finished["type"] == "visit_completed", timeline(access_events, visit)
    assert bolt(zha_lock) == DoorLock.LockState.Locked
    assert zha_lock.frames() == []  # nothing to lock: the lock did it itself
    assert state_of(hass, ALARM) == "armed_away"
    assert timeline(access_events, visit) == [
        *OPENING, "locked", "alarm_rearmed", "visit_completed",
    ]  # fmt: skip
    assert home.runtime_data.grant(grant_id).uses == 1
    await assert_evidence_verifies(hass, visit)
    assert PIN not in said(access_events)


async def test_lock_offline_at_the_end_alerts_and_arms_the_fallback(
    hass: HomeAssistant,
    zha_lock: ZhaLock,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    visit = await start_visit(hass, await courier_grant(hass))
    await bolt_is(zha_lock, DoorLock.LockState.Unlocked)
    door(hass, "on")
    await until(lambda: "door_opened" in timeline(access_events, visit))

    # The lock drops off the network before Concierge tells it to lock.
    zha_lock.offline()
    door(hass, "off")
    finished = await until(lambda: ended(access_events, visit), seconds=12)

    assert_lock_failure_handled(hass, access_events, visit, finished)
    assert bolt(zha_lock) == DoorLock.LockState.Unlocked
    assert zha_lock.sim.dropped >= 1  # the lock command went into the void
    assert "lock_door" not in zha_lock.frames()


async def test_restart_mid_visit_locks_rearms_and_records_it(
    hass: HomeAssistant,
    zha_lock: ZhaLock,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    visit = await start_visit(hass, await courier_grant(hass))
    await bolt_is(zha_lock, DoorLock.LockState.Unlocked)
    assert state_of(hass, ALARM) == "disarmed"

    # Home Assistant stops in the middle of the visit (the door was never opened)...
    assert await hass.config_entries.async_unload(home.entry_id)
    # ...and starts again.
    assert await hass.config_entries.async_setup(home.entry_id)
    finished = await until(lambda: ended(access_events, visit))

    assert finished["type"] == "visit_aborted"
    assert finished["reason"] == "interrupted"
    await bolt_is(zha_lock, DoorLock.LockState.Locked)
    assert "lock_door" in zha_lock.frames()
    assert state_of(hass, ALARM) == "armed_away"
    assert timeline(access_events, visit)[-4:] == [
        "safety_alert", "locked", "alarm_rearmed", "visit_aborted",
    ]  # fmt: skip
    assert home.runtime_data.visit(visit).abort_reason == "interrupted"
    verified = await hass.services.async_call(
        DOMAIN, "verify_audit_log", {}, blocking=True, return_response=True
    )
    assert verified is not None
    assert verified["ok"] is True


async def test_lock_removed_during_a_keypad_visit_ends_it_with_the_alarm_armed(
    hass: HomeAssistant,
    zha_lock: ZhaLock,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    grant_id = await create_grant(hass, local_time(-60), local_time(3600))
    await until(lambda: home.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"})
    slot = next(s for s, c in zha_lock.codes().items() if c["pin"] == PIN)
    zha_lock.keypad_unlock(slot)
    first = await until(lambda: next(
        (e for e in access_events if e["type"] == "visit_started"), None
    ))  # fmt: skip
    visit = first["visit"]
    assert state_of(hass, ALARM) == "disarmed"

    # The owner removes the lock from Home Assistant (or its integration) mid-visit.
    er.async_get(hass).async_remove(zha_lock.entity_id)
    finished = await until(lambda: ended(access_events, visit))

    # Nothing can lock that door now: the visit ends, the alarm is armed without it.
    assert finished["type"] == "visit_aborted"
    assert finished["reason"] == "lock_removed"
    assert state_of(hass, ALARM) == "armed_home"
    assert timeline(access_events, visit)[-3:] == ["safety_alert", "alarm_rearmed", "visit_aborted"]
    notices = persistent_notification._async_get_or_create_notifications(hass)
    assert any("disappeared" in n["message"] for n in notices.values()), notices
