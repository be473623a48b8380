"""Which code goes into which lock slot, and what is sent to get there."""

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.errors import ConciergeError
from custom_components.concierge.core.slots import (
    AttackWatch,
    ClearCode,
    CodeStatus,
    DoorCodes,
    KnownSlot,
    SetCode,
    SlotRange,
    SlotReport,
    SlotStatus,
    WantedCode,
    WriteResult,
    after_clear,
    after_set,
    after_write,
    code_statuses,
    door_codes,
    fingerprint,
    grant_for_slot,
    not_removed,
    observe,
    observe_report,
    plan_lock,
    retry_delay,
    wiped,
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
    known = after_set(empty_lock(), SetCode(11, "g2", "1234"), SALT)
    assert grant_for_slot(known, 11) == "g2"
    assert grant_for_slot(known, 3) is None
    # A foreign code in a slot a grant used before never names that grant.
    known[11] = KnownSlot(SlotStatus.FOREIGN)
    assert grant_for_slot(known, 11) is None
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


def test_an_unanswered_write_leaves_the_slot_unsettled_never_empty() -> None:
    known = empty_lock()
    lost = after_write(known, SetCode(10, "g1", "4821"), WriteResult.UNREACHABLE, SALT)
    assert lost[10].status is SlotStatus.UNSETTLED
    assert lost[10].grant == "g1"
    assert grant_for_slot(lost, 10) == "g1"
    # The window is over: the unsettled slot is cleared (not forgotten).
    plan = plan_lock(managed=MANAGED, known=lost, assignments={"g1": 10}, wanted=[], salt=SALT)
    assert plan.commands == (ClearCode(10, "g1"),)
    # Still wanted: written again (the only way to know it is there).
    plan = plan_lock(
        managed=MANAGED, known=lost, assignments={"g1": 10},
        wanted=[WantedCode("g1", "4821")], salt=SALT,
    )  # fmt: skip
    assert plan.commands == (SetCode(10, "g1", "4821"),)


def test_a_clear_counts_only_when_confirmed() -> None:
    known = after_set(empty_lock(), SetCode(10, "g1", "4821"), SALT)
    clear = ClearCode(10, "g1")
    assert after_write(known, clear, WriteResult.REJECTED, SALT)[10] == known[10]
    assert after_write(known, clear, WriteResult.UNREACHABLE, SALT)[10].status is (
        SlotStatus.UNSETTLED
    )
    assert after_write(known, clear, WriteResult.CONFIRMED, SALT)[10].status is SlotStatus.EMPTY
    # A clear of a slot we knew nothing of, unanswered: it may now hold anything of ours.
    assert after_write(empty_lock(), clear, WriteResult.UNREACHABLE, SALT)[10].grant == "g1"
    # A refused clear waits for its retry ("hold"), instead of being re-sent at once.
    plan = plan_lock(
        managed=MANAGED, known=known, assignments={}, wanted=[], hold=frozenset({10}), salt=SALT
    )
    assert plan.commands == ()


def test_statuses_show_codes_that_outlive_their_window() -> None:
    fp = fingerprint("4821", SALT)
    known = after_set(empty_lock(), SetCode(10, "g1", "4821"), SALT)
    known = after_write(known, SetCode(11, "g2", "5555"), WriteResult.UNREACHABLE, SALT)
    statuses = code_statuses(
        known=known, assignments={"g1": 10, "g2": 11},
        wanted={"g1": fp, "g2": fingerprint("5555", SALT), "g3": "x"},
        rejected=["g4"], no_free_slot=["g3"],
    )  # fmt: skip
    assert statuses == {
        "g1": CodeStatus.PROGRAMMED,
        "g2": CodeStatus.PENDING,
        "g3": CodeStatus.NO_FREE_SLOT,
        "g4": CodeStatus.REJECTED,
    }
    assert door_codes(statuses) is DoorCodes.PENDING
    over = code_statuses(known=known, assignments={}, wanted={})
    assert over == {"g1": CodeStatus.NOT_REMOVED, "g2": CodeStatus.NOT_REMOVED}
    assert door_codes(over) is DoorCodes.NOT_REMOVED
    assert door_codes({}, orphans=1) is DoorCodes.NOT_REMOVED
    assert door_codes({"g1": CodeStatus.PROGRAMMED}) is DoorCodes.IN_SYNC
    orphan = {10: KnownSlot(SlotStatus.OURS)}
    assert not_removed(orphan, {}) == {10: None}


def test_what_the_lock_reports_on_its_own() -> None:
    fp = fingerprint("4821", SALT)
    ours = after_set(empty_lock(), SetCode(10, "g1", "4821"), SALT)
    # A code typed in at the lock into a free slot, or over ours: foreign.
    assert observe_report(ours, SlotReport(12, occupied=True))[12].status is SlotStatus.FOREIGN
    replaced = observe_report(ours, SlotReport(10, occupied=True, by_us=False))
    assert replaced[10].status is SlotStatus.FOREIGN
    other = observe_report(ours, SlotReport(10, occupied=True, code_fingerprint="other"))
    assert other[10].status is SlotStatus.FOREIGN
    # Our own code reported back, or a report that cannot tell: unchanged.
    assert observe_report(ours, SlotReport(10, occupied=True, code_fingerprint=fp)) == ours
    assert observe_report(ours, SlotReport(10, occupied=True)) == ours
    # The echo of a write in progress waits for the write's answer.
    assert observe_report(empty_lock(), SlotReport(12, occupied=True), writing=frozenset({12}))[
        12
    ] == (KnownSlot(SlotStatus.EMPTY))
    # An unanswered write that the lock then reports with our code: settled as ours.
    lost = after_write(empty_lock(), SetCode(10, "g1", "4821"), WriteResult.UNREACHABLE, SALT)
    assert (
        observe_report(lost, SlotReport(10, occupied=True, code_fingerprint=fp))[10].status
        is SlotStatus.OURS
    )
    # Deleted at the lock, or every code wiped.
    assert observe_report(ours, SlotReport(10, occupied=False))[10].status is SlotStatus.EMPTY
    assert wiped(ours, MANAGED)[10].status is SlotStatus.EMPTY


outcomes = st.sampled_from(["ok", "refused", "lost_done", "lost_not_done"])


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(wanted_sets, min_size=1, max_size=5),
    faults=st.lists(outcomes, min_size=1, max_size=40),
)
def test_under_any_faults_no_code_outlives_its_window_unnoticed(
    steps: list[dict[str, str]], faults: list[str]
) -> None:
    """A lock that refuses clears and loses answers (writes done or not): at every moment
    each code of ours on the lock is one Concierge knows may be there; once the lock
    answers again, exactly the wanted codes are on it."""
    truth: dict[int, str] = {}  # slot -> grant whose code the lock really holds
    known = empty_lock()
    assignments: Mapping[str, int] = {}
    fault_iter = iter(faults)

    def run(wanted: dict[str, str], *, healthy: bool) -> None:
        nonlocal known, assignments
        plan = plan_lock(
            managed=MANAGED, known=known, assignments=assignments,
            wanted=[WantedCode(g, p) for g, p in wanted.items()], salt=SALT,
        )  # fmt: skip
        assignments = plan.assignments
        for command in plan.commands:
            fault = "ok" if healthy else next(fault_iter, "ok")
            if isinstance(command, SetCode) and fault == "refused":
                fault = "ok"  # refused sets are the duplicate case, covered elsewhere
            done = fault in {"ok", "lost_done"}
            if done and isinstance(command, SetCode):
                truth[command.slot] = command.grant
            elif done:
                truth.pop(command.slot, None)
            result = {
                "ok": WriteResult.CONFIRMED,
                "refused": WriteResult.REJECTED,
            }.get(fault, WriteResult.UNREACHABLE)
            known = after_write(known, command, result, SALT)
            for slot, grant in truth.items():
                assert known[slot].status in {SlotStatus.OURS, SlotStatus.UNSETTLED}
                assert known[slot].grant in {grant, None}  # None: ours, grant unsure
            if result is WriteResult.UNREACHABLE:
                return

    for wanted in steps:
        run(wanted, healthy=False)
    final = steps[-1]
    for _ in range(4):
        run(final, healthy=True)
    placed = {g for g in final if g in assignments}
    assert set(truth.values()) == placed
    assert all(known[s].status is SlotStatus.OURS for s in truth)
