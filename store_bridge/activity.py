"""What the status page shows besides the counts: each gate's last state, recent events, refusals.

Kept in memory from the events the bridge records (nothing is read back from the database, so
the page never holds up the database thread), bounded whatever the load: the last `RECENT`
events, one state per gate, and refusals counted per reason and minute for the last hour.
Only an event's type, gate, reason and time are kept: never a visit, track or account.
"""

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from .events import Wire
from .vocabulary import EventType

RECENT: Final = 20
WINDOW_MINUTES: Final = 60

_GATE_STATES: Final = {
    EventType.GATE_OPENED.value: "released",
    EventType.DOOR_OPENED.value: "open",
    EventType.DOOR_CLOSED.value: "closed",
    EventType.SAFETY_ALERT.value: "fault",
    EventType.VISIT_ABORTED.value: "fault",
}
"""How an event changes its gate's state (other events leave it as it is)."""


@dataclass(frozen=True, slots=True)
class Seen:
    """One recorded event, as the page shows it."""

    type: str
    gate: str | None
    reason: str | None
    when: datetime


@dataclass(frozen=True, slots=True)
class GateState:
    """A gate's last known state and when it changed."""

    state: str
    """`released` (open command sent), `open`, `closed` or `fault` (could not be opened)."""
    since: datetime


class Activity:
    """The bridge's recent activity, for people looking at the status page."""

    def __init__(self, started: datetime) -> None:
        """Nothing seen yet; `started` is when the bridge came up."""
        self.started = started
        self.recent: deque[Seen] = deque(maxlen=RECENT)
        self.gates: dict[str, GateState] = {}
        self._refusals: dict[int, Counter[str]] = {}

    def saw(self, events: Iterable[Wire], now: datetime) -> None:
        """Events the bridge recorded (or holds until the database is back)."""
        for event in events:
            kind, gate, reason = event["type"], event.get("portal"), event.get("reason")
            if kind == EventType.OCCUPANCY_CHANGED.value:
                continue  # the page shows occupancy itself; these would hide the rest
            self.recent.appendleft(Seen(kind, gate, reason, now))
            state = _GATE_STATES.get(kind)
            if gate is not None and state is not None:
                self.gates[gate] = GateState(state, now)
            if kind == EventType.ACCESS_DENIED.value:
                minute = int(now.timestamp() // 60)
                self._refusals.setdefault(minute, Counter())[reason or "unknown"] += 1
                for old in [m for m in self._refusals if m <= minute - WINDOW_MINUTES]:
                    del self._refusals[old]

    def refusals(self, now: datetime) -> dict[str, int]:
        """Refusals in the last hour by reason, most frequent first."""
        since = int(now.timestamp() // 60) - WINDOW_MINUTES
        total: Counter[str] = Counter()
        for minute, counts in self._refusals.items():
            if minute > since:
                total.update(counts)
        return dict(sorted(total.items(), key=lambda item: (-item[1], item[0])))
