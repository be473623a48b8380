"""The shelf lanes in the bridge: each lane's readings into settled changes, silent lanes.

Each configured lane has a `LaneWatch` (`core/lanes.py`), found by the MQTT topic its load
cell publishes on. A reading (grams, as text) on a topic no lane has, or that is not a
weight, is handed to the carts' `ignore` (counted by reason, logged without its content).
Lanes gone silent for longer than their timeout are stale (`stale`): one warning for all that
went silent at once, one line when they report again.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from .core.cart_model import ShelfChange
from .core.lanes import LaneWatch, parse_weight
from .shelf_config import ShelfConfig

_LOGGER = logging.getLogger(__name__)

type Ignore = Callable[[str, str], None]
"""Count an ignored input: its reason, and what it was (words, no content)."""


class ShelfLanes:
    """Every lane's watch, by topic, and which lanes are silent now."""

    def __init__(self, shelf: ShelfConfig, ignore: Ignore) -> None:
        """A watch per lane of `shelf`; bad readings go to `ignore`."""
        self._watches = {
            lane.topic: LaneWatch(lane, shelf.lane_tuning) for lane in shelf.lanes.values()
        }
        self._ignore = ignore
        self.stale: set[str] = set()
        """Lanes silent for longer than their timeout, now."""

    def __len__(self) -> int:
        """How many lanes there are."""
        return len(self._watches)

    def reading(self, topic: str, payload: bytes, at: datetime) -> ShelfChange | None:
        """A reading on `topic` at `at`: the change it settled, if any."""
        watch = self._watches.get(topic)
        if watch is None:
            self._ignore("unknown_topic", "a message on a topic no lane has")
            return None
        try:
            grams = parse_weight(payload, tolerance_g=watch.spec.tolerance_g)
        except ValueError:
            self._ignore("not_a_weight", f"a reading of lane {watch.spec.id} that is not a weight")
            return None
        return watch.reading(grams, at)

    def watch(self, now: datetime) -> None:
        """Lanes gone silent, and back: one log line for all that changed at once."""
        silent = {w.spec.id for w in self._watches.values() if w.is_stale(now)}
        went, back = sorted(silent - self.stale), sorted(self.stale - silent)
        self.stale = silent
        if went:
            _LOGGER.warning(
                "%d lane(s) send no weight, what is taken from them is not seen: %s",
                len(went),
                ", ".join(went),
            )
        if back:
            _LOGGER.info("Lane(s) report again (their weight starts afresh): %s", ", ".join(back))
