"""A small TCP proxy for fault tests: a connection that drops when the test says so.

``TcpProxy`` listens on 127.0.0.1 (a free port) and forwards every connection both ways
to one upstream address, also on 127.0.0.1. A test can

- ``cut()`` every connection (each side sees the other close) and refuse new ones (the
  port stops listening: ``ECONNREFUSED``) until ``restore()``; ``cut(down=False)`` only
  drops the connections, as a blip, and lets clients reconnect at once;
- ``cut_after(*needles)``: arm a one-shot trigger that forwards the first client message
  containing every needle to the upstream, then cuts and goes down before anything the
  upstream answers is passed back. For the Z-Wave JS server this drops the connection
  between a ``node.set_value`` and its result.

Messages are only seen inside WebSocket connections (``websocket=True``, the default):
the proxy removes the client's ``Sec-WebSocket-Extensions`` offer from the upgrade
request, so no permessage-deflate is negotiated and each client frame can be unmasked
and read (``messages``); the bytes forwarded are otherwise the client's own. Frames from
the upstream are passed through untouched.

Everything runs on the event loop that calls ``start()`` (the test's loop). It binds
127.0.0.1 only, which pytest-socket allows once ``socket_enabled`` is requested.
"""

import asyncio
import contextlib
import itertools
import logging
from dataclasses import dataclass, field

_LOGGER = logging.getLogger(__name__)
HOST = "127.0.0.1"
CONTINUATION, TEXT, BINARY, CLOSE = 0x0, 0x1, 0x2, 0x8


@dataclass(eq=False)
class _Connection:
    """One client connection and its upstream twin."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter
    severed: bool = False
    """Set when the connection is being cut: nothing more is passed either way."""
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def close(self) -> None:
        self.severed = True
        for writer in (self.client, self.upstream):
            with contextlib.suppress(Exception):
                writer.close()
        current = asyncio.current_task()
        for task in self.tasks:
            if task is not current:
                task.cancel()


@dataclass(eq=False)
class _Trigger:
    needles: tuple[str, ...]
    down: bool
    fired: asyncio.Event = field(default_factory=asyncio.Event)
    message: str | None = None


class TcpProxy:
    """Forward 127.0.0.1:<port> to an upstream address; drop connections on demand."""

    def __init__(self, upstream_port: int, *, websocket: bool = True) -> None:
        """Proxy to 127.0.0.1:``upstream_port`` (call ``start`` to listen)."""
        self.upstream_port = upstream_port
        self.websocket = websocket
        self.port = 0
        self.down = False
        self.accepted = 0
        """Connections accepted (and forwarded) so far."""
        self.cuts = 0
        """How many times connections were cut (by ``cut`` or a trigger)."""
        self.messages: list[str] = []
        """Client text messages seen inside WebSocket connections, oldest first."""
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._trigger: _Trigger | None = None
        self._fired: _Trigger | None = None

    @property
    def url(self) -> str:
        """Where a WebSocket client connects to reach the upstream through the proxy."""
        return f"ws://{HOST}:{self.port}"

    @property
    def connections(self) -> int:
        """Connections open now."""
        return len(self._connections)

    async def start(self) -> None:
        """Listen (on a free port the first time, on the same port after a cut)."""
        self._server = await asyncio.start_server(self._handle, HOST, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        self.down = False

    def cut(self, *, down: bool = True) -> None:
        """Drop every connection; with ``down`` also refuse new ones until ``restore``."""
        self.cuts += 1
        for connection in list(self._connections):
            connection.close()
        self._connections.clear()
        if down and self._server is not None:
            self._server.close()
            self._server = None
            self.down = True
        _LOGGER.debug("proxy %s: cut (down=%s)", self.port, down)

    async def restore(self) -> None:
        """Accept connections again (on the same port)."""
        if self._server is None:
            await self.start()

    def cut_after(self, *needles: str, down: bool = True) -> asyncio.Event:
        """Cut (and go ``down``) right after forwarding a client message with all ``needles``.

        One-shot. Returns an event set once it fired; ``triggered_by`` is the message.
        """
        if not self.websocket:
            msg = "cut_after reads WebSocket messages: start the proxy with websocket=True"
            raise RuntimeError(msg)
        self._trigger = _Trigger(needles, down)
        return self._trigger.fired

    @property
    def triggered_by(self) -> str | None:
        """The client message that fired the last ``cut_after`` trigger."""
        return self._fired.message if self._fired else None

    async def close(self) -> None:
        """Stop listening and drop everything."""
        self._trigger = None
        tasks = [t for c in self._connections for t in c.tasks]
        self.cut(down=True)
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- forwarding --------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.upstream_port)
        except OSError:
            writer.close()
            return
        connection = _Connection(writer, up_writer)
        self._connections.add(connection)
        self.accepted += 1
        connection.tasks = [
            asyncio.current_task(),  # type: ignore[list-item]
            asyncio.create_task(self._downstream(connection, up_reader)),
        ]
        try:
            if self.websocket:
                await self._upstream_websocket(connection, reader)
            else:
                await self._pipe(connection, reader, up_writer)
        except asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError:
            pass
        finally:
            if not connection.severed:
                connection.close()
            self._connections.discard(connection)

    async def _pipe(
        self, connection: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while data := await reader.read(65536):
            if connection.severed:
                return
            writer.write(data)
            await writer.drain()

    async def _downstream(self, connection: _Connection, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await self._pipe(connection, reader, connection.client)
        if not connection.severed:
            connection.close()
            self._connections.discard(connection)

    async def _upstream_websocket(
        self, connection: _Connection, reader: asyncio.StreamReader
    ) -> None:
        upstream = connection.upstream
        head = await reader.readuntil(b"\r\n\r\n")
        upstream.write(_without_extensions(head))
        await upstream.drain()
        parts: list[bytes] = []
        while not connection.severed:
            raw, opcode, fin, payload = await _read_frame(reader)
            if connection.severed:
                return
            message = None
            if opcode in {TEXT, BINARY, CONTINUATION}:
                parts.append(payload)
                if fin:
                    message = b"".join(parts).decode(errors="replace")
                    parts = []
            trigger = self._trigger
            fire = (
                message is not None
                and trigger is not None
                and all(needle in message for needle in trigger.needles)
            )
            if fire:
                # Nothing the upstream says from now on reaches the client.
                connection.severed = True
            upstream.write(raw)
            await upstream.drain()
            if message is not None:
                self.messages.append(message)
            if fire and trigger is not None:
                self._trigger = None
                self._fired = trigger
                trigger.message = message
                await _flushed(upstream)
                _LOGGER.debug("proxy %s: cut after %s", self.port, message)
                self.cut(down=trigger.down)
                trigger.fired.set()
                return


async def _flushed(writer: asyncio.StreamWriter) -> None:
    """Wait (briefly) until the transport handed everything to the kernel."""
    for _ in range(100):
        if writer.transport.get_write_buffer_size() == 0:
            return
        await asyncio.sleep(0.001)


def _without_extensions(head: bytes) -> bytes:
    """The HTTP upgrade request without its ``Sec-WebSocket-Extensions`` lines."""
    lines = head.split(b"\r\n")
    kept = [line for line in lines if not line.lower().startswith(b"sec-websocket-extensions:")]
    return b"\r\n".join(kept)


async def _read_frame(reader: asyncio.StreamReader) -> tuple[bytes, int, bool, bytes]:
    """One WebSocket frame: its raw bytes, opcode, FIN bit and unmasked payload."""
    head = await reader.readexactly(2)
    fin = bool(head[0] & 0x80)
    opcode = head[0] & 0x0F
    masked = bool(head[1] & 0x80)
    length = head[1] & 0x7F
    raw = bytearray(head)
    if length == 126:  # RFC 6455: a 16-bit length follows
        extended = await reader.readexactly(2)
        raw += extended
        length = int.from_bytes(extended)
    elif length == 127:  # a 64-bit length follows
        extended = await reader.readexactly(8)
        raw += extended
        length = int.from_bytes(extended)
    mask = await reader.readexactly(4) if masked else b""
    payload = await reader.readexactly(length)
    raw += mask + payload
    if masked:
        payload = bytes(b ^ m for b, m in zip(payload, itertools.cycle(mask), strict=False))
    return bytes(raw), opcode, fin, payload
