"""The virtual carts and the review queue in the bridge's SQLite file (schema 3).

Plain SQL over the database thread's connection (`storage.Store.change` runs a function of
it in one transaction with the events it goes with). A cart is stored as it stands: its
lines (with the shelf changes behind each, for checkout) as JSON, how many of its picks are
held, whether a track is bound, when its session closed, and whether it is final (nothing
of it waits for evidence or review any more). A review keeps its shelf change and the
candidate sessions, nothing about a person; a pick still held for evidence is stored as the
review it becomes after a restart (noted ``held``). Times are seconds since the epoch.
"""

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .core.cart_model import Cart, CartLine, Review, ShelfChange, ShelfChangeKind


@dataclass(frozen=True, slots=True)
class StoredCart:
    """A cart as the database holds it."""

    cart: Cart
    closed: datetime | None = None
    """When its session left the store (None: still inside)."""
    final: bool = False
    """Nothing of it waits any more: what checkout charges."""


def _when(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def lines_json(lines: Iterable[CartLine]) -> str:
    """A cart's lines as stored."""
    return json.dumps(
        [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "currency": line.currency,
                "tax_rate": str(line.tax_rate),
                "sources": list(line.sources),
            }
            for line in lines
        ],
        separators=(",", ":"),
    )


def lines_from_json(text: str) -> tuple[CartLine, ...]:
    """A cart's lines from what `lines_json` stored."""
    return tuple(
        CartLine(
            sku=item["sku"],
            name=item["name"],
            quantity=int(item["quantity"]),
            unit_price=int(item["unit_price"]),
            currency=item["currency"],
            tax_rate=Decimal(item["tax_rate"]),
            sources=tuple(item["sources"]),
        )
        for item in json.loads(text)
    )


def _change_json(change: ShelfChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "lane": change.lane,
        "sku": change.sku,
        "zone": change.zone,
        "kind": change.kind.value,
        "quantity": change.quantity,
        "grams": change.grams,
        "began": change.began.timestamp(),
        "settled": change.settled.timestamp(),
        **({} if change.began_known else {"began_known": False}),
    }


def _change(item: dict[str, Any]) -> ShelfChange:
    return ShelfChange(
        id=item["id"],
        lane=item["lane"],
        sku=item["sku"],
        zone=item["zone"],
        kind=ShelfChangeKind(item["kind"]),
        quantity=int(item["quantity"]),
        grams=float(item["grams"]),
        began=datetime.fromtimestamp(item["began"], UTC),
        settled=datetime.fromtimestamp(item["settled"], UTC),
        began_known=bool(item.get("began_known", True)),
    )


def save(
    db: sqlite3.Connection,
    carts: Sequence[StoredCart],
    reviews: Sequence[Review] | None,
    now: datetime,
) -> None:
    """Write these carts as they stand; with `reviews`, the review queue becomes exactly that."""
    db.executemany(
        "INSERT INTO carts (visit, lines, held, bound, updated, closed, final) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(visit) DO UPDATE SET lines = excluded.lines, "
        "held = excluded.held, bound = excluded.bound, updated = excluded.updated, "
        "closed = excluded.closed, final = excluded.final",
        [
            (
                s.cart.visit,
                lines_json(s.cart.lines),
                s.cart.held,
                int(s.cart.bound),
                now.timestamp(),
                None if s.closed is None else s.closed.timestamp(),
                int(s.final),
            )
            for s in carts
        ],
    )
    if reviews is None:
        return
    keep = [review.id for review in reviews]
    db.execute(
        "DELETE FROM reviews WHERE id NOT IN (SELECT value FROM json_each(?))", (json.dumps(keep),)
    )
    db.executemany(
        "INSERT OR REPLACE INTO reviews (id, change, candidates, since, notes) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (
                review.id,
                json.dumps(_change_json(review.change)),
                json.dumps(list(review.candidates)),
                review.since.timestamp(),
                json.dumps(list(review.notes)),
            )
            for review in reviews
        ],
    )


def _stored(row: sqlite3.Row) -> StoredCart:
    cart = Cart(
        visit=row["visit"],
        lines=lines_from_json(row["lines"]),
        held=row["held"],
        bound=bool(row["bound"]),
    )
    return StoredCart(cart, _when(row["closed"]), bool(row["final"]))


def live(db: sqlite3.Connection) -> tuple[list[StoredCart], list[Review]]:
    """The carts that are not final yet, and the review queue (what a restart restores)."""
    carts = [_stored(row) for row in db.execute("SELECT * FROM carts WHERE final = 0")]
    reviews = [
        Review(
            id=row["id"],
            change=_change(json.loads(row["change"])),
            candidates=tuple(json.loads(row["candidates"])),
            since=datetime.fromtimestamp(row["since"], UTC),
            notes=tuple(json.loads(row["notes"])),
        )
        for row in db.execute("SELECT * FROM reviews ORDER BY since")
    ]
    return carts, reviews


def taken(db: sqlite3.Connection, visit: str) -> bool:
    """Whether a checkout has taken the session's cart (it is being charged as it stood)."""
    row = db.execute("SELECT 1 FROM carts WHERE visit = ? AND taken = 1", (visit,)).fetchone()
    return row is not None


def find(db: sqlite3.Connection, visit: str) -> StoredCart | None:
    """One session's stored cart."""
    row = db.execute("SELECT * FROM carts WHERE visit = ?", (visit,)).fetchone()
    return None if row is None else _stored(row)


def purge_batch(
    db: sqlite3.Connection, closed_before: float, limit: int, *, charges: bool = False
) -> int:
    """Delete at most `limit` carts and `limit` reviews past the retention; how many rows.

    Carts whose session closed before `closed_before`, reviews waiting since before it (the
    bridge drops those from its queue too, `CartBook.expire_reviews`). Runs inside the caller's
    transaction. A cart still inside (`closed` NULL) is never deleted; with `charges` (the
    store charges carts), neither is one the checkout has not taken yet.
    """
    carts = db.execute(
        "DELETE FROM carts WHERE rowid IN (SELECT rowid FROM carts "
        "WHERE closed IS NOT NULL AND closed < ? AND NOT (? AND taken = 0) "
        "ORDER BY closed LIMIT ?)",
        (closed_before, int(charges), limit),
    ).rowcount
    reviews = db.execute(
        "DELETE FROM reviews WHERE rowid IN (SELECT rowid FROM reviews "
        "WHERE since < ? ORDER BY since LIMIT ?)",
        (closed_before, limit),
    ).rowcount
    return carts + reviews
