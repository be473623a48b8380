"""Tests for the spoken answers (core/answers.py), without Home Assistant."""

from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.concierge.core.answer_texts import MAX_LISTED, describe_window, language_of
from custom_components.concierge.core.answers import Question, SiteView, answer, match_portals
from custom_components.concierge.core.events import Source
from custom_components.concierge.core.grants import Credentials, Grant, GrantKind, new_grant
from custom_components.concierge.core.visits import Visit, VisitState
from custom_components.concierge.core.windows import (
    Interval,
    OneOffWindow,
    Schedule,
    WeeklyWindow,
)

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 24, 10, 30, tzinfo=TZ)  # a Tuesday
PORTALS = {"front": "Front door", "back": "Back door", "garage": "Garage"}


def local(hour: int, minute: int = 0, day: int = 24) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ)


def grant(
    label: str,
    kind: GrantKind,
    schedule: Schedule | None = None,
    *,
    grant_id: str,
    pin: str | None = None,
) -> Grant:
    return new_grant(
        label=label,
        kind=kind,
        portals=("front", "back"),
        schedule=schedule or Schedule((OneOffWindow(local(9), local(13)),)),
        now=local(8),
        credentials=Credentials(pin=pin),
        grant_id=grant_id,
    )


def visit(
    visit_id: str,
    grant_id: str | None,
    portal: str,
    started: datetime,
    ended: datetime | None = None,
    state: VisitState | None = None,
) -> Visit:
    return Visit(
        id=visit_id,
        site="home",
        portal=portal,
        grant=grant_id,
        source=Source.REMOTE,
        state=state or (VisitState.IN_PROGRESS if ended is None else VisitState.COMPLETED),
        started_at=started,
        ended_at=ended,
    )


def site(*visits: Visit, grants: tuple[Grant, ...] = (), name: str = "Home") -> SiteView:
    return SiteView(name=name, portals=PORTALS, grants={g.id: g for g in grants}, visits=visits)


DHL = grant("DHL", GrantKind.COURIER, grant_id="dhl", pin="735194")
UPS = grant("UPS", GrantKind.COURIER, grant_id="ups")
CLEANER = grant(
    "Anna",
    GrantKind.CLEANER,
    Schedule((WeeklyWindow(frozenset({3}), time(9, 30), time(12)),)),
    grant_id="anna",
)


def ask(question: Question, lang: str, *sites: SiteView, door: str | None = None) -> str:
    return answer(question, lang, sites, NOW, TZ, door=door)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "de"), ("de-CH", "de"), ("de_AT", "de"), ("en", "en"), ("fr", "en"), (None, "en")],
)
def test_language_of(language: str | None, expected: str) -> None:
    assert language_of(language) == expected


def test_no_site() -> None:
    for question in Question:
        assert answer(question, "en", [], NOW, TZ) == "Concierge has no site set up."
        assert answer(question, "de", [], NOW, TZ) == "Concierge ist noch nicht eingerichtet."


def test_package_counts_only_completed_courier_visits_of_today() -> None:
    home = site(
        visit("v1", "dhl", "front", local(9, 5), local(9, 7)),
        visit("v2", "ups", "back", local(9, 50), local(10, 1)),
        # Aborted: nothing was delivered.
        visit("v3", "ups", "front", local(10), local(10, 2), VisitState.ABORTED),
        # Yesterday's delivery is not today's.
        visit("v4", "dhl", "front", local(16, day=23), local(16, 5, day=23)),
        # The cleaner's visit is not a delivery.
        visit("v5", "anna", "front", local(8), local(8, 30)),
        grants=(DHL, UPS, CLEANER),
    )
    assert ask(Question.PACKAGE, "en", home) == (
        "Yes, delivered today: DHL at 09:07 (Front door) and UPS at 10:01 (Back door)."
    )
    assert ask(Question.PACKAGE, "de", home) == (
        "Ja, heute geliefert: DHL um 09:07 (Front door) und UPS um 10:01 (Back door)."
    )
    assert "735194" not in ask(Question.PACKAGE, "en", home)


def test_package_not_yet_with_the_next_courier_window() -> None:
    later = grant(
        "Amazon",
        GrantKind.COURIER,
        Schedule((OneOffWindow(local(8, day=26), local(12, day=26)),)),
        grant_id="amazon",
    )
    home = site(grants=(later,))
    assert ask(Question.PACKAGE, "en", home) == (
        "No, no delivery has been recorded today. "
        "Next delivery window: Amazon, on Thursday, November 26 from 08:00 to 12:00."
    )
    assert ask(Question.PACKAGE, "de", home) == (
        "Nein, heute wurde noch keine Lieferung registriert. "
        "Nächstes Lieferfenster: Amazon, am Donnerstag, 26. November von 08:00 bis 12:00."
    )
    assert ask(Question.PACKAGE, "en", site()) == "No, no delivery has been recorded today."


def test_package_courier_at_the_door() -> None:
    home = site(visit("v1", "dhl", "front", local(10, 25)), grants=(DHL,))
    assert ask(Question.PACKAGE, "de", home) == (
        "Nein, heute wurde noch keine Lieferung registriert. "
        "DHL ist gerade an der Tür, seit 10:25 (Front door)."
    )


def test_visitors_list_is_capped_and_names_sites_when_there_are_several() -> None:
    guests = tuple(
        grant(f"Guest {n}", GrantKind.GUEST, grant_id=f"g{n}") for n in range(MAX_LISTED + 2)
    )
    home = site(
        *(visit(f"v{n}", g.id, "front", local(9, n)) for n, g in enumerate(guests)),
        grants=guests,
    )
    assert ask(Question.VISITORS, "en", home) == (
        "5 visits in progress: Guest 0 since 09:00 (Front door), Guest 1 since 09:01 "
        "(Front door), Guest 2 since 09:02 (Front door) and 2 more."
    )
    shop = site(visit("s1", None, "back", local(10)), name="Shop")
    cottage = site(name="Cottage")
    assert ask(Question.VISITORS, "de", shop, cottage) == (
        "? ist zu Besuch, seit 10:00 (Shop: Back door)."
    )
    assert ask(Question.AT_DOOR, "en", shop, cottage, door="back door right now") == (
        "Yes: ? since 10:00 (Shop: Back door)."
    )
    assert ask(Question.AT_DOOR, "en", shop, cottage, door="front door") == (
        "No, nobody is there right now (Shop: Front door and Cottage: Front door)."
    )


@pytest.mark.parametrize(
    ("spoken", "expected"),
    [
        ("Front door", ["front"]),
        ("the front door", ["front"]),
        ("FRONT", ["front"]),
        ("Haustür", ["front"]),
        ("der Haustuer", ["front"]),
        ("Eingangstür", ["front"]),
        ("Hintertür", ["back"]),
        ("Garagentor", ["garage"]),
        ("garage", ["garage"]),
        ("door", ["front", "back", "garage"]),
        ("Tür", ["front", "back", "garage"]),
        ("back", ["back"]),
        ("cellar", []),
        ("Seitentür", []),
    ],
)
def test_match_portals(spoken: str, expected: list[str]) -> None:
    assert match_portals(site(), spoken) == expected


def test_match_portals_by_words_of_the_name() -> None:
    view = SiteView(name="Home", portals={"p1": "Patio sliding door"}, grants={}, visits=())
    assert match_portals(view, "patio door") == ["p1"]
    assert match_portals(view, "kitchen door") == []


def test_unknown_door() -> None:
    assert ask(Question.AT_DOOR, "en", site(), door=" cellar hatch") == (
        "I don't know a door called cellar hatch."
    )
    # No door named: every door.
    assert ask(Question.AT_DOOR, "de", site()) == (
        "Nein, gerade ist niemand da (Front door, Back door und Garage)."
    )


def test_cleaner_next_window_and_several_cleaners() -> None:
    other = grant(
        "Cleaning company",
        GrantKind.CLEANER,
        Schedule((WeeklyWindow(frozenset({0}), time(22), time(2)),)),
        grant_id="company",
    )
    home = site(grants=(CLEANER, other))
    assert ask(Question.CLEANER, "en", home) == (
        "Anna comes on Thursday, November 26 from 09:30 to 12:00. "
        "Cleaning company comes on Monday, November 30 from 22:00 until "
        "Tuesday, December 1 at 02:00."
    )
    assert ask(Question.CLEANER, "de", home) == (
        "Anna kommt am Donnerstag, 26. November von 09:30 bis 12:00. "
        "Cleaning company kommt am Montag, 30. November von 22:00 bis "
        "Dienstag, 1. Dezember um 02:00."
    )


def test_cleaner_suspended_or_revoked_is_not_expected() -> None:
    home = site(grants=(replace(CLEANER, suspended=True), replace(UPS, id="x", revoked=True)))
    assert ask(Question.CLEANER, "en", home) == "No cleaner is scheduled."


def test_describe_window() -> None:
    today = Interval(local(9).astimezone(TZ), local(13))
    assert describe_window("en", today, NOW, TZ) == "today from 09:00 to 13:00"
    to_midnight = Interval(local(20, day=25), local(0, day=26))
    assert describe_window("de", to_midnight, NOW, TZ) == "morgen von 20:00 bis 00:00"
    overnight = Interval(local(22), local(6, day=25))
    assert describe_window("en", overnight, NOW, TZ) == ("today from 22:00 until tomorrow at 06:00")
    assert describe_window("en", overnight, NOW + timedelta(days=7), TZ) == (
        "on Tuesday, November 24 from 22:00 until Wednesday, November 25 at 06:00"
    )


def test_cleaner_answer_names_each_label_once_and_at_most_three() -> None:
    weekly = [
        grant(
            label,
            GrantKind.CLEANER,
            Schedule((WeeklyWindow(frozenset({day}), time(9), time(10)),)),
            grant_id=f"c{day}",
        )
        for day, label in enumerate(["Anna", "Anna", "Ben", "Cleo", "Dora"], start=2)
    ]
    answer_text = ask(Question.CLEANER, "en", site(grants=tuple(weekly)))
    assert answer_text == (
        "Anna comes tomorrow from 09:00 to 10:00. "
        "Ben comes on Friday, November 27 from 09:00 to 10:00. "
        "Cleo comes on Saturday, November 28 from 09:00 to 10:00."
    )
