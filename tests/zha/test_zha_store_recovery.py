"""A lost site store on a real Zigbee lock: the code Concierge had put there is removed.

The site's storage file is damaged and its copy gone while the site is unloaded (a power
cut on a file system that lies). The site still starts, tells the owner, and clears the
slot the audit log says held its code; what the lock holds is read from the simulated
lock's own PIN table.
"""

from collections.abc import Iterator

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import issue_registry as ir

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.slots import SlotStatus
from tests.keypad_helpers import PIN, create_grant, local_time, setup_site
from tests.storage_helpers import copy_file, real_storage, site_file
from tests.waiting import until

from .conftest import ZhaLock

pytestmark = pytest.mark.usefixtures("quick_retry")


@pytest.fixture
def disk(hass: HomeAssistant) -> Iterator[None]:
    """Every `Store` on real files under the test's config folder."""
    with real_storage():
        yield


def _slot_of(lock: ZhaLock, pin: str) -> int | None:
    return next((s for s, c in lock.codes().items() if c["pin"] == pin), None)


async def test_a_code_of_a_lost_store_is_cleared_and_foreign_codes_stay(
    hass: HomeAssistant, disk: None, zha_lock: ZhaLock, phone: list[ServiceCall]
) -> None:
    zha_lock.set_code(1, "13579")  # the owner's own code, outside the managed range
    zha_lock.set_code(12, "55555")  # somebody's code inside it
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12)
    grant_id = await create_grant(hass, local_time(-60), local_time(3600))
    assert await until(lambda: _slot_of(zha_lock, PIN)) == 10
    await until(lambda: entry.runtime_data.keypad.status.get(grant_id))
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    site_file(hass, entry.entry_id).write_bytes(b"")
    copy_file(hass, entry.entry_id).unlink()
    zha_lock.reset_frames()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert not entry.runtime_data.data.grants
    issues = ir.async_get(hass).issues
    assert "site_store_lost" in [i.translation_key for (d, _), i in issues.items() if d == DOMAIN]
    await until(lambda: _slot_of(zha_lock, PIN) is None)
    codes = entry.runtime_data.site_data.keypad[zha_lock.entity_id]
    await until(lambda: codes.known[10].status is SlotStatus.EMPTY)
    await until(lambda: entry.runtime_data.keypad.idle)  # nothing more is on its way
    assert zha_lock.frames() == ["clear_pin_code"]
    assert zha_lock.codes()[1]["pin"] == "13579"
    assert zha_lock.codes()[12]["pin"] == "55555"
    await hass.config_entries.async_unload(entry.entry_id)
