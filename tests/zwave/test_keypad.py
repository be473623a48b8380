"""Keypad PINs on a Z-Wave lock: present exactly during the window, attributed, robust.

Everything runs for real: Concierge, Home Assistant's zwave_js integration,
zwave-js-server-python, the Z-Wave JS Server and driver. Only the lock is simulated
(rigs/zwave/rig.mjs), and what a test expects of the lock it reads from the lock's own
memory (``/codes``), never from Concierge's state or the driver's cache.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, ServiceCall, State
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.concierge.const import DOMAIN, EVENT_ACCESS
from custom_components.concierge.diagnostics import async_get_config_entry_diagnostics
from custom_components.concierge.keypad import manager as keypad_manager
from custom_components.concierge.keypad import zwave as zwave_adapter
from tests.keypad_helpers import PIN, create_grant, local_time, setup_site
from tests.waiting import until

from .helpers import EMPTY, Lock, slot_is

SEED = {"status": "enabled", "code": "13579"}  # slot 1, outside the managed range


def _code(pin: str) -> dict[str, Any]:
    return {"status": "enabled", "code": pin}


def _frames(counts: dict[str, int]) -> dict[str, int]:
    """Only the user-code frames the lock received (what programming costs)."""
    return {k: v for k, v in counts.items() if k.startswith("UserCode.") and v}


@pytest.fixture(autouse=True)
def quick_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shorter waits than in a home, so tests stay fast: 2 s to confirm, 1 s to retry."""
    monkeypatch.setattr(zwave_adapter, "CONFIRM_TIMEOUT", 2.0)
    monkeypatch.setattr(keypad_manager, "retry_delay", lambda _attempt: 1)


@pytest.fixture
async def site(
    hass: HomeAssistant, lock: Lock, phone: list[ServiceCall]
) -> AsyncIterator[MockConfigEntry]:
    """A Concierge site whose front door is the rig's Z-Wave lock (slots 10-14 managed)."""
    entry = await setup_site(hass, lock.entity_id, last_slot=14, attack_threshold=3)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def test_code_is_on_the_lock_exactly_during_the_window(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry
) -> None:
    rig = lock.rig
    await rig.async_post("/frames/reset")
    events = async_capture_events(hass, EVENT_ACCESS)
    grant_id = await create_grant(hass, local_time(2), local_time(6))
    await hass.async_block_till_done()
    codes = await rig.async_codes()
    assert all(codes[s] == EMPTY for s in range(10, 15))

    # The window opens: the code is there within moments.
    await slot_is(rig, 10, _code(PIN), seconds=6)
    assert (await rig.async_codes())[1] == SEED

    async def confirmed() -> State | None:
        sensor = next(
            s for s in hass.states.async_all("sensor") if s.attributes.get("grant_id") == grant_id
        )
        return sensor if sensor.attributes["codes"] == {"Front door": "programmed"} else None

    sensor = await until(confirmed)
    assert "482913" not in str(sensor.as_dict())

    # ... and closes: the code is gone.
    await slot_is(rig, 10, EMPTY, seconds=8)
    assert (await rig.async_codes())[1] == SEED

    async def recorded() -> list[str] | None:
        kinds = [e.data["type"] for e in events if e.data["grant"] == grant_id]
        return kinds if "code_cleared" in kinds else None

    kinds = await until(recorded)
    assert kinds == [
        "grant_created", "grant_activated", "code_programmed", "grant_expired", "code_cleared",
    ]  # fmt: skip
    # One write at the start, one clear at the end, and the driver's own re-read of each.
    frames = _frames(await rig.async_get("/frames"))
    sets = sum(v for k, v in frames.items() if k.endswith("Set"))
    assert sets == 2, frames


async def test_keypad_unlock_starts_the_right_visit(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry
) -> None:
    rig = lock.rig
    other = await create_grant(hass, local_time(-60), local_time(3600), pin="111222")
    grant_id = await create_grant(hass, local_time(-60), local_time(3600))

    async def both_on_the_lock() -> dict[str, int] | None:
        codes = await rig.async_codes()
        slots = {c["code"]: int(s) for s, c in codes.items() if c["code"]}
        return slots if {"111222", PIN} <= set(slots) else None

    slot = (await until(both_on_the_lock))[PIN]
    assert slot in range(10, 15)
    events = async_capture_events(hass, EVENT_ACCESS)

    await rig.async_post("/keypad-unlock", {"slot": slot})

    async def started() -> list[dict[str, Any]] | None:
        found = [dict(e.data) for e in events if e.data["type"] == "visit_started"]
        return found or None

    (visit,) = await until(started)
    assert visit["grant"] == grant_id != other
    assert visit["source"] == "keypad"
    in_progress = next(
        s for s in hass.states.async_all("binary_sensor") if s.entity_id.endswith("in_progress")
    )
    assert in_progress.state == "on"
    assert site.runtime_data.grant(grant_id).uses == 1

    await rig.async_post("/keypad-lock", {"slot": slot})

    async def completed() -> bool:
        return any(e.data["type"] == "visit_completed" for e in events)

    await until(completed)
    timeline = [e.data["type"] for e in events if e.data["visit"] == visit["visit"]]
    assert timeline == [
        "access_requested", "access_granted", "unlocked", "visit_started", "locked",
        "visit_completed",
    ]  # fmt: skip


async def test_a_restart_in_the_window_sends_nothing(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry
) -> None:
    rig = lock.rig
    grant_id = await create_grant(hass, local_time(-60), local_time(3600))
    await slot_is(rig, 10, _code(PIN))

    async def confirmed() -> bool:
        return site.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"}

    await until(confirmed)
    diagnostics = await async_get_config_entry_diagnostics(hass, site)
    assert diagnostics["keypad"]["locks"][lock.entity_id]["assignments"] == {grant_id: 10}
    assert diagnostics["keypad"]["locks"][lock.entity_id]["known"][10] == "ours"
    assert PIN not in str(diagnostics)
    await rig.async_post("/frames/reset")

    assert await hass.config_entries.async_reload(site.entry_id)
    await hass.async_block_till_done()
    # The restarted keypad has looked at the lock and has nothing left to send.
    await until(lambda: site.runtime_data.keypad.status.get(grant_id))
    await until(lambda: site.runtime_data.keypad.idle)

    assert _frames(await rig.async_get("/frames")) == {}
    assert (await rig.async_codes())[10] == _code(PIN)


async def test_an_offline_lock_gets_the_code_when_it_is_back(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry, phone: list[ServiceCall]
) -> None:
    rig = lock.rig
    await rig.async_post("/offline", {"on": True})
    grant_id = await create_grant(hass, local_time(-60), local_time(3600))

    def status() -> str | None:
        for state in hass.states.async_all("sensor"):
            if state.attributes.get("grant_id") == grant_id:
                return state.attributes["codes"].get("Front door")
        return None

    async def pending() -> bool:
        return status() == "pending"

    await until(pending, seconds=10)
    (told,) = phone  # the owner heard about it, once
    assert told.data["message"].startswith(
        "The PIN of Cleaner could not be put on the lock of Front door"
    )
    assert PIN not in str(told.data)
    assert (await rig.async_codes())[10] == EMPTY

    await rig.async_post("/offline", {"on": False})
    await slot_is(rig, 10, _code(PIN), seconds=10)  # at the next retry

    async def programmed() -> bool:
        return status() == "programmed"

    await until(programmed)


async def test_a_refused_code_is_tried_once_and_raises_a_repair(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry
) -> None:
    rig = lock.rig
    await rig.async_post("/reject-duplicates", {"on": True})
    await rig.async_post("/frames/reset")
    events = async_capture_events(hass, EVENT_ACCESS)
    grant_id = await create_grant(
        hass, local_time(-60), local_time(3600), pin="13579"
    )  # = the seed code

    async def rejected() -> bool:
        return any(e.data["type"] == "code_rejected" for e in events)

    await until(rejected, seconds=10)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"code_rejected_{lock.entity_id}_{grant_id}")
    assert issue is not None
    assert issue.translation_placeholders == {"grant": "Cleaner", "portal": "Front door"}
    # Other grants change: the refused code is not sent again. Once the pass after the new
    # grant is over and no retry waits, nothing more is sent.
    await create_grant(hass, local_time(1800), local_time(5400), pin="246810")
    await hass.async_block_till_done()
    await until(lambda: site.runtime_data.keypad.idle)
    sets = sum(v for k, v in _frames(await rig.async_get("/frames")).items() if k.endswith("Set"))
    assert sets == 1
    codes = await rig.async_codes()
    assert all(codes[s] == EMPTY for s in range(10, 15))

    # A new PIN is tried (and taken).
    await hass.services.async_call(
        DOMAIN, "update_grant", {"grant_id": grant_id, "pin": "97531"}, blocking=True
    )
    await slot_is(rig, 10, _code("97531"))

    async def repaired() -> bool:
        issue_id = f"code_rejected_{lock.entity_id}_{grant_id}"
        return ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None

    await until(repaired)


async def test_codes_concierge_did_not_write_are_never_touched(
    hass: HomeAssistant, lock: Lock
) -> None:
    rig = lock.rig
    # Somebody's own code sits in slot 10, inside the range Concierge will manage.
    await hass.services.async_call(
        "zwave_js",
        "set_lock_usercode",
        {"entity_id": lock.entity_id, "code_slot": 10, "usercode": "55555"},
        blocking=True,
    )
    await slot_is(rig, 10, _code("55555"))

    async def driver_knows() -> bool:
        response = await hass.services.async_call(
            "zwave_js", "get_lock_usercode", {"entity_id": lock.entity_id, "code_slot": 10},
            blocking=True, return_response=True,
        )  # fmt: skip
        return bool(response and response[lock.entity_id]["10"]["in_use"])  # type: ignore[index]

    await until(driver_knows)
    entry = await setup_site(hass, lock.entity_id, last_slot=11)

    async def foreign_reported() -> ir.IssueEntry | None:
        return ir.async_get(hass).async_get_issue(DOMAIN, f"foreign_codes_{lock.entity_id}")

    issue = await until(foreign_reported)
    assert issue.translation_placeholders["slots"] == "10"

    await create_grant(hass, local_time(-60), local_time(3600), pin="1111")
    await slot_is(rig, 11, _code("1111"))
    # The range is full now: a second grant gets no slot rather than taking slot 10.
    second = await create_grant(hass, local_time(-60), local_time(3600), pin="2222")

    def no_slot_left() -> bool:
        return entry.runtime_data.keypad.status.get(second) == {"front": "no_free_slot"}

    # Once the grant shows it has no slot and the keypad has nothing left to send, the lock
    # holds what it will hold.
    await until(no_slot_left)
    await until(lambda: entry.runtime_data.keypad.idle)
    codes = await rig.async_codes()
    assert codes[10] == _code("55555")
    assert codes[1] == SEED
    assert "2222" not in str(codes)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_repeated_wrong_codes_raise_a_keypad_attack(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry, phone: list[ServiceCall]
) -> None:
    rig = lock.rig
    events = async_capture_events(hass, EVENT_ACCESS)
    for _ in range(3):
        await rig.async_post("/wrong-code")

    async def attacked() -> list[dict[str, Any]] | None:
        found = [dict(e.data) for e in events if e.data["type"] == "keypad_attack"]
        return found or None

    (attack,) = await until(attacked)
    assert attack["reason"] == "wrong_codes"
    assert attack["data"] == {"attempts": 3}
    denied = [e for e in events if e.data["type"] == "access_denied"]
    assert len(denied) == 2
    await until("the owner is told", lambda: phone)
    assert phone[-1].data["message"].startswith("Several wrong codes were entered at Front door")


async def test_revoked_and_used_up_grants_lose_their_code(
    hass: HomeAssistant, lock: Lock, site: MockConfigEntry
) -> None:
    rig = lock.rig
    once = await create_grant(hass, local_time(-60), local_time(3600), pin="3141", max_uses=1)
    revoked = await create_grant(hass, local_time(-60), local_time(3600), pin="2718")

    async def both() -> dict[str, int] | None:
        codes = await rig.async_codes()
        slots = {c["code"]: int(s) for s, c in codes.items() if c["code"]}
        return slots if {"3141", "2718"} <= set(slots) else None

    slots = await until(both)
    await hass.services.async_call(DOMAIN, "revoke_grant", {"grant_id": revoked}, blocking=True)
    await slot_is(rig, slots["2718"], EMPTY)

    # The single-use code opens the door once; then it is used up and leaves the lock.
    await rig.async_post("/keypad-unlock", {"slot": slots["3141"]})
    await slot_is(rig, slots["3141"], EMPTY)
    assert site.runtime_data.state_of(once) == "used_up"
    assert (await rig.async_codes())[1] == SEED
