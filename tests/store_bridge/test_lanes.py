"""A shelf lane's weight readings: settled picks and put-backs; noise, drift and spikes none."""

import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store_bridge.core.cart_model import LaneSpec, ShelfChange, ShelfChangeKind
from store_bridge.core.lanes import LaneTuning, LaneWatch, check_lane, parse_weight

T0 = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
STEP = 0.1  # ESPHome: ten readings a second


def lane(unit: float = 100.0, tolerance: float = 15.0) -> LaneSpec:
    return LaneSpec(
        id="lane-a3",
        topic="shelf-1/sensor/lane_a3/state",
        sku="4006381333931",
        zone="aisle_drinks",
        unit_weight_g=unit,
        tolerance_g=tolerance,
    )


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def feed(watch: LaneWatch, levels: Iterable[float], start: float = 0.0) -> list[ShelfChange]:
    """Readings of the given levels, one every 100 ms from `start` s; the changes they made."""
    changes = []
    for index, grams in enumerate(levels):
        change = watch.reading(grams, at(start + index * STEP))
        if change is not None:
            changes.append(change)
    return changes


def steady(grams: float, seconds: float) -> list[float]:
    return [grams] * round(seconds / STEP)


# --- parsing payloads -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "grams"),
    [(b"1234.5", 1234.5), (b"0", 0.0), (b"-3.2", -3.2), (b" 812.25\n", 812.25), (b"1.5e3", 1500)],
)
def test_an_esphome_state_is_a_weight_in_grams(payload: bytes, grams: float) -> None:
    assert parse_weight(payload) == grams


@pytest.mark.parametrize(
    "payload",
    [
        b"nan",
        b"NaN",
        b"inf",
        b"-inf",
        b"unavailable",
        b"unknown",
        b"",
        b"   ",
        b"12,5",
        b"1_000",
        b'{"weight": 12}',
        b"0x10",
        b"\xff\xfe",
        b"1" * 80,
        b"-25",  # below zero by more than a tared lane's slack
        b"2000000",  # above a tonne
        b"1e99",
    ],
)
def test_what_is_not_a_weight_is_refused(payload: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - any ValueError: the shell counts it
        parse_weight(payload)


def test_how_far_below_zero_a_lane_may_read_is_its_tolerance() -> None:
    assert parse_weight(b"-14", tolerance_g=15.0) == -14
    with pytest.raises(ValueError, match="not a lane's weight"):
        parse_weight(b"-16", tolerance_g=15.0)


# --- picks, put-backs, anomalies --------------------------------------------------------


def test_a_settled_drop_of_two_units_is_a_pick_of_two() -> None:
    watch = LaneWatch(lane())
    changes = feed(watch, [*steady(1000, 2), 940, 870, *steady(800, 2)])
    assert len(changes) == 1
    change = changes[0]
    assert (change.kind, change.quantity, change.grams) == (ShelfChangeKind.PICK, 2, -200.0)
    assert (change.lane, change.sku, change.zone) == ("lane-a3", "4006381333931", "aisle_drinks")
    assert change.began == at(2.0)  # the first reading that left the settled band
    assert change.settled == at(2.0 + 2 * STEP + LaneTuning().settle_s)
    assert watch.settled_g == 800


def test_a_settled_rise_is_a_put_back_and_each_change_has_its_own_id() -> None:
    watch = LaneWatch(lane())
    changes = feed(watch, [*steady(800, 2), *steady(900, 2), *steady(1000, 2)])
    assert [(c.kind, c.quantity) for c in changes] == [(ShelfChangeKind.RETURN, 1)] * 2
    assert changes[0].id != changes[1].id
    assert changes[0].id.startswith("chg-")


def test_nothing_counts_before_it_has_held_for_the_settle_time() -> None:
    watch = LaneWatch(lane(), LaneTuning(settle_s=1.0))
    assert feed(watch, [*steady(1000, 2), *steady(900, 0.9)]) == []
    assert feed(watch, [900, 900], start=2.9) != []


def test_a_pick_put_back_before_it_settled_changes_nothing() -> None:
    watch = LaneWatch(lane())
    # a shopper lifts one, hesitates half a second, puts it back
    assert feed(watch, [*steady(1000, 2), *steady(900, 0.5), *steady(1000, 3)]) == []
    assert watch.settled_g == pytest.approx(1000)


def test_a_change_that_is_not_whole_units_is_an_anomaly_never_a_pick() -> None:
    watch = LaneWatch(lane(tolerance=15.0))
    changes = feed(watch, [*steady(1000, 2), *steady(830, 2)])  # 1.7 units
    assert [(c.kind, c.quantity, c.grams) for c in changes] == [
        (ShelfChangeKind.ANOMALY, 0, -170.0)
    ]


def test_a_foreign_item_put_down_and_taken_away_again_is_one_anomaly() -> None:
    watch = LaneWatch(lane())
    changes = feed(watch, [*steady(1000, 2), *steady(1042, 2), *steady(1000, 2)])
    assert [c.kind for c in changes] == [ShelfChangeKind.ANOMALY]
    # the lane counts whole units again afterwards
    after = feed(watch, steady(900, 2), start=6)
    assert [(c.kind, c.quantity) for c in after] == [(ShelfChangeKind.PICK, 1)]


def test_a_resting_hand_then_lifted_with_an_item_is_a_pick_of_one() -> None:
    watch = LaneWatch(lane())
    changes = feed(watch, [*steady(1000, 2), *steady(1230, 2), *steady(900, 2)])
    assert [(c.kind, c.quantity) for c in changes] == [
        (ShelfChangeKind.ANOMALY, 0),
        (ShelfChangeKind.PICK, 1),
    ]
    assert changes[1].grams == -100.0  # from the weight before the hand


def test_a_pick_while_a_foreign_item_lies_on_the_shelf_still_counts() -> None:
    watch = LaneWatch(lane())
    changes = feed(watch, [*steady(1000, 2), *steady(1042, 2), *steady(942, 2), *steady(900, 2)])
    # the foreign item (an anomaly), a pick of one, the foreign item taken away (nothing)
    assert [(c.kind, c.quantity) for c in changes] == [
        (ShelfChangeKind.ANOMALY, 0),
        (ShelfChangeKind.PICK, 1),
    ]


def test_a_change_whole_units_both_from_now_and_from_before_the_anomaly_counts() -> None:
    watch = LaneWatch(lane(tolerance=15.0))
    # +20 g (an anomaly), then down to 912: -108 from now and -88 from before the anomaly
    # are both one unit within 15 g: they agree
    changes = feed(watch, [*steady(1000, 2), *steady(1020, 2), *steady(912, 2)])
    assert [(c.kind, c.quantity) for c in changes] == [
        (ShelfChangeKind.ANOMALY, 0),
        (ShelfChangeKind.PICK, 1),
    ]
    assert changes[1].grams == pytest.approx(-108.0)  # from the newest weight that agrees


def test_a_change_whole_units_neither_from_now_nor_from_before_is_a_second_anomaly() -> None:
    watch = LaneWatch(lane(tolerance=15.0))
    # +28 g, then down to 960: -68 from now, -40 from before the anomaly
    changes = feed(watch, [*steady(1000, 2), *steady(1028, 2), *steady(960, 2)])
    assert [(c.kind, c.quantity) for c in changes] == [(ShelfChangeKind.ANOMALY, 0)] * 2


def test_counts_that_differ_from_now_and_from_before_the_anomaly_are_never_guessed() -> None:
    watch = LaneWatch(lane(tolerance=15.0))
    # +120 g (1.2 units: an anomaly), then down to 912: two units from now (-208), one from
    # before the anomaly (-88): which is true cannot be known
    changes = feed(watch, [*steady(1000, 2), *steady(1120, 2), *steady(912, 2)])
    assert [(c.kind, c.quantity) for c in changes] == [(ShelfChangeKind.ANOMALY, 0)] * 2


def test_a_hand_lifted_with_an_item_beside_a_forgotten_foreign_item_is_a_pick() -> None:
    watch = LaneWatch(lane(unit=410.0, tolerance=24.6))
    levels = [
        *steady(24000, 2),
        *steady(24355, 2),  # an item of another lane left here: an anomaly, for good
        *steady(24355 + 80, 2),  # a hand rests on the shelf: another
        *steady(24355 - 410, 2),  # the hand goes, with one item
    ]
    changes = feed(watch, levels)
    assert [(c.kind, c.quantity) for c in changes] == [
        (ShelfChangeKind.ANOMALY, 0),
        (ShelfChangeKind.ANOMALY, 0),
        (ShelfChangeKind.PICK, 1),
    ]
    # and the foreign item taken away at last is nothing
    assert feed(watch, steady(24000 - 410, 2), start=8) == []


def test_a_second_odd_item_beside_the_first_is_no_unit() -> None:
    watch = LaneWatch(lane())  # 100 g, 15 g tolerance
    levels = [*steady(1000, 2), *steady(1050, 2), *steady(1100, 2)]
    # 1100 is one unit from 1000, but only across the first item, further in its direction
    assert [c.kind for c in feed(watch, levels)] == [ShelfChangeKind.ANOMALY] * 2
    # either taken away again: back where the lane was before it, nothing
    assert feed(watch, [*steady(1050, 2), *steady(1000, 2)], start=6) == []


def test_a_hand_resting_while_someone_picks_is_never_counted_from_a_guess() -> None:
    watch = LaneWatch(lane(unit=410.0, tolerance=24.6))
    # the hand (+80) and a pick (-410) settle as one change, then the hand goes (-80): the
    # weight is one unit below, but the way there went on in the same direction
    levels = [*steady(24000, 2), *steady(24000 + 80 - 410, 2), *steady(24000 - 410, 2)]
    assert [c.kind for c in feed(watch, levels)] == [ShelfChangeKind.ANOMALY] * 2


def test_odd_changes_that_add_up_to_a_unit_are_no_unit() -> None:
    watch = LaneWatch(lane())  # 100 g, 15 g tolerance
    levels = [*steady(1000, 2), *steady(1030, 2), *steady(1060, 2), *steady(1090, 2)]
    # 1090 is one unit from 1000 (within 15 g), but three anomalies away: not a put-back
    assert [c.kind for c in feed(watch, levels)] == [ShelfChangeKind.ANOMALY] * 3


def test_a_lane_remembers_the_weights_before_its_last_three_anomalies() -> None:
    watch = LaneWatch(lane())
    up = [*steady(1040, 2), *steady(1080, 2), *steady(1120, 2)]
    # three foreign items put down and taken away at once: back where it was, nothing
    assert len(feed(watch, [*steady(1000, 2), *up, *steady(1000, 2)])) == 3
    watch = LaneWatch(lane())
    # after a fourth, the weight before the first is forgotten: the way back is an anomaly
    changes = feed(watch, [*steady(1000, 2), *up, *steady(1160, 2), *steady(1000, 2)])
    assert [c.kind for c in changes] == [ShelfChangeKind.ANOMALY] * 5


def test_back_near_the_weight_before_the_anomalies_but_a_unit_from_now_is_an_anomaly() -> None:
    watch = LaneWatch(lane())
    levels = [*steady(1000, 2), *steady(1030, 2), *steady(1060, 2), *steady(1090, 2)]
    # from 1090 to 1000: a pick of one (-90)? or the three foreign things taken away?
    changes = feed(watch, [*levels, *steady(1000, 2)])
    assert [c.kind for c in changes] == [ShelfChangeKind.ANOMALY] * 4


def test_the_weight_before_an_anomaly_is_forgotten_after_a_minute() -> None:
    watch = LaneWatch(lane(), LaneTuning(anchor_s=60.0))
    feed(watch, [*steady(1000, 2), *steady(1042, 2)])
    # a foreign item taken away after two minutes: what else happened meanwhile is unsure
    changes = feed(watch, [*steady(1042, 10), *steady(1000, 2)], start=120)
    assert [c.kind for c in changes] == [ShelfChangeKind.ANOMALY]


def test_clean_changes_count_again_after_a_change_that_could_not_be_told() -> None:
    watch = LaneWatch(lane(unit=115.0, tolerance=10.0))
    levels = [
        *steady(10000, 2),
        *steady(10000 + 18 - 115, 2),  # a hand (+18) and a pick (-115) at once: anomaly
        *steady(10000 - 230, 2),  # the hand goes as another pick lands: not told, anomaly
        *steady(10000 - 115, 2),  # a put-back
        *steady(10000 - 230, 2),  # a pick
        *steady(10000 - 345, 2),  # a pick
        *steady(10000 - 230, 2),  # a put-back
    ]
    changes = feed(watch, levels)
    assert [(c.kind, c.quantity) for c in changes] == [
        (ShelfChangeKind.ANOMALY, 0),
        (ShelfChangeKind.ANOMALY, 0),
        (ShelfChangeKind.RETURN, 1),
        (ShelfChangeKind.PICK, 1),
        (ShelfChangeKind.PICK, 1),
        (ShelfChangeKind.RETURN, 1),
    ]


def test_a_slow_lift_still_makes_one_pick_at_the_moment_the_weight_left() -> None:
    watch = LaneWatch(lane())
    ramp = [1000 - 5 * (i + 1) for i in range(20)]  # 100 g over two seconds
    changes = feed(watch, [*steady(1000, 2), *ramp, *steady(900, 2)])
    assert [(c.kind, c.quantity) for c in changes] == [(ShelfChangeKind.PICK, 1)]
    assert changes[0].began == at(2.1)  # 990 g: the first reading more than 6 g off


def test_began_is_the_last_time_the_reading_left_the_old_band() -> None:
    watch = LaneWatch(lane())
    # a spike at 2.0 s, back at once; the hand at 2.5 s
    changes = feed(watch, [*steady(1000, 2), 1500, *steady(1000, 0.4), *steady(900, 2)])
    assert [(c.kind, c.quantity) for c in changes] == [(ShelfChangeKind.PICK, 1)]
    assert changes[0].began == at(2.5)


# --- staleness and time -----------------------------------------------------------------


def test_a_silent_lane_is_stale_and_its_first_reading_after_makes_no_change() -> None:
    tuning = LaneTuning(stale_after_s=10.0)
    watch = LaneWatch(lane(), tuning)
    assert watch.is_stale(at(0)) is False  # nothing heard yet: waiting, not stale
    assert watch.waiting is True
    assert watch.last_reading is None
    feed(watch, steady(1000, 2))
    assert watch.waiting is False
    assert watch.last_reading == at(1.9)
    assert watch.is_stale(at(11.9)) is False
    assert watch.is_stale(at(12.0)) is True
    # while it was silent, two units went: nobody can say when, so no change
    assert feed(watch, steady(800, 2), start=30) == []
    assert watch.settled_g == 800
    assert watch.resets == 1
    assert [(c.kind, c.quantity) for c in feed(watch, steady(700, 2), start=32)] == [
        (ShelfChangeKind.PICK, 1)
    ]


def test_a_lane_that_never_reported_waits_for_its_first_reading_for_the_stale_time() -> None:
    watch = LaneWatch(lane(), LaneTuning(stale_after_s=10.0))
    assert watch.is_stale(at(100)) is False  # the shell starts asking at its start
    assert watch.is_stale(at(110)) is False
    assert watch.is_stale(at(110.1)) is True  # still nothing: stale
    assert watch.waiting is True


def test_a_reading_a_little_out_of_order_counts_as_at_the_same_time() -> None:
    watch = LaneWatch(lane())
    feed(watch, steady(1000, 2))
    levels = steady(900, 1.5)
    times = [2.0 + i * STEP - (0.5 if i % 2 else 0.0) for i in range(len(levels))]
    changes = [watch.reading(g, at(t)) for g, t in zip(levels, times, strict=True)]
    assert [(c.kind, c.quantity) for c in changes if c] == [(ShelfChangeKind.PICK, 1)]
    assert watch.resets == 0


def test_a_clock_that_goes_back_starts_the_lane_afresh() -> None:
    watch = LaneWatch(lane())
    feed(watch, steady(1000, 2), start=100)
    assert feed(watch, steady(900, 2), start=50) == []
    assert watch.resets == 1
    assert watch.settled_g == 900


def test_a_reading_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        LaneWatch(lane()).reading(1000.0, datetime(2025, 7, 1, 9, 0))  # noqa: DTZ001


def test_nothing_counts_while_the_first_weight_is_still_settling() -> None:
    watch = LaneWatch(lane())
    assert feed(watch, [1000, 1100, 1000, 900, *steady(800, 2)]) == []
    assert watch.settled_g == 800
    changes = feed(watch, steady(700, 2), start=2.4)
    assert [(c.kind, c.quantity) for c in changes] == [(ShelfChangeKind.PICK, 1)]


# --- the lane's own limits --------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "tolerance", "problem"),
    [
        (100.0, 50.0, "below half the unit"),
        (100.0, 60.0, "below half the unit"),
        (10.0, 4.5, "more than the noise band"),
        (0.0, 0.0, "grams above 0"),
        (float("nan"), 1.0, "grams above 0"),
        (100.0, -1.0, "the tolerance 0 or more"),
    ],
)
def test_a_lane_whose_units_cannot_be_told_from_noise_is_refused(
    unit: float, tolerance: float, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        LaneWatch(lane(unit, tolerance))
    with pytest.raises(ValueError, match="lane-a3"):
        check_lane(lane(unit, tolerance))


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"noise_g": 0}, ValueError),
        ({"settle_s": -1.0}, ValueError),
        ({"stale_after_s": float("inf")}, ValueError),
        ({"drift_tau_s": float("nan")}, ValueError),
        ({"min_readings": 2.5}, TypeError),
        ({"noise_g": True}, TypeError),
        ({"noise_g": "5"}, TypeError),
    ],
)
def test_a_tuning_takes_numbers_above_zero(values: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        LaneTuning(**values)  # type: ignore[arg-type]


# --- properties: noise, drift and spikes --------------------------------------------------

NOISE = st.floats(min_value=0.0, max_value=2.0)  # HX711 noise, standard deviation in grams
SEEDS = st.integers(min_value=0, max_value=2**32 - 1)


def noisy(levels: list[float], sigma: float, seed: int, spikes: Iterable[int] = ()) -> list[float]:
    rng = random.Random(seed)  # noqa: S311 - noise, not secrets
    out = [level + rng.gauss(0.0, sigma) for level in levels]
    for index in spikes:
        if 0 <= index < len(out):
            out[index] += rng.choice((-1, 1)) * rng.uniform(50, 3000)
    return out


@settings(max_examples=60, deadline=None)
@given(
    unit=st.floats(min_value=20.0, max_value=1000.0),
    share=st.floats(min_value=0.1, max_value=0.3),
    sigma=NOISE,
    drift_per_min=st.floats(min_value=-30.0, max_value=30.0),
    spikes=st.lists(st.integers(min_value=0, max_value=1199), max_size=6),
    seed=SEEDS,
)
def test_noise_slow_drift_and_single_spikes_never_make_a_pick(
    unit: float, share: float, sigma: float, drift_per_min: float, spikes: list[int], seed: int
) -> None:
    watch = LaneWatch(lane(unit, unit * share))
    start = 5 * unit
    levels = [start + drift_per_min * (i * STEP) / 60 for i in range(1200)]  # two minutes
    changes = feed(watch, noisy(levels, sigma, seed, spikes))
    assert [c for c in changes if c.kind is not ShelfChangeKind.ANOMALY] == []
    if unit >= 40:
        assert changes == []
    assert watch.settled_g == pytest.approx(levels[-1], abs=max(unit * share, 3 * sigma + 3))


@settings(max_examples=60, deadline=None)
@given(
    unit=st.floats(min_value=20.0, max_value=1000.0),
    share=st.floats(min_value=0.1, max_value=0.3),
    units=st.integers(min_value=-6, max_value=6).filter(bool),
    ramp=st.integers(min_value=0, max_value=5),
    sigma=NOISE,
    spikes=st.lists(st.integers(min_value=15, max_value=129), max_size=3),
    seed=SEEDS,
)
def test_a_settled_change_of_n_units_is_n_units_whatever_the_noise(
    unit: float,
    share: float,
    units: int,
    ramp: int,
    sigma: float,
    spikes: list[int],
    seed: int,
) -> None:
    # a tolerance of 3 sigma and more: the settled value's own noise stays well inside it
    tolerance = max(unit * share, 6.0)
    watch = LaneWatch(lane(unit, tolerance))
    before, after = 8 * unit, 8 * unit + units * unit
    moving = [before + (after - before) * (i + 1) / (ramp + 1) for i in range(ramp)]
    # 3 s before the hand (settled after 1 s), the hand at 3 s, 10 s after; single spikes
    # anywhere but in the first 1.5 s and the hand's own movement
    levels = [*steady(before, 3), *moving, *steady(after, 10)]
    hand = range(30, 30 + ramp)
    changes = feed(watch, noisy(levels, sigma, seed, [i for i in spikes if i not in hand]))
    kind = ShelfChangeKind.PICK if units < 0 else ShelfChangeKind.RETURN
    assert [(c.kind, c.quantity) for c in changes] == [(kind, abs(units))]
    change = changes[0]
    # the hand's moment (a 3-sigma noise reading just before it may be the first one off)
    assert at(3.0 - STEP) <= change.began <= at(3.0 + (ramp + 1) * STEP)
    assert change.settled >= change.began + timedelta(seconds=LaneTuning().settle_s)
    assert change.grams == pytest.approx(units * unit, abs=tolerance)


@settings(max_examples=60, deadline=None)
@given(
    unit=st.floats(min_value=20.0, max_value=1000.0),
    share=st.floats(min_value=0.05, max_value=0.3),
    whole=st.integers(min_value=-4, max_value=3),
    sigma=NOISE,
    seed=SEEDS,
)
def test_a_change_of_half_a_unit_more_is_an_anomaly(
    unit: float, share: float, whole: int, sigma: float, seed: int
) -> None:
    watch = LaneWatch(lane(unit, unit * share))
    before = 8 * unit
    after = before + (whole + 0.5) * unit
    changes = feed(watch, noisy([*steady(before, 3), *steady(after, 3)], sigma, seed))
    assert [(c.kind, c.quantity) for c in changes] == [(ShelfChangeKind.ANOMALY, 0)]
    assert changes[0].grams == pytest.approx((whole + 0.5) * unit, abs=3 * sigma + 0.1)


@settings(max_examples=60, deadline=None)
@given(
    unit=st.floats(min_value=40.0, max_value=1000.0),
    shares=st.lists(st.floats(min_value=0.3, max_value=0.7), min_size=1, max_size=4),
    order=st.randoms(use_true_random=False),
    sigma=NOISE,
    seed=SEEDS,
)
def test_foreign_items_put_down_and_taken_away_never_make_a_pick(
    unit: float,
    shares: list[float],
    order: random.Random,
    sigma: float,
    seed: int,
) -> None:
    watch = LaneWatch(lane(unit, 0.2 * unit))
    # each item weighs 0.3-0.7 of a unit; put down one by one, taken away in any order
    items = [share * unit for share in shares]
    away = items.copy()
    order.shuffle(away)
    weight, levels = 10 * unit, [*steady(10 * unit, 3)]
    for grams in items:
        weight += grams
        levels += steady(weight, 2.5)
    for grams in away:
        weight -= grams
        levels += steady(weight, 2.5)
    changes = feed(watch, noisy(levels, sigma, seed))
    assert [c for c in changes if c.kind is ShelfChangeKind.PICK] == []
    assert watch.settled_g == pytest.approx(10 * unit, abs=3 * sigma + 1)
