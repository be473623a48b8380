"""What the parts of the visit flow share: the site, the timers, the doors' in-memory state.

Which doors stand open, which portals have a visit starting, which visits are finishing.
In memory only: a door is known open or shut from its sensor's next change, and every
timer is cancelled on unload.
"""

from homeassistant.core import HomeAssistant

from .core.visits import Visit
from .hosts import FlowHost
from .visit_timers import VisitTimers


class FlowState:
    """One site's visits as the flow's parts see them."""

    def __init__(self, host: FlowHost) -> None:
        """Follow `host`'s visits; timers run as tasks of its config entry."""
        self.host = host
        self.hass: HomeAssistant = host.hass
        self.timers = VisitTimers(self.hass, lambda: host.config_entry)
        self.door_open: dict[str, bool] = {}
        """Each door's last reported state (by portal id): True while it stands open."""
        self.starting: set[str] = set()
        """Portals whose visit is being admitted (not stored as open yet)."""
        self.finishing: set[str] = set()
        """Visits being closed: a second close (a door, a lock, a timer) leaves them be."""
        self._open: dict[str, str] = {}
        """Visit id → portal of the visits that may still be open, oldest first."""
        self._indexed: dict[str, Visit] | None = None
        """The visits `_open` was built from (the site's data is replaced on load)."""

    def current(self, visit: Visit) -> Visit:
        """The stored version of a visit (a step or evidence may have been added meanwhile)."""
        return self.host.site_data.visits.get(visit.id, visit)

    def opened(self, visit: Visit) -> None:
        """A visit was requested: it is open from its first stored step on."""
        self._index()[visit.id] = visit.portal

    def open_visits(self, portal_id: str) -> list[Visit]:
        """The visits at a portal that have not ended, oldest first.

        As long as the open visits take, not every visit the site keeps: the index
        forgets a visit once it has ended.
        """
        visits = self.host.site_data.visits
        found: list[Visit] = []
        index = self._index()
        for visit_id, portal in list(index.items()):
            visit = visits.get(visit_id)
            if visit is not None and visit.terminal:
                del index[visit_id]
            elif visit is not None and portal == portal_id:
                found.append(visit)
        return found

    def busy(self, portal_id: str) -> bool:
        """A visit is starting or open at the portal."""
        return portal_id in self.starting or bool(self.open_visits(portal_id))

    def _index(self) -> dict[str, str]:
        """The open visits' index, built once for the site's data as loaded."""
        visits = self.host.site_data.visits
        if self._indexed is not visits:
            self._indexed = visits
            self._open = {v.id: v.portal for v in visits.values() if not v.terminal}
        return self._open
