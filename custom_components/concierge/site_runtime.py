"""What the shell asks of a site, whichever kind it is: a home or a store.

A home site runs a `ConciergeCoordinator`, a store site a `StoreSite`; both are a
`ConciergeSite`, and a config entry's runtime data is one (`ConciergeConfigEntry`).
Setup and unload, device removal, diagnostics, the logbook and the platforms ask the
site through this interface, never which kind it is; setup reads the kind once, to build
the site. Actions that only a home can carry out (grants, visits, Assist's questions)
pick homes through `home_sites` (or a site's `home`).
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntry
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .core.audit import ChainVerification

if TYPE_CHECKING:
    from .coordinator import ConciergeCoordinator, HomeEntities
    from .store_site import StoreEntities


class ConciergeSite(Protocol):
    """A loaded site, as setup, unload, diagnostics, the logbook and the platforms see it."""

    site_id: str
    """The config entry's id (signals, unique ids and device identifiers use it)."""

    @property
    def platforms(self) -> tuple[Platform, ...]:
        """The entity platforms the site's kind has."""

    @property
    def site_name(self) -> str:
        """The site's name, as its owner gave it."""

    @property
    def home(self) -> ConciergeCoordinator | None:
        """The site as a home (grants, visits, doors); None for a store."""

    def has_portal(self, name: str) -> bool:
        """Whether `name` is the id or the name of one of the site's portals (doors, gates)."""

    def add_entities(
        self,
        add: AddConfigEntryEntitiesCallback,
        *,
        home: HomeEntities | None = None,
        store: StoreEntities | None = None,
    ) -> None:
        """Add a platform's entities: what the platform names for this site's kind."""

    async def async_wind_down(self) -> None:
        """Let work under way finish while the entities are still there (unload, first)."""

    async def async_close(self) -> None:
        """Stop, and write what waits, once the entities are gone (unload, last)."""

    async def async_remove_device(self, device: DeviceEntry) -> bool:
        """Whether the user may delete one of the site's devices (forgetting what it stood for)."""

    async def async_verify_audit(self) -> ChainVerification:
        """Check the site's audit chain against the head kept in storage."""

    async def async_diagnostics(self) -> dict[str, Any]:
        """Everything the site's diagnostics show, before `diagnostics.py` redacts it."""

    def logbook_names(self, event: Mapping[str, Any]) -> tuple[str, str | None] | None:
        """Where one of this site's access events happened, and the label of its grant.

        None when the event is not this site's. Labels and names only, never a credential.
        """


type ConciergeConfigEntry = ConfigEntry[ConciergeSite]
"""A site's config entry: a home runs a `ConciergeCoordinator`, a store a `StoreSite`."""


def loaded_sites(hass: HomeAssistant) -> list[ConciergeSite]:
    """Every loaded site, homes and stores."""
    entries: list[ConciergeConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    return [entry.runtime_data for entry in entries]


def home_sites(hass: HomeAssistant) -> list[ConciergeCoordinator]:
    """The loaded home sites: the ones with grants, visits and doors."""
    return [home for site in loaded_sites(hass) if (home := site.home) is not None]
