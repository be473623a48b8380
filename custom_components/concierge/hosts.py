"""What the visit flow and the keypad manager may ask of their site: narrow interfaces.

The coordinator satisfies both; neither collaborator imports it. Each protocol names only
what its user calls, so a reader sees at a glance what the flow or the keypad manager can
touch, and a test can stand in a small fake for the site.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol, Unpack
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant

from .audit_log import AuditLog
from .core.events import AccessEvent, AccessEventType, EvidenceRef, Outcome
from .core.grants import GrantState
from .core.visits import Visit, VisitState
from .site import SiteConfig
from .site_storage import SiteData
from .site_types import EventFields, SiteSnapshot


class SiteHost(Protocol):
    """What every collaborator of a home site may use."""

    hass: HomeAssistant
    site: SiteConfig
    site_id: str

    @property
    def config_entry(self) -> ConfigEntry[Any]:
        """The site's config entry (its tasks end with it)."""

    @property
    def site_data(self) -> SiteData:
        """The site's stored data."""

    async def async_emit(
        self, event_type: AccessEventType, outcome: Outcome = ..., **fields: Unpack[EventFields]
    ) -> AccessEvent:
        """Record an access event (never fails because of the record)."""

    async def async_notify_owner(
        self, key: str, placeholders: dict[str, str], *, image_portal: str | None = None
    ) -> None:
        """Tell the owner."""


class FlowHost(SiteHost, Protocol):
    """What the visit flow needs from its site."""

    audit: AuditLog
    """The site's audit log (a visit's records are on disk before its door opens)."""

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""

    def now(self, *, at_least: datetime | None = None) -> datetime:
        """Site time."""

    def state_of(self, grant_id: str) -> GrantState:
        """A grant's state now."""

    async def step(  # noqa: PLR0913 - a step names its event's parts
        self,
        visit: Visit,
        event_type: AccessEventType,
        outcome: Outcome = ...,
        new_state: VisitState | None = None,
        reason: str | None = None,
        *,
        data: Mapping[str, str | int | float | bool] | None = None,
        evidence: tuple[EvidenceRef, ...] = (),
    ) -> Visit:
        """Record one step of a visit."""

    async def async_refresh_grant(self, grant_id: str) -> None:
        """Re-evaluate a grant's state now (after a use)."""

    def save_and_publish(self) -> None:
        """Save soon and refresh the entities."""

    async def async_flush(self) -> None:
        """Write the stored data now."""


class KeypadHost(SiteHost, Protocol):
    """What the keypad manager needs from its site."""

    @property
    def data(self) -> SiteSnapshot:
        """Grants and their states, as the entities see them."""

    def async_add_listener(
        self,
        update_callback: CALLBACK_TYPE,
        context: Any = None,  # noqa: ANN401 - as HA types it
    ) -> Callable[[], None]:
        """Be called after every change of the snapshot."""

    def async_update_listeners(self) -> None:
        """Refresh the entities (a code's status changed)."""

    def async_save(self) -> None:
        """Write the stored data soon."""

    async def async_keypad_entry(self, grant_id: str, portal_id: str) -> None:
        """The lock opened itself for a grant's PIN."""
