"""Checkouts, refunds, what accounts owe and the daily totals, in the bridge's SQLite file.

Plain SQL over the database thread's connection (`storage.Store.change` runs a function of
it in one transaction with the events it goes with). The checkout runner writes every
state it reaches here, committed, before it calls the processor again; a checkout is
unique per visit, so a final cart is taken once, whatever restarts (and the cart is marked
`taken` in the same transaction, so the carts still to be charged are read from a partial
index). Times are seconds since the epoch.

`daily_totals` keeps each day's sales per currency (the day in the store's time zone:
amount and count captured, amount refunded) without any id; it is written in the same
transaction as the `payment_captured` or `refund_issued` it counts, and is kept beyond the
retention. `purge_batch` deletes finished checkouts and refunds past the retention, never
an unfinished or blocked checkout, nor a failed one whose account still owes.
"""

import sqlite3
from dataclasses import dataclass, fields
from datetime import UTC, datetime, tzinfo
from typing import Any

from .cart_store import lines_from_json, lines_json
from .core.cart_model import CartLine
from .core.checkout import Checkout, Kind, Phase
from .core.refund import Refund, RefundPhase
from .vocabulary import Source


@dataclass(frozen=True, slots=True)
class ReadyCart:
    """A closed session's cart that checkout may take, with what pays for it."""

    visit: str
    lines: tuple[CartLine, ...]
    held: int
    closed: datetime
    final: bool
    source: str
    account: str
    customer: str | None

    def __repr__(self) -> str:
        """Without the account and customer references."""
        return f"ReadyCart(visit={self.visit!r}, lines={len(self.lines)}, held={self.held})"

    @property
    def kind(self) -> Kind:
        """An app shopper's saved card or a card shopper's hold."""
        return Kind.CARD if self.source == Source.PAYMENT_CARD.value else Kind.APP


def _ts(when: datetime | None) -> float | None:
    return None if when is None else when.timestamp()


def _when(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


_COLUMNS = tuple(f.name for f in fields(Checkout))
_FIXED = ("id", "visit", "kind", "account", "customer", "total", "currency", "items")
"""Columns a checkout never changes after its start (`_CHANGING`: the others)."""
_CHANGING = tuple(name for name in _COLUMNS if name not in _FIXED)
_STORED = (*_COLUMNS, "created", "updated")


def _insert(columns: tuple[str, ...]) -> str:
    names, marks = ", ".join(columns), ", ".join(f":{name}" for name in columns)
    return f"INSERT INTO checkouts ({names}) VALUES ({marks})"  # noqa: S608 - fixed names


_SAVE = (
    f"{_insert(_STORED)} ON CONFLICT(id) DO UPDATE SET "
    f"{', '.join(f'{name} = excluded.{name}' for name in (*_COLUMNS, 'updated'))}"
)
_START = f"{_insert((*_STORED, 'charged'))} ON CONFLICT(visit) DO NOTHING"
"""A new checkout with the lines it charges; nothing if its visit has one already."""
_SETS = ", ".join(f"{name} = :{name}" for name in (*_CHANGING, "updated"))
_UPDATE = f"UPDATE checkouts SET {_SETS} WHERE id = :id"  # noqa: S608 - fixed names


def _values(checkout: Checkout, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(checkout, name) for name in _COLUMNS}
    values["kind"] = checkout.kind.value
    values["phase"] = checkout.phase.value
    values["look"] = int(checkout.look)
    values["alerted"] = int(checkout.alerted)
    values["retry_at"] = _ts(checkout.retry_at)
    values["created"] = values["updated"] = now.timestamp()
    return values


def save(db: sqlite3.Connection, checkout: Checkout, now: datetime) -> None:
    """Write a checkout as it stands (insert or replace its row)."""
    db.execute(_SAVE, _values(checkout, now))


def update(db: sqlite3.Connection, before: Checkout, after: Checkout, now: datetime) -> None:
    """Write `after` over `before`, stored: one UPDATE of the columns a checkout may change.

    Written whole if a column fixed at the start changed after all, or if it has no row.
    """
    fixed = all(getattr(before, name) == getattr(after, name) for name in _FIXED)
    if not (fixed and db.execute(_UPDATE, _values(after, now)).rowcount == 1):
        save(db, after, now)


def _checkout(row: sqlite3.Row) -> Checkout:
    values = {name: row[name] for name in _COLUMNS}
    values["kind"] = Kind(row["kind"])
    values["phase"] = Phase(row["phase"])
    values["look"] = bool(row["look"])
    values["alerted"] = bool(row["alerted"])
    values["retry_at"] = _when(row["retry_at"])
    return Checkout(**values)


def save_created(db: sqlite3.Connection, checkout: Checkout, now: datetime) -> bool:
    """Store a checkout whose payment was just created, if it has none stored yet.

    A compare-and-set: False (nothing written) if a payment is stored already (another
    runner stored its own first): the new payment is then an orphan nobody confirms.
    """
    claimed = db.execute(f"{_UPDATE} AND payment IS NULL", _values(checkout, now))
    return claimed.rowcount == 1


def unfinished(db: sqlite3.Connection) -> list[Checkout]:
    """The checkouts not done nor failed, blocked ones included (resumed at start)."""
    rows = db.execute(
        "SELECT * FROM checkouts WHERE phase IN ('final', 'created', 'blocked') ORDER BY created"
    )
    return [_checkout(row) for row in rows]


def find(db: sqlite3.Connection, visit: str) -> Checkout | None:
    """A visit's checkout."""
    row = db.execute("SELECT * FROM checkouts WHERE visit = ?", (visit,)).fetchone()
    return None if row is None else _checkout(row)


def failed_count(db: sqlite3.Connection) -> int:
    """Checkouts for the operator: failed with the account still owing, or blocked."""
    row = db.execute(
        "SELECT count(*) FROM checkouts WHERE phase IN ('failed', 'blocked') AND "
        "(phase = 'blocked' OR account IN (SELECT account FROM outstanding))"
    ).fetchone()
    return int(row[0])


def owing_count(db: sqlite3.Connection) -> int:
    """How many accounts owe something."""
    return int(db.execute("SELECT count(DISTINCT account) FROM outstanding").fetchone()[0])


def ready_carts(
    db: sqlite3.Connection, *, settled_before: datetime, deadline_before: datetime, limit: int
) -> list[ReadyCart]:
    """Closed carts without a checkout that may be charged now.

    A cart may be charged once its session closed before `settled_before` (late shelf
    messages had time to arrive) and nothing of it waits for evidence or review, or once it
    closed before `deadline_before` (the review deadline: held picks are not charged).
    """
    rows = db.execute(
        "SELECT c.visit, c.lines, c.held, c.closed, c.final, s.source, s.account, s.customer "
        "FROM carts c JOIN sessions s ON s.visit_id = c.visit "
        "WHERE c.closed IS NOT NULL AND c.taken = 0 AND c.closed <= ? "
        "AND (c.final = 1 OR c.held = 0 OR c.closed <= ?) "
        "AND NOT EXISTS (SELECT 1 FROM checkouts k WHERE k.visit = c.visit) "
        "ORDER BY c.closed LIMIT ?",
        (settled_before.timestamp(), deadline_before.timestamp(), limit),
    )
    return [
        ReadyCart(
            visit=row["visit"],
            lines=lines_from_json(row["lines"]),
            held=row["held"],
            closed=datetime.fromtimestamp(row["closed"], UTC),
            final=bool(row["final"]),
            source=row["source"],
            account=row["account"],
            customer=row["customer"],
        )
        for row in rows
    ]


def start(
    db: sqlite3.Connection, checkout: Checkout, now: datetime, lines: tuple[CartLine, ...] = ()
) -> bool:
    """Store a new checkout, with the cart's `lines` it charges, unless its visit has one."""
    values = _values(checkout, now)
    values["charged"] = lines_json(lines)
    if db.execute(_START, values).rowcount != 1:
        return False
    db.execute("UPDATE carts SET taken = 1 WHERE visit = ?", (checkout.visit,))
    return True


def charged_lines(db: sqlite3.Connection, visit: str) -> tuple[CartLine, ...] | None:
    """The lines `visit`'s checkout charged, as they were when it started (None: no checkout).

    What receipts and refunds by items read: the cart may change after it was taken.
    """
    row = db.execute("SELECT charged FROM checkouts WHERE visit = ?", (visit,)).fetchone()
    if row is None:
        return None
    return () if row[0] is None else lines_from_json(row[0])


# --- what accounts owe ----------------------------------------------------------------


def owe(db: sqlite3.Connection, account: str, amount: int, currency: str, now: datetime) -> None:
    """Add `amount` to what `account` owes."""
    db.execute(
        "INSERT INTO outstanding VALUES (?, ?, ?, ?) ON CONFLICT(account, currency) "
        "DO UPDATE SET amount = amount + excluded.amount",
        (account, currency, amount, now.timestamp()),
    )


def owing(db: sqlite3.Connection) -> set[str]:
    """Every account that owes something."""
    return {row[0] for row in db.execute("SELECT DISTINCT account FROM outstanding")}


def settle(db: sqlite3.Connection, account: str) -> dict[str, int]:
    """An operator settled `account`: what it owed (by currency), now nothing."""
    owed = {
        row[0]: int(row[1])
        for row in db.execute(
            "SELECT currency, amount FROM outstanding WHERE account = ?", (account,)
        )
    }
    db.execute("DELETE FROM outstanding WHERE account = ?", (account,))
    return owed


# --- refunds ------------------------------------------------------------------------------

_REFUND_COLUMNS = tuple(f.name for f in fields(Refund))


def save_refund(db: sqlite3.Connection, refund: Refund, now: datetime) -> None:
    """Write a refund as it stands."""
    values: dict[str, Any] = {name: getattr(refund, name) for name in _REFUND_COLUMNS}
    values["phase"] = refund.phase.value
    values["retry_at"] = _ts(refund.retry_at)
    names = ", ".join((*_REFUND_COLUMNS, "created", "updated"))
    marks = ", ".join(f":{name}" for name in (*_REFUND_COLUMNS, "created", "updated"))
    updates = ", ".join(f"{name} = excluded.{name}" for name in (*_REFUND_COLUMNS, "updated"))
    db.execute(
        f"INSERT INTO refunds ({names}) VALUES ({marks}) "  # noqa: S608 - fixed names
        f"ON CONFLICT(id) DO UPDATE SET {updates}",
        {**values, "created": now.timestamp(), "updated": now.timestamp()},
    )


def _refund(row: sqlite3.Row) -> Refund:
    values = {name: row[name] for name in _REFUND_COLUMNS}
    values["phase"] = RefundPhase(row["phase"])
    values["retry_at"] = _when(row["retry_at"])
    return Refund(**values)


def find_refund(db: sqlite3.Connection, visit: str) -> Refund | None:
    """A visit's refund."""
    row = db.execute("SELECT * FROM refunds WHERE visit = ?", (visit,)).fetchone()
    return None if row is None else _refund(row)


def refund_overtaken(db: sqlite3.Connection, refund: Refund) -> bool:
    """Whether `refund` may no longer be written: its visit's refund is over, or another one.

    The compare-and-set of a refund's writes: an answer never overwrites a refund the operator
    closed (`core/refund.settled`) meanwhile, nor a refund asked for after it.
    """
    row = db.execute("SELECT id, phase FROM refunds WHERE visit = ?", (refund.visit,)).fetchone()
    if row is None:
        return False
    return bool(row["id"] != refund.id or row["phase"] in {"done", "failed"})


def delete_refund(db: sqlite3.Connection, refund_id: str) -> None:
    """Forget a refund (one the operator closed as never made, for a new one of its visit)."""
    db.execute("DELETE FROM refunds WHERE id = ?", (refund_id,))


def unfinished_refunds(db: sqlite3.Connection) -> list[Refund]:
    """The refunds not done nor failed, and the uncertain ones still to be looked up or at."""
    rows = db.execute(
        "SELECT * FROM refunds WHERE phase IN ('requested', 'sending') OR (phase = 'uncertain' "
        "AND retry_at IS NOT NULL) ORDER BY created"
    )
    return [_refund(row) for row in rows]


def uncertain_refunds(db: sqlite3.Connection) -> int:
    """How many refunds may or may not have been made (never purged until settled)."""
    return int(db.execute("SELECT count(*) FROM refunds WHERE phase = 'uncertain'").fetchone()[0])


def stuck_refunds(db: sqlite3.Connection, before: datetime) -> int:
    """How many of those were asked for before `before` (`core/refund.stuck_before`).

    Read from the partial index of uncertain refunds by their creation.
    """
    row = db.execute(
        "SELECT count(*) FROM refunds WHERE phase = 'uncertain' AND created < ?",
        (before.timestamp(),),
    ).fetchone()
    return int(row[0])


# --- daily totals (no id) -------------------------------------------------------------


def sales_day(at: datetime, zone: tzinfo) -> str:
    """The store's day (ISO date in its time zone) of an instant."""
    return at.astimezone(zone).date().isoformat()


def add_sale(db: sqlite3.Connection, day: str, currency: str, amount: int) -> None:
    """Count one payment captured on `day`."""
    db.execute(
        "INSERT INTO daily_totals (day, currency, amount, count) VALUES (?, ?, ?, 1) "
        "ON CONFLICT(day, currency) DO UPDATE SET amount = amount + excluded.amount, "
        "count = count + 1",
        (day, currency, amount),
    )


def add_refunded(db: sqlite3.Connection, day: str, currency: str, amount: int) -> None:
    """Count `amount` refunded on `day`."""
    db.execute(
        "INSERT INTO daily_totals (day, currency, refunded) VALUES (?, ?, ?) "
        "ON CONFLICT(day, currency) DO UPDATE SET refunded = refunded + excluded.refunded",
        (day, currency, amount),
    )


def sales(db: sqlite3.Connection, day: str) -> dict[str, tuple[int, int, int]]:
    """`day`'s totals by currency: (amount, count, refunded)."""
    rows = db.execute(
        "SELECT currency, amount, count, refunded FROM daily_totals WHERE day = ?", (day,)
    )
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}


# --- retention ------------------------------------------------------------------------


def purge_batch(db: sqlite3.Connection, before: float, limit: int) -> int:
    """Delete at most `limit` finished checkouts and refunds last changed before `before`.

    Never an unfinished or blocked checkout, nor a failed one whose account still owes
    (the debt's record), nor a refund still to be sent or looked at (uncertain: kept until
    settled). Card taps' holds (`card_holds`) go the same way, unless the hold still owes.
    """
    checkouts = db.execute(
        "DELETE FROM checkouts WHERE rowid IN (SELECT rowid FROM checkouts "
        "WHERE phase IN ('done', 'failed') AND updated < ? AND NOT (phase = 'failed' AND "
        "account IN (SELECT account FROM outstanding)) ORDER BY updated LIMIT ?)",
        (before, limit),
    ).rowcount
    refunds = db.execute(
        "DELETE FROM refunds WHERE rowid IN (SELECT rowid FROM refunds "
        "WHERE phase IN ('done', 'failed') AND updated < ? ORDER BY updated LIMIT ?)",
        (before, limit - checkouts),
    ).rowcount
    holds = db.execute(  # a card's taps (`card_debts.py`), kept while the hold owes
        "DELETE FROM card_holds WHERE rowid IN (SELECT rowid FROM card_holds WHERE seen < ? "
        "AND hold NOT IN (SELECT account FROM outstanding) ORDER BY seen LIMIT ?)",
        (before, limit - checkouts - refunds),
    ).rowcount
    return checkouts + refunds + holds
