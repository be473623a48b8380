"""The tracker's frame times put on the bridge's clock."""

from datetime import timedelta

from store_bridge.core.tracker_clock import TrackerClock

from .book_rig import at


def test_a_tracker_clock_in_step_is_left_alone_whatever_the_delivery_jitter() -> None:
    clock = TrackerClock()
    for second, late in enumerate((0.05, 0.3, 0.1, 0.45, 0.02)):
        assert clock.to_bridge(at(second), at(second + late)) == at(second)
    assert (clock.offset, clock.changes) == (timedelta(), 0)


def test_a_tracker_clock_behind_is_moved_by_its_fastest_delivery_and_kept_steady() -> None:
    clock = TrackerClock()
    assert clock.to_bridge(at(10), at(16)) == at(16)  # 6 s behind, as far as is known yet
    assert clock.to_bridge(at(11), at(16.2)) == at(16.2)  # a faster one: 5.2 s
    assert clock.to_bridge(at(12), at(17.5)) == at(17.2)  # slower: the offset stays
    assert clock.to_bridge(at(13), at(18.0)) == at(18.2)  # 5.0: within the slack of 5.2
    assert clock.offset == timedelta(seconds=5.2)
    assert clock.changes == 2
