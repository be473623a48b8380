"""What a home site's diagnostics show, before `diagnostics.py` redacts them.

Its entry, grants (secrets redacted by the grant itself), their states, the newest visits,
the audit chain's verification, carriers (names and key ids), delivery counters and the
keypad locks' slot knowledge. Guest links, the link key and used token ids are only
counted, never shown.
"""

from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry

from .core.audit import ChainVerification
from .core.carriers import Carrier
from .core.visits import Visit
from .gatekeeper import Gatekeeper
from .keypad.manager import KeypadManager
from .site_storage import SiteData
from .site_types import SiteSnapshot

VISITS_SHOWN = 20


class DiagnosedHome(Protocol):
    """What a home's diagnostics read of it (the coordinator)."""

    @property
    def config_entry(self) -> ConfigEntry[Any]:
        """The site's config entry."""

    @property
    def data(self) -> SiteSnapshot:
        """Grants and their states, as the entities see them."""

    @property
    def site_data(self) -> SiteData:
        """The site's stored data."""

    @property
    def carriers(self) -> dict[str, Carrier]:
        """The site's carriers."""

    @property
    def gate(self) -> Gatekeeper:
        """The courier and guest requests' state."""

    @property
    def keypad(self) -> KeypadManager | None:
        """The keypad locks' manager, once loaded."""

    def visits_list(self) -> list[Visit]:
        """All kept visits, newest first."""

    async def async_verify_audit(self) -> ChainVerification:
        """Check the audit chain."""


async def async_home_diagnostics(home: DiagnosedHome) -> dict[str, Any]:
    """Everything a home's diagnostics show, unredacted (secrets are masked afterwards)."""
    entry = home.config_entry
    verification = await home.async_verify_audit()
    keypad = home.keypad
    return {
        "entry": {"title": entry.title, "data": dict(entry.data), "options": dict(entry.options)},
        "grants": [g.redacted_dict() for g in home.site_data.grants.values()],
        "grant_states": {k: v.value for k, v in home.data.states.items()},
        "visits": [_visit(v) for v in home.visits_list()[:VISITS_SHOWN]],
        "audit": verification.to_dict(),
        "carriers": [
            {"carrier_id": c.carrier_id, "name": c.name, "keys": [k.kid for k in c.keys]}
            for c in home.carriers.values()
        ],
        "delivery": {
            "used_courier_tokens": home.gate.used_tokens,
            "guest_links": len(home.site_data.guest_links),
            "doors_to_lock_on_close": sorted(home.site_data.lock_on_close),
        },
        "keypad": {
            "locks": keypad.known_for_diagnostics() if keypad else {},
            "codes": keypad.status if keypad else {},
        },
    }


def _visit(visit: Visit) -> dict[str, Any]:
    """A visit's timeline by event type, its times and outcome (no evidence, no names)."""
    return {
        "id": visit.id,
        "portal": visit.portal,
        "grant": visit.grant,
        "state": visit.state.value,
        "started_at": visit.started_at.isoformat(),
        "ended_at": visit.ended_at.isoformat() if visit.ended_at else None,
        "abort_reason": visit.abort_reason,
        "events": [e.type.value for e in visit.timeline],
    }
