"""Card terminals at the entry: a tap arrives as the payment processor's token, never a card.

A card terminal belongs to the payment processor: the card is read and tokenized there
(its number never reaches the bridge), and the processor's terminal integration reports
the tap with a token for the card (a payment-method id). Each terminal stands at one
entry gate; a tap checks in at that gate.

Two adapters:

- `WebhookTerminals`: the processor's integration (or a small relay next to the
  terminal) calls ``POST /v1/terminals/<terminal>/tap`` with ``{"card_token": ...}``
  and the API token (see `web.py`).
- `SimulatedTerminal`: for the demo and the tests; `tap()` makes a processor-style token
  (``pm_sim_…``) as a processor would, and reports it. Like a real processor's, its tokens
  never look like a card number (a run of hex digits can: 0.2 % of them would).
"""

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from .bridge import Bridge, Decision, UnknownGateError
from .core.card_numbers import looks_like_card_number


@dataclass(frozen=True, slots=True)
class CardTap:
    """A card tapped at a terminal, as the processor reports it."""

    terminal: str
    card_token: str = field(repr=False)


type TapHandler = Callable[[CardTap], Awaitable[object]]


class UnknownTerminalError(KeyError):
    """No terminal with this id."""


class WebhookTerminals:
    """Terminals whose taps arrive over the API: which terminal stands at which gate."""

    def __init__(self, bridge: Bridge, gates: Mapping[str, str]) -> None:
        """`gates` maps each terminal id to its entry gate's id."""
        for terminal, gate in gates.items():
            if gate not in bridge.gates:
                raise UnknownGateError(f"terminal {terminal} stands at unknown gate {gate}")
        self.bridge = bridge
        self.gates = dict(gates)

    async def tap(self, tap: CardTap) -> Decision:
        """Check in at the terminal's gate with the card's token."""
        try:
            gate = self.gates[tap.terminal]
        except KeyError:
            raise UnknownTerminalError(tap.terminal) from None
        return await self.bridge.check_in_card(gate, tap.card_token)


class SimulatedTerminal:
    """A card terminal and its processor in miniature (demo, tests)."""

    def __init__(self, terminal_id: str, handler: TapHandler) -> None:
        """Report taps to `handler` (e.g. `WebhookTerminals.tap`)."""
        self.terminal_id = terminal_id
        self._handler = handler
        self.taps = 0

    async def tap(self) -> object:
        """A shopper taps a card: the processor tokenizes it; the bridge gets the token."""
        self.taps += 1
        token = f"pm_sim_{secrets.token_hex(12)}"
        while looks_like_card_number(token):
            token = f"pm_sim_{secrets.token_hex(12)}"
        return await self._handler(CardTap(self.terminal_id, token))
