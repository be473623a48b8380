"""What a retention purge may delete (`Due`) and what it deleted (`Purged`).

Kept apart from `storage.py` (which re-exports both): the purge's counts are read by the
bridge's status and the benchmarks as well as written by the store.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Due:
    """What a purge may delete: everything older than these times (seconds since the epoch)."""

    sent_before: float
    ended_before: float
    expired_before: float
    charges: bool = False
    """The store charges carts (`[payments]`): only carts the checkout took leave, and only
    sessions whose cart it took (or that had none)."""


@dataclass(frozen=True, slots=True)
class Purged:
    """What a purge deleted."""

    events: int = 0
    sessions: int = 0
    used_codes: int = 0
    batches: int = 0
    pages_freed: int = 0
    carts: int = 0
    checkouts: int = 0
    """Finished checkouts and refunds (`checkout_store.purge_batch`)."""
    receipts: int = 0
    """Finished receipt requests and expired receipt codes (`receipt_store.purge`)."""

    @property
    def rows(self) -> int:
        """Rows deleted, all tables."""
        return (
            self.events
            + self.sessions
            + self.used_codes
            + self.carts
            + self.checkouts
            + (self.receipts)
        )

    def __add__(self, other: Purged) -> Purged:
        """Both purges' counts."""
        return Purged(
            self.events + other.events,
            self.sessions + other.sessions,
            self.used_codes + other.used_codes,
            self.batches + other.batches,
            self.pages_freed + other.pages_freed,
            self.carts + other.carts,
            self.checkouts + other.checkouts,
            self.receipts + other.receipts,
        )
