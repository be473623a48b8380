"""Diagnostics: the site's configuration, grants, visits and audit chain, with secrets redacted.

A store site's diagnostics give its bridge's state (gates, occupancy, message counters)
and its audit chain's verification; no message content, and nothing personal is held.
Guest links, the link key and used token ids are only counted, never shown.
"""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .site_runtime import ConciergeConfigEntry

TO_REDACT = {
    "pin",
    "notify",
    "token",
    "email",
    "card_number",
    "alarm_code",
    "delivery_address",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
) -> dict[str, Any]:
    """Describe the site for a bug report: no PIN, token, code or notify target leaves it.

    The site says what it shows (`home_diagnostics` for a home, `StoreSite` for a store);
    whatever it says, every key in `TO_REDACT` is masked here.
    """
    return async_redact_data(await entry.runtime_data.async_diagnostics(), TO_REDACT)
