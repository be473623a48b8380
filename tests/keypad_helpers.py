"""What the Z-Wave and Zigbee keypad tests share: the owner's phone, grants with a PIN."""

from datetime import timedelta
from typing import Any

import pytest
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_mock_service

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.keypad import manager as keypad_manager

PIN = "482913"


@pytest.fixture
def phone(hass: HomeAssistant) -> list[ServiceCall]:
    """The owner's phone: a notify service at the edge of the world, recorded."""
    return async_mock_service(hass, "notify", "mobile_app_owner")


@pytest.fixture
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry an unreachable lock after 1 s instead of 10 s (tests stay fast)."""
    monkeypatch.setattr(keypad_manager, "retry_delay", lambda _attempt: 1)


def local_time(seconds: float) -> str:
    """A local wall-clock time `seconds` from now, as a user would type it."""
    return (dt_util.now() + timedelta(seconds=seconds)).replace(tzinfo=None).isoformat(" ")


_CLEANERS = "concierge_test_cleaners"


async def create_grant(
    hass: HomeAssistant, start: str, end: str, pin: str = PIN, **extra: Any
) -> str:
    """Create a cleaner's grant with a PIN through the action; return its id.

    Labels must differ between live grants: the first is "Cleaner", then "Cleaner 2"...
    """
    made = hass.data.get(_CLEANERS, 0) + 1
    hass.data[_CLEANERS] = made
    label = "Cleaner" if made == 1 else f"Cleaner {made}"
    response = await hass.services.async_call(
        DOMAIN,
        "create_grant",
        {"label": label, "kind": "cleaner", "pin": pin, "start": start, "end": end, **extra},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return str(response["grant_id"])


async def setup_site(
    hass: HomeAssistant, lock_entity_id: str, *, last_slot: int, attack_threshold: int = 5
) -> MockConfigEntry:
    """Load a Concierge site whose front door is `lock_entity_id`, managing slots 10..last."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="home",
        title="Home",
        data={
            "site_name": "Home",
            "portals": [
                {
                    "id": "front",
                    "name": "Front door",
                    "lock": lock_entity_id,
                    "door_sensor": None,
                    "cameras": [],
                    "slot_first": 10,
                    "slot_last": last_slot,
                }
            ],
        },
        options={"notify": ["notify.mobile_app_owner"], "attack_threshold": attack_threshold},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
