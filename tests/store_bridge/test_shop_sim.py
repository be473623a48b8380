"""The ground-truth shop simulator: seeded, in arrival order, physically consistent.

Its lane readings, run through the real `LaneWatch`, give back exactly the picks and
put-backs its truth says; its tracker messages are Frigate-shaped (with what must be dropped),
with late and repeated ones; a shopper's track stands in the entrance when it checks in.
"""

import json
from collections import Counter
from dataclasses import replace
from itertools import islice

from store_bridge.core.cart_model import ShelfChangeKind
from store_bridge.core.lanes import LaneWatch, parse_weight
from store_bridge.core.tracks import parse_frigate
from store_bridge.shop_plan import (
    ENTRY_ZONE,
    FACE_NAMES,
    CheckIn,
    CheckOut,
    Reading,
    ShopPlan,
    TrackerMessage,
)
from store_bridge.shop_sim import simulate

QUIET = ShopPlan(
    shoppers=4, lanes=8, seed=5, hesitate=0.0, wrong_lane=0.0, rest_hand=0.0, spike=0.0
)


def test_the_same_seed_gives_the_same_messages_and_another_seed_others() -> None:
    first = list(islice(simulate(QUIET).messages(), 3000))
    assert first == list(islice(simulate(QUIET).messages(), 3000))
    assert first != list(islice(simulate(replace(QUIET, seed=6)).messages(), 3000))


def test_messages_come_in_arrival_order_with_ten_readings_a_second_per_lane() -> None:
    sim = simulate(QUIET)
    messages = list(sim.messages())
    times = [m.at for m in messages]
    assert times == sorted(times)
    assert all(t.tzinfo is not None for t in times)
    readings = Counter(m.topic for m in messages if isinstance(m, Reading))
    seconds = (sim.end - sim.plan.start).total_seconds()
    assert set(readings) == {lane.topic for lane in sim.shop.lanes.values()}
    assert all(abs(n - seconds * 10) <= 2 for n in readings.values())
    kinds = Counter(type(m) for m in messages)
    assert kinds[CheckIn] == kinds[CheckOut] == len(sim.truth.shoppers) == 12


def test_the_lanes_say_what_the_truth_says() -> None:
    sim = simulate(QUIET)
    watches = {lane.topic: LaneWatch(lane) for lane in sim.shop.lanes.values()}
    seen: Counter[str] = Counter()
    for message in sim.messages():
        if isinstance(message, Reading):
            change = watches[message.topic].reading(parse_weight(message.payload), message.at)
            if change is not None:
                assert change.kind is not ShelfChangeKind.ANOMALY
                sign = 1 if change.kind is ShelfChangeKind.PICK else -1
                seen[change.lane] += sign * change.quantity
    truth: Counter[str] = Counter()
    for take in sim.truth.takes:
        truth[take.lane] += take.quantity
    assert +seen == +truth
    assert sum(truth.values()) > 10


def test_tracker_messages_are_frigate_shaped_with_glitches() -> None:
    plan = replace(QUIET, shoppers=6, late=0.2, duplicate=0.2, face_name=0.5)
    sim = simulate(plan)
    payloads = [m.payload for m in sim.messages() if isinstance(m, TrackerMessage)]
    assert len(payloads) != len(set(payloads))  # repeated deliveries
    last: dict[str, float] = {}
    late = 0
    faces = 0
    for payload in payloads:
        body = json.loads(payload)
        assert body["type"] in {"new", "update", "end"}
        after = body["after"]
        assert after["label"] == "person"
        faces += after["sub_label"] is not None and after["sub_label"][0] in FACE_NAMES
        late += after["frame_time"] < last.get(after["id"], 0.0)
        last[after["id"]] = max(last.get(after["id"], 0.0), after["frame_time"])
        sighting = parse_frigate(payload)
        assert sighting is not None
        assert sighting.track == after["id"]
    assert late > 0
    assert faces > 0


def test_a_shopper_stands_in_the_entrance_when_checking_in() -> None:
    sim = simulate(QUIET)
    entrance: dict[str, object] = {}
    checked = 0
    for message in sim.messages():
        if isinstance(message, TrackerMessage):
            sighting = parse_frigate(message.payload)
            assert sighting is not None
            entrance[sighting.track] = ENTRY_ZONE in sighting.zones
        elif isinstance(message, CheckIn):
            assert any(entrance.values())
            assert message.zone == ENTRY_ZONE
            checked += 1
    assert checked == 12


def test_every_settled_change_is_traced_to_the_hand_that_made_it() -> None:
    sim = simulate(replace(QUIET, hesitate=0.3, wrong_lane=0.2))
    watches = {lane.topic: LaneWatch(lane) for lane in sim.shop.lanes.values()}
    traced = 0
    for message in sim.messages():
        if isinstance(message, Reading):
            change = watches[message.topic].reading(parse_weight(message.payload), message.at)
            if change is None or change.kind is ShelfChangeKind.ANOMALY:
                continue
            sign = -1 if change.kind is ShelfChangeKind.PICK else 1
            hands = sim.truth.hands_at(change.lane, change.began, 1.5)
            assert [h.quantity * sign > 0 for h in hands] == [True], (change, hands)
            traced += 1
    assert traced >= len(sim.truth.takes) // 2
