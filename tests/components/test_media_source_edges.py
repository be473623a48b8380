"""Browsing Concierge's media for a home or a visit that is not there says so."""

import pytest
from homeassistant.components import media_source
from homeassistant.components.media_player import BrowseError
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN


async def test_an_unknown_home_is_refused_by_name(
    hass: HomeAssistant, site: MockConfigEntry
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    with pytest.raises(BrowseError, match="No such home: gone"):
        await media_source.async_browse_media(hass, f"media-source://{DOMAIN}/gone")


async def test_an_unknown_visit_is_refused_by_name(
    hass: HomeAssistant, site: MockConfigEntry
) -> None:
    assert await async_setup_component(hass, "media_source", {})
    home = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}/{site.entry_id}")
    assert home.title == "Home"
    with pytest.raises(BrowseError, match="No such visit: v-none"):
        await media_source.async_browse_media(
            hass, f"media-source://{DOMAIN}/{site.entry_id}/v-none"
        )
