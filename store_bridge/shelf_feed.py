"""The shelves' and the tracker's MQTT feed: subscribes, and hands every message to the carts.

The lanes' weight sensors (ESPHome: `<node>/sensor/<name>/state`, grams as plain text) and
the person tracker (Frigate: `frigate/events`, JSON) publish on the store's broker. The feed
subscribes to exactly those topics (QoS 1: the broker hands each message on until we
acknowledged it) and gives each message, as it came, to
`Carts.on_lane_message` or `Carts.on_tracker_message`, which check it. It never reads,
logs or keeps a payload itself.

While the broker is down the feed reconnects with a growing pause (as the publisher does,
`outbox.py`) and the bridge goes on letting people in and out; what the sensors said
meanwhile is not known, which the carts see as lanes gone silent (stale) and a tracker gone
deaf (its picks go to review).
"""

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Final, Protocol

import aiomqtt

from .outbox import BrokerConfig

_LOGGER = logging.getLogger(__name__)

BACKOFF_START_S: Final = 0.25
BACKOFF_MAX_S: Final = 5.0


class Sink(Protocol):
    """Where the feed's messages go (`carts.Carts`)."""

    def on_lane_message(self, topic: str, payload: bytes, at: datetime | None = None) -> None:
        """A lane's reading."""

    def on_tracker_message(self, payload: bytes) -> None:
        """A tracker's message."""


class ShelfFeed:
    """Subscribes to the lanes' and the tracker's topics in the background."""

    def __init__(  # noqa: PLR0913 - where to listen and where to hand on
        self,
        broker: BrokerConfig,
        site: str,
        *,
        lane_topics: Iterable[str],
        tracker_topic: str,
        sink: Sink,
        clock: Callable[[], datetime],
    ) -> None:
        """Listen on `broker` to these topics; `clock` stamps each reading as it arrives."""
        self.broker = broker
        self.site = site
        self.lane_topics = frozenset(lane_topics)
        self.tracker_topic = tracker_topic
        self._sink = sink
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        self.subscribed = asyncio.Event()
        """Set while subscribed (tests and the status wait for it)."""
        self.received = 0
        self.connects = 0

    def start(self) -> None:
        """Begin listening in the background."""
        self._task = asyncio.create_task(self._run(), name="store-bridge-shelf-feed")

    async def stop(self) -> None:
        """Stop listening."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.connected = False
        self.subscribed.clear()

    def _client(self) -> aiomqtt.Client:
        return aiomqtt.Client(
            self.broker.host,
            self.broker.port,
            identifier=f"store-bridge-{self.site}-shelves-{uuid.uuid4().hex[:8]}",
            username=self.broker.username,
            password=self.broker.password,
            timeout=10,
        )

    async def _run(self) -> None:
        backoff = BACKOFF_START_S
        while True:
            try:
                async with self._client() as client:
                    self.connected = True
                    self.connects += 1
                    backoff = BACKOFF_START_S
                    topics = [(topic, 1) for topic in sorted({*self.lane_topics})]
                    topics.append((self.tracker_topic, 1))
                    await client.subscribe(topics)
                    self.subscribed.set()
                    _LOGGER.info(
                        "Listening to %d shelf lanes and the tracker on %s:%s",
                        len(self.lane_topics),
                        self.broker.host,
                        self.broker.port,
                    )
                    async for message in client.messages:
                        self._hand_on(str(message.topic), message.payload)
            except aiomqtt.MqttError as err:
                if self.connected:
                    _LOGGER.warning("Lost the MQTT broker for the shelves (%s)", err)
                else:
                    _LOGGER.debug("The MQTT broker for the shelves is not reachable (%s)", err)
                self.connected = False
                self.subscribed.clear()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _hand_on(self, topic: str, payload: object) -> None:
        self.received += 1
        raw = payload if isinstance(payload, bytes) else str(payload or "").encode()
        try:
            if topic == self.tracker_topic:
                self._sink.on_tracker_message(raw)
            else:
                self._sink.on_lane_message(topic, raw, self._clock())
        except Exception as err:  # noqa: BLE001 - one message must not end the feed
            # Only the error's kind: its text might quote the message.
            _LOGGER.error(  # noqa: TRY400 - no traceback: its values might quote the message
                "A shelf or tracker message could not be handled (%s)", type(err).__name__
            )
