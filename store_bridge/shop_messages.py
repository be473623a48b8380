"""What the simulated shop's sensors and tracker say: lane weights and Frigate messages.

- The shelves: each lane is an ESPHome load cell publishing its weight in grams ten times a
  second on ``<node>/sensor/<lane>/state`` (plain text); `LaneWeights` gives a lane's true
  weight at any moment (a change ramps over a few tenths of a second), to which the run adds
  Gaussian noise and a rare single-reading spike.
- The tracker: Frigate-shaped event messages (``new``/``update``/``end``, ``before`` and
  ``after`` with id, camera, label, current zones, frame time, and what the bridge must drop:
  ``sub_label`` — sometimes a face-recognition name —, boxes, scores, snapshots). With the
  glitches of real trackers: tracks lost for a few seconds and picked up under a new id, id
  switches, messages that arrive late, and messages that arrive twice (`shopper_messages`).
"""

import json
import random

from .core.cart_model import LaneSpec
from .shop_plan import (
    CAMERA,
    ENTRY_ZONE,
    STOCK,
    TICK_S,
    CheckIn,
    CheckOut,
    Message,
    ShopPlan,
    TrackerMessage,
)
from .shop_script import Person, Shopper


class LaneWeights:
    """Each lane's true weight over time, read forward (times never go back per lane)."""

    def __init__(
        self, lanes: list[LaneSpec], changes: dict[str, list[tuple[float, float, float]]]
    ) -> None:
        """Every lane holds `STOCK` units (and its tray) at the start."""
        self._changes = changes
        self._weights = {lane.id: STOCK * lane.unit_weight_g + 150.0 for lane in lanes}
        self._done = dict.fromkeys(self._weights, 0)
        self._ramps: dict[str, list[tuple[float, float, float]]] = {lane.id: [] for lane in lanes}

    def at(self, lane: str, at: float) -> float:
        """The lane's true weight at `at` (changes ramp over their few tenths of a second)."""
        weights, done, ramps = self._weights, self._done, self._ramps
        changes = self._changes[lane]
        while done[lane] < len(changes) and changes[done[lane]][0] <= at:
            ramps[lane].append(changes[done[lane]])
            done[lane] += 1
        grams = weights[lane]
        active = ramps[lane]
        for change in list(active):
            start, delta, ramp = change
            if at >= start + ramp:
                weights[lane] += delta
                grams += delta
                active.remove(change)
            else:
                grams += delta * (at - start) / ramp
        return grams


def shopper_messages(
    shopper: Shopper, plan: ShopPlan, rng: random.Random
) -> list[tuple[float, Message]]:
    """A shopper's check-in and check-out, and its people's tracker messages."""
    out: list[tuple[float, Message]] = [
        (shopper.arrive, CheckIn(plan.time(shopper.arrive), shopper.name, ENTRY_ZONE,
                                 shopper.party)),
        (shopper.leave, CheckOut(plan.time(shopper.leave), shopper.name)),
    ]  # fmt: skip
    for person in shopper.people:
        for frame, payload in _track(person, plan, rng):
            delivered = frame + rng.uniform(0.05, 0.3)
            if rng.random() < plan.late:
                delivered += rng.uniform(1.0, 4.0)
            out.append((delivered, TrackerMessage(plan.time(delivered), payload)))
            if rng.random() < plan.duplicate:
                again = delivered + rng.uniform(0.0, 0.5)
                out.append((again, TrackerMessage(plan.time(again), payload)))
    return out


def _track(person: Person, plan: ShopPlan, rng: random.Random) -> list[tuple[float, bytes]]:
    """A person's Frigate messages: new, updates (each second, each zone change), end.

    The glitches split a person into several track ids.
    """
    begin, end = person.zones[0][0], person.zones[-1][1]
    cuts: list[tuple[float, float]] = []  # (lost at, found again at)
    if rng.random() < plan.drop_track:
        lost = rng.uniform(begin + 6.0, max(begin + 6.5, end - 8.0))
        cuts.append((lost, lost + rng.uniform(1.5, 5.0)))
    if rng.random() < plan.id_switch:
        switch = rng.uniform(begin + 6.0, max(begin + 6.5, end - 8.0))
        if all(not (a - 1.0 <= switch <= b + 1.0) for a, b in cuts):
            cuts.append((switch, switch + TICK_S))
    cuts.sort()
    spans: list[tuple[float, float]] = []
    start = begin
    for lost, found in cuts:
        spans.append((start, lost))
        start = found
    spans.append((start, end))
    messages: list[tuple[float, bytes]] = []
    for first, last in spans:
        track = f"{plan.start.timestamp() + first:.6f}-{rng.randrange(16**6):06x}"
        moments = sorted(
            {first, last}
            | {t for t, _, _ in person.zones if first < t < last}
            | {first + k for k in range(1, int(last - first) + 1) if first + k < last}
        )
        before: dict[str, object] | None = None
        for moment in moments:
            phase = "new" if moment == first else "end" if moment == last else "update"
            after = _frigate(track, person, moment, rng, (plan.start.timestamp(), first))
            body = {"type": phase, "before": before or after, "after": after}
            messages.append((moment, json.dumps(body).encode()))
            before = after
    return messages


def _frigate(
    track: str, person: Person, moment: float, rng: random.Random, times: tuple[float, float]
) -> dict[str, object]:
    """Frigate's `after` object for `person` at `moment` (`frigate_after`).

    `times`: the run's start (epoch seconds) and when the track began (seconds after it).
    """
    epoch, first = times
    zones = next((z for a, b, z in person.zones if a <= moment < b), person.zones[-1][2])
    return frigate_after(track, zones, (epoch + moment, epoch + first), person.face, rng)


def frigate_after(
    track: str,
    zones: frozenset[str],
    times: tuple[float, float],
    face: str | None,
    rng: random.Random,
) -> dict[str, object]:
    """Frigate's `after` object, with what a tracker says and the bridge must drop.

    `times`: the frame's time and the track's start (epoch seconds); `face`: a name a
    face-recognition tracker put in `sub_label`, or None.
    """
    frame, start = times
    x, y = rng.randrange(0, 1800), rng.randrange(0, 1000)
    return {
        "id": track,
        "camera": CAMERA,
        "frame_time": frame,
        "snapshot": {"frame_time": frame, "box": [x, y]},
        "label": "person",
        "sub_label": None if face is None else [face, 0.93],
        "top_score": 0.87,
        "false_positive": False,
        "start_time": start,
        "end_time": None,
        "score": round(rng.uniform(0.7, 0.95), 2),
        "box": [x, y, x + 120, y + 310],
        "area": 37200,
        "region": [x - 40, y - 40, x + 280, y + 380],
        "stationary": False,
        "motionless_count": 0,
        "position_changes": 3,
        "current_zones": sorted(zones),
        "entered_zones": sorted(zones),
        "has_clip": True,
        "has_snapshot": True,
        "attributes": {"face": 0.81} if face else {},
        "current_attributes": [],
    }
