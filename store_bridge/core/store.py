"""The store's rules: who may come in, how many are inside, what a shopping session is.

A shopping session is a *visit* of the shared model: it opens with a check-in at an entry
gate and closes with a check-out at an exit gate. It has an anonymous `track_id` (what the
in-store tracking and shelf systems use to attribute items later) and no personal data.
The `account` reference (QR `sub` or the card processor's token) stays in the bridge's
storage for checkout and payment and never appears in an event.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..vocabulary import new_id


class SessionState(StrEnum):
    """Where a shopping session is."""

    INSIDE = "inside"
    LEFT = "left"
    ABORTED = "aborted"


class EntryDenial(StrEnum):
    """Why the entry gate stays shut (besides a refused credential)."""

    STORE_FULL = "store_full"
    WRONG_GATE = "wrong_gate"
    STORAGE_UNAVAILABLE = "storage_unavailable"


@dataclass(frozen=True, slots=True)
class Session:
    """One shopper's (or one party's) trip through the store."""

    visit_id: str
    track_id: str
    source: str
    """`store_app` or `payment_card`."""
    entry_gate: str
    party: int
    entered: datetime
    account: str
    state: SessionState = SessionState.INSIDE
    customer: str | None = None
    """An app shopper's payment processor customer (the QR's `cus`): never in events."""

    def __repr__(self) -> str:
        """Without the account reference."""
        return (
            f"Session(visit_id={self.visit_id!r}, track_id={self.track_id!r}, "
            f"party={self.party}, state={self.state.value!r})"
        )


def new_session(  # noqa: PLR0913 - keyword-only parts of a session
    *,
    source: str,
    gate: str,
    party: int,
    account: str,
    now: datetime,
    customer: str | None = None,
) -> Session:
    """Open a session with fresh random visit and track ids."""
    return Session(
        visit_id=f"trip-{new_id()[:20]}",
        track_id=f"t-{new_id()[:16]}",
        source=source,
        entry_gate=gate,
        party=party,
        entered=now,
        account=account,
        customer=customer,
    )


def entry_denial(
    *, is_entry_gate: bool, occupancy: int, capacity: int, party: int
) -> EntryDenial | None:
    """Whether a check-in must be refused for the store's own reasons."""
    if not is_entry_gate:
        return EntryDenial.WRONG_GATE
    if occupancy + party > capacity:
        return EntryDenial.STORE_FULL
    return None


def after_exit(occupancy: int, party: int) -> int:
    """The occupancy once `party` people left (never below zero: counts can drift)."""
    return max(0, occupancy - party)


def occupancy_data(occupancy: int, capacity: int) -> dict[str, int | float]:
    """The data of an `occupancy_changed` event."""
    load = round(occupancy / capacity, 3) if capacity else 0.0
    return {"occupancy": occupancy, "capacity": capacity, "load": load}
