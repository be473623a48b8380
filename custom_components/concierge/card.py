"""The door card on every dashboard: its bundle served and loaded with the frontend.

The card (`<concierge-door-card>`, in the card picker as "Concierge door") is built from
`frontend/` into `frontend/concierge-door-card.js` (committed, so HACS installs need no build
step). It is served from a static path and added to the frontend's extra modules once; its URL
carries the bundle's hash, so a browser never keeps an old card after an update.
"""

from hashlib import sha256
from pathlib import Path

from homeassistant.components import frontend
from homeassistant.components.http.server import StaticPathConfig
from homeassistant.core import HomeAssistant

CARD_STATIC_URL = "/concierge_static/concierge-door-card.js"
CARD_BUNDLE = Path(__file__).parent / "frontend" / "concierge-door-card.js"


def _card_hash() -> str:
    return sha256(CARD_BUNDLE.read_bytes()).hexdigest()[:16]


async def async_register_card(hass: HomeAssistant) -> str:
    """Serve the card and load it on every dashboard (call once); its module URL."""
    version = await hass.async_add_executor_job(_card_hash)
    await hass.http.async_register_static_paths(
        [StaticPathConfig(CARD_STATIC_URL, str(CARD_BUNDLE), cache_headers=True)]
    )
    url = f"{CARD_STATIC_URL}?v={version}"
    frontend.add_extra_js_url(hass, url)
    return url
