"""When the cart book cannot know who took it, the pick goes to review, never to a cart.

A shopper the tracker never saw, a new track that appears while the old one was still there
or beside someone else, a lane that fell silent while a hand was at it: each leaves a doubt
that no evidence can take away, so nobody is charged on a guess.
"""

from dataclasses import replace

import pytest

from store_bridge.core.attribution import AttributionTuning
from store_bridge.core.cart_model import Cart, NewsKind, ShelfChange, ShelfChangeKind, TrackPhase
from store_bridge.core.lanes import LaneWatch

from .book_rig import LANES, Shop, at


def test_a_shopper_the_tracker_never_saw_makes_a_lone_pick_beside_them_a_review() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.check_in("v2", 20)  # nobody at the gate on camera: v2 could be anywhere
    shop.see("t1", 25, "aisle_1")
    shop.pick("l1", 27)
    shop.tick(40)
    ambiguous = [n for n in shop.news if n.kind is NewsKind.PICK_AMBIGUOUS]
    assert [(n.candidates, n.reason) for n in ambiguous] == [(2, "unknown_person")]
    assert shop.book.cart("v1") == Cart("v1", held=1, bound=True)
    assert shop.book.cart("v2") == Cart("v2", held=1, bound=False)
    assert not any(n.kind is NewsKind.ITEM_PICKED for n in shop.news)


def test_once_the_unseen_shopper_left_a_lone_pick_is_the_bound_shopper_s_again() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.check_in("v2", 20)
    shop.leave("v2", 22)
    shop.see("t1", 25, "aisle_1")
    shop.pick("l1", 27)
    shop.tick(40)
    assert shop.quantities("v1") == {"cola": 1}


def test_a_new_track_seen_before_the_old_one_ended_does_not_take_its_place() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.see("t1", 20, "aisle_1")
    shop.see("n1", 20.5, "aisle_1", phase=TrackPhase.NEW)  # someone else, beside v1
    shop.see("t1", 21.5, "aisle_1")
    shop.end("t1", 22, "aisle_1")
    shop.tick(30)
    assert [(n.kind, n.reason) for n in shop.news[-1:]] == [
        (NewsKind.SESSION_UNBOUND, "track_lost")
    ]
    shop.see("n1", 31, "aisle_2")
    shop.pick("l2", 32)
    shop.tick(40)
    assert shop.news[-1].kind is NewsKind.PICK_AMBIGUOUS
    assert shop.quantities("v1") == {}


def test_a_lost_track_is_not_relinked_while_another_session_has_no_track() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.check_in("v2", 20)  # never seen: the new track may be v2's shopper
    shop.see("t1", 40, "aisle_1")
    shop.end("t1", 41, "aisle_1")
    shop.see("n1", 41.5, "aisle_1", phase=TrackPhase.NEW)
    shop.tick(50)
    assert (NewsKind.TRACK_BOUND, "relinked") not in [(n.kind, n.reason) for n in shop.news]
    assert shop.book.cart("v1") == Cart("v1", bound=False)


def test_a_lost_track_is_not_relinked_with_an_unknown_person_beside_it() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.see("s1", 15, "aisle_1", phase=TrackPhase.NEW)  # nobody's track (staff, say)
    shop.see("t1", 20, "aisle_1")
    shop.end("t1", 21, "aisle_1")
    shop.see("n1", 21.5, "aisle_1", phase=TrackPhase.NEW)
    shop.tick(30)
    assert (NewsKind.TRACK_BOUND, "relinked") not in [(n.kind, n.reason) for n in shop.news]
    assert shop.book.cart("v1") == Cart("v1", bound=False)


def test_an_id_switch_with_nobody_else_around_is_still_relinked() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.see("t1", 20, "aisle_1")
    shop.end("t1", 21, "aisle_1")
    shop.see("n1", 21.5, "aisle_1", phase=TrackPhase.NEW)
    shop.tick(30)
    assert [(n.kind, n.reason) for n in shop.news[-1:]] == [(NewsKind.TRACK_BOUND, "relinked")]


def _readings(watch: LaneWatch, grams: float, start: float, end: float) -> list[ShelfChange]:
    """Ten readings a second of `grams` from `start` to `end` (book seconds)."""
    changes = []
    for step in range(round((end - start) * 10)):
        change = watch.reading(grams, at(start + step / 10))
        if change is not None:
            changes.append(change)
    return changes


def test_a_pick_during_a_lane_s_short_silence_has_no_known_moment() -> None:
    watch = LaneWatch(LANES["l1"])
    assert _readings(watch, 3500.0, 10, 15) == []
    # ten seconds without a reading (a Wi-Fi drop, shorter than the stale time), then a unit less
    changes = _readings(watch, 3150.0, 25, 28)
    assert [(c.kind, c.quantity, c.began_known) for c in changes] == [
        (ShelfChangeKind.PICK, 1, False)
    ]
    assert changes[0].began == at(14.9)  # the earliest the hand can have come
    assert _readings(watch, 2800.0, 28, 31)[0].began_known  # readings flowing: known again


def test_a_pick_of_unknown_moment_goes_to_review_not_to_whoever_stands_there_after() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 1)
    shop.enter("v2", "t2", 3)
    watch = LaneWatch(LANES["l1"])
    _readings(watch, 3500.0, 10, 15)
    shop.see("t2", 15, "aisle_1")  # v2 takes a cola while the lane is silent...
    shop.see("t2", 19, "aisle_2")
    shop.see("t1", 22, "aisle_1")  # ...and v1 stands there when the readings come back
    (change,) = _readings(watch, 3150.0, 25, 28)
    shop.shelf(change)
    shop.see("t1", 32, "aisle_1")
    shop.see("t2", 32, "aisle_2")
    shop.tick(33)
    assert [(n.kind, n.reason, n.candidates) for n in shop.news[-1:]] == [
        (NewsKind.PICK_REVIEW, "time_unknown", 2)
    ]
    assert shop.quantities("v1") == shop.quantities("v2") == {}
    (review,) = shop.book.reviews()
    assert review.candidates == ("v1", "v2")
    shop.book.resolve(review.id, "v2", at(40))
    assert shop.quantities("v2") == {"cola": 1}


def test_a_put_back_of_unknown_moment_no_candidate_could_have_made_is_an_anomaly() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 1)
    shop.see("t1", 20, "aisle_1")
    change = replace(shop.change("l1", 20, kind=ShelfChangeKind.RETURN), began_known=False)
    shop.shelf(change)
    shop.tick(30)
    assert [(n.kind, n.reason) for n in shop.news[-1:]] == [(NewsKind.LANE_ANOMALY, "wrong_lane")]
    shop.pick("l2", 40)  # nobody there at all
    shop.shelf(replace(shop.change("l2", 41), began_known=False))
    shop.tick(50)
    assert [(n.kind, n.reason) for n in shop.news[-2:]] == [
        (NewsKind.PICK_UNATTRIBUTED, "nobody_there"),
        (NewsKind.PICK_UNATTRIBUTED, "nobody_there"),
    ]


def test_a_lone_pick_while_the_tracker_has_been_silent_goes_to_review() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.enter("v2", "t2", 12)
    shop.see("t1", 20, "aisle_1")
    shop.see("t2", 20, "aisle_3")
    for second in range(21, 60):  # the tracker says nothing more (its broker link is down)
        shop.tick(second)
    shop.pick("l1", 60)
    for second in range(60, 70):
        shop.tick(second)
    assert [(n.kind, n.reason, n.candidates) for n in shop.news[-1:]] == [
        (NewsKind.PICK_REVIEW, "tracker_silent", 2)
    ]
    assert shop.quantities("v1") == {}


def test_a_pick_in_a_silence_the_tracker_has_since_ended_goes_to_review() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.see("t1", 20, "aisle_1")
    shop.see("t1", 90, "aisle_1")  # forty seconds of nothing, then it talks again
    shop.pick("l1", 60)
    shop.tick(95)
    assert [(n.kind, n.reason) for n in shop.news[-1:]] == [
        (NewsKind.PICK_REVIEW, "tracker_silent")
    ]


def test_a_quiet_but_working_tracker_still_decides_a_lone_pick() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.see("t1", 20, "aisle_1")
    for second in range(21, 40):
        shop.tick(second)
    shop.pick("l1", 30)  # ten seconds after its last word: within `tracker_silence_s`
    shop.tick(40)
    assert shop.quantities("v1") == {"cola": 1}


def test_someone_passing_the_gate_as_it_opens_is_not_bound_to_the_session() -> None:
    shop = Shop()
    shop.see("p1", 9, "entrance", phase=TrackPhase.NEW)  # on the way out, past the gate
    shop.check_in("v1", 10)
    shop.see("p1", 11.5)  # out of the gate zone, into no zone of the store
    shop.end("p1", 12)
    shop.tick(45)
    assert [(n.kind, n.reason) for n in shop.news] == [(NewsKind.SESSION_UNBOUND, "deadline")]
    assert shop.book.cart("v1") == Cart("v1", bound=False)


def test_a_shopper_standing_at_the_gate_is_bound_once_they_walk_in() -> None:
    shop = Shop()
    shop.see("t1", 9, "entrance", phase=TrackPhase.NEW)
    shop.check_in("v1", 10)
    shop.tick(20)
    assert shop.news == []  # still at the gate: could be turning back
    shop.see("t1", 21, "aisle_1")
    shop.tick(25)
    assert [(n.kind, n.reason) for n in shop.news] == [(NewsKind.TRACK_BOUND, "check_in")]


def test_a_review_nobody_decides_is_charged_to_nobody_after_its_deadline() -> None:
    shop = Shop(AttributionTuning(review_deadline_s=300.0))
    shop.enter("v1", "t1", 10)
    shop.enter("v2", "t2", 12)
    shop.see("t1", 20, "aisle_1")
    shop.see("t2", 20, "aisle_1")
    shop.pick("l1", 22)
    shop.tick(100)
    (review,) = shop.book.reviews()
    shop.tick(100 + 299)
    assert shop.book.reviews() == (review,)
    shop.tick(100 + 302)
    assert shop.book.reviews() == ()
    assert [(n.kind, n.reason, n.review) for n in shop.news[-1:]] == [
        (NewsKind.PICK_UNATTRIBUTED, "review_expired", review.id)
    ]
    for visit in ("v1", "v2"):  # free to be checked out, charged nothing
        cart = shop.book.cart(visit)
        assert cart is not None
        assert (cart.held, cart.lines) == (0, ())
    with pytest.raises(KeyError):
        shop.book.resolve(review.id, "v1", at(500))


def test_a_put_back_is_not_credited_by_elimination_past_a_pick_waiting_for_review() -> None:
    shop = Shop()
    shop.enter("v1", "t1", 10)
    shop.enter("v2", "t2", 12)
    shop.enter("v3", "t3", 14)
    shop.see("t1", 20, "aisle_1")
    shop.see("t2", 20, "aisle_2")
    shop.see("t3", 20, "aisle_2")
    shop.pick("l1", 21)  # v1's, alone
    shop.see("t1", 25, "aisle_3")
    shop.see("t2", 26, "aisle_1")
    shop.see("t3", 26, "aisle_1")
    shop.pick("l1", 28)  # v2's or v3's: to review
    for second in range(30, 100, 10):
        shop.see("t1", second, "aisle_3")
        shop.tick(second)
    assert len(shop.book.reviews()) == 1
    shop.see("t3", 101, "aisle_2")
    shop.see("t1", 101, "aisle_1")
    shop.put_back("l1", 103)  # v2 puts its can back, v1 beside it
    shop.see("t1", 108, "aisle_1")
    shop.see("t2", 108, "aisle_1")
    shop.tick(108)
    assert [(n.kind, n.reason) for n in shop.news[-1:]] == [(NewsKind.PICK_AMBIGUOUS, "put_back")]
    assert shop.quantities("v1") == {"cola": 1}
