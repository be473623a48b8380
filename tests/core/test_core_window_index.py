"""The calendar's index finds the same windows as asking every grant, while grants change."""

import random
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from custom_components.concierge.core.grants import Grant, GrantKind, new_grant
from custom_components.concierge.core.schedule_times import occurrences
from custom_components.concierge.core.window_index import WindowIndex, current_or_next, index_of
from custom_components.concierge.core.windows import OneOffWindow, Schedule, WeeklyWindow

BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 10, 1, tzinfo=UTC)


def _schedule(rng: random.Random) -> Schedule:
    """One-off windows over two years, weekly ones bounded or not (DST changes included)."""
    shape = rng.choice(["one-off", "one-off", "weekly", "weekly-open", "long"])
    first = START - timedelta(days=300) + timedelta(hours=rng.randrange(0, 24 * 600))
    if shape == "one-off":
        return Schedule((OneOffWindow(first, first + timedelta(hours=rng.randrange(1, 30))),))
    if shape == "long":
        return Schedule((OneOffWindow(first, first + timedelta(days=rng.randrange(100, 366))),))
    window = WeeklyWindow(
        weekdays=frozenset(rng.sample(range(7), rng.randrange(1, 4))),
        start=time(rng.randrange(0, 24), 0),
        end=time(rng.randrange(0, 24), 30),
    )
    if shape == "weekly-open":
        return Schedule((window,), valid_from=first if rng.random() < 0.5 else None)
    return Schedule(
        (window,), valid_from=first, valid_until=first + timedelta(weeks=rng.randrange(1, 80))
    )


def _grants(rng: random.Random, n: int) -> list[Grant]:
    return [
        new_grant(
            label=f"G{i % 7}", kind=GrantKind.OTHER, portals=("p1",), schedule=_schedule(rng),
            now=START - timedelta(days=400),
        )
        for i in range(n)
    ]  # fmt: skip


def _in_range_by_asking_all(grants: dict[str, Grant], start: datetime, end: datetime) -> set[str]:
    return {
        g.id for g in grants.values()
        if not g.revoked and occurrences(g.schedule, BERLIN, start, end)
    }  # fmt: skip


def _open_or_next_by_asking_all(
    grants: dict[str, Grant], now: datetime
) -> tuple[object, ...] | None:
    found = [
        (i.start, i.end, g.label, g.id)
        for g in grants.values()
        if not g.revoked and (i := current_or_next(g.schedule, BERLIN, now)) is not None
    ]
    return min(found) if found else None


def _open_or_next(index: WindowIndex, now: datetime) -> tuple[object, ...] | None:
    found = index.open_or_next(now)
    if found is None:
        return None
    interval, grant = found
    return (interval.start, interval.end, grant.label, grant.id)


def test_index_answers_as_asking_every_grant_while_grants_change_and_time_passes() -> None:
    rng = random.Random(15)  # noqa: S311 - reproducible test data
    grants = {g.id: g for g in _grants(rng, 120)}
    now = START
    index = index_of(grants.values(), BERLIN, now)
    for step in range(60):
        # Change one grant: a new schedule, a revocation, or a new grant.
        choice = rng.random()
        if choice < 0.4:
            grant_id = rng.choice(list(grants))
            grants[grant_id] = replace(grants[grant_id], schedule=_schedule(rng))
        elif choice < 0.55:
            grant_id = rng.choice(list(grants))
            grants[grant_id] = replace(grants[grant_id], revoked=True)
        else:
            grant_id = _grants(rng, 1)[0].id
            grants[grant_id] = replace(_grants(rng, 1)[0], id=grant_id)
        index.put(grants[grant_id], now)
        now += timedelta(hours=rng.randrange(1, 200))
        assert _open_or_next(index, now) == _open_or_next_by_asking_all(grants, now), step
        start = now + timedelta(days=rng.randrange(-200, 200))
        end = start + timedelta(days=rng.randrange(1, 45))
        asked = {g.id for g in index.in_range(start, end)}
        assert _in_range_by_asking_all(grants, start, end) <= asked, step
    assert len(index) == sum(1 for g in grants.values() if not g.revoked)


def test_a_month_asks_only_the_grants_near_it() -> None:
    rng = random.Random(13)  # noqa: S311 - reproducible test data
    one_offs = [
        g for g in _grants(rng, 400) if all(isinstance(w, OneOffWindow) for w in g.schedule.windows)
    ]
    short = [
        g
        for g in one_offs
        if g.schedule.windows[0].end - g.schedule.windows[0].start < timedelta(days=2)
    ]
    index = index_of(short, BERLIN, START)
    asked = index.in_range(START, START + timedelta(days=30))
    assert 0 < len(asked) < len(short) / 5


def test_a_grant_changed_many_times_is_answered_by_its_newest_version() -> None:
    grant = _grants(random.Random(3), 1)[0]  # noqa: S311 - reproducible test data
    index = WindowIndex(BERLIN)
    for hours in range(1, 200):
        window = OneOffWindow(START + timedelta(hours=hours), START + timedelta(hours=hours + 1))
        grant = replace(grant, schedule=Schedule((window,)))
        index.put(grant, START)
    assert _open_or_next(index, START) == (window.start, window.end, grant.label, grant.id)
    assert len(index) == 1
    assert len(index._heap) <= 2 * len(index) + 64  # old versions do not pile up


def test_an_empty_range_asks_no_grant() -> None:
    index = index_of(_grants(random.Random(5), 20), BERLIN, START)  # noqa: S311
    assert index.in_range(START, START) == []
    assert index.in_range(START, START - timedelta(days=1)) == []
