"""Image entities: the newest camera snapshot of each portal's last visit."""

import mimetypes
from datetime import datetime, timedelta
from pathlib import Path

from homeassistant.components.image import ImageEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .coordinator import ConciergeCoordinator
from .core.events import EvidenceKind, EvidenceRef
from .core.visits import Visit
from .entity import PortalEntity, async_setup_site_entities
from .evidence_files import path_for_ref
from .site import PortalConfig
from .site_runtime import ConciergeConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a last-visit picture per portal (a store has none)."""
    async_setup_site_entities(entry, async_add_entities, home=_home)


def _home(coordinator: ConciergeCoordinator, add: AddConfigEntryEntitiesCallback) -> None:
    add(LastVisitImage(coordinator, p) for p in coordinator.site.portals)


def newest_snapshot(visit: Visit | None) -> EvidenceRef | None:
    """The visit's newest snapshot (evidence is kept in the order it was captured)."""
    if visit is None:
        return None
    snapshots = [e for e in visit.evidence if e.kind is EvidenceKind.SNAPSHOT]
    return snapshots[-1] if snapshots else None


def _captured_at(visit: Visit, ref: EvidenceRef) -> datetime | None:
    return next((e.time for e in visit.timeline if ref in e.evidence), None)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


class LastVisitImage(PortalEntity, ImageEntity):
    """Shows the newest snapshot of the portal's last visit.

    Unavailable until there is one, so that the door's page shows no broken picture.
    """

    _attr_content_type = "image/jpeg"

    def __init__(self, coordinator: ConciergeCoordinator, portal: PortalConfig) -> None:
        """Create the image entity of a portal."""
        super().__init__(coordinator, portal, "last_visit")
        ImageEntity.__init__(self, coordinator.hass)
        self._ref: EvidenceRef | None = None
        self._show_newest()

    @callback
    def _handle_coordinator_update(self) -> None:
        self._show_newest()
        super()._handle_coordinator_update()

    def _show_newest(self) -> None:
        """Follow the newest snapshot; `image_last_updated` moves whenever it changes."""
        visit = self.coordinator.data.last_visits.get(self.portal.portal_id)
        ref = newest_snapshot(visit)
        if ref == self._ref:
            return
        self._ref = ref
        if visit is None or ref is None:
            self._attr_image_last_updated = None
            return
        when = _captured_at(visit, ref) or dt_util.utcnow()
        previous = self._attr_image_last_updated
        if previous is not None and when <= previous:
            when = previous + timedelta(microseconds=1)  # a new picture gets a new state
        self._attr_image_last_updated = when
        content_type, _ = mimetypes.guess_type(ref.ref)
        self._attr_content_type = content_type or "image/jpeg"

    @property
    def available(self) -> bool:
        """Available once the portal's last visit has a picture."""
        return super().available and self._ref is not None

    @property
    def entity_picture(self) -> str | None:
        """No picture link while there is no picture."""
        return super().entity_picture if self._ref is not None else None

    async def async_image(self) -> bytes | None:
        """The picture's bytes, read from the evidence folder."""
        if self._ref is None or (path := path_for_ref(self.hass, self._ref.ref)) is None:
            return None
        return await self.hass.async_add_executor_job(_read, path)
