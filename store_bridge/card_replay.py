"""A card tap's replay record: a keyed digest of its hold, so the database alone confirms none.

The entry path records each tapped hold (the processor's reference) like a used QR id, so
the same reference tapped again is refused as `replayed` (`entry.py`). What the `replay`
table keeps of it is ``card:`` + HMAC-SHA256 over the plain digest earlier bridges stored
(a SHA-256 of ``card``, a NUL and the reference), keyed with a key derived from the bridge's
card key (`card_debts.py`'s file, ``<db>.card_key``: one secret next to the database to guard and
back up; the derivation keeps the two uses apart). Without the key, a guessed reference can
no longer be confirmed from the table (an erased account's replay row included).

Keying the plain digest, not the reference, is what lets the rows stored before stay
refused: at the start of a bridge that takes cards (`EntryPath.prepare`; else before the
first card tap), `prepare` gives every plain row (a QR id
or an earlier card tap: the two look alike) its keyed twin with the same expiry, in one
transaction, once per key (a check of the key is kept in `meta`); the plain rows then expire
with the retention as before. Should the key file be lost and a new key made, the rows keyed
with the old one no longer match: the holds the database still names (card sessions and
`card_holds`) are keyed again with the new one, and the plain rows twinned again.
"""

import asyncio
import hashlib
import hmac
import logging
import sqlite3
from pathlib import Path
from secrets import token_bytes
from typing import Final

from .card_debts import KEY_BYTES, CardKeyError, key_path, load_key
from .database import Database
from .storage import StorageUnavailable, Store
from .vocabulary import Source

_LOGGER = logging.getLogger(__name__)

PREFIX: Final = "card:"
KEY_MARK: Final = "card_replay_key"
"""The `meta` row naming (by a check value, not the key) the key the rows were keyed with."""
_PURPOSE: Final = b"store-bridge card replay v1"


def replay_key(card_key: bytes) -> bytes:
    """The replay digests' own key, derived from the bridge's card key."""
    return hmac.new(card_key, _PURPOSE, hashlib.sha256).digest()


def plain_digest(reference: str) -> str:
    """What bridges before the keyed digest stored for a card tap's hold."""
    return hashlib.sha256(f"card\x00{reference}".encode()).hexdigest()


def keyed(key: bytes, digest: str) -> str:
    """The stored form of a plain digest (`plain_digest`, or a QR's `replay_id`)."""
    return PREFIX + hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()


def card_replay_id(key: bytes, reference: str) -> str:
    """What the replay record keeps for a card tap's hold: a keyed digest, not the reference."""
    return keyed(key, plain_digest(reference))


def key_check(key: bytes) -> str:
    """A value naming `key` in `meta` without revealing it."""
    return hmac.new(key, b"check", hashlib.sha256).hexdigest()[:16]


def prepare(db: sqlite3.Connection, key: bytes, expires: float) -> int:
    """Key the replay table with `key` (once per key; in one transaction): the rows added.

    `expires`: for the holds keyed again after a key change (their first expiry is gone).
    """
    check = key_check(key)
    mark = db.execute("SELECT value FROM meta WHERE key = ?", (KEY_MARK,)).fetchone()
    if mark is not None and mark[0] == check:
        return 0
    rows = db.execute(
        "SELECT id, expires FROM replay WHERE substr(id, 1, ?) != ?", (len(PREFIX), PREFIX)
    ).fetchall()
    added = [(keyed(key, digest), until) for digest, until in rows]
    if mark is not None:  # a new key: the old one's rows match nothing any more
        _LOGGER.warning("The card key changed: card taps are keyed again from the database")
        holds = db.execute(
            "SELECT account FROM sessions WHERE source = ? UNION SELECT hold FROM card_holds",
            (Source.PAYMENT_CARD.value,),
        ).fetchall()
        added += [(card_replay_id(key, hold), expires) for (hold,) in holds]
    db.executemany("INSERT OR IGNORE INTO replay VALUES (?, ?)", added)
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (KEY_MARK, check))
    return len(added)


class CardReplay:
    """The card taps' replay digests of one bridge (its key loaded, its table keyed once)."""

    def __init__(self, db: Database) -> None:
        """Key the replay records in `db` with the card key next to it (a fresh one in memory)."""
        self._db = db
        self._key: bytes | None = None
        self._lock = asyncio.Lock()

    async def replay_id(self, reference: str, expires: float) -> str:
        """The replay record's id for a tapped hold (`expires`: the record's own expiry).

        The first call prepares the table (`prepare`); it raises `StorageUnavailable` when
        that cannot be done, and is tried again at the next tap.
        """
        key = self._key or await self._prepared(expires)
        return card_replay_id(key, reference)

    async def prepare(self, expires: float) -> None:
        """Key the table now (a bridge's start), so that no shopper's tap waits for it."""
        await self._prepared(expires)

    async def _prepared(self, expires: float) -> bytes:
        async with self._lock:
            if self._key is None:
                path = str(self._db.path)
                self._key = await self._db.call(lambda store: self._prepare(store, path, expires))
            return self._key

    @staticmethod
    def _prepare(store: Store, path: str, expires: float) -> bytes:
        try:
            memory = path == ":memory:"  # the file and its records die with the process
            card_key = token_bytes(KEY_BYTES) if memory else load_key(key_path(Path(path)))
        except (OSError, CardKeyError) as err:
            raise StorageUnavailable("card key") from err
        key = replay_key(card_key)
        added = store.change(lambda db: prepare(db, key, expires), ())
        _LOGGER.debug("Card replay records keyed: %d added", added)
        return key
