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

    def current(self, visit: Visit) -> Visit:
        """The stored version of a visit (a step or evidence may have been added meanwhile)."""
        return self.host.site_data.visits.get(visit.id, visit)

    def open_visits(self, portal_id: str) -> list[Visit]:
        """The visits at a portal that have not ended, oldest first."""
        return [
            v for v in self.host.site_data.visits.values()
            if v.portal == portal_id and not v.terminal
        ]  # fmt: skip

    def busy(self, portal_id: str) -> bool:
        """A visit is starting or open at the portal."""
        return portal_id in self.starting or bool(self.open_visits(portal_id))
