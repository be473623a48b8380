"""The status page a store owner reads, the JSON behind it, and the demo's line that adds up."""

import re
from datetime import UTC, datetime, timedelta

from store_bridge.activity import Activity
from store_bridge.words import tally
from tests.store_bridge.conftest import Store, StoreFactory
from tests.waiting import until

ACCOUNT = "acct-7f3a"  # what Operator.qr puts in `sub`
CARD = "pm_test_0123456789abcdef"


class Clock:
    """The bridge's wall clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


async def _page(store: Store) -> str:
    answer = await store.client.get("/")
    assert answer.status == 200
    assert answer.content_type == "text/html"
    return await answer.text()


def _text(page: str) -> str:
    """The page as a reader sees it: tags gone, whitespace folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


async def _passed(store: Store, gate: str, state: str) -> None:
    async def settled() -> bool:
        shown = store.bridge.activity.gates.get(gate)
        return shown is not None and shown.state == state

    await until(f"{gate} to report {state}", settled)


async def test_the_page_shows_a_store_at_a_glance(make_store: StoreFactory) -> None:
    clock = Clock()
    store: Store = await make_store(capacity=4, clock=clock)
    opened = clock.now
    status, party = await store.check_in(qr=store.operator.qr(party=2))
    assert status == 200
    await _passed(store, "entry_1", "closed")
    assert (await store.check_in(card_token=CARD))[0] == 200
    assert (await store.check_in(qr=store.operator.qr(now=0)))[0] == 403  # expired
    assert (await store.post("/v1/gates/exit_1/check-in", {"card_token": CARD}))[0] == 403
    clock.now += timedelta(minutes=3)
    assert (await store.leave(track=party["track"]))[0] == 200  # the party of two
    assert (await store.leave())[0] == 200  # nobody recognised
    await _passed(store, "exit_1", "closed")
    clock.now += timedelta(seconds=20)

    page = await _page(store)
    text = _text(page)
    assert '<meta http-equiv="refresh" content="5">' in page
    local = (clock.now).astimezone().strftime("%H:%M:%S")
    assert f"Last updated {local} · refreshes every 5 s" in text
    # 3 came in (a party of two and one card), 2 left recognised, 1 not: 0 inside.
    assert "Inside now: 0 of 4" in text
    assert (
        "inside 0/4 · came in 3 (2 check-ins) · left 3 (2 checked out,"
        " 1 not recognised at the exit)"
    ) in text
    entry_changed = opened.astimezone().strftime("%H:%M:%S")
    exit_changed = (opened + timedelta(minutes=3)).astimezone().strftime("%H:%M:%S")
    assert f"Entry entry closed {entry_changed} (3 min ago)" in text
    assert f"Exit exit closed {exit_changed} (20 s ago)" in text
    assert "no broker configured: " in text
    assert "events kept here, not sent anywhere" in text
    assert "Refused in the last hour code expired: 1 used the wrong gate: 1" in text
    assert "None" not in text
    assert "Last 17 events" in text
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>", page)
    recent = [row[1:] for row in rows if re.fullmatch(r"\d\d:\d\d:\d\d", row[0])]
    assert recent[:4] == [
        ("passage closed", "Exit", ""),
        ("passage opened", "Exit", ""),
        ("gate released", "Exit", "left without being recognised"),
        ("passage closed", "Exit", ""),
    ]
    assert ("refused", "Exit", "used the wrong gate") in recent
    assert ("refused", "Entry", "code expired") in recent
    assert ("checked in", "Entry", "") in recent
    assert ("checked out", "Exit", "") in recent
    for secret in (ACCOUNT, CARD, party["visit"], party["track"], "occupancy"):
        assert secret not in page


async def test_a_gate_that_did_not_open_shows_as_a_fault(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    store.entry.broken = True
    assert (await store.check_in(card_token=CARD))[0] == 502
    text = _text(await _page(store))
    assert "Entry entry FAULT: did not take the open command" in text
    assert "check-in aborted (gate did not open) Entry gate unreachable" in text
    assert "Exit exit no news since the bridge started" in text


async def test_a_quiet_store_says_so(make_store: StoreFactory) -> None:
    store: Store = await make_store(capacity=3)
    text = _text(await _page(store))
    assert "Inside now: 0 of 3" in text
    assert "Refused in the last hour none" in text
    assert "Last 0 events nothing yet since the bridge started" in text
    assert "no broker configured: nothing kept, not sent anywhere" in text


async def test_a_full_store_is_shown_as_full(make_store: StoreFactory) -> None:
    store: Store = await make_store(capacity=1)
    assert (await store.check_in(card_token=CARD))[0] == 200
    assert (await store.check_in(card_token=CARD))[0] == 403
    page = await _page(store)
    assert '<span class="warn">Inside now: <b>1</b> of 1</span>' in page
    assert "store full: 1" in _text(page)


async def test_the_json_carries_the_same(make_store: StoreFactory) -> None:
    clock = Clock()
    store: Store = await make_store(clock=clock)
    assert (await store.check_in(qr=store.operator.qr(now=0)))[0] == 403
    answer = await store.client.get("/v1/status")
    shown = await answer.json()
    updated = clock.now.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert shown["refusals_last_hour"] == {"expired": 1}
    assert shown["recent_events"] == [
        {
            "type": "access_denied",
            "gate": "entry_1",
            "reason": "expired",
            "time": updated,
        }
    ]
    assert shown["outbox"] == {"waiting": 1, "oldest": shown["outbox"]["oldest"]}
    assert shown["outbox"]["oldest"] is not None
    assert shown["updated"] == updated


def test_refusals_older_than_an_hour_leave_the_count() -> None:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    activity = Activity(start)
    denied = {"type": "access_denied", "portal": "entry_1", "reason": "store_full"}
    activity.saw([denied], start)
    activity.saw([denied | {"reason": "expired"}], start + timedelta(minutes=30))
    assert activity.refusals(start + timedelta(minutes=59)) == {"expired": 1, "store_full": 1}
    assert activity.refusals(start + timedelta(minutes=61)) == {"expired": 1}
    assert activity.refusals(start + timedelta(minutes=91)) == {}


def test_only_the_last_twenty_events_are_kept() -> None:
    start = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    activity = Activity(start)
    for n in range(25):
        activity.saw(
            [{"type": "door_opened", "portal": f"g{n}"}, {"type": "occupancy_changed"}], start
        )
    assert [seen.gate for seen in activity.recent] == [f"g{n}" for n in range(24, 4, -1)]


def test_the_line_adds_up_with_parties_and_unrecognised_exits() -> None:
    counters = {
        "checked_in": 52,
        "checked_out": 44,
        "denied": 0,
        "inside_at_start": 0,
        "people_in": 58,
        "people_checked_out": 47,
        "people_unrecognised": 5,
    }
    assert tally(counters, 6, 8) == (
        "inside 6/8 · came in 58 (52 check-ins) · left 52 (47 checked out,"
        " 5 not recognised at the exit)"
    )
    again = counters | {"inside_at_start": 2, "checked_in": 1, "people_in": 1}
    assert tally(again, 0, 8).startswith("inside 0/8 · came in 1 (1 check-in) + 2 inside at start")


async def test_the_bridge_counts_add_up(make_store: StoreFactory) -> None:
    """Occupancy = inside at start + came in - left, through parties, refusals and faults."""
    store: Store = await make_store(capacity=4)
    status, party = await store.check_in(qr=store.operator.qr(party=3))
    assert status == 200
    assert (await store.check_in(qr=store.operator.qr(party=2)))[0] == 403  # store full
    store.entry.broken = True
    assert (await store.check_in(card_token=CARD))[0] == 502  # aborted: nobody came in
    store.entry.broken = False
    assert (await store.leave())[0] == 200
    assert (await store.leave(track=party["track"]))[0] == 200  # the party's 2 still counted
    counters = store.bridge.counters
    assert counters["people_in"] == 3
    assert counters["people_unrecognised"] == 1
    assert counters["people_checked_out"] == 2
    assert store.bridge.occupancy == 0
    assert tally(counters, store.bridge.occupancy, 4) == (
        "inside 0/4 · came in 3 (1 check-in) · left 3 (2 checked out, 1 not recognised at the exit)"
    )
