"""The integration's own words in Home Assistant's language: notices, logbook lines, reasons.

Texts live in the `exceptions` section of the translations (where Home Assistant lets an
integration keep messages of its own), looked up in the configured language with English
as the fallback. A reason code (`door_not_opened`) becomes its sentence (`reason_<code>`);
a reason without one is shown with spaces for underscores, never as a raw code.
"""

from contextlib import suppress

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN

_PREFIX = f"component.{DOMAIN}.exceptions."


async def _async_messages(hass: HomeAssistant, language: str) -> dict[str, str]:
    return await async_get_translations(hass, language, "exceptions", [DOMAIN])


async def async_text(
    hass: HomeAssistant, key: str, placeholders: dict[str, str] | None = None
) -> str:
    """The message `key` in the configured language (English if it has none), filled in."""
    message: str | None = None
    for language in dict.fromkeys((hass.config.language, "en")):
        if message := (await _async_messages(hass, language)).get(f"{_PREFIX}{key}.message"):
            break
    if not message:
        return key
    message = message.rstrip(".")  # as Home Assistant shows its exception messages
    with suppress(KeyError, IndexError, ValueError):
        message = message.format(**(placeholders or {}))
    return message


async def async_reason(hass: HomeAssistant, reason: str | None) -> str:
    """A reason code as a user reads it (its translated sentence, or plain words)."""
    if not reason:
        return ""
    text = await async_text(hass, f"reason_{reason}")
    return reason.replace("_", " ") if text == f"reason_{reason}" else text
