"""The guest page's language and what it says of a link's state."""

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.concierge.core.grants import GrantState
from custom_components.concierge.core.guest_page_texts import (
    LinkStatus,
    answer_text,
    link_status,
    page_language,
)
from custom_components.concierge.core.windows import Interval

START = datetime(2026, 11, 24, 8, tzinfo=UTC)
WINDOW = Interval(START, START + timedelta(hours=3))
LEEWAY = timedelta(seconds=30)


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en-US,en;q=0.9,de;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,de;q=0.5", "de"),  # the first the page speaks
        ("en;q=0.2,de;q=0.7", "de"),  # by weight, not order
        ("de;q=0,en", "en"),  # q=0: not wanted
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
        ("de;q=x", "en"),
    ],
)
def test_page_language(header: str | None, lang: str) -> None:
    assert page_language(header) == lang


@pytest.mark.parametrize(
    ("known", "state", "at", "status"),
    [
        (True, GrantState.ACTIVE, START + timedelta(hours=1), LinkStatus.LIVE),
        (True, GrantState.SCHEDULED, START - timedelta(hours=1), LinkStatus.NOT_YET),
        (True, GrantState.ACTIVE, START - timedelta(seconds=10), LinkStatus.LIVE),  # leeway
        (True, GrantState.EXPIRED, START + timedelta(hours=4), LinkStatus.ENDED),
        (True, GrantState.ACTIVE, START + timedelta(hours=3, minutes=1), LinkStatus.ENDED),
        (False, GrantState.ACTIVE, START + timedelta(hours=1), LinkStatus.REVOKED),
        (True, None, START + timedelta(hours=1), LinkStatus.REVOKED),  # grant forgotten
        (True, GrantState.REVOKED, START + timedelta(hours=1), LinkStatus.REVOKED),
        (True, GrantState.USED_UP, START + timedelta(hours=1), LinkStatus.USED_UP),
        (True, GrantState.SUSPENDED, START + timedelta(hours=1), LinkStatus.PAUSED),
    ],
)
def test_link_status(
    known: bool, state: GrantState | None, at: datetime, status: LinkStatus
) -> None:
    assert (
        link_status(known=known, grant_state=state, window=WINDOW, now=at, leeway=LEEWAY) is status
    )


def test_answers_say_unlocked_or_why_not() -> None:
    assert answer_text("en", None).startswith("Unlocked.")
    assert answer_text("de", None).startswith("Entriegelt.")
    assert answer_text("en", "portal_busy").startswith("Someone else is using this door")
    assert answer_text("en", "pets_home") == answer_text("en", "unlock_failed")
