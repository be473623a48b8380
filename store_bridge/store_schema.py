"""The bridge's SQLite file: its schema, its settings, and bringing an older file up to date.

Schema versions (kept in `meta`, key `schema`):

1. sessions, used QR ids (`replay`), occupancy (`meta`) and the event outbox.
2. what retention needs: `sessions.ended` (when a session ended, in seconds since the
   epoch, so that a range is a number range), indexes on `outbox.sent`, `sessions.ended` and
   `replay.expires` (a purge with nothing due reads an index, not the table), and
   `auto_vacuum=INCREMENTAL` (pages freed by a purge are given back to the file system).
3. the virtual cart (`carts.py`): `carts`, a session's cart as it stands (its lines as JSON,
   with the shelf changes behind each; `closed` in seconds since the epoch once the session
   left, `final` once nothing of it waits for evidence or review), and `reviews`, the picks
   that wait for an operator (the shelf change and the candidate sessions as JSON). Both
   tables are new: a file of version 2 gets them, empty.
4. the checkout (`checkout_store.py`): `checkouts` (one per visit: its state machine, the
   processor's payment reference), `refunds` (one per visit, the same way), `outstanding`
   (what an account owes after a declined payment, until an operator settles it),
   `sessions.customer` (an app shopper's processor customer, the QR's `cus` claim),
   `carts.taken` (1 once a checkout took the cart: the closed carts still to be charged are
   found through a partial index, not by looking at every closed cart), `daily_totals` (sales
   per day in the store's time zone and currency: amount, count, refunded, no id; kept
   beyond the retention), and the receipts' `receipt_requests` and `receipt_codes`
   (`receipt_store.RECEIPTS_DDL`). A payment reference belongs to one checkout (a unique
   index: a card's hold pays for one visit), and `card_holds`, each card tap's hold with the
   card's keyed fingerprint (`card_debts.py`: a card's debts follow the card). Version 4
   was never released: a file written by an unreleased bridge of version 4 is brought up to
   this one the same way (missing columns, tables and indexes added).
5. `sessions.payment_method`: an app shopper's saved payment method at the processor
   (``pm_…``), found in the background after the check-in (`saved_methods.py`) so that the
   checkout need not look it up; NULL until found (or if it never is). A file of version 4
   gets the column, empty.

A file of version 1 is migrated when it is opened: the column and the indexes in one
transaction, then, once, a `VACUUM` (SQLite can switch a file that has tables to incremental
auto-vacuum only by rewriting it). The rewrite takes time in proportion to the file (6 to 10 s
for 1M events, `bench/bench_store_retention.py`) and needs as much free disk again; it
runs before the bridge takes its first request, and never again.
"""

import logging
import sqlite3
import time
from pathlib import Path
from typing import Final

from .receipt_store import RECEIPTS_DDL

_LOGGER = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 5
BUSY_TIMEOUT_MS: Final = 250
WAL_LIMIT_BYTES: Final = 4 * 1024 * 1024
"""The write-ahead log is cut back to this size after a checkpoint."""
CACHE_KIB: Final = 16 * 1024
"""SQLite's page cache (its default is 2 MiB): a purge walks indexes of a large file."""
AUTO_VACUUM_INCREMENTAL: Final = 2

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    visit_id TEXT PRIMARY KEY, track_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    entry_gate TEXT NOT NULL, party INTEGER NOT NULL, entered TEXT NOT NULL,
    account TEXT NOT NULL, state TEXT NOT NULL, exit_gate TEXT, left_at TEXT, ended REAL);
CREATE INDEX IF NOT EXISTS sessions_inside ON sessions(state) WHERE state = 'inside';
CREATE TABLE IF NOT EXISTS replay (id TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL, created REAL NOT NULL, sent REAL);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(seq) WHERE sent IS NULL;
"""

_CART_TABLES = """
CREATE TABLE IF NOT EXISTS carts (
    visit TEXT PRIMARY KEY, lines TEXT NOT NULL, held INTEGER NOT NULL, bound INTEGER NOT NULL,
    updated REAL NOT NULL, closed REAL, final INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS carts_closed ON carts(closed) WHERE closed IS NOT NULL;
CREATE INDEX IF NOT EXISTS carts_live ON carts(visit) WHERE final = 0;
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY, change TEXT NOT NULL, candidates TEXT NOT NULL, since REAL NOT NULL,
    notes TEXT NOT NULL);
"""

_CHECKOUT_TABLES = """
CREATE TABLE IF NOT EXISTS checkouts (
    id TEXT PRIMARY KEY, visit TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, account TEXT NOT NULL,
    customer TEXT, total INTEGER NOT NULL, currency TEXT NOT NULL, items INTEGER NOT NULL,
    phase TEXT NOT NULL, payment TEXT, hold INTEGER, look INTEGER NOT NULL,
    attempts INTEGER NOT NULL, retry_at REAL, captured INTEGER NOT NULL,
    outstanding INTEGER NOT NULL, reason TEXT, card_brand TEXT, card_last4 TEXT,
    created REAL NOT NULL, updated REAL NOT NULL, alerted INTEGER NOT NULL DEFAULT 0,
    looks INTEGER NOT NULL DEFAULT 0, charged TEXT);
CREATE INDEX IF NOT EXISTS checkouts_open ON checkouts(created)
    WHERE phase IN ('final', 'created', 'blocked');
CREATE INDEX IF NOT EXISTS checkouts_trouble ON checkouts(account)
    WHERE phase IN ('failed', 'blocked');
CREATE INDEX IF NOT EXISTS checkouts_over ON checkouts(updated) WHERE phase IN ('done', 'failed');
CREATE UNIQUE INDEX IF NOT EXISTS checkouts_payment ON checkouts(payment)
    WHERE payment IS NOT NULL;
CREATE TABLE IF NOT EXISTS card_holds (
    hold TEXT PRIMARY KEY, card TEXT NOT NULL, seen REAL NOT NULL);
CREATE INDEX IF NOT EXISTS card_holds_card ON card_holds(card);
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY, visit TEXT NOT NULL UNIQUE, payment TEXT NOT NULL,
    amount INTEGER NOT NULL, currency TEXT NOT NULL, phase TEXT NOT NULL,
    attempts INTEGER NOT NULL, retry_at REAL,
    refund TEXT, reason TEXT, created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS refunds_over ON refunds(updated) WHERE phase IN ('done', 'failed');
CREATE INDEX IF NOT EXISTS refunds_uncertain ON refunds(created) WHERE phase = 'uncertain';
CREATE TABLE IF NOT EXISTS outstanding (
    account TEXT NOT NULL, currency TEXT NOT NULL, amount INTEGER NOT NULL,
    since REAL NOT NULL, PRIMARY KEY (account, currency));
CREATE TABLE IF NOT EXISTS daily_totals (
    day TEXT NOT NULL, currency TEXT NOT NULL, amount INTEGER NOT NULL DEFAULT 0,
    count INTEGER NOT NULL DEFAULT 0, refunded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, currency));
CREATE INDEX IF NOT EXISTS receipt_requests_failed ON receipt_requests(state)
    WHERE state = 'failed';
"""

_RETENTION_INDEXES = """
CREATE INDEX IF NOT EXISTS outbox_sent ON outbox(sent) WHERE sent IS NOT NULL;
CREATE INDEX IF NOT EXISTS sessions_ended ON sessions(ended) WHERE ended IS NOT NULL;
CREATE INDEX IF NOT EXISTS replay_expires ON replay(expires);
"""


CHECKOUT_COLUMNS: Final = (
    ("alerted", "INTEGER NOT NULL DEFAULT 0"),
    ("looks", "INTEGER NOT NULL DEFAULT 0"),
    ("charged", "TEXT"),
)
"""Columns an unreleased schema 4's `checkouts` may lack: whether the operator was alerted
of its block, its looks at a stuck payment, and the lines it charged (JSON, as taken)."""


def _checkout_columns(db: sqlite3.Connection) -> None:
    columns = {row[1] for row in db.execute("PRAGMA table_info(checkouts)")}
    for name, kind in CHECKOUT_COLUMNS:
        if name not in columns:
            db.execute(f"ALTER TABLE checkouts ADD COLUMN {name} {kind}")


def _taken(db: sqlite3.Connection) -> None:
    """Schema 4's `carts.taken` and its partial index (the carts checkout still has to take)."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(carts)")}
    if "taken" not in columns:
        db.execute("ALTER TABLE carts ADD COLUMN taken INTEGER NOT NULL DEFAULT 0")
        db.execute("UPDATE carts SET taken = 1 WHERE visit IN (SELECT visit FROM checkouts)")
    db.execute(
        "CREATE INDEX IF NOT EXISTS carts_ready ON carts(closed) "
        "WHERE closed IS NOT NULL AND taken = 0"
    )


class NewerSchemaError(sqlite3.DatabaseError):
    """The file was written by a newer bridge; this one does not change it."""


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (create, or migrate) the database and return the connection."""
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        db.row_factory = sqlite3.Row
        if not db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # before the first table exists
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL: a commit reaches the disk with the next checkpoint or the next FULL commit
        # (a power cut may take back the last ones). A commit that must survive a power cut
        # the moment it returns, a check-in before its gate opens, runs with synchronous=FULL
        # (`Store.check_in`): one fsync of the log per check-in, none per purge batch.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Deleted and overwritten rows (an account's references, a receipt's address) are
        # zeroed in the file, on every connection from its first write on.
        db.execute("PRAGMA secure_delete=ON")
        db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
        db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        _migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def _version(db: sqlite3.Connection) -> int | None:
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
        return None
    row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    version = None if row is None else int(row[0])
    if version is not None and version > SCHEMA_VERSION:
        raise NewerSchemaError(f"schema {version} is newer than this bridge's {SCHEMA_VERSION}")
    return version


def _migrate(db: sqlite3.Connection) -> None:
    db.execute("BEGIN IMMEDIATE")
    try:
        version = _version(db)
        if version == 1:
            db.execute("ALTER TABLE sessions ADD COLUMN ended REAL")
            db.execute(
                "UPDATE sessions SET ended = (julianday(left_at) - 2440587.5) * 86400.0 "
                "WHERE left_at IS NOT NULL"
            )
        tables = f"{_TABLES}{_RETENTION_INDEXES}{_CART_TABLES}{RECEIPTS_DDL}"
        for statement in f"{tables}{_CHECKOUT_TABLES}".split(";"):
            if statement.strip():
                db.execute(statement)
        columns = {row[1] for row in db.execute("PRAGMA table_info(sessions)")}
        if "customer" not in columns:  # schema 4
            db.execute("ALTER TABLE sessions ADD COLUMN customer TEXT")
        if "payment_method" not in columns:  # schema 5
            db.execute("ALTER TABLE sessions ADD COLUMN payment_method TEXT")
        _taken(db)
        _checkout_columns(db)
        db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('occupancy', '0')",
            (str(SCHEMA_VERSION),),
        )
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    if version is not None and version < SCHEMA_VERSION:
        _LOGGER.info("Store database migrated from schema %d to %d", version, SCHEMA_VERSION)
    if db.execute("PRAGMA auto_vacuum").fetchone()[0] != AUTO_VACUUM_INCREMENTAL:
        started = time.monotonic()
        db.execute("PRAGMA auto_vacuum=INCREMENTAL")
        db.execute("VACUUM")  # once: a file with tables switches only by being rewritten
        _LOGGER.warning(
            "Store database rewritten once to give purged space back (%.1f s)",
            time.monotonic() - started,
        )


def fold_log(db: sqlite3.Connection) -> bool:
    """Copy the write-ahead log into the file and truncate it; False if a reader kept it.

    SQLite writes what the log holds into the file, syncs it, and empties the log: after an
    address was erased (the log's old frames still hold it), and after a failed sync of the
    log (what it holds is written afresh: `wal_sync.py`). Never waits for a reader (the
    database thread also decides gates): busy, the caller tries again soon. Outside a
    transaction.
    """
    waits = int(db.execute("PRAGMA busy_timeout").fetchone()[0])
    db.execute("PRAGMA busy_timeout=0")
    try:  # a reader or a writer of another connection in the way: busy
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        db.execute(f"PRAGMA busy_timeout={waits}")
    return not busy
