"""An ended grant whose code may still be on the lock does not leave before the clear (issue 15).

Real ZHA on the simulated radio (tests/zha/conftest.py). The site retires ended grants at
once (`retire_after_days: 0`); the lock refuses to clear the grant's code for a while.
"""

from collections.abc import AsyncIterator

import pytest
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from tests.fault_helpers import NOT_REMOVED, PROGRAMMED, door_status, grant_codes, grant_state
from tests.keypad_helpers import PIN, create_grant, local_time
from tests.waiting import until

from .conftest import ZhaLock

pytestmark = pytest.mark.usefixtures("quick_retry")


@pytest.fixture
async def site(
    hass: HomeAssistant, zha_lock: ZhaLock, phone: list[ServiceCall]
) -> AsyncIterator[MockConfigEntry]:
    """A site whose front door is the simulated lock; ended grants leave at once."""
    portal = {
        "id": "front", "name": "Front door", "lock": zha_lock.entity_id, "door_sensor": None,
        "cameras": [], "slot_first": 10, "slot_last": 12,
    }  # fmt: skip
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="home",
        title="Home",
        data={"site_name": "Home", "portals": [portal]},
        options={"notify": ["notify.mobile_app_owner"], "retire_after_days": 0},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


def _device(hass: HomeAssistant, site: MockConfigEntry, grant_id: str) -> dr.DeviceEntry | None:
    return dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, f"{site.entry_id}_grant_{grant_id}"), site.entry_id
    )


def _slot_of(lock: ZhaLock, pin: str) -> int | None:
    return next((s for s, c in lock.codes().items() if c["pin"] == pin), None)


async def test_a_grant_whose_code_is_not_cleared_stays_until_the_lock_confirms(
    hass: HomeAssistant, zha_lock: ZhaLock, site: MockConfigEntry
) -> None:
    grant_id = await create_grant(hass, local_time(-60), local_time(2.5))
    await until(
        "the grant's code is on the lock",
        lambda: door_status(hass, grant_id),
        want=lambda v: v == PROGRAMMED,
    )
    zha_lock.fail("clear_pin_code")
    await until(
        "the window ends",
        lambda: grant_state(hass, grant_id),
        want=lambda v: v == "expired",
        seconds=8,
    )
    await until(
        "the grant shows its code as not removed",
        lambda: grant_codes(hass, grant_id),
        want=lambda v: v == {"Front door": NOT_REMOVED},
    )
    await until(
        "the refused clear is retried (the site has looked again since)",
        lambda: zha_lock.frames().count("clear_pin_code"),
        want=lambda n: n >= 3,
        seconds=10,
    )
    assert _slot_of(zha_lock, PIN) is not None
    assert _device(hass, site, grant_id) is not None, "its code may be on the lock: it stays"
    assert grant_codes(hass, grant_id) == {"Front door": NOT_REMOVED}, "the owner still sees it"

    zha_lock.heal("clear_pin_code")
    await until(
        "once the lock confirmed the clear, the grant's device leaves",
        lambda: _device(hass, site, grant_id) is None,
        seconds=10,
    )
    assert _slot_of(zha_lock, PIN) is None
    assert grant_codes(hass, grant_id) is None, "its entities left with the device"
