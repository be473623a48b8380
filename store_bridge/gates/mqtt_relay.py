"""Gates behind a dry-contact relay on MQTT: Shelly (Gen2+) and Tasmota.

A turnstile or a door opener takes a "pass one" pulse on a dry contact; a Shelly or a
Tasmota relay gives it. The relay's input, wired to the door contact or the turnstile's arm
switch, tells the passage: input on means the passage is open (`SignalKind.OPENED`), off
means it closed again (`SignalKind.CLOSED`). If the contact is wired the other way round,
invert the input on the device (Shelly's input ``invert``, Tasmota's ``SwitchMode 2``).

Shelly Gen2+ (RPC over MQTT; ``device`` is the device's MQTT topic prefix, by default its id
such as ``shellyplus1-a8032ab636ec``)
    ``open`` publishes, QoS 1, to ``<device>/rpc``::

        {"id": 7, "src": "concierge-entry_1-3fa2c1", "method": "Switch.Set",
         "params": {"id": 0, "on": true, "toggle_after": 1.0}}

    and waits for the device's answer on ``<src>/rpc`` carrying the same ``id``: a
    ``"result"`` means done, an ``"error"`` (e.g. no such switch) means refused.
    ``toggle_after`` makes the relay drop by itself: that is the pulse (the device's MQTT
    RPC channel, ``enable_rpc``, must be on; it is by default). The door contact is
    input ``<n>`` (numbered from 0) in *detached* mode with "generic status update over MQTT"
    (``status_ntf``) on: the device publishes ``<device>/status/input:<n>``
    ``{"id": <n>, "state": true|false}`` on each change.

Tasmota (``device`` is its ``%topic%``; default FullTopic ``%prefix%/%topic%/`` and
``SetOption4 0``, i.e. answers on ``RESULT``)
    On every connection the gate sets the pulse length, ``cmnd/<topic>/PulseTime<ch>``, in
    Tasmota's encoding (see `tasmota_pulse_time`), retained: a device that connects later
    (after a reboot, or after the gate) still gets it when it subscribes. ``open``
    publishes ``ON`` to ``cmnd/<topic>/POWER<ch>``; the device confirms with
    ``stat/<topic>/RESULT`` ``{"POWER<ch>":"ON"}`` (``{"POWER":"ON"}`` when it has one
    relay) and ``stat/<topic>/POWER<ch>`` ``ON``, and drops the relay when the PulseTime
    ends. A relay it does not have is answered ``{"Command":"Error"}`` (an unknown command
    ``{"Command":"Unknown"}``): refused. Tasmota's answers carry no request id, so any
    confirmation of the channel answers every ``open`` waiting for one. The door contact is
    ``Switch<n>`` (numbered from 1) with ``SetOption114 1`` (switches detached from the
    relays) and ``SwitchMode 1`` (follow): each change is published as
    ``stat/<topic>/RESULT`` ``{"Switch<n>":{"Action":"ON"}}`` (or ``"OFF"``).

Retained messages are old state, not events, and are ignored: a retained "closed" seen at a
reconnection must not count as a passage. Messages that cannot be understood are ignored
(logged at debug). Answers travel unsigned through the broker: protect the broker
(credentials, ACLs) as you protect the gate.

Each gate owns one `aiomqtt.Client`, driven by a background task that connects, subscribes,
and reconnects after a loss with a backoff from 0.5 s doubling up to 5 s. While it is not
connected, ``open`` fails at once with ``gate_unreachable``.
"""

import asyncio
import contextlib
import itertools
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Iterable
from typing import ClassVar

import aiomqtt

from .base import GateBase, GateError, GateRole, GateSignal, SignalCallback, SignalKind

_LOGGER = logging.getLogger(__name__)

BACKOFF_START = 0.5
"""Seconds before the first reconnection attempt."""
BACKOFF_MAX = 5.0
"""The longest wait between two reconnection attempts."""
BROKER_TIMEOUT = 10.0
"""How long the client waits for the broker's CONNACK and SUBACK."""


def tasmota_pulse_time(seconds: float) -> int:
    """Tasmota's ``PulseTime`` nearest to `seconds`: 1..111 tenths, then 112.. = seconds + 100."""
    if seconds < 11.55:  # noqa: PLR2004 - halfway between 11.1 s (111) and 12 s (112)
        return min(max(round(seconds * 10), 1), 111)
    return min(round(seconds) + 100, 64900)


def _ignore(_signal: GateSignal) -> None:
    """Drop signals that arrive before `start`."""


@contextlib.asynccontextmanager
async def _session(client: aiomqtt.Client) -> AsyncIterator[aiomqtt.Client]:
    """``async with client``, except that a cancel during the connection waits for it to end.

    paho connects in an executor thread; cancelled half-way, the client would keep the socket
    and its keep-alive task once the thread is done.
    """
    entering = asyncio.ensure_future(client.__aenter__())
    try:
        await asyncio.shield(entering)
    except asyncio.CancelledError:
        await asyncio.wait([entering])
        if entering.exception() is None:
            await client.__aexit__(None, None, None)
        raise
    try:
        yield client
    finally:
        await client.__aexit__(None, None, None)


class _RelayGate(GateBase):
    """What Shelly and Tasmota gates share: the connection, the commands in flight, signals."""

    DEFAULT_CHANNEL: ClassVar[int]

    def __init__(  # noqa: PLR0913 - a gate is configured by keyword
        self,
        gate_id: str,
        role: GateRole,
        *,
        host: str,
        device: str,
        port: int = 1883,
        username: str | None = None,
        password: str | None = None,
        channel: int | None = None,
        pulse_seconds: float = 1.0,
        command_timeout: float = 2.0,
        input_channel: int | None = None,
    ) -> None:
        """Configure the gate; nothing connects before `start`.

        `host`, `port`, `username` and `password` reach the broker; `device` names the relay
        on it (Shelly: its topic prefix, Tasmota: its topic). `channel` is the relay pulsed
        for `pulse_seconds`; `command_timeout` bounds the wait for the device's answer;
        `input_channel` is the input wired to the door contact or turnstile arm, if any.
        """
        if pulse_seconds <= 0 or command_timeout <= 0:
            msg = "pulse_seconds and command_timeout must be positive"
            raise ValueError(msg)
        super().__init__(gate_id, role)
        self._host, self._port = host, port
        self._credentials = (username, password)
        self._device = device
        self._channel = self.DEFAULT_CHANNEL if channel is None else channel
        self._pulse = pulse_seconds
        self._timeout = command_timeout
        self._input = input_channel
        self._client_id = (
            f"concierge-{re.sub(r'[^A-Za-z0-9_-]', '_', gate_id)}-{secrets.token_hex(3)}"
        )
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._online = asyncio.Event()
        self._stopping = False
        self._on_signal: SignalCallback = _ignore
        self._pending: dict[int, asyncio.Future[None]] = {}
        self._requests = itertools.count(1)

    @property
    def connected(self) -> bool:
        """Whether the gate is connected to the broker and subscribed."""
        return self._online.is_set()

    async def wait_connected(self) -> None:
        """Wait until the gate is connected (bound it with a timeout)."""
        await self._online.wait()

    def __repr__(self) -> str:
        """Name the gate, its device and broker (never the credentials)."""
        return (
            f"{type(self).__name__}(gate_id={self._gate_id!r}, role={self._role.value!r}, "
            f"device={self._device!r}, broker='{self._host}:{self._port}')"
        )

    async def start(self, on_signal: SignalCallback) -> None:
        """Start the connection task (it keeps trying while the broker is away)."""
        if self._task is not None:
            return
        self._on_signal = on_signal
        self._stopping = False
        username, password = self._credentials
        self._client = aiomqtt.Client(
            self._host,
            self._port,
            username=username,
            password=password,
            identifier=self._client_id,
            timeout=BROKER_TIMEOUT,
        )
        self._task = asyncio.create_task(self._run(self._client), name=repr(self))

    async def stop(self) -> None:
        """Disconnect and end the connection task; commands in flight time out."""
        task, client = self._task, self._client
        self._task, self._client, self._stopping = None, None, True
        if task is None:
            return
        task.cancel()
        await asyncio.wait([task])
        # aiomqtt's keep-alive task is cancelled once the socket closes: let it end here.
        keepalive: asyncio.Task[None] | None = getattr(client, "_misc_task", None)
        if keepalive is not None:
            await asyncio.wait([keepalive])

    async def open(self) -> None:
        """Pulse the relay and wait for the device to confirm it."""
        client = self._client
        if client is None or not self._online.is_set():
            msg = f"not connected to the MQTT broker {self._host}:{self._port}"
            raise GateError("gate_unreachable", msg)
        request = next(self._requests)
        self._pending[request] = reply = asyncio.get_running_loop().create_future()
        topic, payload = self._command(request)
        try:
            async with asyncio.timeout(self._timeout):
                await client.publish(topic, payload, qos=1)
                await reply
        except TimeoutError:
            msg = f"{self._device} did not answer within {self._timeout:g} s"
            raise GateError("gate_no_answer", msg) from None
        except aiomqtt.MqttError as err:
            raise GateError("gate_unreachable", str(err)) from None
        finally:
            del self._pending[request]

    async def _run(self, client: aiomqtt.Client) -> None:
        """Connect, subscribe and hand messages on; reconnect with a backoff."""
        delay = BACKOFF_START
        while not self._stopping:
            try:
                async with _session(client):
                    await client.subscribe([(topic, 1) for topic in self._topics()])
                    await self._on_connect(client)
                    self._online.set()
                    delay = BACKOFF_START
                    _LOGGER.info("%s: connected to %s:%s", self._gate_id, self._host, self._port)
                    async for message in client.messages:
                        self._receive(message)
            except aiomqtt.MqttError as err:
                level = logging.WARNING if delay == BACKOFF_START else logging.DEBUG
                _LOGGER.log(
                    level,
                    "%s: MQTT broker %s:%s unavailable (%s); retrying in %g s",
                    self._gate_id,
                    self._host,
                    self._port,
                    err,
                    delay,
                )
            finally:
                self._online.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    def _receive(self, message: aiomqtt.Message) -> None:
        """Hand one message to the device's parser; never let a bad one end the task."""
        topic = message.topic.value
        try:
            understood = not message.retain and self._handle(topic, message.payload)
        except ValueError:  # not UTF-8, not JSON
            understood = False
        except Exception:
            _LOGGER.exception("%s: error while handling a message on %s", self._gate_id, topic)
            return
        if not understood:
            _LOGGER.debug("%s: ignored a message on %s", self._gate_id, topic)

    def _emit(self, kind: SignalKind) -> None:
        """Report a signal of this gate."""
        self._on_signal(GateSignal(self._gate_id, kind))

    def _settle(self, replies: Iterable[asyncio.Future[None]], error: GateError | None) -> None:
        """Answer commands in flight: done, or refused with `error`."""
        for reply in [reply for reply in replies if not reply.done()]:
            if error is None:
                reply.set_result(None)
            else:
                reply.set_exception(GateError(error.reason, error.detail))

    def _topics(self) -> list[str]:
        """The topics to subscribe to."""
        raise NotImplementedError

    async def _on_connect(self, client: aiomqtt.Client) -> None:
        """Prepare the device after each connection (nothing by default)."""

    def _command(self, request: int) -> tuple[str, str]:
        """The topic and payload of open command number `request`."""
        raise NotImplementedError

    def _handle(self, topic: str, payload: bytes) -> bool:
        """Act on a device message; False if it meant nothing to this gate."""
        raise NotImplementedError


class ShellyGate(_RelayGate):
    """A gate pulsed by a Shelly Gen2+ relay over MQTT RPC (``Switch.Set`` + ``toggle_after``).

    ``channel`` is the switch id (default 0); ``input_channel`` the input that reports the
    passage (numbered from 0), if any.
    """

    DEFAULT_CHANNEL = 0

    @property
    def _reply_topic(self) -> str:
        return f"{self._client_id}/rpc"

    def _topics(self) -> list[str]:
        inputs = [] if self._input is None else [f"{self._device}/status/input:{self._input}"]
        return [self._reply_topic, *inputs]

    def _command(self, request: int) -> tuple[str, str]:
        params = {"id": self._channel, "on": True, "toggle_after": self._pulse}
        call = {"id": request, "src": self._client_id, "method": "Switch.Set", "params": params}
        return f"{self._device}/rpc", json.dumps(call)

    def _handle(self, topic: str, payload: bytes) -> bool:
        match json.loads(payload):
            case {"id": int(request), "error": error} if topic == self._reply_topic:
                refused = GateError("gate_refused", f"{self._device}: {json.dumps(error)}")
                self._settle((r for key, r in self._pending.items() if key == request), refused)
            case {"id": int(request), "result": _} if topic == self._reply_topic:
                self._settle((r for key, r in self._pending.items() if key == request), None)
            case {"state": bool(state)} if topic != self._reply_topic:
                self._emit(SignalKind.OPENED if state else SignalKind.CLOSED)
            case _:
                return False
        return True


class TasmotaGate(_RelayGate):
    """A gate pulsed by a Tasmota relay (``PulseTime`` + ``POWER ON``).

    ``channel`` is the relay number (default 1); ``input_channel`` the ``Switch<n>`` that
    reports the passage (numbered from 1), if any.
    """

    DEFAULT_CHANNEL = 1

    @property
    def _power_names(self) -> set[str]:
        """How the device names the relay: ``POWER<ch>``, or ``POWER`` with a single relay."""
        return (
            {f"POWER{self._channel}", "POWER"} if self._channel == 1 else {f"POWER{self._channel}"}
        )

    @property
    def _switch_name(self) -> str | None:
        """The key of the input switch in Tasmota's answers (None: no input)."""
        return None if self._input is None else f"Switch{self._input}"

    def _topics(self) -> list[str]:
        powers = sorted(f"stat/{self._device}/{name}" for name in self._power_names)
        return [f"stat/{self._device}/RESULT", *powers]

    async def _on_connect(self, client: aiomqtt.Client) -> None:
        pulse = str(tasmota_pulse_time(self._pulse))
        topic = f"cmnd/{self._device}/PulseTime{self._channel}"
        await client.publish(topic, pulse, qos=1, retain=True)

    def _command(self, _request: int) -> tuple[str, str]:
        return f"cmnd/{self._device}/POWER{self._channel}", "ON"

    def _handle(self, topic: str, payload: bytes) -> bool:
        if topic != f"stat/{self._device}/RESULT":  # stat/<topic>/POWER<ch>: ON, then OFF
            if payload != b"ON":
                return False
            self._settle(self._pending.values(), None)
            return True
        match json.loads(payload):
            case dict(answer) if any(answer.get(name) == "ON" for name in self._power_names):
                self._settle(self._pending.values(), None)
            case {"Command": "Unknown" | "Error" as answer}:
                refused = GateError("gate_refused", f"{self._device} answered {answer}")
                self._settle(self._pending.values(), refused)
            case {self._switch_name: {"Action": "ON" | "OFF" as action}}:
                self._emit(SignalKind.OPENED if action == "ON" else SignalKind.CLOSED)
            case _:
                return False
        return True
