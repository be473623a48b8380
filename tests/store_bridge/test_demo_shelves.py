"""The demo's shelves: simulated lanes and tracker fill carts on the real bridge.

The demo's bridge (its gates, its shelves from the simulated shop) runs with its HTTP API;
`demo_shelves.play` plays a short simulation into it in real time, with tracked shoppers
checking in and out through the API. What a newcomer sees on the status page: carts with
items, and the cart's events in the outbox, none with anything of the tracker's beyond ids.
"""

import asyncio
import json
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from store_bridge.demo import DemoApi, DemoOptions, demo_bridge
from store_bridge.demo_shelves import DEMO_PLAN, SHELF_GATE, play
from store_bridge.service import running
from store_bridge.shop_plan import FACE_NAMES
from store_bridge.shop_sim import Simulation
from tests.waiting import until

FAST = replace(
    DEMO_PLAN,
    shoppers=2,
    sessions=3,
    stay_s=(8.0, 10.0),
    stops=(1, 1),
    first_arrival_s=1.0,
    hesitate=0.0,
    put_back=0.0,
    wrong_lane=0.0,
    rest_hand=0.0,
    drop_track=0.0,
    id_switch=0.0,
    face_name=1.0,
    seed=3,
)
"""Three shoppers who each pick at one shelf within seconds (and carry a face name)."""


@pytest.mark.usefixtures("socket_enabled")
async def test_the_demo_shelves_fill_carts_through_the_bridge(tmp_path: Path) -> None:
    bridge, signer = demo_bridge(DemoOptions(port=0), tmp_path)
    token = secrets.token_urlsafe(16)
    headers = {"Authorization": f"Bearer {token}"}
    sim = Simulation(replace(FAST, start=datetime.now(UTC)))
    async with (
        running(bridge, "127.0.0.1", 0, token, {}) as url,
        aiohttp.ClientSession() as http,
    ):
        api = DemoApi(http, url, headers)
        entered: list[str] = []

        async def _enter(party: int) -> str | None:
            qr = signer.sign(now=time.time(), party=party)
            result = await api.post(f"/v1/gates/{SHELF_GATE}/check-in", {"qr": qr})
            entered.append(str(result.get("opened")))
            track = result.get("track") if result.get("opened") else None
            return track if isinstance(track, str) else None

        async def _leave(track: str) -> object:
            return await api.post("/v1/gates/exit_1/exit", {"track": track})

        assert bridge.carts is not None
        player = asyncio.create_task(play(bridge.carts, sim, _enter, _leave))
        try:
            await until(lambda: _picked(_outbox(tmp_path)), seconds=60)
        finally:
            player.cancel()
            await asyncio.gather(player, return_exceptions=True)
        async with http.get(f"{url}/v1/status") as answer:
            status: dict[str, Any] = await answer.json()
    assert set(status["shelf"]) == {
        "carts", "review", "anomalies", "unattributed", "stale_lanes", "ignored",
        "abandoned", "tracker_offset_s",
    }  # fmt: skip
    assert entered[0] == "True"
    events = _outbox(tmp_path)
    picked = _picked(events)
    assert picked, [e["type"] for e in events]
    # The carts' events carry ids, SKUs and quantities; nothing of the tracker's messages.
    text = json.dumps(events)
    for name in FACE_NAMES:
        assert name not in text
    assert "frame_time" not in text
    assert all(set(e["data"]) <= {"lane", "sku", "quantity", "change"} for e in picked)
    assert {e["data"]["sku"] for e in picked} <= set(sim.shop.products)


def _picked(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == "item_picked"]


def _outbox(folder: Path) -> list[dict[str, Any]]:
    """Every event in the outbox, in order (read with a second connection)."""
    with closing(sqlite3.connect(folder / "store-bridge.sqlite3", isolation_level=None)) as db:
        rows = db.execute("SELECT payload FROM outbox ORDER BY seq").fetchall()
    return [json.loads(row[0]) for row in rows]
