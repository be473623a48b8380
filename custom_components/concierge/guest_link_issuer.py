"""Guest links: signing a link for a guest grant's window, and revoking one.

The link carries a token signed with the site's own key (kept in the site's storage,
never shown); the site keeps each link's id, grant and expiry, never the link itself.
It starts with Home Assistant's external URL: without one, no link is made
(`guest_link_url.py`).
"""

from datetime import datetime, timedelta
from typing import Protocol, Unpack
from zoneinfo import ZoneInfo

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .core.events import AccessEvent, AccessEventType, Outcome, Source
from .core.grants import Grant, GrantState
from .core.guest_links import sign_guest_link
from .core.ids import new_id
from .core.schedule_times import current_interval, occurrences
from .gatekeeper import GUEST_URL, new_link_secret
from .guest_link_url import guest_link_base
from .service_errors import not_valid
from .site_storage import SiteData
from .site_types import EventFields

GUEST_LINK_HORIZON = timedelta(days=60)
"""How far ahead a link may be made for a grant's next window."""


class GuestLinkHost(Protocol):
    """What the guest links need from their site."""

    hass: HomeAssistant
    site_id: str

    @property
    def site_data(self) -> SiteData:
        """The site's stored data."""

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""

    def grant(self, grant_id: str) -> Grant:
        """A grant of the site, or a translated error."""

    def state_of(self, grant_id: str) -> GrantState:
        """A grant's state now."""

    async def async_emit(
        self, event_type: AccessEventType, outcome: Outcome = ..., **fields: Unpack[EventFields]
    ) -> AccessEvent:
        """Record an access event."""

    async def async_flush(self) -> None:
        """Write the stored data now."""


class GuestLinkIssuer:
    """Signs and revokes a site's guest links."""

    def __init__(self, host: GuestLinkHost) -> None:
        """Issue links for `host`'s site."""
        self._host = host

    async def async_create(self, grant_id: str) -> dict[str, str]:
        """Sign a link for a guest grant's current or next window; returns its URL and id."""
        host = self._host
        data = host.site_data
        grant = host.grant(grant_id)
        if not grant.credentials.guest_link:
            raise not_valid("guest_link_not_allowed", grant=grant.label)
        now = dt_util.utcnow()
        window = current_interval(grant.schedule, host.tz, now)
        if window is None:
            upcoming = occurrences(grant.schedule, host.tz, now, now + GUEST_LINK_HORIZON)
            window = upcoming[0] if upcoming else None
        state = host.state_of(grant_id)
        if window is None or state in {GrantState.REVOKED, GrantState.USED_UP}:
            raise not_valid("grant_not_active", grant=grant.label, state=state.value)
        base = guest_link_base(host.hass)  # refused, with a repair, without an external URL
        if data.link_secret is None:
            data.link_secret = new_link_secret()
        link_id = new_id()
        token = sign_guest_link(
            secret=bytes.fromhex(data.link_secret), site=host.site_id, grant_id=grant_id,
            link_id=link_id, not_before=window.start, expires=window.end,
        )  # fmt: skip
        data.guest_links[link_id] = {
            "grant": grant_id, "expires": window.end.isoformat(), "revoked": False,
        }  # fmt: skip
        self._prune(now)
        await host.async_flush()
        path = GUEST_URL.format(site=host.site_id)
        return {
            "link_id": link_id,
            "url": f"{base}{path}#{token}",
            "valid_from": window.start.isoformat(),
            "valid_until": window.end.isoformat(),
        }

    def _prune(self, now: datetime) -> None:
        links = self._host.site_data.guest_links
        for link_id, link in list(links.items()):
            if datetime.fromisoformat(str(link["expires"])) < now:
                del links[link_id]

    async def async_revoke(self, link_id: str) -> None:
        """Revoke a guest link: it opens nothing from now on."""
        host = self._host
        if (link := host.site_data.guest_links.get(link_id)) is None:
            raise not_valid("unknown_guest_link", link=link_id)
        link["revoked"] = True
        await host.async_emit(
            AccessEventType.GRANT_UPDATED, grant=str(link["grant"]), source=Source.MANUAL,
            reason="guest_link_revoked",
        )  # fmt: skip
        await host.async_flush()
