"""Diagnostics: the site's configuration, grants, visits and audit chain, with secrets redacted.

A store site's diagnostics give its bridge's state (gates, occupancy, message counters)
and its audit chain's verification; no message content, and nothing personal is held.
"""

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import ConciergeConfigEntry
from .store_site import StoreSite

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

    Guest links, the link key and the used token ids are only counted, never shown.
    """
    coordinator = entry.runtime_data
    verification = await coordinator.async_verify_audit()
    if isinstance(coordinator, StoreSite):
        return async_redact_data(
            {
                "entry": {"title": entry.title, "data": dict(entry.data)},
                "store": coordinator.diagnostics(),
                "audit": verification.to_dict(),
            },
            TO_REDACT,
        )
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "grants": coordinator.grants_for_diagnostics(),
            "grant_states": {k: v.value for k, v in coordinator.data.states.items()},
            "visits": [
                {
                    "id": v.id,
                    "portal": v.portal,
                    "grant": v.grant,
                    "state": v.state.value,
                    "started_at": v.started_at.isoformat(),
                    "ended_at": v.ended_at.isoformat() if v.ended_at else None,
                    "abort_reason": v.abort_reason,
                    "events": [e.type.value for e in v.timeline],
                }
                for v in coordinator.visits_list()[:20]
            ],
            "audit": verification.to_dict(),
            "carriers": [
                {"carrier_id": c.carrier_id, "name": c.name, "keys": [k.kid for k in c.keys]}
                for c in coordinator.carriers.values()
            ],
            "delivery": {
                "used_courier_tokens": len(coordinator.gate.replay),
                "guest_links": len(coordinator.site_data.guest_links),
                "doors_to_lock_on_close": sorted(coordinator.site_data.lock_on_close),
            },
            "keypad": {
                "locks": coordinator.keypad.known_for_diagnostics() if coordinator.keypad else {},
                "codes": coordinator.keypad.status if coordinator.keypad else {},
            },
        },
        TO_REDACT,
    )
