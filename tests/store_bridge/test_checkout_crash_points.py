"""Every step boundary of a checkout killed once, card holds included: each cart charged once.

The bridge runs as its own process (``store-bridge serve``) against localstripe, with app
shoppers' carts and card shoppers' holds (full carts are captured, empty ones released). It
is told to kill itself (``STORE_BRIDGE_CRASH_AT``) at each point in turn, the creation, the
confirmation, the look, the capture and the release, before and after each; a point no
checkout reached any more gets a fresh batch of carts and is tried again, so the test proves
that every point was actually crashed at (``fired``). Then the bridge runs until all is done,
and localstripe says what was charged: one captured payment per full app cart, each full
card's hold captured once (at most the hold), each empty card's hold released, no orphan
confirmed. The harness is `test_checkout_crash.py`'s.
"""

import asyncio
import re
import sqlite3
import time
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

from store_bridge import store_schema

from ..localstripe_server import LocalStripe, add_customer, make_client, terminal_hold
from ..mosquitto import Mosquitto
from .checkout_rig import PRICE, Closed, seed
from .test_checkout_crash import _config, _last_error, _payments, _run_bridge, _unfinished

POINTS = (
    "started",
    "before_cancel",
    "after_cancel",
    "before_capture",
    "after_capture",
    "before_retrieve",
    "after_retrieve",
    "before_create",
    "after_create",
    "before_confirm",
    "after_confirm",
    "persisted",
)
HOLD = 1000
UNIT = PRICE
TRIES = 3
"""Batches of fresh carts a point may need before a checkout reaches it."""


async def _batch(url: str, batch: int) -> list[tuple[str, str, str, str | None, int]]:
    """(visit, source, account, customer, cans): two app carts, two full and one empty card."""
    client = make_client(url)
    try:
        carts: list[tuple[str, str, str, str | None, int]] = []
        for index, cans in enumerate((2, 1)):
            customer, _method = await add_customer(client)
            visit = f"trip-app-{batch:02d}-{index}"
            carts.append((visit, "store_app", f"acct-{visit}", customer, cans))
        for index, cans in enumerate((3, 9, 0)):  # 9 cans: above the hold (over_hold)
            hold = await terminal_hold(client, amount=HOLD)
            carts.append((f"trip-card-{batch:02d}-{index}", "payment_card", hold, None, cans))
        return carts
    finally:
        await client._requestor._client.close_async()


def _seed(db_path: Path, carts: list[tuple[str, str, str, str | None, int]]) -> None:
    seed(
        db_path,
        (
            Closed(v, customer, cans, source, account)
            for v, source, account, customer, cans in carts
        ),
    )


def _fired(log_path: Path) -> Counter[str]:
    if not log_path.exists():
        return Counter()
    return Counter(re.findall(r"Crashing at (\w+)", log_path.read_text(errors="replace")))


def test_a_bridge_killed_at_every_boundary_of_app_and_card_checkouts_charges_once(
    tmp_path: Path, localstripe: LocalStripe, mosquitto: Mosquitto
) -> None:
    config = _config(tmp_path, stripe_url=localstripe.url, broker=mosquitto)
    db_path = tmp_path / "bridge.sqlite3"
    log_path = tmp_path / "bridge.log"
    store_schema.connect(db_path).close()
    carts: list[tuple[str, str, str, str | None, int]] = []

    def more() -> None:
        batch = asyncio.run(_batch(localstripe.url, len(carts) // 5))
        _seed(db_path, batch)
        carts.extend(batch)

    more()
    for point in POINTS:
        for _try in range(TRIES):
            if _fired(log_path)[point]:
                break
            if not _unfinished(db_path, len(carts)):
                more()  # nothing left that reaches the point: fresh carts
            code = _run_bridge(config, f"{point}:1", time.monotonic() + 20, len(carts), None)
            assert code in {None, -9}, _last_error(log_path.read_text())
    fired = _fired(log_path)
    assert set(fired) == set(POINTS), f"never crashed at {set(POINTS) - set(fired)}"
    assert all(count == 1 for count in fired.values()), fired

    code = _run_bridge(config, None, time.monotonic() + 30, len(carts), None)
    assert code is None, _last_error(log_path.read_text())
    assert _unfinished(db_path, len(carts)) == 0

    intents = {p["id"]: p for p in asyncio.run(_payments(localstripe.url))}
    captured: dict[str, list[int]] = {}
    for intent in intents.values():
        if intent["status"] == "succeeded" and "checkout" in (intent.get("metadata") or {}):
            captured.setdefault(intent["metadata"]["checkout"], []).append(intent["amount"])
    with closing(sqlite3.connect(db_path)) as db:
        stored = {
            row[0]: row[1:]
            for row in db.execute("SELECT visit, phase, captured, outstanding FROM checkouts")
        }
    for visit, source, account, _customer, cans in carts:
        total = cans * UNIT
        if source == "store_app":
            assert captured.get(f"co-{visit}", []) == [total], visit
            assert stored[visit] == ("done", total, 0), visit
            continue
        hold: dict[str, Any] = intents[account]
        if not cans:
            assert hold["status"] == "canceled", visit
            assert stored[visit] == ("done", 0, 0), visit
        else:
            assert hold["status"] == "succeeded", visit
            taken = min(total, HOLD)
            assert stored[visit] == ("done", taken, total - taken), visit
    orphans = [
        p
        for p in intents.values()
        if p["status"] != "succeeded" and p["id"] not in {c[2] for c in carts}
    ]
    assert all(p["status"] in {"requires_confirmation", "requires_payment_method"} for p in orphans)
    print(  # noqa: T201 - the measured figures
        f"\n{len(carts)} carts, crashed once at each of {len(fired)} points; "
        f"{len(orphans)} orphans never confirmed"
    )
