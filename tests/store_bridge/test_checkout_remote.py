"""The checkout process's two sides, each in this test's process (so that coverage sees them).

- The child's work (`checkout_process.serve_checkouts`) with a real `CheckoutRunner`, the
  real Stripe adapter against localstripe and the SQLite file; the channel is a pipe the
  test reads and a reader the test feeds, as the parent's pipes would be.
- The parent's facade (`checkout_remote.CheckoutRemote`) with a real checkout process
  (``python -m store_bridge checkout-process``) it starts, restarts and stops.
"""

import asyncio
import fcntl
import os
import signal
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from store_bridge import checkout_channel as channel
from store_bridge import store_schema
from store_bridge.checkout_process import LOG_NOT_SYNCED, checkout_lock_path, serve_checkouts
from store_bridge.checkout_remote import CheckoutRemote, CheckoutUnavailable
from store_bridge.checkout_runner import CheckoutSettings
from store_bridge.config import load_config
from store_bridge.core.checkout import Kind, Phase
from store_bridge.core.refund import RefundPhase, RefundRefused
from store_bridge.database import Database

from ..localstripe_server import (
    DECLINES_ON_CHARGE,
    LocalStripe,
    add_customer,
    make_client,
    payment_intents,
)
from ..waiting import until
from .disk_syncs import Syncs
from .test_checkout_crash import _config, _seed, no_orphan

CAN = 129
NO_BROKER: Any = SimpleNamespace(port=1)
"""The configuration names a broker; the checkout process never uses it."""


async def _customers(url: str, *cards: str) -> list[str]:
    client = make_client(url)
    try:
        return [(await add_customer(client, card=card))[0] for card in cards]
    finally:
        await client._requestor._client.close_async()


def _store(tmp_path: Path, stripe: LocalStripe) -> Path:
    config = _config(tmp_path, stripe_url=stripe.url, broker=NO_BROKER)
    store_schema.connect(tmp_path / "bridge.sqlite3").close()
    return config


class Parent:
    """The parent's end of a channel: what the child told and answered."""

    def __init__(self) -> None:
        self.reader = asyncio.StreamReader()  # what the child reads (fed by the test)
        self.told: list[dict[str, Any]] = []
        self.answers: dict[int, dict[str, Any]] = {}
        self._ids = 0

    async def hear(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        lines = asyncio.StreamReader()
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(lines), os.fdopen(fd, "rb", 0)
        )
        while line := await lines.readline():
            message = channel.decode(line)
            assert message is not None
            if "id" in message:
                self.answers[message["id"]] = message
            else:
                self.told.append(message)

    async def ask(self, op: str, **values: Any) -> dict[str, Any]:
        self._ids += 1
        ident = self._ids
        self.reader.feed_data(channel.encode({"id": ident, "op": op, **values}))
        return await until(f"the answer to {op}", lambda: self.answers.get(ident), seconds=30)

    def tells(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.told if m["tell"] == kind]


@asynccontextmanager
async def _child(config: Path) -> AsyncIterator[tuple[Parent, asyncio.Task[int], asyncio.Event]]:
    parent = Parent()
    read_end, write_end = os.pipe()
    hearing = asyncio.create_task(parent.hear(read_end))
    stop = asyncio.Event()
    work = asyncio.create_task(serve_checkouts(load_config(config), parent.reader, write_end, stop))
    try:
        yield parent, work, stop
    finally:
        stop.set()
        await asyncio.wait_for(work, 30)
        os.close(write_end)
        await asyncio.wait_for(hearing, 10)


async def test_a_log_the_disk_refused_to_sync_ends_the_child_before_any_payment_is_confirmed(
    tmp_path: Path, localstripe: LocalStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fails (EIO at ``os.fsync``, the edge) after the child started: the payment's
    id never reaches the disk, so the payment is never confirmed, and the child ends with
    `LOG_NOT_SYNCED` (the parent starts a new one, whose open writes the log afresh)."""
    config = _store(tmp_path, localstripe)
    (paying,) = await _customers(localstripe.url, "4242424242424242")
    async with _child(config) as (parent, work, _stop):
        await until("ready", lambda: parent.tells("ready"))
        Syncs(monkeypatch).fail()
        _seed(tmp_path / "bridge.sqlite3", [("trip-a", paying, 2)])
        assert await asyncio.wait_for(work, 30) == LOG_NOT_SYNCED
    client = make_client(localstripe.url)
    try:
        intents = await payment_intents(client)
    finally:
        await client._requestor._client.close_async()
    assert [intent["status"] for intent in intents] == ["requires_confirmation"]
    with closing(sqlite3.connect(tmp_path / "bridge.sqlite3")) as db:
        stored = db.execute("SELECT phase FROM checkouts").fetchall()
    assert stored == [("created",)]  # committed (maybe not on disk), never gone further


async def test_the_child_charges_tells_and_answers_once_committed(
    tmp_path: Path, localstripe: LocalStripe
) -> None:
    config = _store(tmp_path, localstripe)
    paying, declining = await _customers(localstripe.url, "4242424242424242", DECLINES_ON_CHARGE)
    _seed(tmp_path / "bridge.sqlite3", [("trip-a", paying, 2), ("trip-b", declining, 1)])
    async with _child(config) as (parent, work, _stop):
        await until("ready", lambda: parent.tells("ready"))

        async def both_finished() -> list[str]:
            found = [await parent.ask("find", visit=v) for v in ("trip-a", "trip-b")]
            return [(answer["result"] or {}).get("phase") for answer in found]

        await until(
            "both checkouts finished", both_finished, want=lambda p: p == ["done", "failed"]
        )
        await until("the parent's publisher is woken", lambda: parent.tells("committed"))
        await until(  # told at most every TELL_S: the last counts follow shortly
            "the counts are told",
            lambda: parent.tells("counts"),
            want=lambda t: t[-1] == {"tell": "counts", "pending": 0, "retrying": 0},
        )

        found = channel.checkout_from_wire((await parent.ask("find", visit="trip-a"))["result"])
        assert found is not None
        assert (found.kind, found.phase, found.captured) == (Kind.APP, Phase.DONE, 2 * CAN)
        assert (await parent.ask("find", visit="nobody"))["result"] is None

        refunded = await parent.ask("refund", visit="trip-a", amount=CAN)
        refund = channel.refund_from_wire(refunded["result"])
        assert (refund.phase, refund.amount) == (RefundPhase.DONE, CAN)
        again = await parent.ask("refund", visit="trip-a", amount=1)
        assert again["refused"] == "already_refunded"

        retried = await parent.ask("retry", visit="trip-a")
        assert retried["result"]["retried"] is False
        assert retried["result"]["checkout"]["phase"] == "done"

        settled = await parent.ask("settle", account="acct-trip-b")
        assert settled["result"] == {"EUR": CAN}
        assert (await parent.ask("settle", account="acct-trip-b"))["result"] == {}
        assert (await parent.ask("wake_receipts"))["result"] is None
        broken = await parent.ask("refund", visit="trip-a")  # no amount: a bug, not a crash
        assert broken["failed"] == "unexpected"

        parent.reader.feed_data(b"not json\n[1]\n")  # not messages: ignored
        assert (await parent.ask("find", visit="trip-b"))["result"]["phase"] == "failed"
        parent.reader.feed_eof()  # the parent went away: the child stops by itself
        assert await asyncio.wait_for(work, 30) == 0


async def test_a_child_waits_for_the_checkout_lock_before_it_takes_anything(
    tmp_path: Path, localstripe: LocalStripe
) -> None:
    config = _store(tmp_path, localstripe)
    (customer,) = await _customers(localstripe.url, "4242424242424242")
    _seed(tmp_path / "bridge.sqlite3", [("trip-wait", customer, 1)])
    fd = os.open(checkout_lock_path(tmp_path / "bridge.sqlite3"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # an older checkout runner, still alive
    try:
        async with _child(config) as (parent, _work, _stop):
            await until("the child says it waits", lambda: parent.tells("waiting"))
            assert not parent.tells("ready")
            assert _phases(tmp_path) == {}
            os.close(fd)  # the older one ended
            fd = -1
            await until("the child takes over", lambda: parent.tells("ready"))
            await until(
                "the cart is charged",
                lambda: _phases(tmp_path),
                want=lambda p: p == {"trip-wait": "done"},
                seconds=30,
            )
    finally:
        if fd >= 0:
            os.close(fd)


async def test_a_child_told_to_stop_while_it_waits_for_the_lock_takes_nothing(
    tmp_path: Path, localstripe: LocalStripe
) -> None:
    config = _store(tmp_path, localstripe)
    fd = os.open(checkout_lock_path(tmp_path / "bridge.sqlite3"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        async with _child(config) as (parent, work, stop):
            await until("the child says it waits", lambda: parent.tells("waiting"))
            stop.set()
            assert await asyncio.wait_for(work, 30) == 0
            assert not parent.tells("ready")
    finally:
        os.close(fd)


def _phases(tmp_path: Path) -> dict[str, str]:
    with closing(sqlite3.connect(tmp_path / "bridge.sqlite3")) as db:
        return dict(db.execute("SELECT visit, phase FROM checkouts").fetchall())


async def test_a_child_without_payments_has_nothing_to_do(
    tmp_path: Path, localstripe: LocalStripe
) -> None:
    config = _store(tmp_path, localstripe)
    text = config.read_text()
    config.write_text(text[: text.index("[payments]")])
    stop = asyncio.Event()
    assert await serve_checkouts(load_config(config), asyncio.StreamReader(), 1, stop) == 2


async def test_the_facade_starts_asks_restarts_and_stops_its_checkout_process(
    tmp_path: Path, localstripe: LocalStripe
) -> None:
    config = _store(tmp_path, localstripe)
    (customer,) = await _customers(localstripe.url, DECLINES_ON_CHARGE)
    _seed(tmp_path / "bridge.sqlite3", [("trip-declined", customer, 3)])
    db = Database(tmp_path / "bridge.sqlite3")
    await db.open()
    woken: list[int] = []
    changes: list[dict[str, int | None]] = []
    remote = CheckoutRemote(
        db, CheckoutSettings(), config, on_committed=lambda: woken.append(1), restart_base_s=0.05
    )
    remote.on_change = lambda: changes.append(remote.status())
    assert remote.status() == {"pending": None, "retrying": None}
    with pytest.raises(CheckoutUnavailable):
        await remote.find("trip-declined")
    try:
        await remote.start()
        assert remote.up
        await until("the decline is stored", lambda: remote.owes("acct-trip-declined"), seconds=30)
        await until("the child's commit wakes the publisher", lambda: woken, seconds=5)
        found = await remote.find("trip-declined")
        assert found is not None
        assert (found.phase, found.outstanding) == (Phase.FAILED, 3 * CAN)
        with pytest.raises(RefundRefused, match="nothing_captured"):
            await remote.refund("trip-declined", 1)
        assert await remote.retry("trip-declined") == (found, False)
        remote.wake_receipts()

        first = remote.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await until("the facade sees it down", lambda: not remote.up)
        assert remote.status() == {"pending": None, "retrying": None}
        assert {"pending": None, "retrying": None} in changes
        remote.wake_receipts()  # nobody to wake: nothing happens
        await until("a new checkout process", lambda: remote.up and remote.pid != first, seconds=30)
        assert remote.started == 2
        assert await remote.settle("acct-trip-declined") == {"EUR": 3 * CAN}
        assert not await remote.owes("acct-trip-declined")
        assert remote.status() == {"pending": 0, "retrying": 0}
    finally:
        await remote.stop()
        await db.close()
    assert remote.pid is None
    no_orphan(config)
