"""Evidence in Media: a folder per visit, titled by time, visitor and door, with thumbnails.

Media → Concierge lists each home, then its visits with evidence, newest first
("6 Dec 00:13 · DHL courier · Front door"), then the visit's files titled by the time
they were taken and the camera ("00:13:05 · Porch camera"). Only files a visit's record
names are listed or played, and only inside the evidence folder (`evidence_files`); the
files themselves are served by Home Assistant's local media view, which asks for a login.
"""

import mimetypes
from dataclasses import dataclass
from pathlib import Path

from homeassistant.components.media_player.const import MediaClass
from homeassistant.components.media_player.errors import BrowseError
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import ConciergeCoordinator
from .core.events import EvidenceKind, EvidenceRef
from .core.visits import Visit
from .evidence_files import MEDIA_DIR, REF_PREFIX, path_for_ref
from .site_runtime import home_sites

_MEDIA_URL = f"/media/{MEDIA_DIR}/"


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """The evidence of every home, as Home Assistant's media browser shows it."""
    return EvidenceMediaSource(hass)


@dataclass(frozen=True, slots=True)
class _File:
    """One evidence file of a visit, as the media browser shows it."""

    identifier: str
    title: str
    url: str
    mime_type: str
    kind: EvidenceKind


def _url(ref: EvidenceRef) -> str:
    """Where the local media view serves an evidence file."""
    return _MEDIA_URL + ref.ref.removeprefix(f"media-source://media_source/{MEDIA_DIR}/")


def _mime(ref: EvidenceRef) -> str:
    fallback = "video/mp4" if ref.kind is EvidenceKind.RECORDING else "image/jpeg"
    return mimetypes.guess_type(ref.ref)[0] or fallback


def visit_title(coordinator: ConciergeCoordinator, visit: Visit) -> str:
    """`6 Dec 00:13 · DHL courier · Front door` (the visitor only when a grant names one)."""
    local = dt_util.as_local(visit.started_at)
    grant = coordinator.site_data.grants.get(visit.grant or "")
    portal = coordinator.site.portal(visit.portal)
    parts = [f"{local.day} {local:%b %H:%M}", grant.label if grant else None]
    parts.append(portal.name if portal else visit.portal)
    return " · ".join(p for p in parts if p)


class EvidenceMediaSource(MediaSource):
    """Concierge's visits and their pictures and clips."""

    name = "Concierge"

    def __init__(self, hass: HomeAssistant) -> None:
        """Browse the evidence of the loaded homes."""
        super().__init__(DOMAIN)
        self.hass = hass

    # --- what there is ---------------------------------------------------------------

    def _home(self, site_id: str) -> ConciergeCoordinator | None:
        return next((h for h in home_sites(self.hass) if h.site_id == site_id), None)

    def _files(self, coordinator: ConciergeCoordinator, visit: Visit) -> list[_File]:
        """The visit's evidence files that are in the evidence folder, in capture order."""
        files = []
        for ref in visit.evidence:
            path = path_for_ref(self.hass, ref.ref)
            if path is None or not ref.ref.startswith(f"{REF_PREFIX}{coordinator.site_id}/"):
                continue
            event = next((e for e in visit.timeline if ref in e.evidence), None)
            when = dt_util.as_local(event.time if event else visit.started_at)
            camera = str(event.data.get("camera", "")) if event else ""
            state = self.hass.states.get(camera) if camera else None
            camera_name = state.name if state else camera
            title = " · ".join(p for p in (f"{when:%H:%M:%S}", camera_name) if p)
            files.append(
                _File(
                    identifier=f"{coordinator.site_id}/{visit.id}/{Path(path).name}",
                    title=title,
                    url=_url(ref),
                    mime_type=_mime(ref),
                    kind=ref.kind,
                )
            )
        return files

    # --- MediaSource -----------------------------------------------------------------

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """The local media URL of an evidence file a visit names."""
        site_id, _, rest = item.identifier.partition("/")
        visit_id, _, name = rest.partition("/")
        coordinator = self._home(site_id)
        visit = coordinator.site_data.visits.get(visit_id) if coordinator else None
        missing = f"No such evidence: {item.identifier}"
        if coordinator is None or visit is None or not name:
            raise Unresolvable(missing)
        for file in self._files(coordinator, visit):
            if file.identifier == item.identifier:
                return PlayMedia(file.url, file.mime_type)
        raise Unresolvable(missing)

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """The homes, a home's visits, or a visit's files."""
        if not item.identifier:
            return self._folder(
                None,
                self.name,
                [self._folder(h.site_id, h.title, children=None) for h in home_sites(self.hass)],
            )
        site_id, _, visit_id = item.identifier.partition("/")
        if (coordinator := self._home(site_id)) is None:
            missing = f"No such home: {site_id}"
            raise BrowseError(missing)
        if not visit_id:
            return self._folder(site_id, coordinator.title, self._visits(coordinator))
        if (visit := coordinator.site_data.visits.get(visit_id)) is None:
            missing = f"No such visit: {visit_id}"
            raise BrowseError(missing)
        files = self._files(coordinator, visit)
        return self._folder(
            f"{site_id}/{visit_id}",
            visit_title(coordinator, visit),
            [self._file(f) for f in files],
            thumbnail=_thumbnail(files),
        )

    def _visits(self, coordinator: ConciergeCoordinator) -> list[BrowseMediaSource]:
        """The home's visits that have evidence, newest first."""
        site_id = coordinator.site_id
        return [
            self._folder(
                f"{site_id}/{visit.id}",
                visit_title(coordinator, visit),
                children=None,
                thumbnail=_thumbnail(files),
            )
            for visit in coordinator.visits_list()
            if (files := self._files(coordinator, visit))
        ]

    def _folder(
        self,
        identifier: str | None,
        title: str,
        children: list[BrowseMediaSource] | None,
        *,
        thumbnail: str | None = None,
    ) -> BrowseMediaSource:
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=identifier,
            media_class=MediaClass.DIRECTORY,
            media_content_type="",
            title=title,
            can_play=False,
            can_expand=True,
            children=children,
            children_media_class=MediaClass.DIRECTORY if children is None else None,
            thumbnail=thumbnail,
        )

    def _file(self, file: _File) -> BrowseMediaSource:
        video = file.kind is EvidenceKind.RECORDING
        return BrowseMediaSource(
            domain=DOMAIN,
            identifier=file.identifier,
            media_class=MediaClass.VIDEO if video else MediaClass.IMAGE,
            media_content_type=file.mime_type,
            title=file.title,
            can_play=True,
            can_expand=False,
            thumbnail=None if video else file.url,
        )


def _thumbnail(files: list[_File]) -> str | None:
    """A visit's first picture stands for it."""
    return next((f.url for f in files if f.kind is EvidenceKind.SNAPSHOT), None)
