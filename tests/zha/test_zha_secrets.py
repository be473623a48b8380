"""No PIN and no alarm code on the bus, in the recorder's database or in the log (Zigbee).

Real pieces: Home Assistant's recorder (an SQLite file), Concierge, Home Assistant's zha,
the zha library and zigpy on the simulated radio (tests/zha/conftest.py), the `manual`
alarm panel and a `local_file` camera. A cleaner's grant puts its PIN on the lock, the
cleaner comes in with it (the lock reports the PIN it was opened with, as real locks do;
the alarm is disarmed with its code and armed again), and the grant is revoked (the PIN
leaves the lock). Then the planted secrets are looked for everywhere
(tests/secret_scan.py).

What is allowed, and why (README, "Where a PIN appears"): the PIN is in the
owner's own `concierge.create_grant` action — Home Assistant fires every action call on
its bus, stores it and logs it at DEBUG — and in what zigpy logs at DEBUG: every ZCL
frame it sends and receives. The alarm code is nowhere.
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
from tests.components.delivery_helpers import ALARM, Carrier
from tests.keypad_helpers import create_grant, local_time
from tests.rig_delivery_helpers import add_rig_site, ended, state_of, timeline
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

from .conftest import ZhaLock

pytestmark = pytest.mark.usefixtures("quick_retry")

LIBRARY_LOGGERS = ("zigpy",)
"""zigpy logs every ZCL frame it sends and receives at DEBUG."""


@pytest.fixture
async def home(
    hass: HomeAssistant, zha_lock: ZhaLock, tmp_path: Path, carrier: Carrier
) -> AsyncIterator[MockConfigEntry]:
    """The Zigbee lock at the front door; the alarm linked with its code."""
    await setup_quiet_house(hass, tmp_path)
    entry = await add_rig_site(hass, zha_lock.entity_id, carrier, alarm_code=SECRET_ALARM_CODE)
    keypad = entry.runtime_data.site_data.keypad
    await until(lambda: keypad.get(zha_lock.entity_id) and keypad[zha_lock.entity_id].known)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)


def _slot_of(zha_lock: ZhaLock, pin: str) -> int | None:
    return next((s for s, c in zha_lock.codes().items() if c["pin"] == pin), None)


async def _keypad_visit(
    hass: HomeAssistant, zha_lock: ZhaLock, home: MockConfigEntry, events: list[dict[str, Any]]
) -> None:
    """A cleaner's PIN goes onto the lock, opens it, the visit runs, the PIN leaves."""
    grant_id = await create_grant(hass, local_time(-60), local_time(3600), pin=SECRET_PIN)
    slot = await until("the PIN is on the lock", lambda: _slot_of(zha_lock, SECRET_PIN))
    await until(lambda: home.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"})
    zha_lock.keypad_unlock(slot)
    started = await until(lambda: next((e for e in events if e["type"] == "visit_started"), None))
    visit = started["visit"]
    assert state_of(hass, ALARM) == "disarmed"
    zha_lock.manual_lock()
    finished = await until(lambda: ended(events, visit))
    assert finished["type"] == "visit_completed", timeline(events, visit)
    assert "alarm_rearmed" in timeline(events, visit)
    assert state_of(hass, ALARM) == "armed_away"

    await hass.services.async_call(DOMAIN, "revoke_grant", {"grant_id": grant_id}, blocking=True)
    await until("the PIN left the lock", lambda: _slot_of(zha_lock, SECRET_PIN) is None)


async def test_no_secret_on_the_bus_in_the_database_or_the_log(
    recorder_mock: Recorder,
    bus_watch: BusWatch,  # noqa: F811
    debug_log: pytest.LogCaptureFixture,  # noqa: F811
    hass: HomeAssistant,
    zha_lock: ZhaLock,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
    hass_client: ClientSessionGenerator,
) -> None:
    await _keypad_visit(hass, zha_lock, home, access_events)

    # What a user attaches to a bug report: Concierge's and the lock's diagnostics.
    device = dr.async_get(hass).async_get(zha_lock.device_id)
    assert device is not None
    diagnostics = [
        await get_diagnostics_for_config_entry(hass, hass_client, home),
        await get_diagnostics_for_device(hass, hass_client, zha_lock.config_entry, device),
    ]
    found = await async_scan_database(hass, recorder_mock)

    # The bus: the owner's own action, nothing else.
    pin_events = bus_watch.sightings(SECRET_PIN)
    assert [is_the_owners_grant_action(s) for s in pin_events] == [True], pin_events
    assert bus_watch.sightings(SECRET_ALARM_CODE) == []
    assert any(kind == "zha_event" for kind, _ in bus_watch.events)
    # The recorder's database: that action's data row, nothing else; no alarm code at all.
    rows = [s for s in found[SECRET_PIN] if not s.where.startswith("file ")]
    assert [database_row_is_the_owners_grant_action(s) for s in rows] == [True], rows
    assert found[SECRET_ALARM_CODE] == []
    # The log at DEBUG: that action (the bus, the recorder, SQLAlchemy), and zigpy's frames.
    logged = log_sightings(debug_log.records, SECRET_PIN)
    assert any(is_the_owners_grant_action(s) for s in logged), "nothing logged at DEBUG"
    pin_logs = [s for s in logged if not allowed_log(s)]
    assert all(s.where.startswith(LIBRARY_LOGGERS) for s in pin_logs), pin_logs
    assert log_sightings(debug_log.records, SECRET_ALARM_CODE) == []
    for secret in (SECRET_PIN, SECRET_ALARM_CODE):
        assert all(secret not in str(d) for d in diagnostics)
