"""The checkout's steps: what the state machine (`checkout.py`) asks the shell to do next.

Each processor call carries what the call needs (the payment reference, never in a repr) and
its idempotency key; `Wait` is a backoff, `Finished` the end.
"""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Create:
    """Create (not confirm) the app shopper's payment."""

    customer: str = field(repr=False)
    amount: int
    currency: str
    reference: str
    key: str
    """The creation's key; the shell adds the method's digest (a key per method sent)."""
    checkin_method: bool = True
    """The card found at check-in may be used (not after a payment with it was abandoned)."""


@dataclass(frozen=True, slots=True)
class Confirm:
    """Confirm the stored payment (the money moves)."""

    payment: str = field(repr=False)
    key: str
    reference: str = ""
    """The checkout's id (its session's card found at check-in)."""
    customer: str | None = field(default=None, repr=False)
    checkin_method: bool = False
    """A refusal may be the check-in card's, replaced since: the shell compares (once)."""


@dataclass(frozen=True, slots=True)
class Retrieve:
    """Look at the stored payment."""

    payment: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Capture:
    """Capture `amount` of the card's hold."""

    payment: str = field(repr=False)
    amount: int
    key: str


@dataclass(frozen=True, slots=True)
class Cancel:
    """Release the card's hold (an empty cart)."""

    payment: str = field(repr=False)
    key: str


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing before `until` (a backoff)."""

    until: datetime


@dataclass(frozen=True, slots=True)
class Finished:
    """The checkout is over."""


type Call = Create | Confirm | Retrieve | Capture | Cancel
type Step = Call | Wait | Finished
