"""Loading and unloading a site."""

from typing import Any

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.site import PortalConfig

DATA = {
    "site_name": "Home",
    "portals": [
        {
            "id": "p1",
            "name": "Front door",
            "lock": "lock.front_door",
            "door_sensor": "binary_sensor.front_door_contact",
            "cameras": ["camera.porch"],
        },
        {"id": "p2", "name": "Back door", "lock": "lock.back_door", "door_sensor": None},
    ],
}


@pytest.mark.usefixtures("home_entities")
async def test_load_and_unload(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="home",
        title="Home",
        data=DATA,
        options={"alarm_panel": "alarm_control_panel.home", "notify": []},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    site = entry.runtime_data.site
    assert site.name == "Home"
    assert site.alarm_panel == "alarm_control_panel.home"
    front = site.portal("p1")
    assert front == PortalConfig(
        portal_id="p1",
        name="Front door",
        lock="lock.front_door",
        door_sensor="binary_sensor.front_door_contact",
        cameras=("camera.porch",),
    )
    assert front.entity_ids == (
        "lock.front_door",
        "binary_sensor.front_door_contact",
        "camera.porch",
    )
    assert site.portal("p2") is not None
    assert site.portal("p2").entity_ids == ("lock.back_door",)  # type: ignore[union-attr]
    assert site.portal("nope") is None

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.usefixtures("home_entities")
async def test_removing_a_site_deletes_its_files(
    hass: HomeAssistant, real_locks: None, hass_storage: dict[str, Any]
) -> None:
    from .conftest import SITE_DATA  # noqa: PLC0415

    entry = MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.services.async_call(
        DOMAIN,
        "create_grant",
        {"label": "Guest", "start": "2099-01-01 10:00:00", "end": "2099-01-01 11:00:00"},
        blocking=True,
    )
    await hass.async_block_till_done()  # the audit log is written behind the action
    audit = entry.runtime_data.audit.path
    assert audit.exists()
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not audit.exists()
    assert f"{DOMAIN}.{entry.entry_id}" not in hass_storage
