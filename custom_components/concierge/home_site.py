"""A home as the shell sees any site (`site_runtime.ConciergeSite`).

Its platforms, the two steps of its unload, which of its devices the user may delete,
and the names in its logbook entries. `ConciergeCoordinator` takes these from
`HomeAsSite`; the rest of the interface (its entities, diagnostics, audit check) it
answers itself.
"""

from collections.abc import Mapping
from typing import Any

from homeassistant.const import Platform
from homeassistant.helpers.device_registry import DeviceEntry

from .audit_log import AuditLog
from .flow import VisitFlow
from .gatekeeper import Gatekeeper
from .grant_keeper import GrantKeeper
from .home_devices import grant_device_id
from .keypad.manager import KeypadManager
from .site import SiteConfig
from .site_storage import SiteData

HOME_PLATFORMS = (
    Platform.BINARY_SENSOR,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.IMAGE,
    Platform.SENSOR,
    Platform.SWITCH,
)


class HomeAsSite:
    """What a home answers to setup, unload, device removal and the logbook."""

    platforms = HOME_PLATFORMS
    site: SiteConfig
    site_id: str
    keypad: KeypadManager | None
    flow: VisitFlow
    audit: AuditLog
    grants: GrantKeeper
    gate: Gatekeeper

    @property
    def site_data(self) -> SiteData:
        """The site's stored data (the coordinator's)."""
        raise NotImplementedError

    @property
    def title(self) -> str:
        """The config entry's title."""
        raise NotImplementedError

    async def async_flush(self) -> None:
        """Write the stored data now (the coordinator's)."""
        raise NotImplementedError

    @property
    def site_name(self) -> str:
        """The home's name."""
        return self.site.name

    def has_portal(self, name: str) -> bool:
        """Whether `name` is one of the home's doors (its id, or its name in any case)."""
        return self.site.find_portal(name) is not None

    async def async_wind_down(self) -> None:
        """Let keypad writes under way finish and end recordings, before the entities go."""
        await self.gate.async_close()  # refusals counted and not yet recorded
        if self.keypad is not None:
            await self.keypad.async_drain()
        await self.flow.evidence.async_stop_all()

    async def async_close(self) -> None:
        """Write what waits: the audit chain's last records, then the stored data."""
        await self.audit.async_close()
        await self.async_flush()

    async def async_remove_device(self, device: DeviceEntry) -> bool:
        """Delete a grant's device, and the grant, once the grant can never be used again.

        Returns False, and keeps both, while the grant can still be used or has a visit
        open. The site's device and its doors' stay (doors go through Reconfigure).
        """
        for grant_id in list(self.site_data.grants):
            if grant_device_id(self.site_id, grant_id) in device.identifiers:
                return self.grants.forget(grant_id)
        return False

    def logbook_names(self, event: Mapping[str, Any]) -> tuple[str, str | None] | None:
        """The site and door of one of the home's events, and its grant's label; else None."""
        if event.get("site") != self.site_id:
            return None
        portal = self.site.portal(str(event.get("portal")))
        grant = self.site_data.grants.get(str(event.get("grant")))
        title = self.title
        return (f"{title} {portal.name}" if portal else title), (grant.label if grant else None)
