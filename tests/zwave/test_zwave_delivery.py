"""In-home delivery through the Z-Wave rig's lock: whole visits, alarm and camera included.

Real pieces: Concierge, Home Assistant's zwave_js integration, the Z-Wave JS Server and
driver (only the lock is simulated, rigs/zwave/rig.mjs), Home Assistant's `manual` alarm
panel with a code, a `local_file` camera and HTTP through Home Assistant's own server.
What a test expects of the lock it reads from the lock itself (the rig's ``/status``),
not only from Home Assistant's entity. Everything runs in real time.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.keypad import manager as keypad_manager
from custom_components.concierge.keypad import zwave as zwave_adapter
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

from .conftest import ZWaveRig
from .helpers import Lock, state_is

OPENING = ["access_requested", "alarm_disarmed", "access_granted", "unlocked", "visit_started"]


@pytest.fixture(autouse=True)
def quick_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Confirm a code within 2 s and retry after 1 s (as the keypad tests do)."""
    monkeypatch.setattr(zwave_adapter, "CONFIRM_TIMEOUT", 2.0)
    monkeypatch.setattr(keypad_manager, "retry_delay", lambda _attempt: 1)


@pytest.fixture
async def home(
    hass: HomeAssistant, lock: Lock, house: None, carrier: Carrier
) -> AsyncIterator[MockConfigEntry]:
    """A site whose front door is the rig's lock, with a contact, the camera and the alarm."""
    entry = await add_rig_site(hass, lock.entity_id, carrier)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)


async def bolt_is(rig: ZWaveRig, bolt: str, seconds: float = 5.0) -> None:
    """Wait until the lock itself (its Door Lock mode) is `locked` or `unlocked`."""

    async def check() -> bool:
        return bool((await rig.async_get("/status"))["bolt"] == bolt)

    await until(f"the lock's bolt is {bolt}", check, seconds=seconds)


async def test_courier_delivery_over_http(
    hass: HomeAssistant,
    lock: Lock,
    home: MockConfigEntry,
    carrier: Carrier,
    access_events: list[dict[str, Any]],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    rig = lock.rig
    await rig.async_post("/frames/reset")
    await courier_grant(hass)
    client = await hass_client_no_auth()

    status, body = await deliver(client, home, carrier)
    assert status == 200, body
    visit = body["visit"]
    # Disarmed (verified on the panel) before the lock was told to open; then it opened.
    assert state_of(hass, ALARM) == "disarmed"
    await bolt_is(rig, "unlocked")
    await state_is(hass, lock.entity_id, "unlocked")
    assert timeline(access_events, visit) == OPENING
    assert (await rig.async_frames())["DoorLock.OperationSet"] == 1

    door(hass, "on")
    await until(lambda: "door_opened" in timeline(access_events, visit))
    door(hass, "off")
    finished = await until(lambda: ended(access_events, visit))

    assert finished["type"] == "visit_completed", timeline(access_events, visit)
    await bolt_is(rig, "locked")
    assert state_of(hass, lock.entity_id) == "locked"
    assert state_of(hass, ALARM) == "armed_away"
    assert timeline(access_events, visit) == [
        *OPENING, "door_opened", "door_closed", "locked", "alarm_rearmed", "visit_completed",
    ]  # fmt: skip
    assert (await rig.async_frames())["DoorLock.OperationSet"] == 2
    await assert_evidence_verifies(hass, visit)
    assert "4711" not in said(access_events)


async def test_keypad_pin_visit(
    hass: HomeAssistant, lock: Lock, home: MockConfigEntry, access_events: list[dict[str, Any]]
) -> None:
    rig = lock.rig
    grant_id = await create_grant(hass, local_time(-60), local_time(3600))

    async def pin_slot() -> int | None:
        codes = await rig.async_codes()
        return next((int(s) for s, c in codes.items() if c["code"] == PIN), None)

    slot = await until(pin_slot, seconds=6)
    await until(lambda: home.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"})
    assert state_of(hass, ALARM) == "armed_away"

    # The cleaner types the PIN: the lock opens by itself, the visit starts at the unlock.
    await rig.async_post("/keypad-unlock", {"slot": slot})

    def started() -> dict[str, Any] | None:
        return next((e for e in access_events if e["type"] == "visit_started"), None)

    first = await until(started)
    visit = first["visit"]
    assert (first["grant"], first["source"]) == (grant_id, "keypad")
    assert state_of(hass, ALARM) == "disarmed"
    assert timeline(access_events, visit) == OPENING
    await bolt_is(rig, "unlocked")
    await rig.async_post("/frames/reset")

    # In, out, door shut: Concierge locks the door and re-arms.
    door(hass, "on")
    await until(lambda: "door_opened" in timeline(access_events, visit))
    door(hass, "off")
    finished = await until(lambda: ended(access_events, visit))

    assert finished["type"] == "visit_completed", timeline(access_events, visit)
    await bolt_is(rig, "locked")
    assert (await rig.async_frames())["DoorLock.OperationSet"] == 1
    assert state_of(hass, ALARM) == "armed_away"
    assert timeline(access_events, visit)[-5:] == [
        "door_opened", "door_closed", "locked", "alarm_rearmed", "visit_completed",
    ]  # fmt: skip
    assert home.runtime_data.grant(grant_id).uses == 1
    await assert_evidence_verifies(hass, visit)
    assert PIN not in said(access_events)


async def test_lock_offline_at_the_end_alerts_and_arms_the_fallback(
    hass: HomeAssistant, lock: Lock, home: MockConfigEntry, access_events: list[dict[str, Any]]
) -> None:
    rig = lock.rig
    grant_id = await courier_grant(hass)
    response = await hass.services.async_call(
        DOMAIN, "start_visit", {"grant_id": grant_id, "portal": "front"},
        blocking=True, return_response=True,
    )  # fmt: skip
    assert response is not None
    visit = str(response["visit_id"])
    await bolt_is(rig, "unlocked")
    door(hass, "on")
    await until(lambda: "door_opened" in timeline(access_events, visit))

    # The lock drops off the network before Concierge tells it to lock.
    await rig.async_post("/offline", {"on": True})
    door(hass, "off")
    finished = await until(lambda: ended(access_events, visit), seconds=12)

    assert_lock_failure_handled(hass, access_events, visit, finished)
    status = await rig.async_get("/status")
    assert status["bolt"] == "unlocked"
    assert status["unheard"] >= 1  # the lock command went into the void

    # Back on the network: Concierge's next attempt (5 s after the failure) locks it.
    await rig.async_post("/offline", {"on": False})
    await bolt_is(rig, "locked", seconds=10)
    locked = await until(lambda: access_events[-1]["type"] == "locked" and access_events[-1])
    assert locked["source"] == "system"


async def test_restart_mid_visit_locks_rearms_and_records_it(
    hass: HomeAssistant, lock: Lock, home: MockConfigEntry, access_events: list[dict[str, Any]]
) -> None:
    rig = lock.rig
    grant_id = await courier_grant(hass)
    response = await hass.services.async_call(
        DOMAIN, "start_visit", {"grant_id": grant_id, "portal": "front"},
        blocking=True, return_response=True,
    )  # fmt: skip
    assert response is not None
    visit = str(response["visit_id"])
    await bolt_is(rig, "unlocked")
    assert state_of(hass, ALARM) == "disarmed"

    # Home Assistant stops in the middle of the visit (the door was never opened)...
    assert await hass.config_entries.async_unload(home.entry_id)
    # ...and starts again.
    assert await hass.config_entries.async_setup(home.entry_id)
    finished = await until(lambda: ended(access_events, visit))

    assert finished["type"] == "visit_aborted"
    assert finished["reason"] == "interrupted"
    await bolt_is(rig, "locked")
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
