"""The simulated turnstile: commands counted, the passage reported, failures on demand.

The simulator is the far side itself here (no hardware exists behind it): what is checked
is what the demo, the benchmarks and the bridge's tests rely on.
"""

import asyncio

import pytest

from store_bridge.gates.base import Gate, GateError, GateRole, GateSignal, SignalKind
from store_bridge.gates.simulator import SimulatedGate
from tests.waiting import until

WAIT = 10.0
OPENED_CLOSED = [SignalKind.OPENED, SignalKind.CLOSED]


class Signals:
    """Collects what a gate reports; lets a test wait for the n-th signal."""

    def __init__(self) -> None:
        self.received: list[GateSignal] = []

    def __call__(self, signal: GateSignal) -> None:
        self.received.append(signal)

    @property
    def kinds(self) -> list[SignalKind]:
        return [signal.kind for signal in self.received]

    async def wait_for(self, count: int) -> list[SignalKind]:
        await until(f"{count} signals", lambda: len(self.received) >= count, seconds=WAIT)
        return self.kinds


async def test_open_counts_the_command_and_reports_the_passage() -> None:
    gate: Gate = SimulatedGate("entry_1", passage_seconds=0)
    signals = Signals()
    await gate.start(signals)
    assert isinstance(gate, SimulatedGate)
    assert (gate.gate_id, gate.role, gate.commands, gate.passages) == ("entry_1", "entry", 0, 0)

    await gate.open()
    assert gate.commands == 1
    assert signals.received == []  # scheduled on the loop, never inside open()
    assert await signals.wait_for(2) == OPENED_CLOSED
    assert all(signal.gate_id == "entry_1" for signal in signals.received)
    assert gate.passages == 1
    await gate.stop()


async def test_the_passage_takes_passage_seconds() -> None:
    gate = SimulatedGate("exit_1", GateRole.EXIT, passage_seconds=0.2)
    signals = Signals()
    await gate.start(signals)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await gate.open()
    assert await signals.wait_for(2) == OPENED_CLOSED
    assert loop.time() - started >= 0.2
    assert gate.role is GateRole.EXIT
    await gate.stop()


async def test_each_command_is_one_passage() -> None:
    gate = SimulatedGate("entry_1", passage_seconds=0)
    signals = Signals()
    await gate.start(signals)
    for _ in range(3):
        await gate.open()
    assert await signals.wait_for(6) == OPENED_CLOSED * 3
    assert (gate.commands, gate.passages) == (3, 3)
    await gate.stop()


async def test_a_broken_gate_is_unreachable_and_hears_nothing() -> None:
    gate = SimulatedGate("entry_1", passage_seconds=0)
    signals = Signals()
    await gate.start(signals)
    gate.broken = True
    with pytest.raises(GateError) as error:
        await gate.open()
    assert error.value.reason == "gate_unreachable"
    assert gate.commands == 0

    gate.broken = False  # repaired
    await gate.open()
    assert await signals.wait_for(2) == OPENED_CLOSED
    assert gate.commands == 1
    await gate.stop()


async def test_nobody_walking_through_gives_the_same_signals_but_no_passage() -> None:
    gate = SimulatedGate("entry_1", passage_seconds=0, walk_through=False)
    signals = Signals()
    await gate.start(signals)
    await gate.open()
    assert await signals.wait_for(2) == OPENED_CLOSED
    assert (gate.commands, gate.passages) == (1, 0)
    await gate.stop()


async def test_stop_cancels_passages_under_way() -> None:
    gate = SimulatedGate("entry_1", passage_seconds=60)
    signals = Signals()
    await gate.start(signals)
    await gate.open()
    await gate.open()
    await gate.stop()  # the autouse cleanup check fails the test on a timer left behind
    assert signals.received == []
    assert gate.commands == 2
    assert gate.passages == 0


async def test_a_gate_not_started_counts_but_reports_nothing() -> None:
    gate = SimulatedGate("entry_1", passage_seconds=0)
    await gate.open()
    assert gate.commands == 1

    await until("the shopper passes", lambda: gate.passages, seconds=WAIT)  # reported to nobody
    signals = Signals()
    await gate.start(signals)
    assert signals.received == []
    await gate.stop()


def test_configuration() -> None:
    assert repr(SimulatedGate("entry_1")) == "SimulatedGate(gate_id='entry_1', role='entry')"
    with pytest.raises(ValueError, match="negative"):
        SimulatedGate("entry_1", passage_seconds=-1)
