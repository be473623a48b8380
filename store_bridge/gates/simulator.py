"""A turnstile in memory, for the demo, the benchmarks and the tests.

`SimulatedGate.open` counts the command (`SimulatedGate.commands`, the "radio frames" the
gate received), then, `passage_seconds` later, reports the passage through the callback:
`SignalKind.OPENED` then `SignalKind.CLOSED`, scheduled on the event loop.

With ``walk_through=False`` nobody uses the opened gate: it reports the very same OPENED
and CLOSED (its arm released, then locked again when the pulse ended), as a dry-contact
turnstile does, but `SimulatedGate.passages` does not count anyone. Set `broken` to make
`open` fail with ``gate_unreachable`` (the command never reaches the gate, nothing counts).
"""

import asyncio

from .base import GateBase, GateError, GateRole, GateSignal, SignalCallback, SignalKind


class SimulatedGate(GateBase):
    """A simulated turnstile that lets one person through per open command."""

    def __init__(
        self,
        gate_id: str,
        role: GateRole = GateRole.ENTRY,
        *,
        passage_seconds: float = 0.5,
        walk_through: bool = True,
    ) -> None:
        """Configure the turnstile; ``passage_seconds`` may be 0 (reported on the next tick)."""
        if passage_seconds < 0:
            msg = "passage_seconds cannot be negative"
            raise ValueError(msg)
        super().__init__(gate_id, role)
        self._passage_seconds = passage_seconds
        self.walk_through = walk_through
        """Whether someone walks through each time the gate opens."""
        self.broken = False
        """While True, `open` raises ``GateError("gate_unreachable")``."""
        self._commands = 0
        self._passages = 0
        self._on_signal: SignalCallback | None = None
        self._scheduled: set[asyncio.TimerHandle] = set()

    @property
    def commands(self) -> int:
        """How many open commands the gate received."""
        return self._commands

    @property
    def passages(self) -> int:
        """How many people actually went through (none when ``walk_through`` is False)."""
        return self._passages

    def __repr__(self) -> str:
        """Name the gate."""
        return f"SimulatedGate(gate_id={self._gate_id!r}, role={self._role.value!r})"

    async def start(self, on_signal: SignalCallback) -> None:
        """Report signals to `on_signal` from now on."""
        self._on_signal = on_signal

    async def stop(self) -> None:
        """Cancel the passages still under way; report nothing more."""
        for handle in self._scheduled:
            handle.cancel()
        self._scheduled.clear()
        self._on_signal = None

    async def open(self) -> None:
        """Take the command; the passage is reported `passage_seconds` later."""
        if self.broken:
            raise GateError("gate_unreachable", f"simulated gate {self._gate_id} is broken")
        self._commands += 1
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle
        handle = loop.call_later(self._passage_seconds, lambda: self._pass(handle))
        self._scheduled.add(handle)

    def _pass(self, handle: asyncio.TimerHandle) -> None:
        """The passage is over: count it and report it."""
        self._scheduled.discard(handle)
        if self.walk_through:
            self._passages += 1
        if self._on_signal is not None:
            for kind in (SignalKind.OPENED, SignalKind.CLOSED):
                self._on_signal(GateSignal(self._gate_id, kind))
