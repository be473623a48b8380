"""What every gate adapter is: a portal of the store that can be told to let one person through.

An adapter turns "open" into its hardware's command (an MQTT relay pulse, an HTTP call, an
OSDP output, a simulated turnstile) and reports back what the gate itself tells: passages
(its door contact or turnstile arm) and, for readers, credentials presented at it.

Adapters do not decide anything: the bridge decides, then calls `open`. `open` returns once
the command was *issued* (handed to the broker, accepted by the controller, acknowledged by
the reader) and raises `GateError` when it could not be.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class GateRole(StrEnum):
    """Which way a gate lets people through."""

    ENTRY = "entry"
    EXIT = "exit"


class GateError(Exception):
    """A gate could not be commanded (controller unreachable, refused, timed out).

    `reason` is a snake_case code that goes into the access event (never a secret).
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        """Keep the machine-readable reason and a human detail for the log."""
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class SignalKind(StrEnum):
    """What a gate reports on its own."""

    OPENED = "opened"
    """The passage opened (door contact open, turnstile arm released)."""
    CLOSED = "closed"
    """The passage closed again (one person went through, or the pulse ended)."""
    CREDENTIAL = "credential"
    """A reader at this gate read a credential (`value` holds it; never logged)."""


@dataclass(frozen=True, slots=True)
class GateSignal:
    """Something a gate reported."""

    gate_id: str
    kind: SignalKind
    value: str | None = None
    """For `CREDENTIAL`: the raw text read (an app QR code); otherwise None."""

    def __repr__(self) -> str:
        """Never show a credential's value."""
        shown = "<hidden>" if self.value is not None else "None"
        return f"GateSignal(gate_id={self.gate_id!r}, kind={self.kind.value!r}, value={shown})"


type SignalCallback = Callable[[GateSignal], None]
"""Called (on the event loop) with each signal a gate reports."""


class GateBase:
    """What every adapter has: the portal id it answers to and which way it lets people through."""

    def __init__(self, gate_id: str, role: GateRole) -> None:
        """Name the gate."""
        self._gate_id = gate_id
        self._role = role

    @property
    def gate_id(self) -> str:
        """The portal id of this gate."""
        return self._gate_id

    @property
    def role(self) -> GateRole:
        """Entry or exit."""
        return self._role


class Gate(Protocol):
    """A gate adapter."""

    @property
    def gate_id(self) -> str:
        """The portal id of this gate (as in the access events)."""
        ...

    @property
    def role(self) -> GateRole:
        """Entry or exit."""
        ...

    async def start(self, on_signal: SignalCallback) -> None:
        """Connect to the hardware and begin reporting signals."""
        ...

    async def open(self) -> None:
        """Issue the open (pass one person) command; raise `GateError` if it cannot be issued."""
        ...

    async def stop(self) -> None:
        """Disconnect; release threads, sockets and tasks."""
        ...
