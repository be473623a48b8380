"""The first gate's shoppers in the tracker's view: the whole demo charges tracked carts.

A newcomer runs `store-bridge demo` as the README says and sees carts charged and receipts
arrive, while the first gate's shoppers come and go at the same time: the demo's tracker sees
them too (`demo_walkers.py`), each is bound at the gate, and so a tracked shopper's pick is
that shopper's alone. Before, they were unseen, any of them could have made any pick, and
the demo charged nothing. The gate's rules (one at a time, room kept for the tracked entry)
are checked on their own below, with the messages the tracker would send.
"""

import asyncio
import contextlib
import io
import json
import random
import re
import sqlite3
import time
from collections.abc import Callable, Coroutine
from contextlib import closing
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest

from store_bridge.demo import DemoOptions, run_demo
from store_bridge.demo_walkers import (
    GATE_ZONE,
    HALL,
    HALL_MIN_S,
    QUEUE_MAX,
    TRACKED_ROOM,
    Walkers,
)
from store_bridge.shop_plan import EXIT_ZONE
from tests.waiting import until


def _events(folder: Path) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(folder / "store-bridge.sqlite3", isolation_level=None)) as db:
        rows = db.execute("SELECT payload FROM outbox ORDER BY seq").fetchall()
    return [json.loads(payload) for (payload,) in rows]


def _receipts(folder: Path) -> list[EmailMessage]:
    """The receipts in the demo's folder."""
    found = []
    for path in sorted((folder / "receipts").glob("receipt-*.eml")):
        receipt = message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(receipt, EmailMessage)
        found.append(receipt)
    return found


def _seen(out: io.StringIO) -> tuple[float, int]:
    """What the demo's last status line says: money charged (EUR) and receipts."""
    lines = [line for line in out.getvalue().splitlines() if " · charged " in line]
    if not lines:
        return 0.0, 0
    found = re.search(r" · charged (\d+\.\d\d) EUR · receipts (\d+)", lines[-1])
    assert found is not None, lines[-1]
    return float(found[1]), int(found[2])


def _stays(events: list[dict[str, Any]], gate: str) -> dict[str, tuple[str, str | None]]:
    """The visits that checked in at `gate`: (checked in, checked out or None), ISO times."""
    stays: dict[str, tuple[str, str | None]] = {}
    for event in events:
        if event["type"] == "check_in" and event["portal"] == gate:
            stays[event["visit"]] = (event["time"], None)
        elif event["type"] == "check_out" and event["visit"] in stays:
            stays[event["visit"]] = (stays[event["visit"]][0], event["time"])
    return stays


def _newcomer_sees(out: io.StringIO) -> bool:
    charged, receipts = _seen(out)
    return charged > 0 and receipts >= 1


@pytest.mark.usefixtures("socket_enabled")
async def test_the_readme_demo_charges_carts_while_the_first_gate_is_busy(tmp_path: Path) -> None:
    out = io.StringIO()
    demo = asyncio.create_task(run_demo(DemoOptions(port=0, data=tmp_path, out=out)))
    try:
        # What the newcomer sees: money taken, and a receipt arrived.
        await until(lambda: _newcomer_sees(out) or demo.done(), seconds=240)
        assert not demo.done(), out.getvalue()
    finally:
        demo.cancel()  # as Ctrl+C does
        with contextlib.suppress(asyncio.CancelledError):
            await demo
    money, receipts = _seen(out)
    assert money > 0
    assert receipts >= 1
    assert len(_receipts(tmp_path)) >= receipts  # in the demo's folder
    events = _events(tmp_path)
    captured = [e for e in events if e["type"] == "payment_captured"]
    assert captured
    assert all(e["data"]["amount"] > 0 for e in captured)
    first_gate, tracked = _stays(events, "entry_1"), _stays(events, "entry_2")
    charged = {e["visit"] for e in captured}
    assert charged <= tracked.keys()
    # The first gate's shoppers were inside while a charged shopper shopped.
    assert any(
        came < (tracked[visit][1] or "9") and (went or "9") > tracked[visit][0]
        for visit in charged
        for came, went in first_gate.values()
    )
    # Each of them who left was bound to a track (those who just came in may not be yet),
    # and none was ever a candidate alone.
    left = {visit for visit, (_came, went) in first_gate.items() if went is not None}
    bound = {e["visit"] for e in events if e["type"] == "track_bound"}
    assert left
    assert left <= bound
    unbound = {e["visit"] for e in events if e["type"] == "session_unbound"}
    assert not unbound & first_gate.keys()
    picked = {e["visit"] for e in events if e["type"] == "item_picked"}
    assert not picked & first_gate.keys()


class _Tracker:
    """What the bridge would hear from the tracker: each message's phase and zones."""

    def __init__(self) -> None:
        self.heard: list[tuple[str, str, list[str]]] = []

    def feed(self, payload: bytes) -> None:
        message = json.loads(payload)
        after = message["after"]
        self.heard.append((message["type"], after["id"], after["current_zones"]))

    def of(self, track: str) -> list[tuple[str, list[str]]]:
        return [(phase, zones) for phase, heard, zones in self.heard if heard == track]


def _walkers(tracker: _Tracker, places: list[tuple[int, int]]) -> Walkers:
    return Walkers(tracker.feed, random.Random(1), lambda: places[-1])  # noqa: S311


@pytest.mark.parametrize(
    ("occupancy", "capacity", "stays_away"),
    [
        pytest.param(0, 12, False, id="empty"),
        pytest.param(12 - TRACKED_ROOM - 1, 12, False, id="room left for the tracked entry"),
        pytest.param(12 - TRACKED_ROOM, 12, True, id="only the tracked entry's room left"),
        pytest.param(11, 12, True, id="one place left"),
        pytest.param(12, 12, False, id="full: they try and are refused"),
        pytest.param(0, 1, False, id="one place: half of it is no room"),
        pytest.param(1, 3, False, id="three places: one kept, one free"),
        pytest.param(2, 3, True, id="three places: only the kept one free"),
        pytest.param(2, 40, False, id="a big store keeps the room and no more"),
        pytest.param(40 - TRACKED_ROOM, 40, True, id="a big store's kept room"),
    ],
)
def test_the_first_gates_shoppers_leave_room_for_the_tracked_entry(
    occupancy: int, capacity: int, stays_away: bool
) -> None:
    assert _walkers(_Tracker(), [(occupancy, capacity)]).stays_away() is stays_away


async def _check_in(walkers: Walkers, opened: bool) -> tuple[str, Any]:
    async with walkers.at_gate(1) as walk:
        assert walk is not None
        walk.admitted = opened
        return "done", walk


async def test_a_shopper_turned_away_at_the_gate_walks_out_of_view() -> None:
    tracker = _Tracker()
    await _check_in(_walkers(tracker, [(0, 12)]), opened=False)
    (track,) = {heard for _phase, heard, _zones in tracker.heard}
    assert tracker.of(track) == [("new", [GATE_ZONE]), ("end", [GATE_ZONE])]


async def test_an_admitted_shopper_walks_the_hall_and_leaves_through_the_exit_zone() -> None:
    tracker = _Tracker()
    walkers = _walkers(tracker, [(0, 12)])
    _done, walk = await _check_in(walkers, opened=True)
    in_hall = time.monotonic()
    (track,) = {heard for _phase, heard, _zones in tracker.heard}
    assert tracker.of(track) == [("new", [GATE_ZONE]), ("update", [HALL])]
    await until(lambda: len(tracker.of(track)) >= 3)  # seen again in the hall
    assert tracker.of(track)[2] == ("update", [HALL])
    through: list[list[str]] = []

    async def _exit() -> None:
        through.append(tracker.of(track)[-1][1])  # where the tracker saw them at the gate
        # Long enough in the hall for the cart book to bind them, whatever --speed says.
        assert time.monotonic() - in_hall >= HALL_MIN_S

    await walk.leave(_exit)
    assert through == [[EXIT_ZONE]]
    assert tracker.of(track)[-1] == ("end", [EXIT_ZONE])
    assert all(zones == [HALL] for phase, zones in tracker.of(track)[1:-2])


async def test_one_at_a_time_through_the_gate_and_a_long_queue_goes_away() -> None:
    tracker = _Tracker()
    places = [(0, 12)]
    walkers = _walkers(tracker, places)
    at_gate: list[str] = []

    def _step(name: str) -> Callable[[], Coroutine[Any, Any, None]]:
        async def _go() -> None:
            async with walkers.at_gate(2) as walk:
                assert walk is not None
                at_gate.append(f"{name} in")
                walk.admitted = True
                await asyncio.sleep(0)
                at_gate.append(f"{name} out")
            walk.forget()

        return _go

    names = ["a", "b", *(f"w{n}" for n in range(QUEUE_MAX - 1))]
    queue = [asyncio.create_task(_step(name)()) for name in names]
    await until(lambda: at_gate)
    assert walkers.stays_away()  # one at the gate, QUEUE_MAX waiting: a newcomer goes away
    for waiting in queue[2:]:
        waiting.cancel()  # they gave up
    await asyncio.gather(*queue, return_exceptions=True)
    assert not walkers.stays_away()
    assert at_gate == ["a in", "a out", "b in", "b out"]
    tracks = {heard for phase, heard, _zones in tracker.heard if phase == "new"}
    assert len(tracks) == 4  # a party of two: two tracks each


async def test_a_store_grown_busy_while_they_queued_sends_them_away() -> None:
    tracker = _Tracker()
    places = [(0, 12)]
    walkers = _walkers(tracker, places)
    first = asyncio.create_task(_check_in(walkers, opened=True))
    await until(lambda: tracker.heard)
    places.append((11, 12))  # meanwhile the store filled up

    async def _second() -> bool:
        async with walkers.at_gate(1) as walk:
            return walk is None

    assert await _second()
    _done, walk = await first
    walk.forget()
    assert len({heard for _phase, heard, _zones in tracker.heard}) == 1
