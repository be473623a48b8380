"""The Access panel in the sidebar: registered while a site is loaded, admins only."""

from typing import Any

import pytest
from homeassistant.components.frontend import DATA_EXTRA_MODULE_URL, DATA_PANELS
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.card import CARD_BUNDLE, CARD_STATIC_URL
from custom_components.concierge.const import DOMAIN
from custom_components.concierge.panel import BUNDLE

pytest.importorskip("hass_frontend", reason="needs Home Assistant's frontend package")

DATA = {
    "site_name": "Home",
    "portals": [{"id": "p1", "name": "Front door", "lock": "lock.front_door", "door_sensor": None}],
}


async def _site(hass: HomeAssistant, unique_id: str) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=unique_id, title=unique_id, data=DATA, options={"notify": []}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def _panel(hass: HomeAssistant) -> Any:
    return hass.data.get(DATA_PANELS, {}).get("concierge")


@pytest.mark.usefixtures("home_entities")
async def test_panel_is_in_the_sidebar_while_a_site_is_loaded(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    assert await async_setup_component(hass, "frontend", {})
    first = await _site(hass, "home")
    second = await _site(hass, "cabin")
    panel = _panel(hass)
    assert panel is not None
    assert panel.sidebar_title == "Access"
    assert panel.sidebar_icon == "mdi:key-chain"
    assert panel.require_admin is True
    custom = panel.config["_panel_custom"]
    assert custom["name"] == "concierge-panel"
    assert custom["embed_iframe"] is False
    # The bundle is served, and its URL changes with its content (no stale cache).
    client = await hass_client()
    answer = await client.get(custom["module_url"])
    assert answer.status == 200
    assert await answer.read() == BUNDLE.read_bytes()
    assert "?v=" in custom["module_url"]

    assert await hass.config_entries.async_unload(first.entry_id)
    assert _panel(hass) is not None  # the other site still holds it
    assert await hass.config_entries.async_unload(second.entry_id)
    assert _panel(hass) is None
    # Loaded again: back in the sidebar (the static path is registered only once).
    assert await hass.config_entries.async_setup(first.entry_id)
    await hass.async_block_till_done()
    assert _panel(hass) is not None


@pytest.mark.usefixtures("home_entities")
async def test_sidebar_title_in_german(hass: HomeAssistant) -> None:
    await hass.config.async_update(language="de")
    assert await async_setup_component(hass, "frontend", {})
    await _site(hass, "home")
    assert _panel(hass).sidebar_title == "Zugang"


@pytest.mark.usefixtures("home_entities")
async def test_no_panel_without_the_frontend(hass: HomeAssistant) -> None:
    entry = await _site(hass, "home")
    assert entry.runtime_data is not None
    assert _panel(hass) is None


def _card_urls(hass: HomeAssistant) -> list[str]:
    return [u for u in hass.data[DATA_EXTRA_MODULE_URL].urls if u.startswith(CARD_STATIC_URL)]


@pytest.mark.usefixtures("home_entities")
async def test_door_card_is_loaded_on_every_dashboard_once(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """After an install (no build step), the card is in the frontend's extra modules."""
    assert await async_setup_component(hass, "frontend", {})
    assert _card_urls(hass) == []
    first = await _site(hass, "home")
    await _site(hass, "cabin")
    (url,) = _card_urls(hass)
    assert "?v=" in url
    client = await hass_client()
    answer = await client.get(url)
    assert answer.status == 200
    assert await answer.read() == CARD_BUNDLE.read_bytes()
    assert b"concierge-door-card" in CARD_BUNDLE.read_bytes()
    # Unloaded and loaded again: still one card module (registered once).
    assert await hass.config_entries.async_unload(first.entry_id)
    assert await hass.config_entries.async_setup(first.entry_id)
    await hass.async_block_till_done()
    assert _card_urls(hass) == [url]
