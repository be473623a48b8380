"""Events to a real Mosquitto through the SQLite outbox: in order, nothing lost, ids for dedup.

The consumer is a durable MQTT subscriber (persistent session, QoS 1), as headquarters or
Home Assistant's recorder side would be; it is the test's own aiomqtt client.
"""

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any, Self

import paho.mqtt.client as mqtt
import pytest

from store_bridge.bridge import Bridge
from store_bridge.events import validate
from store_bridge.outbox import BrokerConfig, Publisher
from store_bridge.vocabulary import events_topic, status_topic
from tests.mosquitto import Mosquitto
from tests.waiting import until

from .conftest import SITE, Store, StoreFactory, stop

PREFIX = "concierge/store"


class Consumer:
    """A durable subscriber (persistent session, QoS 1) that keeps every message it gets.

    Plain paho in its own thread: it acknowledges a message only after `on_message`
    returned, so a message it acknowledged is never lost (aiomqtt would queue it first).
    """

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.events: list[dict[str, Any]] = []
        self.status: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="hq-consumer", clean_session=False
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.1, 0.5)
        self.subscribed = threading.Event()

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return [e["id"] for e in self.events]

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe([(events_topic(PREFIX, SITE), 1), (status_topic(PREFIX, SITE), 1)])
        self.subscribed.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = json.loads(message.payload)
        with self._lock:
            if message.topic == status_topic(PREFIX, SITE):
                self.status = payload
            else:
                self.events.append(payload)

    def __enter__(self) -> Self:
        self.client.connect(self.broker.host, self.broker.port)
        self.client.loop_start()
        assert self.subscribed.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()


async def drained(publisher: Publisher | None) -> None:
    """Wait until the outbox has nothing unpublished (the broker acknowledged everything)."""
    assert publisher is not None

    await until(
        "the broker acknowledged everything", publisher.pending, want=lambda n: n == 0, seconds=30
    )


def publisher_for(broker: Mosquitto):
    def make(bridge: Bridge) -> Publisher:
        return Publisher(
            bridge.db,
            BrokerConfig(broker.host, broker.port, prefix=PREFIX),
            SITE,
            bridge.status,
            bridge.backlog,
        )

    return make


@pytest.fixture
def consumer(mosquitto: Mosquitto) -> Iterator[Consumer]:
    with Consumer(mosquitto) as subscriber:
        yield subscriber


async def shop(store: Store) -> None:
    """One shopper: in with the app, out by track id."""
    status, answer = await store.check_in(qr=store.operator.qr())
    assert status == 200
    status, _ = await store.leave(track=answer["track"])
    assert status == 200


async def test_events_reach_the_broker_in_order_with_the_status(
    make_store: StoreFactory, mosquitto: Mosquitto, consumer: Consumer
) -> None:
    store: Store = await make_store(publisher=publisher_for(mosquitto))
    await shop(store)
    await until(lambda: len(consumer.events) == len(store.outbox()) == 10)
    assert consumer.events == store.outbox()
    for event in consumer.events:
        validate(event)
    await until(lambda: consumer.status is not None and consumer.status["occupancy"] == 0)
    assert consumer.status == {
        "v": 1,
        "site": SITE,
        "name": "Corner store",
        "online": True,
        "capacity": 5,
        "occupancy": 0,
        "gates": [
            {"id": "entry_1", "name": "Entry", "role": "entry"},
            {"id": "exit_1", "name": "Exit", "role": "exit"},
        ],
    }
    await drained(store.bridge.publisher)
    await stop(store)
    await until(lambda: consumer.status == {"v": 1, "site": SITE, "online": False})


async def test_broker_down_mid_run_loses_nothing(
    make_store: StoreFactory, mosquitto: Mosquitto, consumer: Consumer
) -> None:
    store: Store = await make_store(capacity=100, publisher=publisher_for(mosquitto))
    publisher = store.bridge.publisher
    assert publisher is not None
    for _ in range(5):
        await shop(store)
    await asyncio.to_thread(mosquitto.stop)
    await until(lambda: not publisher.connected)
    for _ in range(10):  # the store keeps working while the broker is away
        await shop(store)
    waiting = await publisher.pending()
    assert waiting is not None
    assert waiting >= 10 * 5  # check-in, occupancy, gate, check-out, occupancy at least
    await asyncio.to_thread(mosquitto.start)
    for _ in range(5):
        await shop(store)
    await until(lambda: publisher.connected)
    outbox = store.outbox()
    await until(lambda: set(consumer.ids) >= {e["id"] for e in store.outbox()}, seconds=30)
    outbox = store.outbox()
    assert len(outbox) >= 20 * 8
    # Every event arrived; after dropping duplicates by id, exactly once and in order.
    unique = list(dict.fromkeys(consumer.ids))
    assert unique == [e["id"] for e in outbox]
    await drained(publisher)
    assert publisher.connects == 2


async def test_events_wait_in_the_outbox_across_a_restart_without_broker(
    make_store: StoreFactory, mosquitto: Mosquitto, consumer: Consumer
) -> None:
    await asyncio.to_thread(mosquitto.stop)
    store: Store = await make_store(publisher=publisher_for(mosquitto))
    await shop(store)
    await stop(store)
    written = [e["id"] for e in store.outbox()]
    assert len(written) == 10

    await asyncio.to_thread(mosquitto.start)
    restarted: Store = await make_store(path=store.path, publisher=publisher_for(mosquitto))
    await until(lambda: set(consumer.ids) >= set(written), seconds=30)
    assert list(dict.fromkeys(consumer.ids))[: len(written)] == written
    await drained(restarted.bridge.publisher)


async def test_with_the_database_down_events_still_reach_the_broker(
    make_store: StoreFactory, mosquitto: Mosquitto, consumer: Consumer
) -> None:
    import sqlite3  # noqa: PLC0415

    store: Store = await make_store(publisher=publisher_for(mosquitto))
    status, answer = await store.check_in(qr=store.operator.qr())
    assert status == 200
    await until(lambda: len(consumer.events) >= 5)
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        status, left = await store.leave(track=answer["track"])
        assert (status, left["opened"]) == (200, True)
        # Published from memory while the database is away.
        await until(lambda: "check_out" in [e["type"] for e in consumer.events])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await until(lambda: len(store.bridge.backlog) == 0)
    await until(lambda: len(store.outbox()) == 10)
    await until(lambda: set(consumer.ids) >= {e["id"] for e in store.outbox()})
    assert list(dict.fromkeys(consumer.ids)) == [e["id"] for e in store.outbox()]
    # What went out from memory is written to the outbox as already sent: not published a
    # second time. (Events whose acknowledgement could not be recorded while the database
    # was locked may come twice; consumers drop those by id.)
    from_memory = [e["id"] for e in store.outbox() if e["type"] in {"check_out", "door_closed"}]
    assert all(consumer.ids.count(i) == 1 for i in from_memory[-2:])
