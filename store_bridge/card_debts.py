"""A card shopper's debts follow the card, not the tap: the card's keyed fingerprint.

A card shopper's account is the hold of one tap (a new reference every time), so a debt kept
by account would never meet the same card again. At each card tap the bridge asks the
processor for the hold (`retrieve`): the processor's stable fingerprint of the card
(`Accepted.card_fingerprint`; Stripe's ``card.fingerprint`` / ``card_present.fingerprint``)
is turned into a keyed hash (HMAC-SHA256 with the bridge's own key, 32 random bytes in a file
of its own next to the database, readable by its owner only), stored with the hold
(`card_holds`); the raw fingerprint is never stored nor logged. The tap is refused with
`payment_outstanding` while any hold of the same card owes something (`outstanding`, by
account). Settling that account lets the card in again.

A hold the processor cannot be asked about in time (unreachable, `LOOKUP_TIMEOUT_S`), or
that names no fingerprint, is admitted: the hold itself bounds what the visit can cost, and
the debt check is about earlier visits (logged without any reference).
"""

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Final

from .config import ConfigError
from .database import Database
from .payments import Accepted, Processor
from .storage import StorageUnavailable

_LOGGER = logging.getLogger(__name__)

KEY_BYTES: Final = 32
LOOKUP_TIMEOUT_S: Final = 2.0


def key_path(database: Path) -> Path:
    """Where the bridge's card key lives: next to its database."""
    return database.with_name(f"{database.name}.card_key")


class CardKeyError(ConfigError):
    """The card key file is there but cannot be read: never replaced by a new key then."""


def load_key(path: Path) -> bytes:
    """The card key in `path`; a new one (written owner-only) when there is none yet.

    A file that cannot be read (permissions, an I/O error) raises `CardKeyError`: replacing
    it would make every card debt unmatchable because of a passing fault. A file that is
    read but holds no key (damaged) is kept as ``<name>.damaged`` and a new key is made
    (logged: earlier card debts no longer match a card, they stay with their accounts).
    """
    try:
        text = path.read_bytes().decode("ascii", "replace").strip()
    except FileNotFoundError:
        return _new_key(path)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise CardKeyError(f"the card key {path} cannot be read ({reason})") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) == KEY_BYTES:
        return key
    damaged = path.with_name(f"{path.name}.damaged")
    path.replace(damaged)
    _LOGGER.warning(
        "The card key %s held no key (kept as %s); a new one was made, so earlier card debts "
        "no longer match a card",
        path,
        damaged.name,
    )
    return _new_key(path)


def _new_key(path: Path) -> bytes:
    """A new key, written whole and synced in a file of its own, then linked into place.

    The link fails if a key appeared meanwhile (another part of the bridge made one): that
    one is used. A link names only a complete file, so a reader never sees half a key.
    """
    key = secrets.token_bytes(KEY_BYTES)
    scratch = path.with_name(f"{path.name}.{secrets.token_hex(4)}.new")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(key.hex() + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(scratch, path)
        except FileExistsError:
            return load_key(path)
    finally:
        scratch.unlink(missing_ok=True)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the new name survives a power cut too
    finally:
        os.close(folder)
    return key


def card_key(key: bytes, fingerprint: str) -> str:
    """The stored form of a card's fingerprint (never the fingerprint itself)."""
    return hmac.new(key, fingerprint.encode(), hashlib.sha256).hexdigest()


def remember(db: sqlite3.Connection, hold: str, card: str, now: float) -> list[str]:
    """Store `hold` as a tap of `card`; the card's holds that owe something."""
    db.execute("INSERT OR IGNORE INTO card_holds VALUES (?, ?, ?)", (hold, card, now))
    rows = db.execute(
        "SELECT DISTINCT h.hold FROM card_holds h JOIN outstanding o ON o.account = h.hold "
        "WHERE h.card = ?",
        (card,),
    )
    return [row[0] for row in rows]


class CardDebts:
    """Whether a tapped card owes from an earlier visit (asked at each card tap)."""

    def __init__(
        self,
        db: Database,
        processor: Processor,
        key: bytes,
        clock: Callable[[], float],
        *,
        timeout_s: float = LOOKUP_TIMEOUT_S,
    ) -> None:
        """Ask `processor` about holds, remember them in `db`, keyed with `key`."""
        self._db = db
        self._processor = processor
        self._key = key
        self._clock = clock
        self._timeout_s = timeout_s

    async def owes(self, hold: str) -> bool:
        """True if another hold of the card that made `hold` still owes something."""
        try:
            answer = await asyncio.wait_for(self._processor.retrieve(hold), self._timeout_s)
        except TimeoutError:
            answer = None
        fingerprint = answer.card_fingerprint if isinstance(answer, Accepted) else None
        if fingerprint is None:
            _LOGGER.info("A card tap's card could not be recognised; its debts are not checked")
            return False
        card = card_key(self._key, fingerprint)
        now = self._clock()
        try:
            owing = await self._db.call(lambda store: remember(store.db, hold, card, now))
        except StorageUnavailable:
            return False  # the check-in's own write refuses it then
        return bool(owing)
