"""No PIN and no alarm code on the bus, in the recorder's database or in the log (Z-Wave).

Real pieces: Home Assistant's recorder (an SQLite file), Concierge, Home Assistant's
zwave_js, the Z-Wave JS driver and server on the rig's mock controller, the `manual`
alarm panel and a `local_file` camera. A cleaner's grant puts its PIN on the lock, the
cleaner comes in with it (the alarm is disarmed with its code and armed again), and the
grant is revoked (the PIN leaves the lock). Then the planted secrets are looked for
everywhere (tests/secret_scan.py).

What is allowed, and why (README, "Where a PIN appears"): the PIN is in the
owner's own `concierge.create_grant` action — Home Assistant fires every action call on
its bus, stores it and logs it at DEBUG — and in what zwave-js-server-python logs at
DEBUG: every message it exchanges with the Z-Wave server. The alarm code is nowhere.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.recorder import Recorder
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.keypad import manager as keypad_manager
from custom_components.concierge.keypad import zwave as zwave_adapter
from tests.components.delivery_helpers import ALARM, Carrier
from tests.keypad_helpers import create_grant, local_time
from tests.rig_delivery_helpers import add_rig_site, door, ended, state_of, timeline
from tests.secret_scan import (  # noqa: F401 - fixtures
    SECRET_ALARM_CODE,
    SECRET_PIN,
    BusWatch,
    allowed_log,
    async_scan_database,
    bus_watch,
    database_row_is_the_owners_grant_action,
    debug_log,
    is_the_owners_grant_action,
    log_sightings,
    mock_recorder_before_hass,
    persistent_database,
    setup_quiet_house,
)
from tests.waiting import until

from .helpers import EMPTY, Lock, slot_is

LIBRARY_LOGGERS = ("zwave_js_server",)
"""zwave-js-server-python logs every message to and from the Z-Wave server at DEBUG."""


@pytest.fixture(autouse=True)
def quick_timing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Confirm a code within 2 s and retry after 1 s (as the keypad tests do)."""
    monkeypatch.setattr(zwave_adapter, "CONFIRM_TIMEOUT", 2.0)
    monkeypatch.setattr(keypad_manager, "retry_delay", lambda _attempt: 1)


@pytest.fixture
async def home(
    hass: HomeAssistant, lock: Lock, tmp_path: Path, carrier: Carrier
) -> AsyncIterator[MockConfigEntry]:
    """The rig's lock at the front door; the alarm linked with its code."""
    await setup_quiet_house(hass, tmp_path)
    entry = await add_rig_site(hass, lock.entity_id, carrier, alarm_code=SECRET_ALARM_CODE)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)


async def _keypad_visit(
    hass: HomeAssistant, lock: Lock, home: MockConfigEntry, events: list[dict[str, Any]]
) -> None:
    """A cleaner's PIN goes onto the lock, opens it, the visit runs, the PIN leaves."""
    rig = lock.rig
    grant_id = await create_grant(hass, local_time(-60), local_time(3600), pin=SECRET_PIN)

    async def pin_slot() -> int | None:
        codes = await rig.async_codes()
        return next((int(s) for s, c in codes.items() if c["code"] == SECRET_PIN), None)

    slot = await until("the PIN is on the lock", pin_slot, seconds=6)
    await until(lambda: home.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"})
    await rig.async_post("/keypad-unlock", {"slot": slot})
    started = await until(lambda: next((e for e in events if e["type"] == "visit_started"), None))
    visit = started["visit"]
    assert state_of(hass, ALARM) == "disarmed"
    door(hass, "on")
    await until(lambda: "door_opened" in timeline(events, visit))
    door(hass, "off")
    finished = await until(lambda: ended(events, visit))
    assert finished["type"] == "visit_completed", timeline(events, visit)
    assert "alarm_rearmed" in timeline(events, visit)
    assert state_of(hass, ALARM) == "armed_away"

    await hass.services.async_call(DOMAIN, "revoke_grant", {"grant_id": grant_id}, blocking=True)
    await slot_is(rig, slot, EMPTY, seconds=6)


async def test_no_secret_on_the_bus_in_the_database_or_the_log(
    recorder_mock: Recorder,
    bus_watch: BusWatch,  # noqa: F811
    debug_log: pytest.LogCaptureFixture,  # noqa: F811
    hass: HomeAssistant,
    lock: Lock,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
    hass_client: ClientSessionGenerator,
) -> None:
    await _keypad_visit(hass, lock, home, access_events)

    # What a user attaches to a bug report: Concierge's and the lock's diagnostics.
    device = dr.async_get(hass).async_get(lock.device_id)
    assert device is not None
    zwave_entry = hass.config_entries.async_get_entry(device.config_entry_id)
    assert zwave_entry is not None
    diagnostics = [
        await get_diagnostics_for_config_entry(hass, hass_client, home),
        await get_diagnostics_for_device(hass, hass_client, zwave_entry, device),
    ]
    found = await async_scan_database(hass, recorder_mock)

    # The bus: the owner's own action, nothing else.
    pin_events = bus_watch.sightings(SECRET_PIN)
    assert [is_the_owners_grant_action(s) for s in pin_events] == [True], pin_events
    assert bus_watch.sightings(SECRET_ALARM_CODE) == []
    assert any(kind == "zwave_js_notification" for kind, _ in bus_watch.events)
    # The recorder's database: that action's data row, nothing else; no alarm code at all.
    rows = [s for s in found[SECRET_PIN] if not s.where.startswith("file ")]
    assert [database_row_is_the_owners_grant_action(s) for s in rows] == [True], rows
    assert found[SECRET_ALARM_CODE] == []
    # The log at DEBUG: that action (the bus, the recorder, SQLAlchemy), and the Z-Wave
    # library's own messages.
    logged = log_sightings(debug_log.records, SECRET_PIN)
    assert any(is_the_owners_grant_action(s) for s in logged), "nothing logged at DEBUG"
    pin_logs = [s for s in logged if not allowed_log(s)]
    assert all(s.where.startswith(LIBRARY_LOGGERS) for s in pin_logs), pin_logs
    assert log_sightings(debug_log.records, SECRET_ALARM_CODE) == []
    for secret in (SECRET_PIN, SECRET_ALARM_CODE):
        assert all(secret not in str(d) for d in diagnostics)
