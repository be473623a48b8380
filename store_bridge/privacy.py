"""What the store holds about one account, and its erasure (`store-bridge privacy ...`).

An account is the reference a shopper checked in with (the app's QR `sub`, or a card's
reference from the terminal). What the bridge's database ties to it: its sessions (visits,
with the processor's customer), their carts, checkouts (with the processor's payment
reference and the card's brand and last four digits), refunds, what it owes, and its receipt
requests and receipt codes; an app shopper's sessions also keep the saved payment method found
at check-in (`sessions.payment_method`, a processor reference), and a card shopper's taps
their hold with the card's keyed fingerprint (`card_holds`, `card_debts.py`). Nothing else
names it: events carry visit ids, never the
reference (and once the sessions are erased nothing here links a visit id to it).

- `export`: all of it as one JSON-ready object. A receipt request's address is not in it:
  the bridge erases an address once the mail server accepted the message, or gives up
  (`address_held` says which requests still hold one, only while waiting to be sent or
  within a configured `address_retention_days`; the export never shows it).
- `erase`: deletes every row tied to the account in one transaction, committed durably, with
  `PRAGMA secure_delete` (the freed bytes are zeroed), then checkpoints the write-ahead log
  into the file and truncates it, so that the file's bytes no longer hold the reference. A
  reader of the running bridge can keep the log from being truncated: it is tried
  `FOLD_TRIES` times, and `Erased.log_truncated` says whether it was (if not, the old frames
  may still hold the reference until the bridge's next truncation: run the erasure again,
  which finds nothing more to erase and tries the truncation again). It
  records one `account_erased` event (the number of visits; never the reference). It is
  idempotent (erasing again finds nothing and records nothing) and it refuses
  (`ErasureRefused`) while the account has a visit not finished at the checkout (inside the
  store, a cart not yet charged, a checkout or refund under way or waiting for the
  operator) or owes money: exactly-once charging needs those records; run it again once
  they are done (or settled).

It works on the database file directly (SQLite allows a running bridge meanwhile: nothing
the refusal checks is erased, and the event is published by the bridge's outbox).
"""

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final

from .events import Wire
from .store_schema import fold_log

_VISITS: Final = (
    "SELECT visit_id FROM sessions WHERE account = :account "
    "UNION SELECT visit FROM checkouts WHERE account = :account"
)
_CARD_HOLDS: Final = (
    "FROM card_holds WHERE hold = :account OR hold IN "
    "(SELECT payment FROM checkouts WHERE payment IS NOT NULL "
    "AND (account = :account OR visit IN asked))"
)
"""The card taps of the account's visits: a card shopper's account is its tap's hold, which
is also the visit's payment."""


FOLD_TRIES: Final = 20
FOLD_PAUSE_S: Final = 0.05


type EventFactory = Callable[[int], Wire]
"""Builds the `account_erased` event from the number of visits erased."""
type EventSink = Callable[[list[Wire]], None]
"""Stores events in the erasure's transaction."""


class ErasureRefused(Exception):  # noqa: N818 - named after the outcome
    """The account cannot be erased now; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Erased:
    """What an erasure removed."""

    visits: int
    rows: int
    log_truncated: bool = True
    """The write-ahead log was truncated (no old frame holds the reference any more)."""


def _rows(db: sqlite3.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:  # noqa: ANN401
    cursor = db.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _visits(db: sqlite3.Connection, account: str) -> list[str]:
    """The account's visits, also as the temporary table `asked` the queries below read."""
    visits = sorted(row[0] for row in db.execute(_VISITS, {"account": account}))
    db.execute("CREATE TEMP TABLE IF NOT EXISTS asked (visit TEXT PRIMARY KEY)")
    db.execute("DELETE FROM asked")
    db.executemany("INSERT INTO asked VALUES (?)", [(visit,) for visit in visits])
    return visits


def export(db: sqlite3.Connection, account: str) -> dict[str, Any]:
    """Everything the database ties to `account` (JSON-ready)."""
    _visits(db, account)
    found = {"account": account}
    carts = _rows(db, "SELECT * FROM carts WHERE visit IN asked", **found)
    for cart in carts:
        cart["lines"] = json.loads(cart["lines"])
    requests = _rows(
        db,
        "SELECT visit, language, state, attempts, created, done, "
        "address IS NOT NULL AS address_held FROM receipt_requests WHERE visit IN asked",
        **found,
    )
    return {
        "account": account,
        "sessions": _rows(db, "SELECT * FROM sessions WHERE account = :account", **found),
        "carts": carts,
        "checkouts": _rows(
            db,
            "SELECT * FROM checkouts WHERE account = :account OR visit IN asked",
            **found,
        ),
        "refunds": _rows(
            db,
            "SELECT * FROM refunds WHERE visit IN asked",
            **found,
        ),
        "outstanding": _rows(
            db, "SELECT currency, amount, since FROM outstanding WHERE account = :account", **found
        ),
        "receipt_requests": requests,
        "receipt_codes": _rows(
            db,
            "SELECT visit, expires, used FROM receipt_codes WHERE visit IN asked",
            **found,
        ),
        "card_holds": _rows(db, f"SELECT hold, card, seen {_CARD_HOLDS}", **found),
        "notes": [
            (
                "E-mail addresses are not part of the export: the store erases an address once "
                "its receipt was accepted by the mail server or given up (address_held says "
                "whether a request still holds one)."
            ),
            "Receipt codes are kept only as their hash.",
            (
                "A card tap's card is kept only as a keyed hash of the processor's fingerprint "
                "of it (card_holds.card), never the card number."
            ),
            "Events name visits, never the account; times are seconds since the epoch.",
        ],
    }


_BLOCKING: Final = (
    (
        "SELECT count(*) FROM sessions WHERE account = :account AND state = 'inside'",
        "a visit is still inside the store",
    ),
    (
        (
            "SELECT count(*) FROM checkouts WHERE (account = :account OR visit IN asked) "
            "AND phase IN ('final', 'created', 'blocked')"
        ),
        "a checkout is under way (or waits for the operator)",
    ),
    (
        (
            "SELECT count(*) FROM carts WHERE visit IN asked AND closed IS NOT NULL AND taken = 0 "
            "AND :charges"
        ),
        "a cart is not charged yet",
    ),
    (
        (
            "SELECT count(*) FROM refunds WHERE visit IN asked AND (phase IN "
            "('requested', 'sending') OR (phase = 'uncertain' AND refund IS NOT NULL "
            "AND retry_at IS NOT NULL))"
        ),
        "a refund is under way",
    ),
    ("SELECT count(*) FROM outstanding WHERE account = :account", "the account owes money"),
)


def _unfinished(db: sqlite3.Connection, params: dict[str, Any]) -> list[str]:
    """Why the account cannot be erased now (empty: it can)."""
    return [why for sql, why in _BLOCKING if db.execute(sql, params).fetchone()[0]]


def erase(
    db: sqlite3.Connection,
    account: str,
    event: EventFactory,
    add_events: EventSink,
    *,
    charges: bool = True,
) -> Erased:
    """Delete every row tied to `account`, or `ErasureRefused` (nothing changed).

    `event(visits)` builds the `account_erased` event and `add_events` stores it, both in the
    same transaction. `charges`: the store has a checkout (a closed cart not charged yet
    blocks the erasure).
    """
    db.execute("PRAGMA secure_delete=ON")
    db.execute("PRAGMA synchronous=FULL")  # the erasure survives a power cut once it returns
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            erased = _erase(db, account, event, add_events, charges=charges)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.execute("PRAGMA synchronous=NORMAL")
    return replace(erased, log_truncated=truncate_log(db))


def truncate_log(db: sqlite3.Connection, pause: Callable[[float], None] = time.sleep) -> bool:
    """Truncate the write-ahead log, trying `FOLD_TRIES` times; whether it was."""
    for attempt in range(FOLD_TRIES):
        if attempt:
            pause(FOLD_PAUSE_S)
        if fold_log(db):
            return True
    return False


def _erase(
    db: sqlite3.Connection,
    account: str,
    event: EventFactory,
    add_events: EventSink,
    *,
    charges: bool,
) -> Erased:
    visits = _visits(db, account)
    params = {"account": account, "charges": int(charges)}
    if reasons := _unfinished(db, params):
        raise ErasureRefused(
            f"not erased: {'; '.join(reasons)}. Exactly-once charging needs these records: "
            "run the erasure again once the checkout is done (and the account settled)"
        )
    rows = 0
    for sql in (
        f"DELETE {_CARD_HOLDS}",  # before the checkouts it reads
        "DELETE FROM carts WHERE visit IN asked",
        "DELETE FROM refunds WHERE visit IN asked",
        "DELETE FROM receipt_requests WHERE visit IN asked",
        "DELETE FROM receipt_codes WHERE visit IN asked",
        "DELETE FROM checkouts WHERE account = :account OR visit IN asked",
        "DELETE FROM outstanding WHERE account = :account",
        "DELETE FROM sessions WHERE account = :account",
    ):
        rows += db.execute(sql, params).rowcount
    if rows:
        add_events([event(len(visits))])
    return Erased(visits=len(visits) if rows else 0, rows=rows)
