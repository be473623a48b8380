"""What stands at a site's HTTP door: its addresses, rate limits and used courier tokens.

Kept apart from the HTTP views so that the site can build it without importing them.
"""

import secrets
from dataclasses import dataclass
from typing import Any

from .core.rate_limit import RateLimiter
from .core.replay_cache import ReplayCache

COURIER_URL = "/api/concierge/{site}/courier"
GUEST_URL = "/api/concierge/{site}/guest"


@dataclass(slots=True)
class Gatekeeper:
    """Per-site request state: rate limits (per client, per carrier) and the replay cache."""

    clients: RateLimiter
    carriers: RateLimiter
    replay: ReplayCache


def gatekeeper(stored_replay: dict[str, Any]) -> Gatekeeper:
    """Build the request state of a site from its stored replay cache."""
    return Gatekeeper(
        clients=RateLimiter(),
        carriers=RateLimiter(),
        replay=ReplayCache.from_dict(stored_replay) if stored_replay else ReplayCache(),
    )


def new_link_secret() -> str:
    """A fresh 256-bit key for signing a site's guest links (hex)."""
    return secrets.token_hex(32)
