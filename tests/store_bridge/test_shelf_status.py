"""Home Assistant reads the shelf counts from the bridge's retained status, over Mosquitto.

The bridge republishes its retained status when the `shelf` counts change (at most once a
tick), not only when it records an event: input it ignores changes no cart and records no
event, yet the `ignored` count Home Assistant shows must follow.
"""

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any, Self

import aiomqtt

from tests.mosquitto import Mosquitto
from tests.waiting import until

from .conftest import SITE, Operator
from .test_shelf_feed import COLA_TOPIC, PREFIX, WAIT, config_path, serving

__all__ = ["config_path"]  # the fixture, shared with the feed's tests


class Status:
    """The retained status, as Home Assistant's MQTT integration receives it."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.seen: list[dict[str, Any]] = []
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
            await client.subscribe(f"{PREFIX}/{SITE}/status", qos=1)
            self.ready.set()
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                self.seen.append(json.loads(message.payload))

    def shelf(self) -> dict[str, int] | None:
        online = [s for s in self.seen if s.get("online")]
        return online[-1].get("shelf") if online else None


async def test_the_retained_status_follows_the_shelf_counts(
    config_path: Path, mosquitto: Mosquitto, operator: Operator
) -> None:
    async with Status(mosquitto) as status, serving(config_path) as (bridge, _):
        await until("the bridge says it is online", status.shelf, seconds=WAIT)
        before = len(status.seen)
        async with aiomqtt.Client(mosquitto.host, mosquitto.port) as sensor:
            for payload in ("nan", "unavailable", "12 kg"):
                await sensor.publish(COLA_TOPIC, payload, qos=1)
        shelf = await until(
            "the retained status counts the ignored readings",
            status.shelf,
            want=lambda shelf: shelf["ignored"] == 3,
            seconds=WAIT,
        )
        assert shelf == bridge.carts.status()
        assert len(status.seen) - before <= 3  # throttled: not one status per reading
