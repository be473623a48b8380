"""A real localstripe (a stateful fake Stripe server) for the tests, on 127.0.0.1 only.

``localstripe`` (function scope) starts a fresh server per test on a free port, waits until it
answers and stops it (its whole process group) after the test, so what a test counts at the
processor is exactly what that test did there.

localstripe's own command binds ``::`` (every interface) and has no host option, and it
pickles its whole state to ``/tmp/localstripe.pickle`` after every POST (shared by every
server on the machine) and loads it at start. So it is not started with its command but with
the launcher ``tests/localstripe_launch.py``, which runs the same aiohttp application

- on 127.0.0.1 only, from an empty state, without writing the pickle;
- accepting ``off_session`` on ``POST /v1/payment_intents/{id}/confirm``: real Stripe takes
  it there (a saved card charged without the customer), localstripe 1.15.10 refuses any
  parameter but ``payment_method``. The launcher drops the parameter after noting it;
  ``GET /_config/confirmations`` lists every confirmation (``{"payment": …, "off_session":
  …}``), so a test can count confirmations at the processor.

``add_customer(client, card=…, email=…, name=…)`` makes a customer with a saved card (its
default payment method). Test cards: ``VISA`` (4242…) charges; ``DECLINES_ON_CHARGE``
(4000000000000341) attaches but every charge is declined (``card_declined``). Stripe's
generic decline card 4000000000000002 is refused already when it is attached to a customer,
in localstripe as at Stripe, so it cannot be a saved card (``add_customer`` raises
``stripe.CardError``).

``AnswerDroppingProxy`` (a `tests.tcp_proxy.TcpProxy` for plain HTTP) forwards to the server
and, once armed (`drop_answer`), lets the first request whose head holds a needle reach the
server, then cuts the connection (``"cut"``) or keeps it open and silent (``"hold"``, a
timeout) instead of passing the server's answer back: the request took effect, the client
never hears so.

The fixture requests pytest-socket's ``socket_enabled``; connections stay on 127.0.0.1.
"""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from tests.tcp_proxy import TcpProxy, _Connection

HOST = "127.0.0.1"
START_TIMEOUT = 15.0
SECRET_KEY = "sk_test_" + "rig" * 8
VISA = "4242424242424242"
DECLINES_ON_CHARGE = "4000000000000341"
DECLINES_ON_ATTACH = "4000000000000002"
LAUNCHER = Path(__file__).with_name("localstripe_launch.py")


def free_port() -> int:
    """A port nobody listens on now (127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalStripe:
    """A localstripe process on 127.0.0.1:``port``."""

    port: int
    process: subprocess.Popen[bytes] | None = None
    _errors: IO[bytes] = field(default_factory=tempfile.TemporaryFile)

    @property
    def url(self) -> str:
        """The API base address (``base_addresses={"api": url}``)."""
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        """Start the server and wait until it answers HTTP."""
        self.process = subprocess.Popen(
            [sys.executable, str(LAUNCHER), str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=self._errors,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._errors.seek(0)
                said = self._errors.read().decode(errors="replace")[-2000:]
                msg = f"localstripe exited ({self.process.returncode}): {said}"
                raise RuntimeError(msg)
            with contextlib.suppress(OSError):
                self._get("/_config/confirmations")
                return
            time.sleep(0.02)  # waiting for the server to come up, not for an outcome
        self.stop()
        msg = f"localstripe did not answer on {self.url} within {START_TIMEOUT} s"
        raise RuntimeError(msg)

    def stop(self) -> None:
        """Stop the server and everything in its process group."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        self.process = None
        self._errors.close()

    def _get(self, path: str) -> Any:
        with socket.create_connection((HOST, self.port), 2) as sock:
            request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n"
            sock.sendall(request.encode())
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        _head, _, body = raw.partition(b"\r\n\r\n")
        return json.loads(body) if body.strip() else None

    def confirmations(self) -> list[dict[str, Any]]:
        """Every payment confirmation the server received, oldest first."""
        return list(self._get("/_config/confirmations"))


@pytest.fixture
def localstripe(socket_enabled: None) -> Iterator[LocalStripe]:
    """A fresh localstripe on 127.0.0.1, stopped after the test."""
    server = LocalStripe(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def stripe_client(localstripe: LocalStripe) -> AsyncIterator[Any]:
    """The real ``stripe`` library pointed at the test's localstripe (the rig's own calls)."""
    client = make_client(localstripe.url)
    try:
        yield client
    finally:
        await client._requestor._client.close_async()


def make_client(url: str) -> Any:
    """A ``stripe.StripeClient`` for the rig (setting up customers, terminal holds)."""
    import stripe  # noqa: PLC0415 - only the tests that use the rig need it

    return stripe.StripeClient(
        SECRET_KEY,
        base_addresses={"api": url},
        http_client=stripe.AIOHTTPClient(),
        max_network_retries=0,
    )


async def add_customer(
    client: Any,
    *,
    card: str = VISA,
    default: bool = True,
    email: str | None = None,
    name: str | None = None,
) -> tuple[str, str]:
    """A customer with ``card`` saved (its default payment method unless told otherwise).

    ``email`` and ``name``: personal data Stripe holds and answers with (never to be logged).
    Returns (customer, payment method).
    """
    details: dict[str, str] = {"description": "rig shopper"}
    if email is not None:
        details["email"] = email
    if name is not None:
        details["name"] = name
    customer = await client.v1.customers.create_async(details)
    method = await client.v1.payment_methods.create_async(
        {
            "type": "card",
            "card": {"number": card, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    await client.v1.payment_methods.attach_async(method.id, {"customer": customer.id})
    if not default:
        return customer.id, method.id
    await client.v1.customers.update_async(
        customer.id, {"invoice_settings": {"default_payment_method": method.id}}
    )
    return customer.id, method.id


async def terminal_hold(client: Any, *, amount: int, currency: str = "eur") -> str:
    """What a card terminal does at the entry: an authorised (manual capture) payment."""
    _customer, method = await add_customer(client)
    intent = await client.v1.payment_intents.create_async(
        {
            "amount": amount,
            "currency": currency,
            "payment_method": method,
            "capture_method": "manual",
        }
    )
    confirmed = await client.v1.payment_intents.confirm_async(intent.id)
    assert confirmed.status == "requires_capture"
    return str(intent.id)


@dataclass
class _Drop:
    needle: bytes
    mode: str
    dropped: asyncio.Event


class AnswerDroppingProxy(TcpProxy):
    """An HTTP proxy to localstripe that can drop the answer to one request."""

    def __init__(self, upstream_port: int) -> None:
        """Forward 127.0.0.1:<port> to localstripe on ``upstream_port``."""
        super().__init__(upstream_port, websocket=False)
        self.requests: list[str] = []
        """Each request's first line, oldest first."""
        self._last: dict[int, bytes] = {}
        self._drop: _Drop | None = None
        self._held: set[int] = set()

    @property
    def base(self) -> str:
        """The API base address through the proxy."""
        return f"http://{HOST}:{self.port}"

    def drop_answer(self, needle: str, *, mode: str = "cut") -> asyncio.Event:
        """Drop the answer to the first request whose head holds ``needle`` (one-shot).

        ``cut``: the connection is cut and the proxy goes down (``restore`` brings it back);
        ``hold``: the connection stays open and nothing comes back. Returns an event set
        once the answer was dropped.
        """
        self._drop = _Drop(needle.encode(), mode, asyncio.Event())
        return self._drop.dropped

    async def _pipe(
        self, connection: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        to_server = writer is connection.upstream
        while data := await reader.read(65536):
            if connection.severed:
                return
            if to_server and data.split(b" ", 1)[0] in {b"GET", b"POST", b"DELETE"}:
                self._last[id(connection)] = data.split(b"\r\n\r\n", 1)[0]
                self.requests.append(data.split(b"\r\n", 1)[0].decode())
            if not to_server and id(connection) in self._held:
                continue
            drop = self._drop
            if not to_server and drop and drop.needle in self._last.get(id(connection), b""):
                self._drop = None
                drop.dropped.set()
                if drop.mode == "hold":
                    self._held.add(id(connection))
                    continue
                self.cut()
                return
            writer.write(data)
            await writer.drain()


async def payment_intents(client: Any) -> list[dict[str, Any]]:
    """Every payment intent at the server, as plain data."""
    found = await client.v1.payment_intents.list_async({"limit": 100})
    return [intent.to_dict() for intent in found.data]
