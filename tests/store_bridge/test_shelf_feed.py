"""Shelves and the person tracker over a real Mosquitto broker, as a store runs them.

The bridge is built from its TOML configuration (`load_config` → `build_bridge` →
`running`), as ``store-bridge serve`` does, and listens on a real broker. The ESPHome load
cells and the Frigate tracker are the edge of the world: `Sensors` publishes what they
publish, in their shapes (a lane's grams as plain text on ``<node>/sensor/<name>/state``
ten times a second; Frigate's JSON events on ``frigate/events``, face name and all). The
test reads the carts through the HTTP API and the events the bridge publishes.
"""

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import aiohttp
import aiomqtt
import pytest
from cryptography.hazmat.primitives import serialization

from store_bridge.config import load_config
from store_bridge.outbox import BrokerConfig
from store_bridge.service import build_bridge, running
from store_bridge.shelf_feed import ShelfFeed
from tests.mosquitto import Mosquitto
from tests.waiting import until

from .cart_shop import FACE_NAME, SNAPSHOT, frigate
from .conftest import API_TOKEN, AUTH, ISSUER, SITE, Operator

WAIT = 20.0
COLA_SKU = "4006381333931"
COLA_TOPIC = "esp-shelf-1/sensor/lane_cola_weight/state"
UNIT = 355.0
PREFIX = "concierge/store"

CONFIG = """[store]
site = "{site}"
database = "bridge.sqlite3"

[api]
token = "{token}"

[mqtt]
host = "127.0.0.1"
port = {port}

[checkin]
issuer = "{issuer}"
keys = {{ "ed" = "app.pub.pem" }}

[[gates]]
id = "entry_1"
role = "entry"
kind = "simulated"
passage_seconds = 0
zone = "entrance"

[[gates]]
id = "exit_1"
role = "exit"
kind = "simulated"
passage_seconds = 0

[catalogue]
file = "catalogue.csv"

[[lanes]]
id = "lane_cola"
topic = "{topic}"
sku = "{sku}"
zone = "aisle_drinks"

[tracking]
ambiguity_deadline_s = 3
"""

CATALOGUE = f"""sku,name,price,currency,tax_rate,unit_weight_g
{COLA_SKU},Cola 0.33 l,129,EUR,0.19,355
"""


class Sensors:
    """The shelf's ESPHome node and the ceiling's Frigate, publishing on the broker."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.grams = 10 * UNIT
        self.people: dict[str, list[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._client: aiomqtt.Client | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        await until("the sensors are connected", lambda: self._client is not None, seconds=WAIT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(aiomqtt.MqttError):
                async with aiomqtt.Client(self.broker.host, self.broker.port) as client:
                    self._client = client
                    step = 0
                    while True:
                        await client.publish(COLA_TOPIC, f"{self.grams:.1f}")
                        if step % 5 == 0:
                            for track, zones in self.people.items():
                                await client.publish("frigate/events", self._frigate(track, zones))
                        step += 1
                        await asyncio.sleep(0.1)
            self._client = None
            await asyncio.sleep(0.2)

    @staticmethod
    def _frigate(track: str, zones: list[str], phase: str = "update") -> bytes:
        return frigate(phase, track, zones, datetime.now(UTC))

    async def say(self, topic: str, payload: bytes | str) -> None:
        assert self._client is not None
        await self._client.publish(topic, payload)

    async def enter(self, track: str, zones: list[str]) -> None:
        self.people[track] = zones
        await self.say("frigate/events", self._frigate(track, zones, "new"))


class Events:
    """What the bridge publishes on its events topic."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.payloads: list[bytes] = []
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.ready.wait(), WAIT)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        async with aiomqtt.Client(self.broker.host, self.broker.port) as client:
            await client.subscribe(f"{PREFIX}/{SITE}/events", qos=1)
            self.ready.set()
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                self.payloads.append(message.payload)

    def types(self) -> list[str]:
        return [json.loads(p)["type"] for p in self.payloads]


class Api:
    """The bridge's HTTP API, as the operator's tools call it."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.session.get(self.url + path, headers=AUTH) as answer:
            return answer.status, await answer.json()

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        async with self.session.post(self.url + path, json=body, headers=AUTH) as answer:
            return answer.status, await answer.json()

    async def lines(self, visit: str) -> list[tuple[str, int]]:
        status, cart = await self.get(f"/v1/visits/{visit}/cart")
        assert status == 200, cart
        return [(line["sku"], line["quantity"]) for line in cart["lines"]]


@pytest.fixture
def config_path(tmp_path: Path, operator: Operator, mosquitto: Mosquitto) -> Path:
    pem = operator.ed.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "app.pub.pem").write_bytes(pem)
    (tmp_path / "catalogue.csv").write_text(CATALOGUE, encoding="utf-8")
    path = tmp_path / "store.toml"
    path.write_text(
        CONFIG.format(
            site=SITE,
            token=API_TOKEN,
            port=mosquitto.port,
            issuer=ISSUER,
            topic=COLA_TOPIC,
            sku=COLA_SKU,
        ),
        encoding="utf-8",
    )
    return path


@contextlib.asynccontextmanager
async def serving(config_path: Path) -> AsyncIterator[tuple[Any, Api]]:
    config = load_config(config_path)
    bridge = build_bridge(config)
    async with (
        running(bridge, "127.0.0.1", 0, config.api_token) as url,
        aiohttp.ClientSession() as session,
    ):
        assert bridge.shelf_feed is not None
        await asyncio.wait_for(bridge.shelf_feed.subscribed.wait(), WAIT)
        yield bridge, Api(session, url)


async def check_in(api: Api, sensors: Sensors, operator: Operator, track: str, bridge: Any) -> str:
    seen = bridge.carts.sizes()["tracks"]
    await sensors.enter(track, ["entrance"])
    await until(  # the tracker sees them at the gate before it opens
        "the tracker's sighting at the gate arrived",
        lambda: bridge.carts.sizes()["tracks"] > seen,
        seconds=WAIT,
    )
    status, answer = await api.post("/v1/gates/entry_1/check-in", {"qr": operator.qr()})
    assert status == 200, answer
    return str(answer["visit"])


async def walked_in(api: Api, sensors: Sensors, track: str, visit: str) -> None:
    """`track` walks from the gate to the drinks: its session is bound to it there."""
    sensors.people[track] = ["aisle_drinks"]
    await until(
        "the shopper's track is bound",
        lambda: api.get(f"/v1/visits/{visit}/cart"),
        want=lambda answer: answer[1]["bound"],
        seconds=WAIT,
    )


async def test_carts_fill_from_esphome_and_frigate_over_mqtt_and_survive_a_restart(
    config_path: Path,
    mosquitto: Mosquitto,
    operator: Operator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with Events(mosquitto) as events, Sensors(mosquitto) as sensors:
        async with serving(config_path) as (bridge, api):
            visit = await check_in(api, sensors, operator, "1733472000.123-abc", bridge)
            await walked_in(api, sensors, "1733472000.123-abc", visit)
            sensors.grams = 8 * UNIT  # two cans
            await until(
                "the cart holds the two cans",
                lambda: api.lines(visit),
                want=lambda lines: lines == [(COLA_SKU, 2)],
                seconds=WAIT,
            )
            sensors.grams = 9 * UNIT  # one back
            await until(
                "the cart holds one can",
                lambda: api.lines(visit),
                want=lambda lines: lines == [(COLA_SKU, 1)],
                seconds=WAIT,
            )
            cart = (await api.get(f"/v1/visits/{visit}/cart"))[1]
            assert len(cart["lines"][0]["sources"]) == 2
            assert cart["total"] == 129

            # Bad input: ignored, counted, no cart change.
            ignored = bridge.carts.status()["ignored"]
            await sensors.say(COLA_TOPIC, "nan")
            await sensors.say(COLA_TOPIC, "unavailable")
            await sensors.say("frigate/events", b"{not json")
            await until(
                "the bad messages are counted",
                lambda: bridge.carts.status()["ignored"],
                want=lambda n: n >= ignored + 3,
                seconds=WAIT,
            )
            assert await api.lines(visit) == [(COLA_SKU, 1)]

            # A second shopper next to the first: the next pick could be either's.
            other = await check_in(api, sensors, operator, "1733472001.456-def", bridge)
            await walked_in(api, sensors, "1733472001.456-def", other)
            sensors.grams = 8 * UNIT
            (review,) = (
                await until(
                    "the pick waits for review",
                    lambda: api.get("/v1/reviews"),
                    want=lambda answer: len(answer[1]["reviews"]) == 1,
                    seconds=WAIT,
                )
            )[1]["reviews"]
            assert sorted(review["candidates"]) == sorted([visit, other])
            await until(lambda: "pick_review" in events.types(), seconds=WAIT)
        # Restart: the carts and the review queue are still there.
        async with serving(config_path) as (bridge, api):
            assert await api.lines(visit) == [(COLA_SKU, 1)]
            assert (await api.get("/v1/reviews"))[1]["reviews"] == [review]
            status, _ = await api.post(f"/v1/reviews/{review['id']}", {"visit": other})
            assert status == 200
            assert await api.lines(other) == [(COLA_SKU, 1)]
            await until(lambda: "review_resolved" in events.types(), seconds=WAIT)

    kinds = events.types()
    for kind in ("track_bound", "item_picked", "item_returned", "pick_ambiguous"):
        assert kind in kinds
    for payload in events.payloads:
        for secret in (FACE_NAME, SNAPSHOT, "sub_label", "1733472000.123-abc"):
            assert secret.encode() not in payload
    with closing(sqlite3.connect(config_path.parent / "bridge.sqlite3")) as db:
        stored = repr(
            [db.execute(f"SELECT * FROM {t}").fetchall() for t in ("carts", "reviews", "outbox")]  # noqa: S608
        )
    for secret in (FACE_NAME, SNAPSHOT, "sub_label", "1733472000.123-abc"):
        assert secret not in stored
        assert secret not in caplog.text


async def test_the_bridge_lets_people_in_while_the_broker_is_down_and_listens_again(
    config_path: Path, mosquitto: Mosquitto, operator: Operator
) -> None:
    async with serving(config_path) as (bridge, api):
        feed = bridge.shelf_feed
        mosquitto.stop()
        await until("the feed sees the broker gone", lambda: not feed.connected, seconds=WAIT)
        status, answer = await api.post("/v1/gates/entry_1/check-in", {"qr": operator.qr()})
        assert status == 200, answer
        assert (await api.get(f"/v1/visits/{answer['visit']}/cart"))[0] == 200

        mosquitto.start()
        await asyncio.wait_for(feed.subscribed.wait(), WAIT)
        async with Sensors(mosquitto):
            await until(
                "the lane reports again",
                lambda: bridge.carts.status()["stale_lanes"] == 0 and feed.received > 10,
                seconds=WAIT,
            )
        assert feed.connects == 2


class Failing:
    """A sink whose first message breaks it (a bug somewhere behind the feed)."""

    def __init__(self) -> None:
        self.lanes: list[tuple[str, bytes]] = []
        self.tracker: list[bytes] = []

    def on_lane_message(self, topic: str, payload: bytes, at: datetime | None = None) -> None:
        assert at is not None  # the feed stamps each reading as it arrives
        if not self.lanes:
            self.lanes.append((topic, b"<broke>"))
            raise RuntimeError(payload.decode())
        self.lanes.append((topic, payload))

    def on_tracker_message(self, payload: bytes) -> None:
        self.tracker.append(payload)


async def test_a_message_the_carts_choke_on_does_not_end_the_feed(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    sink = Failing()
    feed = ShelfFeed(
        BrokerConfig(mosquitto.host, mosquitto.port),
        SITE,
        lane_topics=[COLA_TOPIC],
        tracker_topic="frigate/events",
        sink=sink,
        clock=lambda: datetime.now(UTC),
    )
    feed.start()
    try:
        await asyncio.wait_for(feed.subscribed.wait(), WAIT)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as client:
            await client.publish(COLA_TOPIC, "3550.0 secret-ish", qos=1)
            await client.publish(COLA_TOPIC, "3549.5", qos=1)
            await client.publish("frigate/events", b'{"type": "new"}', qos=1)
            await client.publish("somebody/else", "1", qos=1)
        await until(lambda: sink.tracker, seconds=WAIT)
    finally:
        await feed.stop()
    assert sink.lanes == [(COLA_TOPIC, b"<broke>"), (COLA_TOPIC, b"3549.5")]
    assert sink.tracker == [b'{"type": "new"}']
    assert "could not be handled (RuntimeError)" in caplog.text
    assert "secret-ish" not in caplog.text
