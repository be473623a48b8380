"""What the bridge's parts share: the store's settings, a configured gate, a decision."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .core.credentials import OperatorKey
from .gates.base import Gate
from .vocabulary import Outcome


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """The store's own settings."""

    site: str
    name: str
    capacity: int
    issuer: str
    keys: Mapping[str, OperatorKey] = field(default_factory=dict)
    max_party: int = 4
    retention_days: int = 90


@dataclass(frozen=True, slots=True)
class GateInfo:
    """A configured gate: its adapter and display name."""

    gate: Gate
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class Decision:
    """What the bridge did with a request (returned to the API caller)."""

    gate: str
    opened: bool
    outcome: Outcome
    reason: str | None = None
    visit_id: str | None = None
    track_id: str | None = None
    occupancy: int = 0
    decided_ms: float = 0.0
    """Credential presented → open command issued (or refusal), in milliseconds."""

    def to_json(self) -> dict[str, Any]:
        """The API answer."""
        return {
            "gate": self.gate,
            "opened": self.opened,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "visit": self.visit_id,
            "track": self.track_id,
            "occupancy": self.occupancy,
        }


class UnknownGateError(KeyError):
    """No gate with this id."""


def find_gate(gates: Mapping[str, GateInfo], gate_id: str) -> GateInfo:
    """The gate with this id, or `UnknownGateError`."""
    try:
        return gates[gate_id]
    except KeyError:
        raise UnknownGateError(gate_id) from None
