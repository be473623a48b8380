"""The due queue gives the earliest instant and the keys due, as a plain dict would."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from custom_components.concierge.core.due_queue import DueQueue

T0 = datetime(2026, 11, 24, tzinfo=UTC)
keys = st.sampled_from([f"g{n}" for n in range(6)])
instants = st.integers(0, 20).map(lambda m: T0 + timedelta(minutes=m))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), keys, instants),
        st.tuples(st.just("drop"), keys, instants),
        st.tuples(st.just("pop"), keys, instants),
    ),
    max_size=60,
)


@given(operations)
def test_the_queue_answers_as_a_dict_of_due_instants(ops: list[tuple[str, str, datetime]]) -> None:
    queue, model = DueQueue(), dict[str, datetime]()
    for op, key, at in ops:
        if op == "set":
            queue.set(key, at)
            model[key] = at
        elif op == "drop":
            queue.drop(key)
            model.pop(key, None)
        else:
            due = sorted((t, k) for k, t in model.items() if t <= at)
            assert [(t, k) for k, t in queue.pop_due(at)] == due
            for _, k in due:
                del model[k]
        assert queue.first() == min(model.values(), default=None)
        assert len(queue) == len(model)
        assert all(queue.get(k) == model.get(k) for k in ("g0", "g3", "g5"))


def test_many_changes_to_few_keys_keep_the_heap_small() -> None:
    queue = DueQueue()
    for n in range(1000):
        queue.set("g", T0 + timedelta(seconds=n))
    assert len(queue._heap) <= 2 + 64  # compacted, not one entry per change
    assert queue.first() == T0 + timedelta(seconds=999)


def test_set_many_and_clear() -> None:
    queue = DueQueue()
    queue.set("late", T0 + timedelta(days=1))
    queue.set_many([("a", T0 + timedelta(hours=2)), ("b", T0 + timedelta(hours=1))])
    assert queue.pop_due(T0 + timedelta(hours=2)) == [
        ("b", T0 + timedelta(hours=1)),
        ("a", T0 + timedelta(hours=2)),
    ]
    assert queue.first() == T0 + timedelta(days=1)
    queue.clear()
    assert queue.first() is None
    assert len(queue) == 0
