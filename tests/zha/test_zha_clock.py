"""The wall clock steps back after a window: its PIN is not written to the Zigbee lock again.

Real time, real ZHA on the simulated radio (tests/zha/conftest.py). Only the wall clock
(`dt_util.utcnow()`) is stepped; elapsed time (the event loop's clock) runs on. What the
lock holds is read from the simulated lock's own PIN table.
"""

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.concierge.const import EVENT_ACCESS
from custom_components.concierge.core.grants import GrantState
from tests.keypad_helpers import PIN, create_grant, local_time, setup_site
from tests.waiting import until

from .conftest import ZhaLock

pytestmark = pytest.mark.usefixtures("quick_retry")

OTHER_PIN = "246810"


def _slot_of(lock: ZhaLock, pin: str) -> int | None:
    return next((s for s, c in lock.codes().items() if c["pin"] == pin), None)


async def test_a_step_back_after_the_window_does_not_rewrite_the_pin(
    hass: HomeAssistant,
    zha_lock: ZhaLock,
    phone: list[ServiceCall],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12)
    site = entry.runtime_data
    await until(lambda: site.site_data.keypad.get(zha_lock.entity_id))
    await until(lambda: site.site_data.keypad[zha_lock.entity_id].known)
    # A window of 40 minutes, ending in 2 s.
    first = await create_grant(hass, local_time(-40 * 60), local_time(2))
    await until(lambda: _slot_of(zha_lock, PIN))
    # The window ends: the code leaves the lock and the grant expires.
    await until(lambda: _slot_of(zha_lock, PIN) is None, seconds=8)
    await until(lambda: site.data.states[first] is GrantState.EXPIRED)
    # The lock confirmed the clear (it is recorded) and the keypad has nothing left to
    # send: whatever comes after is the clock step's doing.
    await until(lambda: site.keypad.status.get(first) is None)
    await until(lambda: site.keypad.idle)
    events = async_capture_events(hass, EVENT_ACCESS)
    zha_lock.reset_frames()

    # NTP steps the wall clock back 30 minutes: inside both windows by its reading.
    real = dt_util.utcnow
    monkeypatch.setattr(dt_util, "utcnow", lambda: real() - timedelta(minutes=30))
    # Something unrelated changes: another grant, with a code, for now.
    second = await create_grant(hass, local_time(-45 * 60), local_time(3600), pin=OTHER_PIN)

    def second_programmed() -> bool:
        return site.keypad.status.get(second) == {"front": "programmed"}

    # Once the lock holds the new grant's code, it has been reconciled after the step; once
    # the keypad is idle, nothing more is on its way to the lock.
    await until(lambda: _slot_of(zha_lock, OTHER_PIN))
    await until(second_programmed)
    await until(lambda: site.keypad.idle)
    assert _slot_of(zha_lock, PIN) is None
    assert zha_lock.frames().count("set_pin_code") == 1
    assert site.data.states[first] is GrantState.EXPIRED
    about_first: list[dict[str, Any]] = [dict(e.data) for e in events if e.data["grant"] == first]
    assert about_first == []
    assert site.edge_timer(first) is None
    assert await hass.config_entries.async_unload(entry.entry_id)
