"""Devices: a site with its doors and grants, and removing what is over."""

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.concierge.const import DOMAIN

from .helpers import call


async def _remove(ws: object, entry_id: str, device_id: str) -> bool:
    await ws.send_json_auto_id(  # type: ignore[attr-defined]
        {
            "type": "config/device_registry/remove_config_entry",
            "config_entry_id": entry_id,
            "device_id": device_id,
        }
    )
    response = await ws.receive_json()  # type: ignore[attr-defined]
    return bool(response["success"])


async def test_devices_and_removing_a_finished_grant(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, site: MockConfigEntry
) -> None:
    assert await async_setup_component(hass, "config", {})
    registry = dr.async_get(hass)
    now = dt_util.now()
    grant_id = (
        await call(
            hass,
            "create_grant",
            label="Courier",
            kind="courier",
            start=(now - timedelta(hours=1)).isoformat(),
            end=(now + timedelta(hours=1)).isoformat(),
        )
    )["grant_id"]
    site_device = registry.async_get_device_by_identifier((DOMAIN, site.entry_id), site.entry_id)
    front = registry.async_get_device_by_identifier(
        (DOMAIN, f"{site.entry_id}_portal_front"), site.entry_id
    )
    grant = registry.async_get_device_by_identifier(
        (DOMAIN, f"{site.entry_id}_grant_{grant_id}"), site.entry_id
    )
    assert site_device.name == "Home"
    assert front.name == "Front door"
    assert front.via_device_id == site_device.id
    assert grant.name == "Courier"
    assert grant.via_device_id == site_device.id

    ws = await hass_ws_client(hass)
    # An active grant, a configured door and the site itself cannot be removed.
    assert not await _remove(ws, site.entry_id, grant.id)
    assert not await _remove(ws, site.entry_id, front.id)
    assert not await _remove(ws, site.entry_id, site_device.id)
    assert grant_id in site.runtime_data.data.grants

    await call(hass, "revoke_grant", grant_id=grant_id)
    assert await _remove(ws, site.entry_id, grant.id)
    await hass.async_block_till_done()
    assert grant_id not in site.runtime_data.data.grants
    assert (
        registry.async_get_device_by_identifier(
            (DOMAIN, f"{site.entry_id}_grant_{grant_id}"), site.entry_id
        )
        is None
    )


async def test_reconfigure_that_drops_a_door_removes_its_device(
    hass: HomeAssistant, site: MockConfigEntry
) -> None:
    registry = dr.async_get(hass)
    assert (
        registry.async_get_device_by_identifier(
            (DOMAIN, f"{site.entry_id}_portal_back"), site.entry_id
        )
        is not None
    )
    data = dict(site.data)
    data["portals"] = [p for p in data["portals"] if p["id"] != "back"]
    hass.config_entries.async_update_entry(site, data=data)
    assert await hass.config_entries.async_reload(site.entry_id)
    await hass.async_block_till_done()
    assert (
        registry.async_get_device_by_identifier(
            (DOMAIN, f"{site.entry_id}_portal_back"), site.entry_id
        )
        is None
    )
    assert (
        registry.async_get_device_by_identifier(
            (DOMAIN, f"{site.entry_id}_portal_front"), site.entry_id
        )
        is not None
    )


async def test_a_doors_page_names_its_lock_contact_and_cameras(
    hass: HomeAssistant, site: MockConfigEntry
) -> None:
    from homeassistant.helpers import entity_registry as er  # noqa: PLC0415

    entities = er.async_get(hass)
    front = entities.async_get_entity_id("event", DOMAIN, f"{site.entry_id}_front_access")
    back = entities.async_get_entity_id("event", DOMAIN, f"{site.entry_id}_back_access")
    assert front is not None
    assert back is not None
    attributes = hass.states.get(front).attributes
    assert (attributes["lock"], attributes["door_contact"], attributes["cameras"]) == (
        "lock.front_door", "binary_sensor.front_door_contact", [],
    )  # fmt: skip
    attributes = hass.states.get(back).attributes
    assert (attributes["lock"], attributes["door_contact"]) == ("lock.back_door", None)
    # Before the first visit "Last visit" shows no picture link (no broken image).
    image = entities.async_get_entity_id("image", DOMAIN, f"{site.entry_id}_front_last_visit")
    assert image is not None
    state = hass.states.get(image)
    assert state.state == "unavailable"
    assert "entity_picture" not in state.attributes
