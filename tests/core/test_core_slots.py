"""Which code goes into which lock slot, and what is sent to get there."""

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.errors import ConciergeError
from custom_components.concierge.core.slots import (
    AttackWatch,
    ClearCode,
    KnownSlot,
    SetCode,
    SlotRange,
    SlotStatus,
    WantedCode,
    after_clear,
    after_set,
    fingerprint,
    grant_for_slot,
    observe,
    plan_lock,
    retry_delay,
)

SALT = "lock-1"
MANAGED = SlotRange(10, 14)


def empty_lock(slots: range = range(1, 21)) -> dict[int, KnownSlot]:
    return {s: KnownSlot(SlotStatus.EMPTY) for s in slots}


def apply(known: Mapping[int, KnownSlot], commands: tuple[object, ...]) -> dict[int, KnownSlot]:
    state = dict(known)
    for command in commands:
        if isinstance(command, SetCode):
            state = after_set(state, command, SALT)
        else:
            assert isinstance(command, ClearCode)
            state = after_clear(state, command)
    return state


def test_a_code_is_set_once_and_then_left_alone() -> None:
    known = empty_lock()
    plan = plan_lock(
        managed=MANAGED, known=known, assignments={}, wanted=[WantedCode("g1", "4821")], salt=SALT
    )
    assert plan.commands == (SetCode(10, "g1", "4821"),)
    assert plan.assignments == {"g1": 10}
    known = apply(known, plan.commands)
    again = plan_lock(
        managed=MANAGED, known=known, assignments=plan.assignments,
        wanted=[WantedCode("g1", "4821")], salt=SALT,
    )  # fmt: skip
    assert again.commands == ()
    # The window closes: one clear, nothing else.
    closed = plan_lock(
        managed=MANAGED, known=known, assignments=again.assignments, wanted=[], salt=SALT
    )
    assert closed.commands == (ClearCode(10, "g1"),)
    assert closed.assignments == {}
    assert "4821" not in repr(plan)
    assert "4821" not in str(known[10].to_dict())


def test_changed_pin_is_rewritten_in_the_same_slot() -> None:
    known = after_set(empty_lock(), SetCode(11, "g1", "1111"), SALT)
    plan = plan_lock(
        managed=MANAGED, known=known, assignments={"g1": 11},
        wanted=[WantedCode("g1", "2222")], salt=SALT,
    )  # fmt: skip
    assert plan.commands == (SetCode(11, "g1", "2222"),)


def test_foreign_and_unseen_slots_are_never_touched() -> None:
    known = empty_lock(range(1, 12))  # slots 12-14 never reported
    known[10] = KnownSlot(SlotStatus.FOREIGN)
    plan = plan_lock(
        managed=MANAGED, known=known, assignments={"g1": 10},
        wanted=[WantedCode("g1", "1234"), WantedCode("g2", "5678")], salt=SALT,
    )  # fmt: skip
    assert plan.foreign_slots == (10,)
    assert plan.commands == (SetCode(11, "g1", "1234"),)
    assert plan.no_free_slot == ("g2",)


def test_rejected_grants_are_not_retried() -> None:
    plan = plan_lock(
        managed=MANAGED, known=empty_lock(), assignments={},
        wanted=[WantedCode("g1", "1234")], rejected=frozenset({"g1"}), salt=SALT,
    )  # fmt: skip
    assert plan.commands == ()


def test_observations() -> None:
    known = empty_lock()
    known = observe(known, 12, occupied=True)
    assert known[12].status is SlotStatus.FOREIGN
    ours = KnownSlot(SlotStatus.OURS, "g1", fingerprint("1234", SALT))
    known = observe(known, 13, occupied=True, ours=ours)
    assert known[13] == ours
    assert observe(known, 13, occupied=True)[13] == ours
    assert observe(known, 12, occupied=False)[12].status is SlotStatus.EMPTY
    assert KnownSlot.from_dict(ours.to_dict()) == ours


def test_slot_range_and_helpers() -> None:
    assert list(SlotRange(3, 5)) == [3, 4, 5]
    assert 3 in SlotRange(3, 5)
    assert "3" not in SlotRange(3, 5)
    for bad in ((0, 5), (5, 4), (1.0, 2)):
        with pytest.raises(ConciergeError) as err:
            SlotRange(*bad)  # type: ignore[arg-type]
        assert err.value.translation_key == "invalid_slot_range"
    assert [retry_delay(n) for n in (0, 1, 2, 6, 7, 50)] == [10, 10, 30, 3600, 3600, 3600]
    assert grant_for_slot({"g1": 10, "g2": 11}, 11) == "g2"
    assert grant_for_slot({"g1": 10}, 3) is None
    assert fingerprint("1234", "a") != fingerprint("1234", "b")


def test_attack_watch_fires_once_per_burst() -> None:
    watch = AttackWatch(threshold=3, window_seconds=60)
    fired = []
    for at in (0, 10, 20, 30, 40, 200, 210, 220):
        watch, alarm = watch.record(at)
        fired.append(alarm)
    assert fired == [False, False, True, False, False, False, False, True]


pins = st.from_regex(r"[0-9]{4,8}", fullmatch=True)
grant_ids = st.sampled_from([f"g{i}" for i in range(8)])
wanted_sets = st.dictionaries(grant_ids, pins, max_size=8)


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(wanted_sets, min_size=1, max_size=6),
    foreign=st.sets(st.integers(1, 20), max_size=6),
)
def test_reconciling_converges_and_respects_the_rules(
    steps: list[dict[str, str]], foreign: set[int]
) -> None:
    """Any sequence of wanted codes: the lock ends with exactly them, and nothing else moves."""
    known = empty_lock()
    for slot in foreign:
        known[slot] = KnownSlot(SlotStatus.FOREIGN)
    outside_before = {s: v for s, v in known.items() if s not in MANAGED}
    assignments: Mapping[str, int] = {}
    for wanted in steps:
        plan = plan_lock(
            managed=MANAGED, known=known, assignments=assignments,
            wanted=[WantedCode(g, p) for g, p in wanted.items()], salt=SALT,
        )  # fmt: skip
        for command in plan.commands:
            assert command.slot in MANAGED
            assert known[command.slot].status is not SlotStatus.FOREIGN
        # No slot gets two codes, and a moved code is cleared before it is set.
        sets = [c.slot for c in plan.commands if isinstance(c, SetCode)]
        assert len(sets) == len(set(sets))
        known = apply(known, plan.commands)
        assignments = plan.assignments
        held = {
            v.grant: s for s, v in known.items() if v.status is SlotStatus.OURS and s in MANAGED
        }
        placed = set(wanted) - set(plan.no_free_slot)
        assert set(held) == placed
        for grant_id in placed:
            assert known[held[grant_id]].code_fingerprint == fingerprint(wanted[grant_id], SALT)
        free = sum(1 for s in MANAGED if s not in foreign)
        assert len(placed) == min(len(wanted), free)
        # A restart with the stored state sends nothing.
        again = plan_lock(
            managed=MANAGED, known=known, assignments=assignments,
            wanted=[WantedCode(g, p) for g, p in wanted.items()], salt=SALT,
        )  # fmt: skip
        assert again.commands == ()
    assert {s: v for s, v in known.items() if s not in MANAGED} == outside_before
    assert all(known[s].status is SlotStatus.FOREIGN for s in foreign)
