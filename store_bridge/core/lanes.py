"""One shelf lane's weight readings → settled picks, put-backs and anomalies.

A lane is a load cell under one product (an ESPHome node with an HX711 publishes its weight
in grams, about ten times a second, on its MQTT state topic). Readings are noisy (a few
grams), drift slowly (temperature, creep) and now and then jump for a single reading. So a
change counts only once it has **settled**: the readings stayed within a band of
``2 * noise_g`` for at least `LaneTuning.settle_s` (and `LaneTuning.min_readings` readings).
The settled value (the readings' median) is then compared with the lane's settled weight
before: a change within `LaneSpec.tolerance_g` of a whole number *n* ≠ 0 of unit weights is
a pick of *n* (weight left) or a put-back of *n* (weight came back); within tolerance (or the
noise band) of 0 it is nothing; anything else is an anomaly (quantity 0: a foreign item, a
resting hand), never a guess. While the readings stay within ``noise_g`` of the settled
weight, the settled weight follows them slowly (time constant `LaneTuning.drift_tau_s`):
zero drift makes no change.

After an anomaly the lane remembers the settled weight before it (the last few, for a
minute by default): a later change back across the newest anomaly to a whole number of
units from the weight before it counts as such (a hand rested on the shelf, then lifted
with an item: a pick of one), and one back at the weight before an older anomaly is nothing
(foreign items taken away again); unless the weights it is counted from disagree
(`LaneWatch._settle`).

A change's `ShelfChange.began` is the time of the first reading of the last excursion out
of the old settled band (the moment of the hand, which attribution uses); `settled` is the
time of the reading with which it counted. When the readings paused for longer than
`LaneTuning.gap_s` (a Wi-Fi or broker drop) just before that first reading or before the
change settled, the hand may have come in the pause: `began` is then the last reading before
it and the change says its moment is unknown (`ShelfChange.began_known`).

The lane needs readings regularly (ESPHome ``update_interval`` of a second or less, no
``delta`` filter, or a ``heartbeat``): a lane without a reading for `LaneTuning.stale_after_s`
is stale. Plain values, no I/O: the shell parses payloads with `parse_weight` (bad ones never
reach a lane) and hands each reading with its arrival time to `LaneWatch.reading`.
"""

import math
import re
from dataclasses import dataclass, fields
from datetime import datetime
from statistics import median
from typing import Final

from ..vocabulary import new_id
from .cart_model import LaneSpec, ShelfChange, ShelfChangeKind

WEIGHT: Final = re.compile(rb"\s*-?[0-9]{1,9}(\.[0-9]{1,9})?([eE][-+]?[0-9]{1,2})?\s*")
MAX_WEIGHT_G: Final = 1e6
"""A reading above a tonne is no lane's weight (an overflowing converter)."""
MAX_ANCHORS: Final = 3
"""How many weights from before anomalies a lane remembers (a hand, a foreign item)."""
BACKWARDS_SLACK_S: Final = 1.0
"""A reading up to this much earlier than the one before counts as at the same time."""
NEGATIVE_SLACK_G: Final = 10.0
"""How far below zero a tared, empty lane may read (pass the lane's tolerance instead)."""


def parse_weight(payload: bytes, *, tolerance_g: float = NEGATIVE_SLACK_G) -> float:
    """A weight in grams from an ESPHome state payload (``b"1234.5"``).

    Raises `ValueError` for anything but a plain decimal number (``nan``, ``inf``,
    ``unavailable``, JSON, empty), for a weight more than `tolerance_g` below zero and for
    one above a tonne.
    """
    if len(payload) > 64 or not WEIGHT.fullmatch(payload):  # noqa: PLR2004 - a number's length
        raise ValueError("not a plain decimal number")
    grams = float(payload)
    if not math.isfinite(grams) or grams < -tolerance_g or grams > MAX_WEIGHT_G:
        raise ValueError(f"{grams:g} g is not a lane's weight")
    return grams


@dataclass(frozen=True, slots=True)
class LaneTuning:
    """How readings settle (the same for every lane; `[shelf]` in the configuration)."""

    noise_g: float = 6.0
    """Half the band in which settled readings stay (HX711 noise is a few grams)."""
    settle_s: float = 1.0
    """How long a new weight must hold before it counts."""
    min_readings: int = 3
    """And in at least this many readings."""
    stale_after_s: float = 15.0
    """A lane without a reading this long is stale."""
    drift_tau_s: float = 5.0
    """How slowly the settled weight follows readings within the band (zero drift)."""
    anchor_s: float = 60.0
    """How long the weight before an anomaly counts as a reference (a hand, a foreign item)."""
    gap_s: float = 1.5
    """A pause between readings longer than this as a change begins (or before it settles)
    leaves its moment unknown (about the attribution's tolerance; readings come every 0.1 s
    to 1 s)."""

    def __post_init__(self) -> None:
        """Every value is a finite number above zero."""
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{item.name}: must be a number")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{item.name}: must be a number above 0")
        if isinstance(self.min_readings, float):
            raise TypeError("min_readings: must be a whole number")


DEFAULT_TUNING: Final = LaneTuning()


def check_lane(spec: LaneSpec, tuning: LaneTuning = DEFAULT_TUNING) -> None:
    """Raise `ValueError` unless whole units of the lane can be told from noise.

    The tolerance must be below half a unit (else a change could be two numbers of units),
    and a unit less its tolerance must weigh more than the noise band (else noise and drift
    could look like a unit).
    """
    unit, tolerance = spec.unit_weight_g, spec.tolerance_g
    if not (math.isfinite(unit) and math.isfinite(tolerance)) or unit <= 0 or tolerance < 0:
        raise ValueError(
            f"lane {spec.id}: the unit weight must be grams above 0, the tolerance 0 or more"
        )
    if tolerance >= unit / 2:
        raise ValueError(
            f"lane {spec.id}: tolerance {tolerance:g} g must be below half the unit ({unit:g} g)"
        )
    if unit - tolerance <= tuning.noise_g:
        raise ValueError(
            f"lane {spec.id}: a unit ({unit:g} g less {tolerance:g} g tolerance) must weigh "
            f"more than the noise band ({tuning.noise_g:g} g)"
        )


def _whole_units(delta: float, unit: float, tolerance: float, noise: float) -> int | None:
    """The whole number of units `delta` grams are, or None (not within tolerance of one).

    A change within the noise band is none (however small the tolerance): drift, not a hand.
    """
    if abs(delta) <= noise:
        return 0
    count = round(delta / unit)
    return count if abs(delta - count * unit) <= tolerance else None


class LaneWatch:
    """One lane's settled weight, and the changes its readings make.

    States: *establishing* (no settled weight yet: at the start, after the lane was stale
    and after the clock went back), *settled* and *moving* (a reading left the band, the
    new weight has not held long enough yet).
    """

    __slots__ = (
        "_anchors",
        "_asked",
        "_baseline",
        "_began",
        "_doubt",
        "_inside",
        "_last",
        "_last_at",
        "_moving",
        "_p_max",
        "_p_min",
        "_p_start",
        "_p_values",
        "resets",
        "spec",
        "tuning",
    )

    def __init__(self, spec: LaneSpec, tuning: LaneTuning = DEFAULT_TUNING) -> None:
        """Watch `spec`'s readings (`ValueError` if its units cannot be told from noise)."""
        check_lane(spec, tuning)
        self.spec = spec
        self.tuning = tuning
        self.resets = 0
        """How often the settled weight was given up (stale lane, clock went back)."""
        self._last: float | None = None
        self._last_at: datetime | None = None
        self._asked: float | None = None
        """When it was first asked whether it is stale (before any reading)."""
        self._baseline: float | None = None
        self._anchors: list[tuple[float, float]] = []
        """The settled weights before the last anomalies and when they came, newest first."""
        self._moving = False
        self._began: datetime | None = None
        self._doubt = False
        """Whether the readings paused (`gap_s`) as the moving change began or since."""
        self._inside = False
        self._p_values: list[float] = []
        self._p_start = self._p_min = self._p_max = 0.0

    @property
    def settled_g(self) -> float | None:
        """The settled weight in grams (None while establishing)."""
        return self._baseline

    @property
    def last_reading(self) -> datetime | None:
        """When the last reading came (None: none yet)."""
        return self._last_at

    @property
    def waiting(self) -> bool:
        """Whether it is still waiting for its first reading."""
        return self._last is None

    def is_stale(self, now: datetime) -> bool:
        """Whether the lane has been silent for longer than `stale_after_s`.

        A lane that never spoke is waiting for its first reading, not stale, until
        `stale_after_s` after the first time it was asked (the shell asks from its start on):
        nodes that come up a little after the bridge raise no warning.
        """
        if self._last is None:
            if self._asked is None:
                self._asked = now.timestamp()
            return now.timestamp() - self._asked > self.tuning.stale_after_s
        return now.timestamp() - self._last > self.tuning.stale_after_s

    def reading(self, grams: float, at: datetime) -> ShelfChange | None:
        """Take one reading (grams, its aware time); a change when one has just settled.

        `grams` comes from `parse_weight` (finite); a naive `at` is a `ValueError`.

        The first reading after the lane was stale (or more than a second earlier than the
        one before: the clock went back) establishes the settled weight afresh and makes no
        change: what happened on the shelf while it was silent cannot be known (the shell
        reports the stale lane; a pick in that time is not seen).
        """
        before = self._last_at
        now, last = self._clock(at)
        paused = last is not None and now - last > self.tuning.gap_s
        baseline = self._baseline
        if baseline is None:
            if self._plateau(grams, now):
                self._baseline = self._plateau_value()
            return None
        noise = self.tuning.noise_g
        inside = abs(grams - baseline) <= noise
        if not self._moving:
            if inside:
                elapsed = 0.0 if last is None else now - last
                step = (grams - baseline) * min(1.0, elapsed / self.tuning.drift_tau_s)
                self._baseline = baseline + step
                if self._anchors:
                    self._anchors = [(grams + step, since) for grams, since in self._anchors]
                return None
            self._moving, self._began, self._inside = True, at, False
            self._p_values, self._doubt = [], False
        elif not inside and self._inside:
            self._began, self._doubt = at, False
        if paused:
            self._doubt = True
            if self._began == at and before is not None:
                self._began = before  # the hand came in the pause, or just after it
        self._inside = inside
        if not self._plateau(grams, now):
            return None
        self._moving = False
        return self._settle(self._plateau_value(), at, now)

    def _clock(self, at: datetime) -> tuple[float, float | None]:
        """The reading's time and the one before, in seconds; starts afresh after a gap."""
        if at.tzinfo is None:
            raise ValueError("a reading's time must be aware (UTC)")
        now, last = at.timestamp(), self._last
        if last is not None and last - BACKWARDS_SLACK_S <= now < last:
            now = last  # a clock set back a little (or readings out of order): as at once
        self._last, self._last_at = now, at
        if last is not None and (now < last or now - last > self.tuning.stale_after_s):
            self._reset()
        return now, last

    def _plateau(self, grams: float, now: float) -> bool:
        """Add a reading to the run of steady readings; whether the run has now settled."""
        values = self._p_values
        if values and max(self._p_max, grams) - min(self._p_min, grams) <= (
            2 * self.tuning.noise_g
        ):
            values.append(grams)
            self._p_min = min(self._p_min, grams)
            self._p_max = max(self._p_max, grams)
        else:
            self._p_values, self._p_start = [grams], now
            self._p_min = self._p_max = grams
            return False
        return (
            len(values) >= self.tuning.min_readings and now - self._p_start >= self.tuning.settle_s
        )

    def _plateau_value(self) -> float:
        """The steady readings' median (the tail of a hand's movement does not pull it)."""
        values, self._p_values = self._p_values, []
        return median(values)

    def _settle(self, value: float, at: datetime, now: float) -> ShelfChange | None:
        """The settled `value` replaces the settled weight: what the change was, if any.

        Its whole units are counted from the settled weight before, and from the weights
        before the anomalies of the last `LaneTuning.anchor_s` (newest first), where they
        may count (`_counts`). Nothing moved from the weight before: nothing. One count from
        every weight that may give one: that many units, from the newest (the anomalies
        after it were passing). Counts that disagree, or none: an anomaly, never a guess.
        """
        baseline = self._baseline
        assert baseline is not None  # noqa: S101 - only called while settled
        horizon = now - self.tuning.anchor_s
        anchors = [(grams, since) for grams, since in self._anchors if since >= horizon]
        references = [baseline, *(grams for grams, _ in anchors)]
        counts = self._counts(value, references)
        self._baseline = value
        if counts and len({count for _, count in counts}) == 1:
            index, count = counts[0]
            shift = value - references[index]
            # the weights before older anomalies keep their distance (a foreign item stays)
            self._anchors = [(grams + shift, since) for grams, since in anchors[index:]]
            return self._change(count, shift, at)
        self._anchors = [(baseline, now), *anchors][:MAX_ANCHORS]
        return self._change(None, value - baseline, at)

    def _counts(self, value: float, references: list[float]) -> list[tuple[int, int]]:
        """(index, whole units) of each reference weight that may give `value` a count.

        The settled weight before: always (and nothing moved from it is nothing, whatever
        the others say). The weight before the newest anomaly: when the change goes back
        across that anomaly (a hand that pressed down is lifted, with or without an item),
        not further on in its direction (a second odd item beside the first is no unit).
        An older one: only for nothing (foreign items taken away again), as odd changes
        may add up to a unit by chance.
        """
        unit, tolerance = self.spec.unit_weight_g, self.spec.tolerance_g
        noise, baseline = self.tuning.noise_g, references[0]
        found: list[tuple[int, int]] = []
        for index, reference in enumerate(references):
            count = _whole_units(value - reference, unit, tolerance, noise)
            if count is None:
                continue
            if index == 0 and count == 0:
                return [(0, 0)]
            back = (value - baseline) * (baseline - reference) < 0
            if index == 0 or count == 0 or (index == 1 and back):
                found.append((index, count))
        return found

    def _change(self, units: int | None, grams: float, at: datetime) -> ShelfChange | None:
        if units == 0:
            return None
        if units is None:
            kind, quantity = ShelfChangeKind.ANOMALY, 0
        elif units < 0:
            kind, quantity = ShelfChangeKind.PICK, -units
        else:
            kind, quantity = ShelfChangeKind.RETURN, units
        spec = self.spec
        return ShelfChange(
            id=f"chg-{new_id()[:20]}",
            lane=spec.id,
            sku=spec.sku,
            zone=spec.zone,
            kind=kind,
            quantity=quantity,
            grams=round(grams, 1),
            began=self._began or at,
            settled=at,
            began_known=not self._doubt,
        )

    def _reset(self) -> None:
        """Give up the settled weight: the next readings establish it afresh."""
        self.resets += 1
        self._baseline = self._began = None
        self._anchors = []
        self._moving = False
        self._p_values = []
