"""The status page's words for long waits and an unreadable outbox."""

from datetime import UTC, datetime, timedelta

from store_bridge.status_page import Outbox, PageData, render, span

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def _page(outbox: Outbox) -> str:
    return render(
        PageData(
            name="Corner Shop",
            occupancy=0,
            capacity=10,
            tally="",
            gates=[],
            outbox=outbox,
            refusals={},
            recent=[],
            gate_names={},
            started=NOW - timedelta(days=3),
            now=NOW,
        )
    )


def test_days_are_said_in_days() -> None:
    assert span(NOW - timedelta(days=4, hours=5), NOW) == "4 d"
    assert span(NOW - timedelta(hours=23, minutes=59), NOW) == "23 h"


def test_an_unreadable_outbox_is_said_so() -> None:
    page = _page(Outbox(waiting=None, oldest=None, broker="connected"))
    assert "the database cannot be read right now" in page
