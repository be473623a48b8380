"""`serve`'s checkouts in a process of their own: started, restarted, asked, never guessed.

Real parts: ``python -m store_bridge serve`` as a subprocess (it starts its checkout process
itself), localstripe behind the real ``stripe`` library, Mosquitto, the SQLite file. The
operator's app backend (QR signing) is the edge of the world (`conftest.Operator`).

The checkout process is made "down" for as long as a test wants by holding its lock
(``<db>.checkout.lock``) once the running one was killed: a new one waits for that lock
before it takes anything, as it would for a checkout process of a serve killed a moment ago.
"""

import asyncio
import contextlib
import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from store_bridge import store_schema
from store_bridge.checkout_process import checkout_lock_path
from store_bridge.config import load_config
from store_bridge.service import build_bridge, running
from store_bridge.vocabulary import DEFAULT_TOPIC_PREFIX, events_topic, status_topic

from ..localstripe_server import DECLINES_ON_CHARGE, VISA, LocalStripe, add_customer, make_client
from ..mosquitto import Mosquitto
from ..waiting import until
from .conftest import AUTH, SITE, Operator
from .test_checkout_crash import _config, _payments, _seed, checkout_processes, no_orphan

CAN = 129


@dataclass
class Serve:
    """A running ``store-bridge serve``: its process, API and log."""

    process: asyncio.subprocess.Process | None
    base: str
    http: aiohttp.ClientSession
    log: Path

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(self.base + path, headers=AUTH) as answer:
            return answer.status, await answer.json()

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        async with self.http.post(self.base + path, json=body, headers=AUTH) as answer:
            return answer.status, await answer.json()

    async def checkout(self) -> dict[str, Any]:
        return (await self.get("/v1/status"))[1]["checkout"]

    def logged(self) -> str:
        return self.log.read_text(errors="replace")


def _command(config: Path) -> list[str]:
    return [sys.executable, "-m", "store_bridge", "serve", "--config", str(config)]


def _env(crash_at: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    env.pop("STORE_BRIDGE_CRASH_AT", None)
    if crash_at:
        env["STORE_BRIDGE_CRASH_AT"] = crash_at
    return env


@contextlib.asynccontextmanager
async def serving(config: Path, crash_at: str | None = None) -> AsyncIterator[Serve]:
    """`serve` started and serving its API; stopped (SIGTERM) after, no checkout process left."""
    log = config.parent / "bridge.log"
    with log.open("ab") as err:
        process = await asyncio.create_subprocess_exec(
            *_command(config), stdout=subprocess.PIPE, stderr=err, env=_env(crash_at)
        )
    port = tomllib.loads(config.read_text())["api"]["port"]  # noqa: ASYNC240 - a test's file
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        assert b"Ctrl+C stops" in line, log.read_text()
        async with aiohttp.ClientSession() as http:
            yield Serve(process, f"http://127.0.0.1:{port}", http, log)
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), 30)
        no_orphan(config)


@contextlib.asynccontextmanager
async def serving_here(config: Path) -> AsyncIterator[Serve]:
    """`serve`'s parts in this process (`service.running`, as `serve` runs them): the same
    checkout process, its facade and the API seen by coverage."""
    bridge = build_bridge(load_config(config), checkout_process=config)
    async with (
        running(bridge, "127.0.0.1", 0, "t" * 40) as url,
        aiohttp.ClientSession() as http,
    ):
        yield Serve(None, url, http, config.parent / "bridge.log")
    no_orphan(config)


@contextlib.asynccontextmanager
async def _broker_news(broker: Mosquitto) -> AsyncIterator[list[dict[str, Any]]]:
    """What the bridge publishes (events and the retained status), as it arrives."""
    heard: list[dict[str, Any]] = []
    async with aiomqtt.Client(broker.host, broker.port) as client:
        await client.subscribe(events_topic(DEFAULT_TOPIC_PREFIX, SITE), qos=1)
        await client.subscribe(status_topic(DEFAULT_TOPIC_PREFIX, SITE), qos=1)

        async def listen() -> None:
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                heard.append(json.loads(message.payload))

        listening = asyncio.create_task(listen())
        try:
            yield heard
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening


def _store(tmp_path: Path, stripe: LocalStripe, mosquitto: Mosquitto, operator: Operator) -> Path:
    config = _config(tmp_path, stripe_url=stripe.url, broker=mosquitto)
    (tmp_path / "app.pem").write_bytes(  # the operator's key instead of the rig's
        operator.ed.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    store_schema.connect(tmp_path / "bridge.sqlite3").close()
    return config


async def _customer(url: str, card: str = VISA) -> str:
    client = make_client(url)
    try:
        customer, _method = await add_customer(client, card=card)
        return customer
    finally:
        await client._requestor._client.close_async()


def _phases(db_path: Path) -> dict[str, str]:
    with closing(sqlite3.connect(db_path, timeout=10)) as db:
        return dict(db.execute("SELECT visit, phase FROM checkouts").fetchall())


def _child(config: Path) -> int:
    pids = checkout_processes(config)
    assert len(pids) == 1, pids
    return pids[0]


@contextlib.contextmanager
def _checkout_held_down(config: Path) -> Iterator[None]:
    """Kill the running checkout process and keep its successor waiting for the lock."""
    fd = os.open(checkout_lock_path(config.parent / "bridge.sqlite3"), os.O_RDWR | os.O_CREAT)
    try:
        os.kill(_child(config), signal.SIGKILL)
        while True:  # the kernel lets the lock go as the process dies; take it before the next
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                continue
        yield
    finally:
        os.close(fd)


async def test_serve_charges_a_cart_in_a_checkout_process_of_its_own(
    tmp_path: Path, localstripe: LocalStripe, mosquitto: Mosquitto, operator: Operator
) -> None:
    config = _store(tmp_path, localstripe, mosquitto, operator)
    _seed(tmp_path / "bridge.sqlite3", [("trip-one", await _customer(localstripe.url), 3)])
    async with _broker_news(mosquitto) as heard, serving(config) as serve:
        child = _child(config)
        assert child != serve.process.pid
        stat = Path(f"/proc/{child}/stat").read_text()  # noqa: ASYNC240 - the kernel's table
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        assert parent == serve.process.pid
        await until(
            "the cart is charged",
            lambda: _phases(tmp_path / "bridge.sqlite3").get("trip-one"),
            want=lambda phase: phase == "done",
            seconds=30,
        )
        status, found = await serve.get("/v1/visits/trip-one/checkout")
        assert (status, found["phase"], found["captured"]) == (200, "done", 3 * CAN)
        shown = await until("the status counts", serve.checkout, want=lambda c: c["pending"] == 0)
        assert shown["retrying"] == 0
        # the checkout process's events reach the broker through serve's publisher
        captured = await until(
            "payment_captured is published",
            lambda: [m for m in heard if m.get("type") == "payment_captured"],
        )
        assert captured[0]["visit"] == "trip-one"
        await until(
            "the retained status shows the checkout process's counts",
            lambda: [m["checkout"] for m in heard if "checkout" in m],
            want=lambda statuses: statuses[-1]["pending"] == 0,
        )
    payments = await _payments(localstripe.url)
    assert [p["amount"] for p in payments if p["status"] == "succeeded"] == [3 * CAN]


async def test_a_killed_checkout_process_is_started_again_and_charges_once(
    tmp_path: Path, localstripe: LocalStripe, mosquitto: Mosquitto, operator: Operator
) -> None:
    config = _store(tmp_path, localstripe, mosquitto, operator)
    _seed(tmp_path / "bridge.sqlite3", [("trip-again", await _customer(localstripe.url), 2)])
    async with serving(config, crash_at="after_confirm:1") as serve:  # killed: charged, unstored
        await until(
            "the checkout process killed", lambda: "Crashing at after_confirm" in serve.logged()
        )
        await until(
            "the cart's checkout finished by the next checkout process",
            lambda: _phases(tmp_path / "bridge.sqlite3").get("trip-again"),
            want=lambda phase: phase == "done",
            seconds=30,
        )
        assert serve.process.returncode is None  # serve itself went on
        assert "The checkout process ended (exit code -9)" in serve.logged()
    succeeded = [p for p in await _payments(localstripe.url) if p["status"] == "succeeded"]
    assert [p["amount"] for p in succeeded] == [2 * CAN]


async def test_serve_killed_takes_its_checkout_process_along_and_one_serve_per_database(
    tmp_path: Path, localstripe: LocalStripe, mosquitto: Mosquitto, operator: Operator
) -> None:
    config = _store(tmp_path, localstripe, mosquitto, operator)
    async with serving(config) as serve:
        first = _child(config)
        second = await asyncio.create_subprocess_exec(
            *_command(config), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env()
        )
        _out, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 3, err
        assert b"another store bridge is running" in err
        await until(  # the second one's (started early) ended with it, having taken nothing
            "only the first serve's checkout process runs",
            lambda: checkout_processes(config) == [first],
        )
        serve.process.kill()
        await serve.process.wait()
        no_orphan(config)


@pytest.mark.parametrize("where", ["serve", "here"])
async def test_operator_requests_go_to_the_checkout_process_and_503_while_it_is_down(
    tmp_path: Path,
    localstripe: LocalStripe,
    mosquitto: Mosquitto,
    operator: Operator,
    where: str,
) -> None:
    config = _store(tmp_path, localstripe, mosquitto, operator)
    db_path = tmp_path / "bridge.sqlite3"
    paying = await _customer(localstripe.url)
    declining = await _customer(localstripe.url, DECLINES_ON_CHARGE)
    _seed(db_path, [("trip-paid", paying, 4), ("trip-declined", declining, 1)])
    async with (serving if where == "serve" else serving_here)(config) as serve:
        await until(
            "both checkouts finished",
            lambda: _phases(db_path),
            want=lambda p: p.get("trip-paid") == "done" and p.get("trip-declined") == "failed",
            seconds=30,
        )
        status, refunded = await serve.post("/v1/visits/trip-paid/refund", {"amount": 100})
        assert (status, refunded["phase"], refunded["amount"]) == (200, "done", 100)
        status, again = await serve.post("/v1/visits/trip-paid/checkout/retry", {})
        assert (status, again["error"]) == (409, "not_blocked")

        await until(
            "the status shows the checkout process's counts",
            serve.checkout,
            want=lambda c: c["pending"] == 0 and c["outstanding_accounts"] == 1,
        )
        with _checkout_held_down(config):
            down = await until(
                "the status says the counts are unknown",
                serve.checkout,
                want=lambda c: c["pending"] is None,
            )
            assert down["retrying"] is None
            async with serve.http.get(serve.base + "/", headers=AUTH) as page:
                assert "Checkouts under way: unknown" in await page.text()
            assert down["outstanding_accounts"] == 1  # read from the database as ever
            for path, body in (
                ("/v1/visits/trip-paid/refund", {"amount": 1}),
                ("/v1/visits/trip-paid/checkout/retry", {}),
                ("/v1/accounts/settle", {"account": "acct-trip-declined"}),
            ):
                status, answer = await serve.post(path, body)
                assert (status, answer["error"]) == (503, "checkout_unavailable"), path
            status, answer = await serve.get("/v1/visits/trip-paid/checkout")
            assert (status, answer["error"]) == (503, "checkout_unavailable")
            # the gates go on; the decline the checkout process stored refuses the account
            status, refused = await serve.post(
                "/v1/gates/entry_1/check-in", {"qr": operator.qr(sub="acct-trip-declined")}
            )
            assert (status, refused["reason"]) == (403, "payment_outstanding")
            status, admitted = await serve.post(
                "/v1/gates/entry_1/check-in", {"qr": operator.qr(sub="acct-someone-else")}
            )
            assert (status, admitted["opened"]) == (200, True)

        await until(
            "the next checkout process counts",
            serve.checkout,
            want=lambda c: c["pending"] == 0,
            seconds=30,
        )
        status, settled = await serve.post("/v1/accounts/settle", {"account": "acct-trip-declined"})
        assert (status, settled) == (200, {"settled": {"EUR": CAN}})
        status, admitted = await serve.post(
            "/v1/gates/entry_1/check-in", {"qr": operator.qr(sub="acct-trip-declined")}
        )
        assert (status, admitted["opened"]) == (200, True)
        status, found = await serve.get("/v1/visits/trip-paid/checkout")
        assert (status, found["captured"]) == (200, 4 * CAN)
        async with serve.http.get(serve.base + "/", headers=AUTH) as page:
            assert "Checkouts under way: 0 · retrying: 0" in await page.text()
