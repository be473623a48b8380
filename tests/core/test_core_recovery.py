"""Rebuilding slot knowledge and later grant changes from the audit chain's records."""

from collections.abc import Mapping

from hypothesis import given
from hypothesis import strategies as st

from custom_components.concierge.core.recovery import (
    LaterChanges,
    PortalSlots,
    assign_ours,
    later_changes,
    replay_codes,
)
from custom_components.concierge.core.slots import KnownSlot, SlotRange, SlotStatus

PORTALS = {
    "front": PortalSlots("lock.front", SlotRange(10, 14)),
    "back": PortalSlots("lock.back", SlotRange(10, 12)),
    "side": PortalSlots("lock.front", SlotRange(10, 14)),  # a second door on the same lock
}
OURS = SlotStatus.OURS
EMPTY = KnownSlot(SlotStatus.EMPTY)


def programmed(portal: str, slot: object, grant: object = "g1") -> dict[str, object]:
    return {"type": "code_programmed", "portal": portal, "grant": grant, "data": {"slot": slot}}


def cleared(portal: str, slot: object, grant: object = "g1") -> dict[str, object]:
    return {"type": "code_cleared", "portal": portal, "grant": grant, "data": {"slot": slot}}


def test_a_programmed_code_is_ours_and_its_grant_named_only_if_the_site_still_has_it() -> None:
    events = [
        programmed("front", 10, "g1"),
        programmed("front", 11, "gone"),
        programmed("back", 12),
    ]
    assert replay_codes(events, PORTALS, grants={"g1"}) == {
        "lock.front": {10: KnownSlot(OURS, "g1"), 11: KnownSlot(OURS, None)},
        "lock.back": {12: KnownSlot(OURS, "g1")},
    }
    # With no grants at all (the store was lost), every code of ours is an orphan.
    assert replay_codes(events, PORTALS) == {
        "lock.front": {10: KnownSlot(OURS), 11: KnownSlot(OURS)},
        "lock.back": {12: KnownSlot(OURS)},
    }


def test_the_last_record_of_a_slot_decides_whatever_door_of_the_lock_made_it() -> None:
    events = [
        programmed("front", 10),
        cleared("side", 10),
        programmed("side", 11),
        cleared("front", 11),
        programmed("front", 11, "g2"),
    ]
    assert replay_codes(events, PORTALS, grants={"g1", "g2"}) == {
        "lock.front": {10: EMPTY, 11: KnownSlot(OURS, "g2")}
    }


def test_a_write_that_got_no_answer_replays_as_unsettled_never_empty() -> None:
    unsettled = SlotStatus.UNSETTLED
    events = [
        {**programmed("front", 10), "outcome": "failed"},
        programmed("front", 11),
        {**cleared("front", 11), "outcome": "failed"},
        programmed("front", 12),
        {**cleared("front", 12), "outcome": "ok"},
    ]
    assert replay_codes(events, PORTALS, grants={"g1"}) == {
        "lock.front": {10: KnownSlot(unsettled, "g1"), 11: KnownSlot(unsettled, "g1"), 12: EMPTY}
    }


def test_records_concierge_could_not_have_written_are_ignored() -> None:
    events: list[Mapping[str, object]] = [
        programmed("gone_door", 10),  # a door removed since
        programmed("front", 3),  # outside the managed range
        programmed("front", slot=True),  # not a slot number
        programmed("front", "10"),
        {"type": "code_programmed", "portal": "front", "grant": "g1", "data": "10"},
        {"type": "code_programmed", "portal": None, "data": {"slot": 10}},
        {"type": "code_rejected", "portal": "front", "grant": "g1", "data": {"slot": 12}},
        {"type": "visit_started", "portal": "front", "grant": "g1"},
    ]
    assert replay_codes(events, PORTALS, grants={"g1"}) == {}


def test_slots_without_records_keep_what_was_known_and_the_known_state_is_not_changed() -> None:
    known = {"lock.front": {10: EMPTY, 13: KnownSlot(SlotStatus.FOREIGN)}}
    result = replay_codes([programmed("front", 10, 7)], PORTALS, known, grants={"g1"})
    assert result == {"lock.front": {10: KnownSlot(OURS), 13: KnownSlot(SlotStatus.FOREIGN)}}
    assert known == {"lock.front": {10: EMPTY, 13: KnownSlot(SlotStatus.FOREIGN)}}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["front", "back", "side", "other"]),
            st.integers(0, 16),
            st.booleans(),
            st.sampled_from(["g1", "g2", "gone"]),
        ),
        max_size=40,
    )
)
def test_each_slot_ends_as_its_last_record_says_and_only_managed_slots_are_named(
    records: list[tuple[str, int, bool, str]],
) -> None:
    events = [(programmed if ok else cleared)(p, s, g) for p, s, ok, g in records]
    result = replay_codes(events, PORTALS, grants={"g1", "g2"})
    expected: dict[tuple[str, int], KnownSlot] = {}
    for portal, slot, ok, grant in records:
        door = PORTALS.get(portal)
        if door is None or slot not in door.managed:
            continue
        owner = grant if grant != "gone" else None
        expected[door.lock, slot] = KnownSlot(OURS, owner) if ok else EMPTY
    assert {(lock, s): k for lock, slots in result.items() for s, k in slots.items()} == expected


def test_a_grant_holding_a_slot_of_ours_keeps_it() -> None:
    known = {
        10: KnownSlot(OURS, "g1"),
        11: KnownSlot(OURS, "g2"),
        12: KnownSlot(OURS, None),
        13: KnownSlot(SlotStatus.FOREIGN),
        14: KnownSlot(OURS, "g1"),
    }
    # g2 already has a slot elsewhere (the plan clears this one); g1 takes its first.
    assert assign_ours(known, {"g2": 14, "g3": 13}) == {"g1": 10, "g2": 14, "g3": 13}


def test_grants_changed_after_the_copy_are_named_and_revocation_wins() -> None:
    def event(kind: str, grant: object) -> dict[str, object]:
        return {"type": f"grant_{kind}", "grant": grant}

    events = [
        event("updated", "g1"),
        event("revoked", "g1"),
        event("suspended", "g2"),
        event("resumed", "g2"),
        event("used_up", "g3"),
        event("activated", "g4"),  # the schedule's doing: the copy computes it again
        event("expired", "g4"),
        event("created", "g5"),  # not in the copy: missing, not changed
        event("updated", "g5"),
        event("revoked", None),
        {"type": "visit_started", "grant": "g4"},
    ]
    assert later_changes(events, {"g1", "g2", "g3", "g4"}) == LaterChanges(
        revoked=frozenset({"g1"}), changed=frozenset({"g2", "g3"})
    )
    assert later_changes([], {"g1"}) == LaterChanges()
