"""Receipt requests and receipt codes in the bridge's SQLite file.

`RECEIPTS_DDL` creates the two tables; the schema's migration includes it
(`store_schema.py`). Plain SQL over the database thread's connection, each function one
transaction's work (`storage.Store.change` runs it with the events it goes with).

- `receipt_requests`: one shopper's request for one visit's receipt. ``address`` is the only
  personal datum in the bridge, and it lives only as long as it must: set to NULL the moment
  the mail server accepted the message (or at ``erase_at``, with a retention configured), and
  when the request is given up. The row itself (visit, state, attempts, times, no address) is
  what the counts are made of and leaves with the store's retention (`purge`).
- `receipt_codes`: the one-time codes shown at the exit (as a QR). Only a code's SHA-256 is
  stored, so the file does not hold a usable code; ``form_token`` is the receipt page's form
  token for that code (CSRF); ``used`` is set once, when the page's form is sent.

Deleted and overwritten addresses are zeroed on disk (``PRAGMA secure_delete``, set on every
connection by `store_schema.connect`), so the file's free space does not keep them; after an
erasure `store_schema.fold_log` truncates the write-ahead log, whose old frames would still
hold them.
Times are seconds since the epoch.
"""

import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

RECEIPTS_DDL: Final = """
CREATE TABLE IF NOT EXISTS receipt_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, visit TEXT NOT NULL, address TEXT,
    language TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_try REAL NOT NULL, created REAL NOT NULL, done REAL, erase_at REAL);
CREATE INDEX IF NOT EXISTS receipt_requests_due ON receipt_requests(next_try)
    WHERE state = 'waiting';
CREATE INDEX IF NOT EXISTS receipt_requests_erase ON receipt_requests(erase_at)
    WHERE address IS NOT NULL AND erase_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS receipt_requests_done ON receipt_requests(done)
    WHERE done IS NOT NULL;
CREATE TABLE IF NOT EXISTS receipt_codes (
    code_hash TEXT PRIMARY KEY, visit TEXT NOT NULL, form_token TEXT NOT NULL,
    expires REAL NOT NULL, used REAL);
CREATE INDEX IF NOT EXISTS receipt_codes_expires ON receipt_codes(expires);
"""


class RequestState(StrEnum):
    """Where a receipt request stands."""

    WAITING = "waiting"
    SENT = "sent"
    FAILED = "failed"
    """Given up (refused for good, too many attempts, or its visit is gone): counted."""


class Redeemed(StrEnum):
    """What became of a receipt page's form."""

    QUEUED = "queued"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    WRONG_FORM = "wrong_form"


@dataclass(frozen=True, slots=True)
class DueRequest:
    """A request whose turn has come."""

    id: int
    visit: str
    address: str
    language: str
    attempts: int
    created: float


@dataclass(frozen=True, slots=True)
class CodeRow:
    """A receipt code as stored."""

    visit: str
    form_token: str
    expires: float
    used: float | None


def create_tables(db: sqlite3.Connection) -> None:
    """Create the tables (tests and tools; the bridge's migration runs `RECEIPTS_DDL`)."""
    for statement in RECEIPTS_DDL.split(";"):
        if statement.strip():
            db.execute(statement)


def add_request(db: sqlite3.Connection, visit: str, address: str, language: str, now: float) -> int:
    """Queue a request; its id."""
    cursor = db.execute(
        "INSERT INTO receipt_requests (visit, address, language, state, next_try, created) "
        "VALUES (?, ?, ?, 'waiting', ?, ?)",
        (visit, address, language, now, now),
    )
    return int(cursor.lastrowid or 0)


def add_code(
    db: sqlite3.Connection, code_hash: str, visit: str, form_token: str, expires: float
) -> None:
    """Store a new receipt code (by its hash)."""
    db.execute(
        "INSERT INTO receipt_codes (code_hash, visit, form_token, expires) VALUES (?, ?, ?, ?)",
        (code_hash, visit, form_token, expires),
    )


def find_code(db: sqlite3.Connection, code_hash: str) -> CodeRow | None:
    """A receipt code's row, if there is one."""
    row = db.execute(
        "SELECT visit, form_token, expires, used FROM receipt_codes WHERE code_hash = ?",
        (code_hash,),
    ).fetchone()
    return None if row is None else CodeRow(row[0], row[1], float(row[2]), row[3])


def code_state(row: CodeRow | None, now: float) -> Redeemed | None:
    """Why a code cannot be used now (None: it can)."""
    if row is None:
        return Redeemed.UNKNOWN
    if row.used is not None:
        return Redeemed.USED
    if row.expires <= now:
        return Redeemed.EXPIRED
    return None


def redeem(  # noqa: PLR0913, PLR0917 - one form's fields
    db: sqlite3.Connection,
    code_hash: str,
    form_token: str,
    address: str,
    language: str,
    now: float,
) -> Redeemed:
    """Use a code once: mark it used and queue its visit's request, or say why not."""
    row = find_code(db, code_hash)
    if (problem := code_state(row, now)) is not None:
        return problem
    assert row is not None  # noqa: S101 - code_state says so
    if row.form_token != form_token:
        return Redeemed.WRONG_FORM
    used = db.execute(
        "UPDATE receipt_codes SET used = ? WHERE code_hash = ? AND used IS NULL",
        (now, code_hash),
    )
    if used.rowcount != 1:  # pragma: no cover - one thread writes; kept as the guard
        return Redeemed.USED
    add_request(db, row.visit, address, language, now)
    return Redeemed.QUEUED


def due(db: sqlite3.Connection, now: float, limit: int) -> list[DueRequest]:
    """Waiting requests whose time has come, oldest first."""
    rows = db.execute(
        "SELECT id, visit, address, language, attempts, created FROM receipt_requests "
        "WHERE state = 'waiting' AND next_try <= ? ORDER BY next_try, id LIMIT ?",
        (now, limit),
    )
    return [DueRequest(r[0], r[1], r[2], r[3], int(r[4]), float(r[5])) for r in rows]


def due_now(db: sqlite3.Connection, visits: list[str], now: float) -> None:
    """The waiting requests of `visits` (their checkout is done) are due now."""
    db.executemany(
        "UPDATE receipt_requests SET next_try = ? "
        "WHERE state = 'waiting' AND visit = ? AND next_try > ?",
        [(now, visit, now) for visit in visits],
    )


def next_due(db: sqlite3.Connection) -> float | None:
    """When the next waiting request is due (None: nothing waits)."""
    row = db.execute(
        "SELECT min(next_try) FROM receipt_requests WHERE state = 'waiting'"
    ).fetchone()
    return None if row[0] is None else float(row[0])


def mark_sent(db: sqlite3.Connection, request: int, now: float, erase_at: float | None) -> None:
    """The server accepted it: erased at once, or at `erase_at` (a retention configured)."""
    db.execute(
        "UPDATE receipt_requests SET state = 'sent', attempts = attempts + 1, done = ?, "
        "erase_at = ?, address = CASE WHEN ? IS NULL THEN NULL ELSE address END WHERE id = ?",
        (now, erase_at, erase_at, request),
    )


def mark_failed(db: sqlite3.Connection, request: int, now: float, *, attempted: bool) -> None:
    """Given up: the address erased, the failure kept (without it) to be counted."""
    db.execute(
        "UPDATE receipt_requests SET state = 'failed', address = NULL, done = ?, "
        "attempts = attempts + ? WHERE id = ?",
        (now, int(attempted), request),
    )


def retry_later(db: sqlite3.Connection, request: int, next_try: float, *, attempted: bool) -> None:
    """Try again at `next_try` (an attempt counted only if the server was tried)."""
    db.execute(
        "UPDATE receipt_requests SET next_try = ?, attempts = attempts + ? WHERE id = ?",
        (next_try, int(attempted), request),
    )


def erase_is_due(db: sqlite3.Connection, now: float) -> bool:
    """Whether an address kept after sending has reached its `erase_at`."""
    row = db.execute(
        "SELECT 1 FROM receipt_requests "
        "WHERE address IS NOT NULL AND erase_at IS NOT NULL AND erase_at <= ? LIMIT 1",
        (now,),
    ).fetchone()
    return row is not None


def erase_due(db: sqlite3.Connection, now: float) -> int:
    """Erase the addresses kept after sending whose retention has passed; how many."""
    return db.execute(
        "UPDATE receipt_requests SET address = NULL "
        "WHERE address IS NOT NULL AND erase_at IS NOT NULL AND erase_at <= ?",
        (now,),
    ).rowcount


def counts(db: sqlite3.Connection) -> dict[str, int]:
    """Requests waiting, sent and given up (no ids, no addresses)."""
    found = dict(
        db.execute("SELECT state, count(*) FROM receipt_requests GROUP BY state").fetchall()
    )
    return {state.value: int(found.get(state.value, 0)) for state in RequestState}


def purge(db: sqlite3.Connection, before: float, limit: int) -> int:
    """Delete finished requests done before `before` and codes expired before it; how many."""
    requests = db.execute(
        "DELETE FROM receipt_requests WHERE id IN (SELECT id FROM receipt_requests "
        "WHERE done IS NOT NULL AND done < ? ORDER BY done LIMIT ?)",
        (before, limit),
    ).rowcount
    codes = db.execute(
        "DELETE FROM receipt_codes WHERE rowid IN (SELECT rowid FROM receipt_codes "
        "WHERE expires < ? ORDER BY expires LIMIT ?)",
        (before, limit - requests),
    ).rowcount
    return requests + codes
