"""The publisher: sends the outbox to the MQTT broker, and keeps sending when it comes back.

Each event is published with QoS 1 on `<prefix>/<site>/events` and marked sent only when
the broker acknowledged it (PUBACK). While the broker is down, events stay in the outbox;
on reconnect the publisher resumes from the oldest unsent one, in order. An event whose
acknowledgement was lost may be sent twice: consumers drop duplicates by event id, so
every event arrives exactly once after de-duplication.

Changes that could not be written to the database (the bridge's storage was down) wait in
memory with their events (`Backlog`); they are written, in order, once the database is
back, and meanwhile the publisher sends their events straight from memory, so that nothing
is lost or late.

The retained status (`<prefix>/<site>/status`, `schema/store-status.v1.schema.json`) is
state, not history: it is published directly whenever it changed, and the broker publishes
the will (`offline_status`) when the bridge vanishes.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import aiomqtt

from .database import Database
from .events import Wire, to_json
from .storage import StorageUnavailable, Store
from .vocabulary import DEFAULT_TOPIC_PREFIX, STATUS_VERSION, events_topic, status_topic

_LOGGER = logging.getLogger(__name__)

BATCH: Final = 200
IDLE_WAKE_S: Final = 1.0
BACKOFF_START_S: Final = 0.25
BACKOFF_MAX_S: Final = 5.0


def offline_status(site: str) -> dict[str, Any]:
    """The status that says the bridge is gone: its will, and what a clean stop publishes."""
    return {"v": STATUS_VERSION, "site": site, "online": False}


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where to publish."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    prefix: str = DEFAULT_TOPIC_PREFIX

    def __repr__(self) -> str:
        """Without the password."""
        return f"BrokerConfig(host={self.host!r}, port={self.port}, prefix={self.prefix!r})"


class Backlog:
    """Writes the database refused, with their events, kept in order until it is back."""

    def __init__(self) -> None:
        """Start empty."""
        self._items: list[tuple[Callable[[Store], object], list[Wire]]] = []
        self.sent: set[str] = set()
        """Ids of backlog events already published straight from memory."""
        self.lock = asyncio.Lock()
        """Held while flushing and while publishing from memory (one at a time)."""

    def add(self, write: Callable[[Store], object], events: list[Wire]) -> None:
        """Hold a write and its events."""
        self._items.append((write, events))

    def __len__(self) -> int:
        """Events waiting in memory; a held write without events counts as one.

        So a held write is never invisible: while anything waits, later writes queue behind
        it (`Ledger.write`) instead of overtaking it, and the bridge flushes it at its stop.
        """
        return sum(max(len(events), 1) for _, events in self._items)

    def events(self) -> list[Wire]:
        """The waiting events, oldest first."""
        return [event for _, events in self._items for event in events]

    async def flush(self, db: Database) -> bool:
        """Do the held writes in order; False if the database is still down."""
        async with self.lock:
            return await self._flush(db)

    async def _flush(self, db: Database) -> bool:
        while self._items:
            write, events = self._items[0]
            sent = {e["id"] for e in events} & self.sent

            def work(
                store: Store, write: Callable[[Store], object] = write, sent: set[str] = sent
            ) -> None:
                write(store)
                store.mark_sent_ids(sent)

            try:
                await db.call(work)
            except StorageUnavailable:
                return False
            self._items.pop(0)
            self.sent -= sent
        return True


class Publisher:
    """Drains the outbox to the broker in the background."""

    def __init__(
        self,
        db: Database,
        broker: BrokerConfig,
        site: str,
        status: Callable[[], dict[str, Any]],
        backlog: Backlog | None = None,
    ) -> None:
        """Publish `site`'s events; `status()` gives the current retained status."""
        self.db = db
        self.broker = broker
        self.site = site
        self._status = status
        self._topic = events_topic(broker.prefix, site)
        self._status_topic = status_topic(broker.prefix, site)
        self._wake = asyncio.Event()
        self._status_dirty = True
        self._task: asyncio.Task[None] | None = None
        self.backlog = backlog if backlog is not None else Backlog()
        self.connected = False
        self.published = 0
        self.connects = 0

    def wake(self, *, status_changed: bool = True) -> None:
        """New events in the outbox (and maybe a new status): send them now."""
        self._status_dirty = self._status_dirty or status_changed
        self._wake.set()

    def start(self) -> None:
        """Begin publishing in the background."""
        self._task = asyncio.create_task(self._run(), name="store-bridge-publisher")

    async def stop(self) -> None:
        """Stop publishing (what is unsent stays in the outbox)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.connected = False

    def _client(self) -> aiomqtt.Client:
        offline = json.dumps(offline_status(self.site))
        client = aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            identifier=f"store-bridge-{self.site}-{uuid.uuid4().hex[:8]}",
            username=self.broker.username,
            password=self.broker.password,
            will=aiomqtt.Will(self._status_topic, offline, qos=1, retain=True),
            max_inflight_messages=BATCH,
            timeout=10,
        )
        # A whole batch in flight is the plan, not a reason to warn once per message.
        client.pending_calls_threshold = BATCH + 1
        return client

    async def _run(self) -> None:
        backoff = BACKOFF_START_S
        while True:
            try:
                async with self._client() as client:
                    self.connected = True
                    self.connects += 1
                    backoff = BACKOFF_START_S
                    self._status_dirty = True
                    _LOGGER.info(
                        "Connected to the MQTT broker %s:%s", self.broker.host, self.broker.port
                    )
                    # Listening (to our own status) makes a lost connection show at once,
                    # also while nothing is being published.
                    await client.subscribe(self._status_topic, qos=0)
                    watch = asyncio.create_task(self._watch(client), name="store-bridge-watch")
                    try:
                        while True:
                            self._wake.clear()  # what is set from here on wakes the next wait
                            await self._round(client)
                            await self._idle(watch)
                    except asyncio.CancelledError:
                        await self._say_offline(client)
                        raise
                    finally:
                        watch.cancel()
                        with contextlib.suppress(asyncio.CancelledError, aiomqtt.MqttError):
                            await watch
            except aiomqtt.MqttError as err:
                if self.connected:
                    _LOGGER.warning("Lost the MQTT broker (%s); events wait in the outbox", err)
                self.connected = False
                await self.backlog.flush(self.db)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    @staticmethod
    async def _watch(client: aiomqtt.Client) -> None:
        """Read (and drop) what the broker sends; raises `MqttError` when the link is lost."""
        async for _ in client.messages:
            pass

    async def _idle(self, watch: asyncio.Task[None]) -> None:
        """Wait for new events, at most `IDLE_WAKE_S`; raise if the connection was lost."""
        wake = asyncio.create_task(self._wake.wait())
        try:
            await asyncio.wait(
                {wake, watch}, timeout=IDLE_WAKE_S, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            wake.cancel()
        if watch.done():
            watch.result()  # the MqttError that ended it
            raise aiomqtt.MqttError("the broker closed the connection")

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        """A clean stop: replace the retained status with the offline one (as the will would)."""
        offline = json.dumps(offline_status(self.site))
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            await client.publish(self._status_topic, offline, qos=1, retain=True, timeout=2)

    async def _round(self, client: aiomqtt.Client) -> None:
        if self._status_dirty:
            self._status_dirty = False
            await client.publish(self._status_topic, json.dumps(self._status()), qos=1, retain=True)
        backlog = self.backlog
        async with backlog.lock:
            if not await backlog._flush(self.db):  # noqa: SLF001 - under the lock, as flush
                # The database is still down: send the waiting events from memory.
                for event in backlog.events():
                    if event["id"] not in backlog.sent:
                        await client.publish(self._topic, to_json(event), qos=1)
                        backlog.sent.add(event["id"])
                        self.published += 1
        while True:
            try:
                rows = await self.db.call(lambda store: store.unsent(BATCH))
            except StorageUnavailable:
                return
            if not rows:
                return
            await asyncio.gather(
                *(client.publish(self._topic, payload, qos=1) for _, payload in rows)
            )
            self.published += len(rows)
            seqs = [seq for seq, _ in rows]
            try:
                await self.db.call(partial(Store.mark_sent, seqs=seqs))
            except StorageUnavailable:
                return

    async def pending(self) -> int | None:
        """Events not yet published (None if the database cannot tell)."""
        try:
            snapshot = await self.db.call(lambda store: store.snapshot())
        except StorageUnavailable:
            return None
        return snapshot.pending + len(self.backlog)
