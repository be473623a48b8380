"""What the Access panel's WebSocket commands share: the site, translated errors, warnings.

Every command names its home site by `site_id` (the config entry id). Errors are sent
with a code the panel can act on (`not_found` for an unknown site, grant, visit or link;
`home_assistant_error` for anything the actions would refuse) and a message in Home
Assistant's language, translated from the same keys the actions raise.
"""

from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from functools import wraps
from typing import Any

from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_HOME_ASSISTANT_ERROR
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import translation
from homeassistant.helpers.typing import VolDictType

from .const import DOMAIN
from .coordinator import ConciergeCoordinator
from .core.errors import ConciergeError
from .grant_fields import not_a_home
from .service_errors import not_valid
from .site_runtime import loaded_sites

NOT_FOUND_KEYS = frozenset({"unknown_site", "unknown_grant", "unknown_visit", "unknown_guest_link"})

type Handler = Callable[[HomeAssistant, ActiveConnection, dict[str, Any]], Awaitable[None]]


def schema(fields: Mapping[Any, Any]) -> VolDictType:
    """A command's schema (its fields merged with `|`, typed as Home Assistant wants)."""
    return dict(fields)


def home(hass: HomeAssistant, site_id: str) -> ConciergeCoordinator:
    """The loaded home site `site_id`; a store or an unknown site is refused."""
    for site in loaded_sites(hass):
        if site.site_id == site_id:
            if (found := site.home) is None:
                raise not_a_home(site)
            return found
    raise not_valid("unknown_site", site=site_id)


async def translate(hass: HomeAssistant, key: str, placeholders: Mapping[str, str]) -> str:
    """The message of exception key `key` in Home Assistant's language (English if none)."""
    localize = f"component.{DOMAIN}.exceptions.{key}.message"
    message: str | None = None
    for language in dict.fromkeys((hass.config.language, "en")):
        texts = await translation.async_get_translations(hass, language, "exceptions", {DOMAIN})
        if message := texts.get(localize):
            break
    if not message:
        message = key.replace("_", " ").capitalize()
    with suppress(KeyError, IndexError, ValueError):
        message = message.format(**placeholders)
    return message


async def warning(
    hass: HomeAssistant, code: str, portal: str, key: str, placeholders: Mapping[str, str]
) -> dict[str, str]:
    """A warning the panel asks the user to confirm: its code, door and translated text."""
    return {"code": code, "portal": portal, "message": await translate(hass, key, placeholders)}


async def send_error(
    hass: HomeAssistant, connection: ActiveConnection, msg_id: int, err: Exception
) -> None:
    """Send a refusal as the panel's error: its code and translated message."""
    key: str | None = None
    placeholders: dict[str, str] = {}
    if isinstance(err, ConciergeError):
        key, placeholders = err.translation_key, dict(err.placeholders)
    elif isinstance(err, HomeAssistantError) and err.translation_domain == DOMAIN:
        key = err.translation_key
        placeholders = {k: str(v) for k, v in (err.translation_placeholders or {}).items()}
    if key is None:
        connection.send_error(msg_id, ERR_HOME_ASSISTANT_ERROR, str(err) or "Error")
        return
    code = "not_found" if key in NOT_FOUND_KEYS else ERR_HOME_ASSISTANT_ERROR
    connection.send_error(
        msg_id,
        code,
        await translate(hass, key, placeholders),
        translation_key=key,
        translation_domain=DOMAIN,
        translation_placeholders=placeholders,
    )


def refusals_sent(handler: Handler) -> Handler:
    """Send Concierge's refusals (and Home Assistant's) as translated errors."""

    @wraps(handler)
    async def _handle(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        try:
            await handler(hass, connection, msg)
        except (ConciergeError, HomeAssistantError) as err:
            await send_error(hass, connection, msg["id"], err)

    return _handle
