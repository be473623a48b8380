"""The OSDP gate against a real libosdp reader.

The edge of the world here is the reader at the gate: a real libosdp `PeripheralDevice`
(reader + relay controller) runs in the test process at the other end of an in-memory line
(or of a pseudo-terminal, for the serial transport), with the secure channel on and the same
key. Everything on the bridge's side is the production code and the real libosdp CP.
Conditions are awaited with generous timeouts, never with fixed sleeps.
"""

import asyncio
import logging
import os
import termios
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import osdp
import pytest

from store_bridge.gates.base import GateError, GateRole, GateSignal, SignalKind
from store_bridge.gates.osdp_channels import MemoryChannel, SerialChannel, memory_channel_pair
from store_bridge.gates.osdp_gate import OsdpGate
from tests.waiting import until

KEY = "00112233445566778899aabbccddeeff"
OTHER_KEY = "ffeeddccbbaa99887766554433221100"
WAIT = 30.0
"""Generous: the suite also runs on a busy 2-core machine."""
GATE = "entry_1"
CAP = osdp.Capability
FULL_READER = [
    (CAP.OutputControl, 1, 4),
    (CAP.LEDControl, 1, 1),
    (CAP.AudibleControl, 1, 1),
    (CAP.ContactStatusMonitoring, 1, 1),
]


class FdChannel:
    """The reader's end of a pseudo-terminal (the master side), non-blocking."""

    def __init__(self, fd: int) -> None:
        os.set_blocking(fd, False)
        self.fd = fd

    def read(self, max_bytes: int) -> bytes:
        try:
            return os.read(self.fd, max_bytes)
        except BlockingIOError:
            return b""

    def write(self, buf: bytes) -> int:
        return os.write(self.fd, buf)

    def flush(self) -> None:
        pass


class Reader:
    """The OSDP reader + relay controller at the gate (a real libosdp PD)."""

    def __init__(
        self,
        channel: MemoryChannel | FdChannel,
        key: str | None,
        capabilities: list[tuple[int, int, int]],
        answer: int = 0,
    ) -> None:
        self.commands: list[dict[str, object]] = []
        self.answer = answer
        self.stall = False
        self.released = threading.Event()
        flags = [] if key else [osdp.LibFlag.InstallMode]
        info = osdp.PDInfo(0, channel, scbk=bytes.fromhex(key) if key else None, flags=flags)
        self.pd = osdp.PeripheralDevice(
            info, osdp.PDCapabilities(capabilities), command_handler=self._handle
        )
        self.pd.start()

    def _handle(self, command: dict[str, object]) -> tuple[int, None]:
        self.commands.append(command)
        if self.stall:
            self.released.wait(WAIT)
        return self.answer, None

    def got(self, command_id: int) -> list[dict[str, object]]:
        return [c for c in self.commands if c["command"] == command_id]

    def read(self, data: bytes, fmt: int = osdp.CardFormat.Unspecified, bits: int = 0) -> None:
        event = {"event": osdp.Event.CardRead, "reader_no": 0, "format": fmt, "direction": 0}
        assert self.pd.submit_event(event | {"length": bits or 8 * len(data), "data": data})

    def set_input(self, active: bool) -> None:
        report = bytes([int(active)])
        event = {"event": osdp.Event.Status, "type": osdp.StatusReportType.Input}
        assert self.pd.submit_event(event | {"report": report})

    def stop(self) -> None:
        self.released.set()
        if self.pd.thread:
            self.pd.stop()


@dataclass
class Rig:
    gate: OsdpGate
    reader: Reader
    signals: list[GateSignal] = field(default_factory=list)


async def online(gate: OsdpGate) -> None:
    async with asyncio.timeout(WAIT):
        await gate.wait_online()


type MakeRig = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def make_rig() -> AsyncIterator[MakeRig]:
    """Make a reader and a gate on an in-memory line; stop both (and their threads) after."""
    made: list[Rig] = []

    async def make(
        gate_key: str | None = KEY,
        reader_key: str | None = KEY,
        capabilities: list[tuple[int, int, int]] | None = None,
        answer: int = 0,
        **options: object,
    ) -> Rig:
        gate_end, reader_end = memory_channel_pair()
        reader = Reader(reader_end, reader_key, capabilities or FULL_READER, answer)
        gate = OsdpGate(GATE, GateRole.ENTRY, gate_end, scbk=gate_key, **options)  # type: ignore[arg-type]
        rig = Rig(gate, reader)
        made.append(rig)
        await gate.start(rig.signals.append)
        return rig

    yield make
    for rig in made:
        await rig.gate.stop()
        rig.reader.stop()


async def test_open_pulses_the_relay_output(make_rig: MakeRig) -> None:
    rig = await make_rig(output_no=2, pulse_seconds=3.5)
    await online(rig.gate)
    assert rig.gate.secure

    await rig.gate.open()

    assert rig.reader.got(osdp.Command.Output) == [
        {"command": osdp.Command.Output, "output_no": 2, "control_code": 5, "timer_count": 35}
    ]


@pytest.mark.parametrize("text", ["https://qr.example/c/7Fz-2_x.y~", "Q" * 64])
async def test_qr_text_read_arrives_as_a_credential(make_rig: MakeRig, text: str) -> None:
    rig = await make_rig()
    await online(rig.gate)

    rig.reader.read(text.encode())

    await until(lambda: rig.signals, seconds=WAIT)
    assert rig.signals == [GateSignal(GATE, SignalKind.CREDENTIAL, text)]


@pytest.mark.parametrize(
    ("data", "fmt", "bits"),
    [
        (bytes.fromhex("5a3c9e80"), osdp.CardFormat.Wiegand, 26),  # a 26-bit badge
        (bytes.fromhex("5a3c9e81"), osdp.CardFormat.Unspecified, 32),  # binary, not text
        (b"ABCD", osdp.CardFormat.Unspecified, 30),  # not whole bytes
        (b"AB\tC", osdp.CardFormat.Unspecified, 32),  # not printable
    ],
)
async def test_other_card_reads_are_ignored_without_logging_them(
    make_rig: MakeRig, caplog: pytest.LogCaptureFixture, data: bytes, fmt: int, bits: int
) -> None:
    caplog.set_level(logging.DEBUG)
    rig = await make_rig()
    await online(rig.gate)

    rig.reader.read(data, fmt, bits)
    keypress = {"event": osdp.Event.KeyPress, "reader_no": 0, "data": b"12"}
    assert rig.reader.pd.submit_event(keypress)  # no credential either
    rig.reader.read(b"after")  # events arrive in order: once this is here, the rest was seen

    await until(lambda: rig.signals, seconds=WAIT)
    assert rig.signals == [GateSignal(GATE, SignalKind.CREDENTIAL, "after")]
    assert "ignored a card read" in caplog.text
    for shown in (data.hex(), data.hex().upper(), repr(data), str(int.from_bytes(data))):
        assert shown not in caplog.text


async def test_input_zero_reports_opened_then_closed_once_per_change(make_rig: MakeRig) -> None:
    rig = await make_rig()
    await online(rig.gate)

    rig.reader.set_input(True)
    rig.reader.set_input(True)
    rig.reader.set_input(False)

    await until(lambda: len(rig.signals) >= 2, seconds=WAIT)
    assert [s.kind for s in rig.signals] == [SignalKind.OPENED, SignalKind.CLOSED]
    assert rig.gate._passage(b"") is None


async def test_feedback_flashes_the_led_and_beeps(make_rig: MakeRig) -> None:
    rig = await make_rig()
    await online(rig.gate)

    await rig.gate.feedback(granted=True)
    await rig.gate.feedback(granted=False)
    await rig.gate.open()  # waits for its own acknowledgement among the others

    await until(lambda: len(rig.reader.got(osdp.Command.Buzzer)) == 2, seconds=WAIT)
    leds = rig.reader.got(osdp.Command.LED)
    assert [led["on_color"] for led in leds] == [
        osdp.CommandLEDColor.Green,
        osdp.CommandLEDColor.Red,
    ]
    assert all(led["temporary"] and led["timer_count"] == 20 for led in leds)
    assert [b["rep_count"] for b in rig.reader.got(osdp.Command.Buzzer)] == [1, 3]


async def test_feedback_sends_only_what_the_reader_can(make_rig: MakeRig) -> None:
    """A NAK would take the reader offline for 300 s: a relay-only PD gets no LED command."""
    rig = await make_rig(capabilities=[(CAP.OutputControl, 1, 1)])
    await rig.gate.feedback(granted=True)  # not online yet: nothing, no error
    await online(rig.gate)

    await rig.gate.feedback(granted=False)
    await rig.gate.open()

    assert [c["command"] for c in rig.reader.commands] == [osdp.Command.Output]
    assert rig.gate.online


async def test_a_reader_with_another_key_never_comes_online(
    make_rig: MakeRig, caplog: pytest.LogCaptureFixture
) -> None:
    rig = await make_rig(reader_key=OTHER_KEY)
    # The CP reaches the reader, tries its key, and gives the reader up (libosdp: offline
    # for 300 s): from then on nothing brings it online.
    await until(
        "the gate gives the reader up (its key does not match)",
        lambda: "OSDP reader offline" in caplog.text,
        seconds=WAIT,
    )
    assert not rig.gate.online
    assert not rig.gate.secure
    started = time.monotonic()
    with pytest.raises(GateError) as caught:
        await rig.gate.open()
    assert caught.value.reason == "gate_unreachable"
    assert time.monotonic() - started < 1
    assert not rig.gate.online
    assert not rig.reader.got(osdp.Command.Output)


async def test_no_key_refuses_to_start() -> None:
    gate_end, _ = memory_channel_pair()
    gate = OsdpGate(GATE, GateRole.EXIT, gate_end, scbk=None)
    threads = set(threading.enumerate())

    with pytest.raises(GateError) as caught:
        await gate.start(lambda _: None)

    assert caught.value.reason == "osdp_key_missing"
    assert "install_mode" in caught.value.detail
    assert set(threading.enumerate()) == threads
    await gate.stop()  # nothing to stop


async def test_install_mode_pairs_a_new_reader(
    make_rig: MakeRig, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader in install mode: libosdp falls back to SCBK-D and sets our key on it."""
    rig = await make_rig(reader_key=None, install_mode=True)
    await until(lambda: rig.gate.secure, seconds=WAIT)

    keysets = rig.reader.got(osdp.Command.Keyset)
    assert keysets
    assert keysets[0]["data"] == bytes.fromhex(KEY)
    assert "install mode" in caplog.text
    await online(rig.gate)
    await rig.gate.open()


async def test_install_mode_without_a_key_runs_in_the_clear(make_rig: MakeRig) -> None:
    rig = await make_rig(gate_key=None, reader_key=None, install_mode=True)
    await online(rig.gate)

    await rig.gate.open()

    assert not rig.gate.secure
    assert rig.reader.got(osdp.Command.Output)


async def test_the_key_is_never_shown(
    make_rig: MakeRig, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Not in our logs, not in libosdp's own (C, on stderr), not in repr."""
    caplog.set_level(logging.DEBUG)
    rig = await make_rig()
    await online(rig.gate)
    await rig.gate.open()
    await rig.gate.feedback(granted=True)
    rig.reader.read(b"qr-text")
    await until(lambda: rig.signals, seconds=WAIT)
    await rig.gate.stop()

    key = bytes.fromhex(KEY)
    output = capfd.readouterr()
    assert "Online; With SC" in output.err  # libosdp's own log lines were captured
    shown = caplog.text + repr(rig.gate) + output.out + output.err
    for form in (KEY, KEY.upper(), repr(key), key.hex(" ")):
        assert form not in shown
    with pytest.raises(ValueError, match="scbk") as caught:
        OsdpGate(GATE, GateRole.ENTRY, rig.gate._channel, scbk=KEY[:-2] + "zz")
    assert KEY[:-2] not in str(caught.value)


async def test_stop_joins_every_thread(make_rig: MakeRig) -> None:
    before = set(threading.enumerate())
    rig = await make_rig()
    await online(rig.gate)
    assert any(t.name == f"osdp-cp-{GATE}" for t in threading.enumerate())

    await rig.gate.stop()
    rig.reader.stop()

    assert set(threading.enumerate()) == before
    await rig.gate.stop()  # twice is fine
    await rig.gate.feedback(granted=True)  # stopped: nothing, no error
    with pytest.raises(GateError) as caught:
        await rig.gate.open()
    assert caught.value.reason == "gate_unreachable"
    assert not rig.gate.secure


async def test_a_nak_from_the_reader_is_a_refusal(make_rig: MakeRig) -> None:
    rig = await make_rig(answer=-1)
    await online(rig.gate)

    with pytest.raises(GateError) as caught:
        await rig.gate.open()

    assert caught.value.reason == "gate_refused"
    await until(lambda: not rig.gate._online.is_set(), seconds=WAIT)  # libosdp: offline for 300 s
    assert not rig.gate.online


async def test_an_output_the_reader_lacks_is_refused_without_sending(make_rig: MakeRig) -> None:
    rig = await make_rig(output_no=3, capabilities=[(CAP.OutputControl, 1, 1)])
    await online(rig.gate)

    with pytest.raises(GateError) as caught:
        await rig.gate.open()

    assert caught.value.reason == "gate_refused"
    assert not rig.reader.got(osdp.Command.Output)
    assert rig.gate.online


async def test_a_command_libosdp_does_not_accept_is_refused(
    make_rig: MakeRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    rig = await make_rig()
    await online(rig.gate)
    monkeypatch.setattr(rig.gate, "_submit", lambda _cp, _command: False)

    with pytest.raises(GateError) as caught:
        await rig.gate.open()

    assert caught.value.reason == "gate_refused"


async def test_an_unanswered_open_is_unreachable(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_timeout=0.3)
    await online(rig.gate)
    rig.reader.stall = True

    with pytest.raises(GateError) as caught:
        await rig.gate.open()

    assert caught.value.reason == "gate_unreachable"
    assert "acknowledge" in caught.value.detail
    assert not rig.gate._pending


async def test_stop_during_an_open_fails_it(make_rig: MakeRig) -> None:
    rig = await make_rig(ack_timeout=WAIT)
    await online(rig.gate)
    rig.reader.stall = True
    opening = asyncio.create_task(rig.gate.open())
    await until(lambda: rig.reader.got(osdp.Command.Output), seconds=WAIT)

    await rig.gate.stop()

    with pytest.raises(GateError) as caught:
        await opening
    assert caught.value.reason == "gate_unreachable"
    assert "dropped" in caught.value.detail


async def test_start_twice_is_an_error(make_rig: MakeRig) -> None:
    rig = await make_rig()
    with pytest.raises(RuntimeError):
        await rig.gate.start(lambda _: None)


async def test_the_gate_over_a_serial_line() -> None:
    """SerialChannel on a pseudo-terminal; the reader sits on its other side."""
    master, slave = os.openpty()
    reader = Reader(FdChannel(master), KEY, FULL_READER)
    gate = OsdpGate(GATE, GateRole.EXIT, SerialChannel(os.ttyname(slave), 115200), scbk=KEY)
    signals: list[GateSignal] = []
    try:
        await gate.start(signals.append)
        await online(gate)
        await gate.open()
        reader.read(b"over-rs485")
        await until(lambda: signals, seconds=WAIT)
    finally:
        await gate.stop()
        reader.stop()
        os.close(slave)
        os.close(master)
    assert signals == [GateSignal(GATE, SignalKind.CREDENTIAL, "over-rs485")]
    assert reader.got(osdp.Command.Output)
    assert gate.role is GateRole.EXIT


def test_serial_channel_reads_writes_flushes_and_closes() -> None:
    master, slave = os.openpty()
    channel = SerialChannel(os.ttyname(slave))
    channel.open()
    try:
        assert channel.read(64) == b""
        os.write(master, b"stale")
        assert channel.write(b"hello") == 5
        assert os.read(master, 64) == b"hello"
        os.write(master, b"data")
        got = b""
        deadline = time.monotonic() + WAIT
        while len(got) < 9 and time.monotonic() < deadline:
            got += channel.read(64)
        assert got == b"staledata"
        os.write(master, b"old")
        channel.flush()
        assert channel.read(64) == b""
        while channel.write(b"x" * 4096):  # until the line is full (then 0, no error)
            pass
    finally:
        channel.close()
        channel.close()
        os.close(slave)
        os.close(master)
    assert repr(channel) == f"SerialChannel({channel.port!r})"


def test_serial_channel_refuses_what_is_not_a_serial_port() -> None:
    fds = set(Path("/proc/self/fd").iterdir())
    channel = SerialChannel(os.devnull)
    with pytest.raises(termios.error, match="Inappropriate ioctl"):
        channel.open()
    assert set(Path("/proc/self/fd").iterdir()) == fds
    with pytest.raises(ValueError, match="baud_rate"):
        SerialChannel("/dev/ttyUSB0", 12345)


def test_from_options_builds_a_serial_gate() -> None:
    gate = OsdpGate.from_options(
        GATE,
        GateRole.ENTRY,
        {
            "serial_port": "/dev/ttyUSB0",
            "baud_rate": 38400,
            "scbk": KEY,
            "output": 1,
            "pulse_seconds": 2,
            "address": 5,
        },
    )
    assert repr(gate) == (
        "OsdpGate(gate_id='entry_1', role='entry', address=5, "
        "channel=SerialChannel('/dev/ttyUSB0'))"
    )
    assert gate._timer == 20
    assert gate._output_no == 1
    assert gate.gate_id == GATE


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"serial_port": 7}, "serial_port"),
        ({"serial_port": "/dev/ttyS0", "install_mode": "yes"}, "install_mode"),
        ({"serial_port": "/dev/ttyS0", "scbk": 12}, "scbk"),
        ({"serial_port": "/dev/ttyS0", "scbk": KEY[:30]}, "scbk"),
        ({"serial_port": "/dev/ttyS0", "scbk": KEY, "address": 127}, "address"),
        ({"serial_port": "/dev/ttyS0", "scbk": KEY, "output": 256}, "output"),
        ({"serial_port": "/dev/ttyS0", "scbk": KEY, "pulse_seconds": 26}, "pulse_seconds"),
        ({"serial_port": "/dev/ttyS0", "scbk": KEY, "pulse_seconds": 0.01}, "pulse_seconds"),
    ],
)
def test_bad_options_are_named(options: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        OsdpGate.from_options(GATE, GateRole.ENTRY, options)
