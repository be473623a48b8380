"""The panel's view of a grant: the current or next window, found fast and kept right."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.concierge.core.grant_terms import Credentials
from custom_components.concierge.core.grant_view import (
    NO_KEYPAD,
    NextWindows,
    current_or_next,
    grant_view,
)
from custom_components.concierge.core.grants import GrantKind, GrantState, new_grant
from custom_components.concierge.core.pin_generator import generate_pin
from custom_components.concierge.core.schedule_times import current_interval, next_edge
from custom_components.concierge.core.windows import (
    Interval,
    OneOffWindow,
    Schedule,
    WeeklyWindow,
)

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 27, 10, 0, tzinfo=UTC)  # the Friday before the clocks change


def _slow(schedule: Schedule, now: datetime) -> Interval | None:
    """The definition: open now, else the interval that begins at the next edge."""
    if (current := current_interval(schedule, TZ, now)) is not None:
        return current
    edge = next_edge(schedule, TZ, now)
    return None if edge is None else current_interval(schedule, TZ, edge)


SCHEDULES = [
    Schedule((WeeklyWindow(frozenset({0, 2}), time(9), time(12)),)),
    Schedule((WeeklyWindow(frozenset({4}), time(10), time(13)),)),  # open now
    Schedule((WeeklyWindow(frozenset({6}), time(1), time(4)),)),  # across the clock change
    Schedule((WeeklyWindow(frozenset(range(7)), time(0), time(23, 59)),)),
    Schedule((OneOffWindow(NOW + timedelta(days=40), NOW + timedelta(days=41)),)),
    Schedule((OneOffWindow(NOW + timedelta(hours=1), NOW + timedelta(days=20)),)),
    Schedule((OneOffWindow(NOW - timedelta(days=3), NOW - timedelta(days=2)),)),
    Schedule(
        (WeeklyWindow(frozenset({1}), time(8), time(9)),),
        valid_until=NOW + timedelta(days=2),
    ),
]


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("hours", [0, 5, 30, 100])
def test_current_or_next_is_the_definition(schedule: Schedule, hours: int) -> None:
    now = NOW + timedelta(hours=hours)
    assert current_or_next(schedule, TZ, now) == _slow(schedule, now)


def test_a_kept_window_is_asked_again_once_it_ended() -> None:
    schedule = SCHEDULES[0]
    windows = NextWindows()
    first = windows.get("g", schedule, TZ, NOW)
    assert first is not None
    assert windows.get("g", schedule, TZ, first.start) == first  # now the current one
    later = windows.get("g", schedule, TZ, first.end)
    assert later == _slow(schedule, first.end)
    assert later != first
    other = SCHEDULES[1]
    assert windows.get("g", other, TZ, NOW) == _slow(other, NOW)  # a changed schedule


def test_generated_pins_are_digits_and_never_one_taken() -> None:
    taken = {f"{n:06d}" for n in range(0, 1_000_000, 3)}
    pins = {generate_pin(taken) for _ in range(200)}
    assert all(p.isdigit() and len(p) == 6 for p in pins)
    assert not pins & taken
    assert all(len(set(p)) > 1 for p in pins)


def test_a_one_off_grant_as_the_panel_sees_it_without_its_pin() -> None:
    start, end = NOW + timedelta(hours=2), NOW + timedelta(hours=5)
    grant = new_grant(
        label="Plumber", kind=GrantKind.OTHER, portals=("front_door", "garage"),
        schedule=Schedule((OneOffWindow(start, end),)), now=NOW,
        credentials=Credentials(pin="482913"),
    )  # fmt: skip
    view = grant_view(
        grant, GrantState.SCHEDULED, codes={"front_door": "programmed"},
        keypad_portals={"front_door"}, tz=TZ, now=NOW,
    )  # fmt: skip
    assert view["window"] == {
        "kind": "one_off",
        "start": "2026-03-27T12:00:00+00:00",
        "end": "2026-03-27T15:00:00+00:00",
    }
    assert view["current_or_next"] == {
        "start": "2026-03-27T12:00:00+00:00",
        "end": "2026-03-27T15:00:00+00:00",
    }
    assert view["codes"] == {"front_door": "programmed", "garage": NO_KEYPAD}
    assert view["has_pin"] is True
    assert "482913" not in repr(view)


def test_windows_of_grants_that_are_gone_are_forgotten() -> None:
    windows = NextWindows()
    for grant_id in ("a", "b", "c"):
        windows.get(grant_id, SCHEDULES[0], TZ, NOW)
    windows.keep_only({"b"})
    assert set(windows._kept) == {"b"}
