"""The Access panel in Home Assistant's sidebar: registered while a site is loaded.

The panel is a web component built from `frontend/` into `frontend/concierge-panel.js`
(committed, so HACS installs need no build step). It is served from a static path and its
URL carries the bundle's hash, so a browser never keeps an old bundle after an update.
Admins only: every command it sends is admin-only too (the WebSocket API).
The door card (`card.py`) is registered with it, once.
"""

from hashlib import sha256
from pathlib import Path

from homeassistant.components import frontend, panel_custom
from homeassistant.components.http.server import StaticPathConfig
from homeassistant.core import HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from .card import async_register_card
from .const import DOMAIN
from .site_runtime import ConciergeConfigEntry

PANEL_URL_PATH = "concierge"
PANEL_ELEMENT = "concierge-panel"
PANEL_ICON = "mdi:key-chain"
STATIC_URL = "/concierge_static/concierge-panel.js"
BUNDLE = Path(__file__).parent / "frontend" / "concierge-panel.js"
SIDEBAR_TITLES = {"de": "Zugang"}
DEFAULT_TITLE = "Access"

# The bundle's hash once its static path is registered (static paths cannot be removed),
# and the entries that hold the panel open.
_STATIC: HassKey[str] = HassKey(f"{DOMAIN}_panel_static")
_HOLDERS: HassKey[set[str]] = HassKey(f"{DOMAIN}_panel_holders")


def sidebar_title(language: str) -> str:
    """The sidebar's title in the instance's language ("Access", German "Zugang")."""
    return SIDEBAR_TITLES.get(language.split("-", maxsplit=1)[0], DEFAULT_TITLE)


def _bundle_hash() -> str:
    return sha256(BUNDLE.read_bytes()).hexdigest()[:16]


async def async_setup_panel(hass: HomeAssistant, entry: ConciergeConfigEntry) -> None:
    """Show the Access panel while this entry is loaded (once for all entries).

    Without Home Assistant's frontend (a headless instance, most tests) there is no
    sidebar, and nothing is registered.
    """
    if "frontend" not in hass.config.components:
        return
    version = hass.data.get(_STATIC)
    if version is None:
        version = await hass.async_add_executor_job(_bundle_hash)
        await hass.http.async_register_static_paths(
            [StaticPathConfig(STATIC_URL, str(BUNDLE), cache_headers=True)]
        )
        await async_register_card(hass)
        hass.data[_STATIC] = version
    holders = hass.data.setdefault(_HOLDERS, set())
    if not holders:
        await panel_custom.async_register_panel(
            hass,
            frontend_url_path=PANEL_URL_PATH,
            webcomponent_name=PANEL_ELEMENT,
            sidebar_title=sidebar_title(hass.config.language),
            sidebar_icon=PANEL_ICON,
            module_url=f"{STATIC_URL}?v={version}",
            embed_iframe=False,
            require_admin=True,
        )
    holders.add(entry.entry_id)

    @callback
    def _release() -> None:
        holders.discard(entry.entry_id)
        if not holders:
            frontend.async_remove_panel(hass, PANEL_URL_PATH, warn_if_unknown=False)

    entry.async_on_unload(_release)
