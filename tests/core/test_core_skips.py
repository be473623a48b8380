"""Occurrences left out of a weekly schedule: closed that day, and the schedule goes on."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from custom_components.concierge.core.errors import ConciergeError
from custom_components.concierge.core.grants import GrantKind, GrantState, grant_state, new_grant
from custom_components.concierge.core.schedule_times import is_open, next_edge
from custom_components.concierge.core.skips import occurrence_day, recurrence_id
from custom_components.concierge.core.windows import Schedule, WeeklyWindow

BERLIN = ZoneInfo("Europe/Berlin")
MONDAYS = WeeklyWindow(frozenset({0}), time(9), time(12))


def berlin(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def test_a_skipped_monday_is_closed_and_the_next_one_opens() -> None:
    schedule = Schedule((MONDAYS,), skipped=frozenset({date(2026, 10, 19)}))
    assert not is_open(schedule, BERLIN, berlin("2026-10-19T10:00"))
    assert is_open(schedule, BERLIN, berlin("2026-10-26T10:00"))
    assert next_edge(schedule, BERLIN, berlin("2026-10-19T08:00")) == berlin("2026-10-26T09:00")


def test_many_skipped_weeks_in_a_row_do_not_end_an_open_ended_grant() -> None:
    skipped = frozenset(date(2026, 10, 19 + 7 * n) if n < 2 else date(2026, 11, 2 + 7 * (n - 2))
                        for n in range(6))  # fmt: skip
    grant = new_grant(
        label="Cleaner",
        kind=GrantKind.CLEANER,
        portals=("front",),
        schedule=Schedule((MONDAYS,), skipped=skipped),
        now=berlin("2026-10-19T08:00"),
    )
    now = berlin("2026-10-19T08:00")
    assert grant_state(grant, now, BERLIN) is GrantState.SCHEDULED
    assert next_edge(grant.schedule, BERLIN, now) == berlin("2026-11-30T09:00")


def test_skipped_dates_are_stored_and_absent_means_none() -> None:
    schedule = Schedule((MONDAYS,), skipped=frozenset({date(2026, 10, 26), date(2026, 10, 19)}))
    stored = schedule.to_dict()
    assert stored["skipped"] == ["2026-10-19", "2026-10-26"]
    assert Schedule.from_dict(stored) == schedule
    del stored["skipped"]
    assert Schedule.from_dict(stored).skipped == frozenset()
    assert "skipped" not in Schedule((MONDAYS,)).to_dict()
    with pytest.raises(ConciergeError):
        Schedule.from_dict(schedule.to_dict() | {"skipped": ["26.10.2026"]})


def test_recurrence_ids_name_the_local_day() -> None:
    rid = recurrence_id(berlin("2026-10-26T09:00").astimezone(UTC).astimezone(BERLIN))
    assert rid == "20261026T090000"
    assert occurrence_day(rid) == date(2026, 10, 26)
    assert occurrence_day("20261026") == date(2026, 10, 26)
    assert occurrence_day("20261340T090000") is None
    assert occurrence_day("tomorrow") is None
