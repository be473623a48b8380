"""A store with shelf lanes and a person tracker, for the cart tests.

The shelves' load cells (ESPHome) and the ceiling tracker (Frigate) are the edge of the
world: `Shelf` makes what they publish, in their shapes. ESPHome publishes a lane's weight in
grams as plain text on ``<node>/sensor/<name>/state``, about ten times a second; Frigate
publishes JSON events on ``frigate/events`` (``type`` new/update/end; ``before`` and
``after`` with the track's id, camera, label, zones, frame time and much else, including
``sub_label``, its face-recognition name, which the bridge must never keep).

Time is the test's: a `Clock` the bridge reads, moved by `Shelf.walk` in steps of a tenth
of a second, feeding a reading per lane and a tracker update per track at each step.
"""

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from store_bridge.bridge import Bridge, GateInfo, StoreSettings
from store_bridge.carts import Carts
from store_bridge.core.cart_model import LaneSpec, NewsKind, Product
from store_bridge.database import Database
from store_bridge.gates.base import GateRole
from store_bridge.gates.simulator import SimulatedGate
from store_bridge.shelf_config import ShelfConfig
from store_bridge.web import make_app

from .conftest import API_TOKEN, AUTH, ISSUER, SITE, Operator

COLA = Product("4006381333931", "Cola 0.33 l", 129, "EUR", Decimal("0.19"), 355.0)
CHIPS = Product("CHIPS-150", "Crisps 150 g", 199, "EUR", Decimal("0.07"), 160.0)
COLA_TOPIC = "shelf-1/sensor/lane_cola/state"
CHIPS_TOPIC = "shelf-2/sensor/lane_chips/state"
LANES = {
    "lane_cola": LaneSpec("lane_cola", COLA_TOPIC, COLA.sku, "aisle_drinks", 355.0, 40.0),
    "lane_chips": LaneSpec("lane_chips", CHIPS_TOPIC, CHIPS.sku, "aisle_snacks", 160.0, 30.0),
}
FACE_NAME = "Erika Mustermann"
"""What Frigate's face recognition would put in ``sub_label``: must never be kept."""
SNAPSHOT = "c25hcHNob3QtanBlZy1ieXRlcw=="
NEWS = frozenset(kind.value for kind in NewsKind)


def shelf_config(**changes: Any) -> ShelfConfig:
    """Two lanes (cola, crisps), the entry gate's zone `entrance`."""
    values: dict[str, Any] = {
        "products": {COLA.sku: COLA, CHIPS.sku: CHIPS},
        "lanes": LANES,
        "entry_zones": {"entry_1": "entrance"},
    }
    values.update(changes)
    return ShelfConfig(**values)


class Clock:
    """The bridge's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def frigate(phase: str, track: str, zones: Iterable[str], at: datetime, **extra: Any) -> bytes:
    """A Frigate ``frigate/events`` message for a person, with all Frigate puts in it."""
    after = {
        "id": track,
        "camera": "ceiling",
        "frame_time": at.timestamp(),
        "snapshot": {"frame_time": at.timestamp(), "box": [10, 20, 30, 40], "score": 0.8},
        "label": "person",
        "sub_label": [FACE_NAME, 0.93],
        "top_score": 0.87,
        "false_positive": False,
        "start_time": at.timestamp() - 5,
        "end_time": at.timestamp() if phase == "end" else None,
        "score": 0.84,
        "box": [424, 500, 536, 712],
        "area": 23856,
        "ratio": 0.52,
        "region": [256, 256, 640, 640],
        "current_zones": list(zones),
        "entered_zones": list(zones),
        "thumbnail": SNAPSHOT,
        "has_snapshot": True,
        "has_clip": True,
        "stationary": False,
        "motionless_count": 0,
        "position_changes": 2,
        "attributes": {"face": 0.86},
        "current_attributes": [{"label": "face", "box": [1, 2, 3, 4], "score": 0.86}],
    }
    after.update(extra)
    return json.dumps({"type": phase, "before": after, "after": after}).encode()


@dataclass
class Walker:
    """A tracked person: where Frigate sees them now."""

    track: str
    zones: list[str]


@dataclass
class Shelf:
    """The lanes' weights and the tracked people, fed to the bridge at the test's pace."""

    clock: Clock
    lane: Callable[[str, bytes, datetime], None]
    tracker: Callable[[bytes], None]
    weights: dict[str, float] = field(default_factory=dict)
    people: dict[str, Walker] = field(default_factory=dict)

    def stock(self, topic: str, units: int, unit: float) -> None:
        self.weights[topic] = units * unit

    def enter(self, track: str, zones: list[str]) -> None:
        self.people[track] = Walker(track, zones)
        self.tracker(frigate("new", track, zones, self.clock.now))

    def move(self, track: str, zones: list[str]) -> None:
        self.people[track].zones = zones
        self.tracker(frigate("update", track, zones, self.clock.now))

    def leave(self, track: str) -> None:
        walker = self.people.pop(track)
        self.tracker(frigate("end", track, walker.zones, self.clock.now))

    def walk(self, seconds: float, weights: Mapping[str, float] | None = None) -> None:
        """Let `seconds` pass: a reading per lane every 0.1 s, a tracker update every 0.5 s."""
        self.weights.update(weights or {})
        for step in range(round(seconds * 10)):
            now = self.clock.advance(0.1)
            for topic, grams in self.weights.items():
                self.lane(topic, f"{grams:.1f}".encode(), now)
            if step % 5 == 4:
                for walker in self.people.values():
                    self.tracker(frigate("update", walker.track, walker.zones, now))


@dataclass
class Shop:
    """A running bridge with shelves, its API client, the test's clock and the shelf."""

    bridge: Bridge
    client: TestClient[Any, Any]
    clock: Clock
    shelf: Shelf
    path: Path
    operator: Operator
    stopped: bool = False

    @property
    def carts(self) -> Carts:
        assert self.bridge.carts is not None
        return self.bridge.carts

    async def get(self, path: str, *, auth: bool = True) -> tuple[int, Any]:
        answer = await self.client.get(path, headers=AUTH if auth else {})
        return answer.status, await answer.json()

    async def post(self, path: str, body: Any, *, auth: bool = True) -> tuple[int, Any]:
        answer = await self.client.post(path, json=body, headers=AUTH if auth else {})
        return answer.status, await answer.json()

    async def check_in(self, track: str) -> str:
        """`track` stands at the entry gate and shows the app's QR code: the visit id."""
        self.shelf.enter(track, ["entrance"])
        self.shelf.walk(0.5)
        qr = self.operator.qr(now=self.clock.now.timestamp())
        status, answer = await self.post("/v1/gates/entry_1/check-in", {"qr": qr})
        assert status == 200, answer
        self.shelf.walk(0.5)
        return str(answer["visit"])

    async def cart(self, visit: str) -> dict[str, Any]:
        status, answer = await self.get(f"/v1/visits/{visit}/cart")
        assert status == 200, answer
        return dict(answer)

    def outbox(self) -> list[dict[str, Any]]:
        with closing(sqlite3.connect(self.path, isolation_level=None)) as db:
            rows = db.execute("SELECT payload FROM outbox ORDER BY seq").fetchall()
        return [json.loads(payload) for (payload,) in rows]

    def cart_events(self) -> list[tuple[str, str | None, dict[str, Any]]]:
        return [(e["type"], e["visit"], e["data"]) for e in self.outbox() if e["type"] in NEWS]

    def settle(self) -> None:
        """Let the tracker's picture and every wait catch up (a tick at the end)."""
        self.shelf.walk(4)
        self.carts.tick(self.clock.now)


async def start_shop(
    path: Path, operator: Operator, clock: Clock, shelf: ShelfConfig | None = None
) -> Shop:
    """A bridge with two lanes on `path`, its API, fed by the test's `Shelf`."""
    settings = StoreSettings(
        site=SITE, name="Corner store", capacity=10, issuer=ISSUER, keys=operator.keys
    )
    entry = SimulatedGate("entry_1", GateRole.ENTRY, passage_seconds=0)
    exit_ = SimulatedGate("exit_1", GateRole.EXIT, passage_seconds=0)
    bridge = Bridge(
        settings,
        Database(path),
        {
            "entry_1": GateInfo(entry, "Entry", "simulated"),
            "exit_1": GateInfo(exit_, "Exit", "simulated"),
        },
        clock=clock,
        shelf=shelf or shelf_config(),
    )
    await bridge.start()
    client = TestClient(TestServer(make_app(bridge, API_TOKEN)))
    await client.start_server()
    assert bridge.carts is not None
    feed = Shelf(clock, bridge.carts.on_lane_message, bridge.carts.on_tracker_message)
    return Shop(bridge, client, clock, feed, path, operator)


async def stop_shop(shop: Shop) -> None:
    """Stop a shop's API and bridge (once)."""
    if shop.stopped:
        return
    shop.stopped = True
    await shop.client.close()
    await shop.bridge.stop()
