"""The changes the cart book is unsure of: held for evidence, then the operator's review queue.

A held change waits with its candidate sessions until evidence decides it (the cart book
releases it) or its deadline passes (it goes to review). A review waits for an operator
(`CartBook.resolve`), or for the retention period to run out (`expire`). Each candidate
session counts the changes it may yet be charged for (`held_for`, the cart's `held`).

Over a restart the held changes are kept as reviews (`pending`): the evidence that could
have decided them (the tracks) is not kept, so an operator decides them; no pick is lost.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from .cart_model import Review, ShelfChange, ShelfChangeKind

HELD_NOTE: Final = "held"
"""The note on a review that was a held change when the bridge stopped."""


def review_id(change: ShelfChange) -> str:
    """The id of the review a change goes to."""
    return f"review-{change.id}"


@dataclass(slots=True)
class Held:
    """A change waiting for evidence: who could have made it, and what was seen since."""

    change: ShelfChange
    candidates: tuple[str, ...]
    since: datetime
    notes: list[str] = field(default_factory=list)


class ReviewQueue:
    """The held changes and the reviews, and how many of each a session is a candidate for."""

    def __init__(self) -> None:
        """Start empty."""
        self.held: dict[str, Held] = {}
        """By shelf change id."""
        self.reviews: dict[str, Review] = {}
        """By review id, oldest first."""
        self._for: Counter[str] = Counter()

    def held_for(self, visit: str) -> int:
        """How many held changes and reviews `visit` is a candidate of."""
        return self._for[visit]

    def hold(self, change: ShelfChange, candidates: tuple[str, ...], at: datetime) -> None:
        """Hold `change` for evidence."""
        self.held[change.id] = Held(change, candidates, at)
        self._for.update(candidates)

    def release(self, held: Held) -> None:
        """Evidence decided a held change."""
        del self.held[held.change.id]
        self._unhold(held.candidates)

    def to_review(self, held: Held, at: datetime) -> Review:
        """A held change's deadline passed: it waits for an operator."""
        del self.held[held.change.id]
        review = Review(review_id(held.change), held.change, held.candidates, at, tuple(held.notes))
        self.reviews[review.id] = review
        return review

    def close(self, review: Review) -> None:
        """An operator decided a review."""
        del self.reviews[review.id]
        self._unhold(review.candidates)

    def due(self, before: datetime) -> list[Held]:
        """The held changes that settled at or before `before`."""
        return [h for h in self.held.values() if h.change.settled <= before]

    def picks_at(self, visit: str, change: ShelfChange) -> list[Held]:
        """The held picks at `change`'s lane, before it, that `visit` may have made."""
        return [
            h for h in self.held.values() if _earlier_pick(h.change, h.candidates, visit, change)
        ]

    def may_hold(self, visit: str, change: ShelfChange) -> bool:
        """Whether `visit` may hold an item of `change`'s lane from an undecided pick.

        One held, or waiting for review, that came before `change`.
        """
        return bool(self.picks_at(visit, change)) or any(
            _earlier_pick(r.change, r.candidates, visit, change) for r in self.reviews.values()
        )

    def pending(self) -> tuple[Review, ...]:
        """The held changes as reviews (noted `HELD_NOTE`): what a restart must not lose."""
        return tuple(
            Review(review_id(h.change), h.change, h.candidates, h.since, (*h.notes, HELD_NOTE))
            for h in self.held.values()
        )

    def restore(self, reviews: Iterable[Review]) -> list[Review]:
        """Take back stored reviews (each once, by its id); those that were held changes."""
        was_held: list[Review] = []
        for review in reviews:
            if review.id in self.reviews:
                continue
            if HELD_NOTE in review.notes:
                notes = tuple(n for n in review.notes if n != HELD_NOTE)
                review = Review(review.id, review.change, review.candidates, review.since, notes)  # noqa: PLW2901
                was_held.append(review)
            self.reviews[review.id] = review
            self._for.update(review.candidates)
        return was_held

    def expire(self, before: datetime) -> list[Review]:
        """Drop the reviews waiting since before `before` (past the retention)."""
        old = [r for r in self.reviews.values() if r.since < before]
        for review in old:
            self.close(review)
        return old

    def forget(self, visit: str) -> None:
        """A session left memory."""
        self._for.pop(visit, None)

    def _unhold(self, candidates: Iterable[str]) -> None:
        for visit in candidates:
            if self._for[visit] > 1:
                self._for[visit] -= 1
            else:
                self._for.pop(visit, None)


def _earlier_pick(
    pick: ShelfChange, candidates: tuple[str, ...], visit: str, change: ShelfChange
) -> bool:
    return (
        pick.kind is ShelfChangeKind.PICK
        and pick.lane == change.lane
        and pick.began < change.began
        and visit in candidates
    )
