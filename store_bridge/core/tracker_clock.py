"""The tracker's clock against the bridge's: Frigate's frame times moved onto the bridge clock.

Track times come from the tracker (Frigate's ``frame_time``, its host's clock), shelf times
from the bridge (when a reading arrived). If the two clocks disagree by more than the
attribution's tolerance, who stood at a lane "when" would shift. So the shell tells each
tracker message's arrival time here: the smallest arrival-minus-frame time of the recent
messages (`WINDOW`) is the tracker clock's offset plus the fastest delivery, which is the
best estimate of the offset. While it stays within `ALLOWED_S` of zero the frame times are
used as they are; beyond that they are moved by it. The offset applied changes only when
the estimate moved by more than `ALLOWED_S` (a steady offset keeps each track's times in
order).
"""

from collections import deque
from datetime import datetime, timedelta
from typing import Final

ALLOWED_S: Final = 0.5
"""An offset this small (delivery time, a well-synchronised clock) is left alone."""
WINDOW: Final = 300
"""How many recent messages the estimate looks at."""


class TrackerClock:
    """The estimated offset of the tracker's clock, and frame times moved by it."""

    def __init__(self) -> None:
        """No offset until messages say otherwise."""
        self._samples: deque[float] = deque(maxlen=WINDOW)
        self.offset = timedelta()
        """What is added to a frame time to put it on the bridge's clock."""
        self.changes = 0
        """How often the applied offset changed."""

    def to_bridge(self, frame: datetime, arrived: datetime) -> datetime:
        """`frame` (the tracker's time of a message that arrived at `arrived`) on our clock."""
        self._samples.append((arrived - frame).total_seconds())
        estimate = min(self._samples)
        if abs(estimate) <= ALLOWED_S:
            estimate = 0.0
        if abs(estimate - self.offset.total_seconds()) > ALLOWED_S:
            self.offset = timedelta(seconds=estimate)
            self.changes += 1
        return frame + self.offset
