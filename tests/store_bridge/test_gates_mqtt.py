"""Shelly and Tasmota relay gates against a real Mosquitto broker.

The broker is real (the ``mosquitto`` fixture); the relays on the far side are the edge of
the world and are simulated here by small aiomqtt clients that answer the gate's commands
the way the firmware does:

Shelly Gen2+ (RPC over MQTT, status notifications on)
    takes a request frame on ``<device>/rpc`` and publishes the response frame on
    ``<src>/rpc``: ``{"id", "src": <device>, "dst": <src>, "result": {"was_on": false}}``,
    or ``"error": {"code": -105, "message": "Argument 'id', value 3 not found!"}`` for a
    switch it does not have. ``Switch.Set`` with ``toggle_after`` turns the output on,
    publishes ``<device>/status/switch:<id>`` and turns it off again (and publishes) after
    ``toggle_after`` seconds. A detached input publishes ``<device>/status/input:<n>``
    ``{"id": n, "state": ...}`` on each change.

Tasmota (default FullTopic, ``SetOption4 0`` unless said otherwise)
    takes ``cmnd/<topic>/<Command><index>``. ``PulseTime<n> <v>`` answers
    ``stat/<topic>/RESULT`` ``{"PulseTime<n>":{"Set":v,"Remaining":0}}``. ``POWER<n> ON``
    publishes ``{"POWER<n>":"ON"}`` on ``stat/<topic>/RESULT`` then ``ON`` on
    ``stat/<topic>/POWER<n>`` (a one-relay device says ``POWER``, not ``POWER1``) and the
    same with ``OFF`` when the PulseTime ends. An index beyond its relays leaves the
    command handler's default answer, ``{"Command":"Error"}``; an unknown command gets
    ``{"Command":"Unknown"}``. With ``SetOption4 1`` the JSON answers go to
    ``stat/<topic>/<COMMAND>`` instead of ``RESULT``. With ``SetOption114 1`` a switch
    change is published as ``stat/<topic>/RESULT`` ``{"Switch<n>":{"Action":"ON"|"OFF"}}``.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiomqtt
import pytest

from store_bridge.gates.base import Gate, GateError, GateRole, GateSignal, SignalKind
from store_bridge.gates.mqtt_relay import ShellyGate, TasmotaGate, tasmota_pulse_time
from tests.mosquitto import Mosquitto
from tests.waiting import until

WAIT = 15.0
SHELLY_ID = "shellyplus1-a8032ab636ec"
TASMOTA_TOPIC = "tasmota_1A2B3C"
OPENED_CLOSED = [SignalKind.OPENED, SignalKind.CLOSED]


class Signals:
    """Collects what a gate reports; lets a test wait for the n-th signal."""

    def __init__(self) -> None:
        self.received: list[GateSignal] = []

    def __call__(self, signal: GateSignal) -> None:
        self.received.append(signal)

    async def wait_for(self, count: int) -> list[SignalKind]:
        await until(lambda: len(self.received) >= count, seconds=WAIT)
        return [signal.kind for signal in self.received]


class FakeDevice:
    """A relay's MQTT side: reconnects like firmware does, records what it is sent."""

    def __init__(self, broker: Mosquitto, subscription: str) -> None:
        self.broker = broker
        self.subscription = subscription
        self.received: asyncio.Queue[tuple[str, bytes, int]] = asyncio.Queue()
        self.answering = True
        self.ready = asyncio.Event()
        self._client: aiomqtt.Client | None = None
        self._clients: list[aiomqtt.Client] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run())
        await asyncio.wait_for(self.ready.wait(), WAIT)

    async def stop(self) -> None:
        for task in {*self._tasks, self._runner}:
            if task is not None:
                task.cancel()
                await asyncio.wait([task])
        for client in self._clients:
            if (keepalive := client._misc_task) is not None:
                await asyncio.wait([keepalive])

    async def _run(self) -> None:
        while True:
            client = aiomqtt.Client(self.broker.host, self.broker.port)
            self._clients.append(client)
            with contextlib.suppress(aiomqtt.MqttError):
                async with client:
                    await client.subscribe(self.subscription, qos=1)
                    self._client = client
                    self.ready.set()
                    async for message in client.messages:
                        if self.answering:
                            await self.answer(message.topic.value, message.payload)
                        # recorded once answered: a test that goes on stops no answer half-way
                        self.received.put_nowait(
                            (message.topic.value, message.payload, message.qos)
                        )
            self.ready.clear()
            await asyncio.sleep(0.1)

    async def next(self) -> tuple[str, bytes, int]:
        """The next message the device received."""
        return await asyncio.wait_for(self.received.get(), WAIT)

    async def publish(self, topic: str, payload: str | bytes, *, retain: bool = False) -> None:
        assert self._client is not None
        await self._client.publish(topic, payload, qos=1, retain=retain)

    def later(self, seconds: float, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action` after `seconds` (a timer of the firmware)."""

        async def run() -> None:
            await asyncio.sleep(seconds)
            with contextlib.suppress(aiomqtt.MqttError):
                await action()

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def answer(self, topic: str, payload: bytes) -> None:
        raise NotImplementedError


class FakeShelly(FakeDevice):
    """A Shelly Plus 1: one switch (id 0), RPC over MQTT."""

    def __init__(self, broker: Mosquitto) -> None:
        super().__init__(broker, f"{SHELLY_ID}/rpc")
        self.switches = 1

    async def answer(self, _topic: str, payload: bytes) -> None:
        request = json.loads(payload)
        frame: dict[str, Any] = {"id": request["id"], "src": SHELLY_ID, "dst": request["src"]}
        params = request["params"]
        if request["method"] == "Switch.Set" and params["id"] < self.switches:
            frame["result"] = {"was_on": False}
            await self._output(params["id"], on=True)
            self.later(params["toggle_after"], lambda: self._output(params["id"], on=False))
        else:
            message = f"Argument 'id', value {params['id']} not found!"
            frame["error"] = {"code": -105, "message": message}
        await self.publish(f"{request['src']}/rpc", json.dumps(frame))

    async def _output(self, switch: int, *, on: bool) -> None:
        status = {"id": switch, "source": "MQTT", "output": on}
        await self.publish(f"{SHELLY_ID}/status/switch:{switch}", json.dumps(status))

    async def input(self, number: int, *, state: bool, retain: bool = False) -> None:
        status = json.dumps({"id": number, "state": state})
        await self.publish(f"{SHELLY_ID}/status/input:{number}", status, retain=retain)


class FakeTasmota(FakeDevice):
    """A Tasmota device with `relays` relays."""

    def __init__(self, broker: Mosquitto, relays: int = 1, *, set_option4: bool = False) -> None:
        super().__init__(broker, f"cmnd/{TASMOTA_TOPIC}/#")
        self.relays = relays
        self.set_option4 = set_option4
        self.pulse_time: dict[int, int] = {}

    async def answer(self, topic: str, payload: bytes) -> None:
        command = topic.rsplit("/", 1)[1].upper()
        name = command.rstrip("0123456789")
        index = int(command[len(name) :] or 1)
        if name == "PULSETIME":
            self.pulse_time[index] = int(payload)
            await self._result(name, {f"PulseTime{index}": {"Set": int(payload), "Remaining": 0}})
        elif name == "POWER" and index <= self.relays and payload == b"ON":
            await self._power(index, "ON")
            tenths = self.pulse_time.get(index, 0)
            seconds = tenths / 10 if tenths <= 111 else tenths - 100
            if tenths:
                self.later(seconds, lambda: self._power(index, "OFF"))
        elif name == "POWER":
            await self._result(name, {"Command": "Error"})
        else:
            await self._result("COMMAND", {"Command": "Unknown"})

    async def _result(self, topic: str, answer: dict[str, Any]) -> None:
        """Publish a JSON answer (on RESULT, or on its own topic with SetOption4 1)."""
        where = topic if self.set_option4 else "RESULT"
        await self.publish(f"stat/{TASMOTA_TOPIC}/{where}", json.dumps(answer))

    async def _power(self, index: int, state: str) -> None:
        power = "POWER" if self.relays == 1 else f"POWER{index}"
        await self._result(power, {power: state})
        await self.publish(f"stat/{TASMOTA_TOPIC}/{power}", state)

    async def switch(self, number: int, action: str) -> None:
        answer = {f"Switch{number}": {"Action": action}}
        await self._result(f"SWITCH{number}", answer)


@pytest.fixture
async def devices(mosquitto: Mosquitto) -> AsyncIterator[list[FakeDevice]]:
    """Fake devices a test starts; stopped at the end."""
    started: list[FakeDevice] = []
    yield started
    for device in started:
        await device.stop()


@pytest.fixture
async def gates() -> AsyncIterator[list[Gate]]:
    """Gates a test starts; stopped at the end even when the test failed."""
    started: list[Gate] = []
    yield started
    for gate in started:
        await gate.stop()


@pytest.fixture
async def shelly(mosquitto: Mosquitto, devices: list[FakeDevice]) -> FakeShelly:
    device = FakeShelly(mosquitto)
    devices.append(device)
    await device.start()
    return device


async def start(gates: list[Gate], gate: ShellyGate | TasmotaGate, signals: Signals) -> None:
    """Start `gate` and wait until it is connected."""
    gates.append(gate)
    await gate.start(signals)
    await asyncio.wait_for(gate.wait_connected(), WAIT)


async def start_tasmota(
    mosquitto: Mosquitto, devices: list[FakeDevice], relays: int = 1, *, set_option4: bool = False
) -> FakeTasmota:
    device = FakeTasmota(mosquitto, relays, set_option4=set_option4)
    devices.append(device)
    await device.start()
    return device


def shelly_gate(broker: Mosquitto, **options: Any) -> ShellyGate:
    return ShellyGate(
        "entry_1", GateRole.ENTRY, host=broker.host, port=broker.port, device=SHELLY_ID, **options
    )


def tasmota_gate(broker: Mosquitto, **options: Any) -> TasmotaGate:
    return TasmotaGate(
        "exit_1", GateRole.EXIT, host=broker.host, port=broker.port, device=TASMOTA_TOPIC, **options
    )


# --- Shelly ------------------------------------------------------------------------------


async def test_shelly_open_sends_switch_set_and_waits_for_the_answer(
    mosquitto, shelly, gates
) -> None:
    gate = shelly_gate(mosquitto, pulse_seconds=0.1)
    await start(gates, gate, Signals())
    await gate.open()
    await gate.open()

    for expected_id in (1, 2):
        topic, payload, qos = await shelly.next()
        request = json.loads(payload)
        assert (topic, qos) == (f"{SHELLY_ID}/rpc", 1)
        assert request == {
            "id": expected_id,
            "src": request["src"],
            "method": "Switch.Set",
            "params": {"id": 0, "on": True, "toggle_after": 0.1},
        }
        assert request["src"].startswith("concierge-entry_1-")
    assert (gate.gate_id, gate.role, gate.connected) == ("entry_1", GateRole.ENTRY, True)


async def test_shelly_refusal_no_answer_and_unreachable(mosquitto, shelly, gates) -> None:
    gate = shelly_gate(mosquitto, channel=3, command_timeout=0.3)
    await start(gates, gate, Signals())
    with pytest.raises(GateError) as refused:
        await gate.open()
    assert refused.value.reason == "gate_refused"
    assert "-105" in refused.value.detail
    assert json.loads((await shelly.next())[1])["params"]["id"] == 3

    shelly.answering = False
    with pytest.raises(GateError) as silent:
        await gate.open()
    assert silent.value.reason == "gate_no_answer"
    assert "0.3 s" in silent.value.detail
    assert gate._pending == {}

    mosquitto.stop()
    await until(lambda: not gate.connected, seconds=WAIT)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(GateError) as down:
        await gate.open()
    assert down.value.reason == "gate_unreachable"
    assert loop.time() - started < 0.3  # at once, not after the command timeout


async def test_a_gate_whose_broker_is_down_is_unreachable_at_once(mosquitto, gates) -> None:
    mosquitto.stop()
    for gate in (shelly_gate(mosquitto), tasmota_gate(mosquitto)):
        gates.append(gate)
        with pytest.raises(GateError) as not_started:
            await gate.open()
        assert not_started.value.reason == "gate_unreachable"
        await gate.start(Signals())
        with pytest.raises(GateError) as down:
            await gate.open()
        assert down.value.reason == "gate_unreachable"
        assert not gate.connected


async def test_shelly_door_contact(mosquitto, shelly, gates) -> None:
    await shelly.input(0, state=False, retain=True)  # old state, seen at subscription
    signals = Signals()
    gate = shelly_gate(mosquitto, input_channel=0)
    await start(gates, gate, signals)

    await shelly.input(1, state=True)  # another input: not subscribed
    await shelly.input(0, state=True)
    await shelly.input(0, state=False)
    assert await signals.wait_for(2) == OPENED_CLOSED
    assert signals.received[0] == GateSignal("entry_1", SignalKind.OPENED)


async def test_shelly_ignores_malformed_messages(mosquitto, shelly, gates, caplog) -> None:
    caplog.set_level(logging.DEBUG, "store_bridge.gates.mqtt_relay")
    signals = Signals()
    gate = shelly_gate(mosquitto, input_channel=0)
    await start(gates, gate, signals)
    reply_topic = f"{gate._client_id}/rpc"
    for topic, payload in (
        (f"{SHELLY_ID}/status/input:0", b"not json"),
        (f"{SHELLY_ID}/status/input:0", b"\xff\xfe"),
        (f"{SHELLY_ID}/status/input:0", b"[1, 2]"),
        (f"{SHELLY_ID}/status/input:0", b'{"id": 0, "state": "on"}'),
        (reply_topic, b'{"id": 99, "result": {}}'),  # an answer nobody waits for
        (reply_topic, b'{"id": 1, "state": true}'),  # a status on the reply topic
        (reply_topic, b'{"unexpected": 1}'),
    ):
        await shelly.publish(topic, payload)
    await shelly.input(0, state=True)
    assert await signals.wait_for(1) == [SignalKind.OPENED]
    assert caplog.text.count("ignored a message") == 6
    await gate.open()  # still working


async def test_a_failing_callback_is_logged_and_the_gate_goes_on(
    mosquitto, shelly, gates, caplog
) -> None:
    received: list[SignalKind] = []

    def callback(signal: GateSignal) -> None:
        received.append(signal.kind)
        if signal.kind is SignalKind.OPENED:
            raise RuntimeError("bridge bug")  # noqa: TRY003

    gate = shelly_gate(mosquitto, input_channel=0)
    gates.append(gate)
    await gate.start(callback)
    await asyncio.wait_for(gate.wait_connected(), WAIT)
    await shelly.input(0, state=True)
    await shelly.input(0, state=False)
    await until(lambda: len(received) == 2, seconds=WAIT)
    assert received == OPENED_CLOSED
    assert "error while handling a message" in caplog.text
    await gate.open()


async def test_shelly_reconnects_after_the_broker_comes_back(
    mosquitto, shelly, gates, caplog
) -> None:
    gate = shelly_gate(mosquitto)
    await start(gates, gate, Signals())
    await gate.open()

    mosquitto.stop()
    await until(lambda: not gate.connected and not shelly.ready.is_set(), seconds=WAIT)
    with pytest.raises(GateError) as down:
        await gate.open()
    assert down.value.reason == "gate_unreachable"

    mosquitto.start()
    await asyncio.wait_for(gate.wait_connected(), WAIT)
    await asyncio.wait_for(shelly.ready.wait(), WAIT)
    await gate.open()
    requests = [json.loads((await shelly.next())[1])["id"] for _ in range(2)]
    assert requests == [1, 2]  # the refused attempt never left
    assert "unavailable" in caplog.text


async def test_stop_leaves_nothing_behind(mosquitto, shelly) -> None:
    gate = shelly_gate(mosquitto, username="gate", password="hunter2-secret")
    assert "hunter2" not in repr(gate)
    assert repr(gate) == (
        f"ShellyGate(gate_id='entry_1', role='entry', device='{SHELLY_ID}', "
        f"broker='127.0.0.1:{mosquitto.port}')"
    )
    await gate.start(Signals())
    await gate.start(Signals())  # started once only
    await asyncio.wait_for(gate.wait_connected(), WAIT)
    await gate.open()
    await gate.stop()
    await gate.stop()  # idempotent
    await shelly.stop()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert not gate.connected
    with pytest.raises(GateError) as stopped:
        await gate.open()
    assert stopped.value.reason == "gate_unreachable"


@pytest.mark.parametrize("broker_up", [True, False])
async def test_stop_while_connecting(mosquitto, broker_up) -> None:
    if not broker_up:
        mosquitto.stop()
    gate = tasmota_gate(mosquitto)
    await gate.start(Signals())
    await asyncio.sleep(0)  # one loop turn: the task is now inside the connection attempt
    await gate.stop()
    assert asyncio.all_tasks() == {asyncio.current_task()}
    assert not gate.connected


def test_configuration_is_checked() -> None:
    for options in ({"pulse_seconds": 0}, {"command_timeout": -1}):
        with pytest.raises(ValueError, match="positive"):
            ShellyGate("entry_1", GateRole.ENTRY, host="127.0.0.1", device=SHELLY_ID, **options)


# --- Tasmota -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "value"),
    [
        (0.01, 1),
        (0.1, 1),
        (1.0, 10),
        (2.5, 25),
        (11.1, 111),
        (11.2, 111),
        (11.6, 112),
        (12, 112),
        (15.4, 115),
        (1e6, 64900),
    ],
)
def test_tasmota_pulse_time_encoding(seconds, value) -> None:
    assert tasmota_pulse_time(seconds) == value


async def test_tasmota_sets_the_pulse_then_powers_on(mosquitto, devices, gates) -> None:
    tasmota = await start_tasmota(mosquitto, devices, relays=1)
    gate = tasmota_gate(mosquitto, pulse_seconds=0.1)
    await start(gates, gate, Signals())
    assert await tasmota.next() == (f"cmnd/{TASMOTA_TOPIC}/PulseTime1", b"1", 1)

    await gate.open()  # confirmed as {"POWER":"ON"}: a one-relay device
    assert await tasmota.next() == (f"cmnd/{TASMOTA_TOPIC}/POWER1", b"ON", 1)
    await asyncio.gather(gate.open(), gate.open())  # answers carry no id: any one will do
    for _ in range(2):
        assert await tasmota.next() == (f"cmnd/{TASMOTA_TOPIC}/POWER1", b"ON", 1)


async def test_tasmota_second_relay_and_its_refusal(mosquitto, devices, gates) -> None:
    tasmota = await start_tasmota(mosquitto, devices, relays=2)
    gate = tasmota_gate(mosquitto, channel=2, pulse_seconds=15)
    await start(gates, gate, Signals())
    assert await tasmota.next() == (f"cmnd/{TASMOTA_TOPIC}/PulseTime2", b"115", 1)
    await gate.open()
    assert await tasmota.next() == (f"cmnd/{TASMOTA_TOPIC}/POWER2", b"ON", 1)

    wrong = tasmota_gate(mosquitto, channel=3)
    await start(gates, wrong, Signals())
    with pytest.raises(GateError) as refused:
        await wrong.open()
    assert (refused.value.reason, refused.value.detail) == (
        "gate_refused",
        f"{TASMOTA_TOPIC} answered Error",
    )


async def test_tasmota_with_set_option4_confirms_on_the_power_topic(
    mosquitto, devices, gates
) -> None:
    tasmota = await start_tasmota(mosquitto, devices, relays=2, set_option4=True)
    gate = tasmota_gate(mosquitto, pulse_seconds=0.1, command_timeout=5)
    await start(gates, gate, Signals())
    assert await tasmota.next() == (f"cmnd/{TASMOTA_TOPIC}/PulseTime1", b"1", 1)
    await gate.open()  # {"POWER1":"ON"} then ON on stat/<topic>/POWER1; OFF 0.1 s later
    assert await tasmota.next() == (f"cmnd/{TASMOTA_TOPIC}/POWER1", b"ON", 1)


async def test_tasmota_without_an_answer(mosquitto, devices, gates) -> None:
    tasmota = await start_tasmota(mosquitto, devices)
    tasmota.answering = False
    gate = tasmota_gate(mosquitto, command_timeout=0.3)
    await start(gates, gate, Signals())
    with pytest.raises(GateError) as silent:
        await gate.open()
    assert silent.value.reason == "gate_no_answer"


async def test_tasmota_switch_reports_the_passage(mosquitto, devices, gates) -> None:
    tasmota = await start_tasmota(mosquitto, devices)
    signals, blind_signals = Signals(), Signals()
    gate = tasmota_gate(mosquitto, input_channel=1)
    blind = tasmota_gate(mosquitto)  # no input configured
    await start(gates, gate, signals)
    await start(gates, blind, blind_signals)

    await tasmota.switch(2, "ON")  # another switch
    await tasmota.publish(f"stat/{TASMOTA_TOPIC}/RESULT", '{"Switch1": {"Action": "HOLD"}}')
    await tasmota.publish(f"stat/{TASMOTA_TOPIC}/RESULT", "garbage")
    await tasmota.switch(1, "ON")
    await tasmota.switch(1, "OFF")
    assert await signals.wait_for(2) == OPENED_CLOSED
    assert all(signal.gate_id == "exit_1" for signal in signals.received)
    await gate.open()  # the blind gate heard the same messages; a command proves them handled
    assert blind_signals.received == []


async def test_tasmota_sets_the_pulse_again_after_a_reconnection(mosquitto, devices, gates) -> None:
    tasmota = await start_tasmota(mosquitto, devices)
    gate = tasmota_gate(mosquitto, pulse_seconds=2)
    await start(gates, gate, Signals())
    assert await tasmota.next() == (f"cmnd/{TASMOTA_TOPIC}/PulseTime1", b"20", 1)

    mosquitto.stop()
    await until(lambda: not gate.connected and not tasmota.ready.is_set(), seconds=WAIT)
    mosquitto.start()
    await asyncio.wait_for(tasmota.ready.wait(), WAIT)
    await asyncio.wait_for(gate.wait_connected(), WAIT)
    assert await tasmota.next() == (f"cmnd/{TASMOTA_TOPIC}/PulseTime1", b"20", 1)
    await gate.open()
