"""A session whose shopper leaves through an exit zone is closed there, as at the exit gate.

Only when the book is sure: every one of the session's tracks left through the exit zone,
nobody else was in it then, and nobody in the store was unaccounted for (a person track no
session owns, or a session without a track). A track bound to the wrong session leaves one
of those behind, so it can never close that session early: its shopper, still inside, stays
a candidate for what they put back and pick, and the gate closes the session later.
"""

from collections.abc import Callable

import pytest

from store_bridge.core import attribution
from store_bridge.core.attribution import AttributionTuning, CartBook
from store_bridge.core.cart_model import NewsKind, TrackPhase, TrackSighting
from store_bridge.core.cart_session import ShopSession
from store_bridge.core.exit_zones import left_through
from store_bridge.core.track_table import TrackTable

from .book_rig import GATE, LANES, PRODUCTS, Shop, at

EXIT = "exit"
Leaving = Callable[[float], None]
"""A's track leaving through the exit zone from `start` (see `picks_cola_and_walks_out`)."""


def shop() -> Shop:
    """The rig's shop, with the zone in front of its exit named."""
    rig = Shop()
    rig.book = CartBook(PRODUCTS, LANES, rig.tuning, exit_zones=(EXIT,))
    return rig


def unbound(rig: Shop, visit: str) -> list[tuple[str | None, object]]:
    """The reasons (and times) the book gave for `visit` losing its track."""
    return [
        (n.reason, n.at)
        for n in rig.news
        if n.kind is NewsKind.SESSION_UNBOUND and n.visit == visit
    ]


def picks_cola_and_walks_out(rig: Shop, visit: str, track: str, start: float) -> None:
    """`track` (bound to `visit`) takes a can at lane l1, then leaves through the exit zone."""
    rig.see(track, start, "aisle_1")
    rig.pick("l1", start + 2)
    rig.see(track, start + 5, "aisle_1")
    rig.tick(start + 10)
    assert rig.quantities(visit) == {"cola": 1}
    rig.see(track, start + 12, EXIT)
    rig.end(track, start + 14, EXIT)


def party_of_two(rig: Shop, *, camera: str = "cam1") -> None:
    """A party of two checks in together; a1 (on `camera`) and a2 are bound at the gate."""
    rig.see("a1", 9, GATE, phase=TrackPhase.NEW, camera=camera)
    rig.see("a2", 9, GATE, phase=TrackPhase.NEW)
    rig.check_in("A", 10, party=2)
    rig.see("a1", 11, "aisle_0", camera=camera)
    rig.see("a2", 11, "aisle_0")
    rig.tick(16)
    assert [n.reason for n in rig.news if n.kind is NewsKind.TRACK_BOUND] == ["check_in"] * 2


def test_a_shopper_leaving_through_the_exit_zone_is_closed_there_with_the_cart_as_it_stood() -> (
    None
):
    rig = shop()
    rig.enter("A", "a", 10)
    picks_cola_and_walks_out(rig, "A", "a", 20)
    rig.tick(45)
    assert unbound(rig, "A") == [("exit_zone", at(34))]
    assert rig.quantities("A") == {"cola": 1}
    # someone the tracker never saw takes a can afterwards: not A's (A is gone)
    rig.pick("l1", 50)
    rig.tick(60)
    assert rig.quantities("A") == {"cola": 1}
    assert rig.kinds()[-1] is NewsKind.PICK_UNATTRIBUTED
    # the exit gate reporting A later changes nothing: the first close stands
    assert rig.leave("A", 90) == []
    assert rig.book.ignored_by_reason["closed_visit"] == 1


def test_a_track_lost_anywhere_else_leaves_the_session_open() -> None:
    rig = shop()
    rig.enter("A", "a", 10)
    rig.see("a", 20, "aisle_1")
    rig.end("a", 25, "aisle_1")
    rig.tick(40)
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]
    rig.pick("l1", 44)  # A may be anywhere: a pick nobody was seen at could be A's
    rig.tick(60)
    assert (rig.news[-1].kind, rig.news[-1].candidates) == (NewsKind.PICK_AMBIGUOUS, 1)


def someone_else_in_the_exit_zone_at_the_time(rig: Shop, a_leaves: Leaving) -> None:
    """B stands in the exit zone as A's track ends there."""
    rig.enter("B", "b", 20)
    rig.see("b", 32, EXIT)
    a_leaves(20)
    rig.see("b", 36, "aisle_2")
    rig.tick(45)


def a_stranger_in_the_store(rig: Shop, a_leaves: Leaving) -> None:
    """Someone the bridge never checked in is in the store: the track that left may be theirs."""
    rig.see("x", 25, "aisle_3", phase=TrackPhase.NEW)  # a person no session owns
    a_leaves(20)
    rig.see("x", 40, "aisle_3")
    rig.tick(45)


def someone_appearing_unowned_just_after_the_session_left(rig: Shop, a_leaves: Leaving) -> None:
    """Nobody's track appears a moment after A's ended in the exit zone (at 34)."""
    a_leaves(20)
    rig.see("x", 35, "aisle_3", phase=TrackPhase.NEW)
    rig.see("x", 40, "aisle_3")
    rig.tick(45)


def a_track_still_seen_after_its_session_left_by_the_gate(rig: Shop, a_leaves: Leaving) -> None:
    """B left through the gate, yet B's track walks on: it follows someone else now."""
    rig.enter("B", "b", 20)
    rig.see("b", 28, "aisle_2")
    assert rig.leave("B", 29) == []
    a_leaves(30)  # a ends in the exit zone at 44
    rig.see("b", 46, "aisle_2")
    rig.tick(55)


@pytest.mark.parametrize(
    "scenario",
    [
        someone_else_in_the_exit_zone_at_the_time,
        a_stranger_in_the_store,
        someone_appearing_unowned_just_after_the_session_left,
        a_track_still_seen_after_its_session_left_by_the_gate,
    ],
    ids=lambda scenario: scenario.__name__,
)
def test_anyone_who_may_be_the_one_who_left_keeps_the_leaving_session_open(
    scenario: Callable[[Shop, Leaving], None],
) -> None:
    """A's track, with a can, ends in the exit zone; whose it was is not sure."""
    rig = shop()
    rig.enter("A", "a", 10)
    scenario(rig, lambda start: picks_cola_and_walks_out(rig, "A", "a", start))
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]


def test_a_party_closes_only_when_all_of_it_left_through_the_exit_zone() -> None:
    rig = shop()
    party_of_two(rig)
    rig.see("a2", 20, "aisle_2")
    picks_cola_and_walks_out(rig, "A", "a1", 20)
    rig.tick(45)
    assert unbound(rig, "A") == []  # the other one still shops
    rig.see("a2", 50, EXIT)
    rig.end("a2", 52, EXIT)
    rig.tick(60)
    assert unbound(rig, "A") == [("exit_zone", at(52))]


def test_a_track_picked_up_again_in_the_exit_zone_keeps_the_session_open() -> None:
    rig = shop()
    rig.enter("A", "a", 10)
    picks_cola_and_walks_out(rig, "A", "a", 20)
    rig.see("a-again", 35, EXIT, phase=TrackPhase.NEW)  # the same person, a new id
    rig.see("a-again", 37, "aisle_1")
    rig.tick(45)
    assert unbound(rig, "A") == []
    assert [n.reason for n in rig.news if n.kind is NewsKind.TRACK_BOUND][-1] == "relinked"


def test_a_track_wrongly_bound_cannot_close_the_session_of_the_shopper_still_inside() -> None:
    """A took a can; then B checked in, and the tracker lost B at once (B has no track).

    The tracker then hands A's track id to B's body, and B walks out through the exit zone
    under it, while A shops on under a new id nobody owns and puts the can back. A's session
    stays open, so A is a candidate for the put-back (held for evidence, then review): A is
    not charged for a can that is back on the shelf. Closed at the exit zone, A would be no
    candidate, the put-back an anomaly, and A charged for the can.
    """
    rig = shop()
    rig.enter("A", "a", 10)
    rig.see("a", 20, "aisle_1")
    rig.pick("l1", 22)
    rig.see("a", 25, "aisle_1")
    rig.see("b", 39, GATE, phase=TrackPhase.NEW)
    rig.check_in("B", 40)
    rig.end("b", 41, GATE)  # lost at once: B is never bound
    for seconds in (45, 55, 65):
        rig.see("a", seconds, "aisle_2")
        rig.tick(seconds + 1)
    rig.tick(75)
    assert rig.quantities("A") == {"cola": 1}
    assert [reason for reason, _ in unbound(rig, "B")] == ["deadline"]
    rig.see("c", 72, "aisle_3", phase=TrackPhase.NEW)  # A's body, under a new id
    rig.see("a", 76, EXIT)  # B's body, under A's id
    rig.end("a", 78, EXIT)
    rig.tick(90)
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]
    rig.see("c", 95, "aisle_1")
    rig.put_back("l1", 97)
    rig.see("c", 100, "aisle_1")
    rig.tick(110)
    held = [n for n in rig.news if n.kind is NewsKind.PICK_AMBIGUOUS]
    assert [(n.visit, n.reason, n.candidates) for n in held] == [(None, "put_back", 1)]
    assert NewsKind.LANE_ANOMALY not in rig.kinds()
    # A really leaves through the exit gate: A's session closes then
    assert rig.leave("A", 130) == []
    cart = rig.book.cart("A")
    assert cart is not None
    assert cart.held == 1  # the put-back waits for evidence or an operator, not charged


def test_a_session_whose_track_is_still_seen_or_that_nobody_saw_leave_has_not_left() -> None:
    table = TrackTable()
    sighting = TrackSighting("a", "cam1", frozenset({EXIT}), at(1), TrackPhase.NEW)
    table.observe(sighting, oldest=None)
    tuning = AttributionTuning()
    for tracks in ({"a"}, {"gone"}):  # still in the exit zone; no longer remembered
        session = ShopSession("A", GATE, 1, at(0), tracks=set(tracks))
        owner = dict.fromkeys(tracks, "A")
        left = left_through(
            session,
            gone=[],
            table=table,
            owner=owner,
            sessions={"A": session},
            exits={EXIT},
            tuning=tuning,
            others_unbound=False,
            now=at(10),
        )
        assert left is None


def test_a_party_member_lost_long_ago_keeps_the_party_open_and_out_of_others_carts() -> None:
    """One of A's party is lost by the tracker in an aisle; the other leaves minutes later.

    The lost track is long forgotten by then, but A's session stays open: the one lost may
    still be inside, and a pick next to B that nobody saw may be theirs, so it is not B's.
    """
    rig = shop()
    party_of_two(rig)
    rig.enter("B", "b", 18)
    rig.see("a1", 28, "aisle_3")
    rig.end("a1", 30, "aisle_3")  # lost by the tracker, still in the store
    for seconds in range(31, 250, 5):
        rig.see("a2", seconds, "aisle_1")
        rig.see("b", seconds, "aisle_2")
        rig.tick(seconds + 0.5)
    rig.see("a2", 252, EXIT)
    rig.see("b", 252, "aisle_2")
    rig.end("a2", 254, EXIT)
    for seconds in range(256, 300, 4):
        rig.see("b", seconds, "aisle_2")
        rig.tick(seconds + 0.5)
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]
    rig.see("b", 300, "aisle_2")
    rig.pick("l2", 301)  # A's lost one, unseen, takes chips next to B
    for seconds in range(303, 340, 4):
        rig.see("b", seconds, "aisle_2")
        rig.tick(seconds + 0.5)
    assert rig.quantities("B") == {}
    assert NewsKind.PICK_AMBIGUOUS in rig.kinds()


def test_a_party_member_lost_in_an_aisle_keeps_the_party_open_when_the_other_leaves() -> None:
    rig = shop()
    party_of_two(rig)
    rig.see("a1", 20, "aisle_3")
    rig.end("a1", 22, "aisle_3")
    rig.see("a2", 30, "aisle_1")
    rig.see("a2", 40, EXIT)
    rig.end("a2", 42, EXIT)
    rig.tick(55)
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]


def test_a_lost_member_is_not_taken_over_by_the_other_member_s_new_track() -> None:
    """a1 is lost in aisle_3 as a2 is relinked to a3 nearby; a3 leaves through the exit zone.

    a3 took a2's place (the binder relinked it), not a1's: a1's person may still shop, so A
    stays open and a pick next to B is not B's.
    """
    rig = shop()
    party_of_two(rig, camera="cam2")
    rig.enter("B", "b", 18)
    rig.see("a1", 28, "aisle_3", camera="cam2")
    rig.end("a1", 30, "aisle_3")
    rig.see("a2", 29, "aisle_2")
    rig.end("a2", 30.5, "aisle_2")
    rig.see("a3", 31, "aisle_2", phase=TrackPhase.NEW)
    rig.see("b", 31, "aisle_1")
    rig.tick(40)
    assert [n.reason for n in rig.news if n.kind is NewsKind.TRACK_BOUND][-1] == "relinked"
    rig.see("a3", 45, EXIT)
    rig.end("a3", 50, EXIT)
    for seconds in (52, 60, 70, 80):
        rig.see("b", seconds, "aisle_2")
        rig.tick(seconds + 1)
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]
    rig.see("b", 88, "aisle_2")
    rig.pick("l2", 90)  # a1's person, unseen, takes chips next to B
    rig.see("b", 92, "aisle_2")
    rig.tick(100)
    assert rig.quantities("B") == {}
    assert rig.kinds()[-1] is NewsKind.PICK_AMBIGUOUS


def test_a_party_lost_all_at_once_in_an_aisle_is_said_lost_not_closed() -> None:
    rig = shop()
    rig.see("a1", 9, GATE, phase=TrackPhase.NEW)
    rig.see("a2", 9, GATE, phase=TrackPhase.NEW)
    rig.check_in("A", 9.1, party=2)
    rig.see("a1", 9.3, "aisle_0")
    rig.see("a2", 9.3, "aisle_0")
    rig.end("a1", 9.45, "aisle_0")
    rig.end("a2", 9.45, "aisle_0")
    for seconds in range(10, 60, 2):
        rig.tick(seconds)
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]
    assert rig.book.ignored_by_reason.get("exit_zone_failed", 0) == 0


def test_a_fault_in_the_exit_zone_check_leaves_the_session_open_and_keeps_the_news(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise ValueError("broken")

    monkeypatch.setattr(attribution, "left_through", broken)
    rig = shop()
    rig.enter("A", "a", 10)
    picks_cola_and_walks_out(rig, "A", "a", 20)
    rig.tick(45)
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]
    assert rig.book.ignored_by_reason["exit_zone_failed"] == 1
    assert rig.quantities("A") == {"cola": 1}


def test_a_party_with_a_member_never_bound_is_not_closed_by_the_one_who_left() -> None:
    rig = shop()
    rig.see("a1", 9, GATE, phase=TrackPhase.NEW)  # only one of the two is seen at the gate
    rig.check_in("A", 10, party=2)
    rig.see("a1", 11, "aisle_0")
    rig.tick(16)
    picks_cola_and_walks_out(rig, "A", "a1", 20)
    rig.tick(45)
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]


def test_a_party_leaving_further_apart_than_the_history_kept_is_not_closed_by_the_zone() -> None:
    """Who was in the store between the two leaving is forgotten: not sure, so left open."""
    rig = shop()
    party_of_two(rig)
    picks_cola_and_walks_out(rig, "A", "a1", 20)
    for seconds in range(40, 260, 5):
        rig.see("a2", seconds, "aisle_2")
        rig.tick(seconds + 0.5)
    rig.see("a2", 262, EXIT)
    rig.end("a2", 264, EXIT)
    rig.tick(275)
    assert [reason for reason, _ in unbound(rig, "A")] == ["track_lost"]


def test_a_shopper_who_left_by_the_gate_just_before_does_not_keep_a_leaving_session_open() -> None:
    rig = shop()
    rig.enter("A", "a", 10)
    rig.enter("B", "b", 20)
    rig.see("b", 28, GATE)
    assert rig.leave("B", 29) == []
    rig.end("b", 30, GATE)  # B's track ends as B walks out of the gate
    picks_cola_and_walks_out(rig, "A", "a", 30)
    rig.tick(55)
    assert unbound(rig, "A") == [("exit_zone", at(44))]
