"""What a home site hands out: its snapshot for the entities, its dispatcher signals."""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypedDict

from .const import DOMAIN
from .core.events import EvidenceRef, Source
from .core.grants import Grant, GrantState
from .core.visits import Visit


def signal_event(entry_id: str) -> str:
    """Dispatcher signal that carries each access event of a site."""
    return f"{DOMAIN}_{entry_id}_event"


def signal_new_grant(entry_id: str) -> str:
    """Dispatcher signal that announces a grant created after setup."""
    return f"{DOMAIN}_{entry_id}_new_grant"


class EventFields(TypedDict, total=False):
    """The optional fields of an access event the shell fills in."""

    portal: str | None
    grant: str | None
    visit: str | None
    reason: str | None
    source: Source | None
    data: Mapping[str, str | int | float | bool]
    evidence: tuple[EvidenceRef, ...]


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    """What the entities show: grants with their states, open and last visits."""

    grants: MappingProxyType[str, Grant]
    states: MappingProxyType[str, GrantState]
    open_visits: MappingProxyType[str, Visit]
    """The visit in progress at each portal (by portal id)."""
    last_visits: MappingProxyType[str, Visit]
    """The newest visit that got in, at each portal (by portal id)."""
