"""The bridge's SQLite file: shopping sessions, used QR ids, occupancy and the event outbox.

Every state change and the events it produces are written in one transaction (a
transactional outbox): an event exists exactly when its change happened, and the publisher
sends what the outbox holds. Nothing is deleted before it was published.

SQLite runs in one dedicated thread: `Store` is its synchronous side, used only there;
`database.py` puts it behind that thread for the event loop (`Database`). Any SQLite failure
(locked, disk full, file gone) surfaces as `StorageUnavailable`; `busy_timeout` is short so
that a stuck database answers quickly instead of holding a gate decision. The schema, its
migrations and the file's settings are in `store_schema.py`; purging in batches is in
`retention.py`, over `Store.purge_batch`, `Store.give_back` and `Store.checkpoint`.
"""

import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from .core.store import Session, SessionState
from .events import Wire, to_json
from .purge_counts import Due, Purged
from .store_schema import connect, fold_log
from .wal_sync import WalSync

PURGE_BATCH: Final = 500
"""Rows one purge transaction deletes at most (across the three tables)."""


class StorageUnavailable(Exception):  # noqa: N818 - named after the condition
    """The database cannot be used right now."""


class Replayed(Exception):  # noqa: N818 - named after the condition
    """A QR id that was already used."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the bridge needs at start."""

    occupancy: int
    inside: int
    pending: int


def _session(row: sqlite3.Row) -> Session:
    return Session(
        visit_id=row["visit_id"],
        track_id=row["track_id"],
        source=row["source"],
        entry_gate=row["entry_gate"],
        party=row["party"],
        entered=datetime.fromisoformat(row["entered"]),
        account=row["account"],
        state=SessionState(row["state"]),
        customer=row["customer"],
    )


class Store:
    """The synchronous SQLite side (used only from the database thread)."""

    def __init__(self, path: Path | str, wal: WalSync | None = None) -> None:
        """Open (and create) the database; `wal`: whose failed sync refuses durable changes."""
        self.db = connect(path)
        self._wal = wal

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def _tx[T](self, work: Callable[[], T], *, durable: bool = False) -> T:
        """`work` in one transaction; `durable`: on disk when this returns (synchronous=FULL).

        The write-ahead log is written in order, so a durable commit makes every commit
        before it durable as well. Refused once a sync of the log failed (`wal_sync.py`).
        """
        if durable:
            if not self.log_writable():
                raise StorageUnavailable(self._wal.failed if self._wal else "log not synced")
            self.db.execute("PRAGMA synchronous=FULL")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                result = work()
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        except sqlite3.Error as err:
            self.io_error(err)
            raise
        finally:
            if durable:
                self.db.execute("PRAGMA synchronous=NORMAL")
        return result

    def log_writable(self) -> bool:
        """Whether durable changes are taken.

        Yes with no failed sync of the log, or once the log was written afresh since
        (`WalSync.recover`, tried here at most every second).
        """
        return self._wal is None or self._wal.recover(lambda: fold_log(self.db))

    def io_error(self, err: BaseException) -> None:
        """SQLite failed a write: an I/O error refuses durable changes from now on."""
        if self._wal is not None:
            self._wal.io_error(err)

    def _add_events(self, events: Sequence[Wire], already_sent: Collection[str] = ()) -> None:
        if not events:
            return
        now = datetime.now(UTC).timestamp()
        self.db.executemany(
            "INSERT OR IGNORE INTO outbox (event_id, payload, created, sent) VALUES (?, ?, ?, ?)",
            [(e["id"], to_json(e), now, now if e["id"] in already_sent else None) for e in events],
        )

    def _occupancy(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'occupancy'").fetchone()
        return int(row["value"])

    def _set_occupancy(self, value: int) -> None:
        self.db.execute("UPDATE meta SET value = ? WHERE key = 'occupancy'", (str(value),))

    def snapshot(self) -> Snapshot:
        """Occupancy, sessions inside, events not yet published."""
        inside = self.db.execute("SELECT count(*) FROM sessions WHERE state = 'inside'")
        pending = self.db.execute("SELECT count(*) FROM outbox WHERE sent IS NULL")
        return Snapshot(self._occupancy(), inside.fetchone()[0], pending.fetchone()[0])

    def check_in(
        self,
        session: Session,
        replay: tuple[str, float] | None,
        occupancy: int,
        events: Sequence[Wire],
    ) -> None:
        """Record a check-in: the used QR id, the session, occupancy and its events."""

        def work() -> None:
            if replay is not None:
                try:
                    self.db.execute("INSERT INTO replay VALUES (?, ?)", replay)
                except sqlite3.IntegrityError:
                    raise Replayed from None
            self.db.execute(
                "INSERT INTO sessions (visit_id, track_id, source, entry_gate, party, entered, "
                "account, state, customer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session.visit_id,
                    session.track_id,
                    session.source,
                    session.entry_gate,
                    session.party,
                    session.entered.isoformat(),
                    session.account,
                    session.state.value,
                    session.customer,
                ),
            )
            self._set_occupancy(occupancy)
            self._add_events(events)

        self._tx(work, durable=True)  # the gate opens after this: a power cut keeps it

    def close_session(  # noqa: PLR0913 - keyword-only parts of one change
        self,
        visit_id: str | None,
        *,
        state: SessionState,
        gate: str | None,
        when: datetime,
        occupancy: int,
        events: Sequence[Wire],
    ) -> None:
        """Close a session (left or aborted), set occupancy, add the events."""

        def work() -> None:
            if visit_id is not None:
                self.db.execute(
                    "UPDATE sessions SET state = ?, exit_gate = ?, left_at = ?, ended = ? "
                    "WHERE visit_id = ? AND state = 'inside'",
                    (state.value, gate, when.isoformat(), when.timestamp(), visit_id),
                )
            self._set_occupancy(occupancy)
            self._add_events(events)

        self._tx(work)

    def write_events(self, events: Sequence[Wire]) -> None:
        """Add `events` inside the transaction under way (`group_commit.py`)."""
        self._add_events(events)

    def add_events(self, events: Sequence[Wire], already_sent: Collection[str] = ()) -> None:
        """Add events that change no state (denials, door signals, events held in memory).

        Events whose ids are in `already_sent` were published from memory and go in as sent.
        """
        self._tx(lambda: self._add_events(events, already_sent))

    def change[T](
        self,
        work: Callable[[sqlite3.Connection], T],
        events: Sequence[Wire],
        *,
        durable: bool = False,
    ) -> T:
        """Any other change (the carts', `cart_store.py`) with its events, in one transaction.

        `durable`: on disk when this returns (an address erased, a receipt marked sent).
        """

        def both() -> T:
            result = work(self.db)
            self._add_events(events)
            return result

        return self._tx(both, durable=durable)

    def outbox_state(self) -> tuple[int, float | None]:
        """Events not yet published, and when the oldest of them was written (or None)."""
        count = self.db.execute("SELECT count(*) FROM outbox WHERE sent IS NULL").fetchone()[0]
        oldest = self.db.execute(
            "SELECT created FROM outbox WHERE sent IS NULL ORDER BY seq LIMIT 1"
        ).fetchone()
        return int(count), None if oldest is None else float(oldest[0])

    def unsent(self, limit: int) -> list[tuple[int, str]]:
        """The oldest events not yet published, in order."""
        rows = self.db.execute(
            "SELECT seq, payload FROM outbox WHERE sent IS NULL ORDER BY seq LIMIT ?", (limit,)
        )
        return [(row["seq"], row["payload"]) for row in rows]

    def mark_sent(self, seqs: Sequence[int]) -> None:
        """Mark events as published (the broker acknowledged them)."""
        now = datetime.now(UTC).timestamp()
        self._tx(
            lambda: self.db.executemany(
                "UPDATE outbox SET sent = ? WHERE seq = ?", [(now, s) for s in seqs]
            )
        )

    def mark_sent_ids(self, event_ids: Collection[str]) -> None:
        """Mark events as published by id (they were sent from memory)."""
        if event_ids:
            now = datetime.now(UTC).timestamp()
            self.db.executemany(
                "UPDATE outbox SET sent = ? WHERE event_id = ? AND sent IS NULL",
                [(now, i) for i in event_ids],
            )

    def inside(self) -> list[Session]:
        """Every session still inside the store."""
        rows = self.db.execute("SELECT * FROM sessions WHERE state = 'inside' ORDER BY entered")
        return [_session(row) for row in rows]

    def purge_batch(self, due: Due, limit: int = PURGE_BATCH) -> Purged:
        """Delete at most `limit` rows that are due, in one transaction.

        Published events sent before `due.sent_before`, sessions that ended before
        `due.ended_before` (never one still inside), used QR ids that expired before
        `due.expired_before`. Each is found through its index; an event not yet published
        is never touched. With `due.charges` (the store charges carts), a session whose cart
        the checkout has not taken yet is kept (sessions without a cart are not).
        """

        def work() -> Purged:
            events = self.db.execute(
                "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox "
                "WHERE sent IS NOT NULL AND sent < ? ORDER BY sent LIMIT ?)",
                (due.sent_before, limit),
            ).rowcount
            sessions = self.db.execute(
                "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions "
                "WHERE ended IS NOT NULL AND ended < ? AND state != 'inside' AND NOT (? AND "
                "EXISTS (SELECT 1 FROM carts WHERE carts.visit = sessions.visit_id "
                "AND carts.taken = 0)) ORDER BY ended LIMIT ?)",
                (due.ended_before, int(due.charges), limit - events),
            ).rowcount
            codes = self.db.execute(
                "DELETE FROM replay WHERE rowid IN (SELECT rowid FROM replay "
                "WHERE expires < ? ORDER BY expires LIMIT ?)",
                (due.expired_before, limit - events - sessions),
            ).rowcount
            return Purged(events=events, sessions=sessions, used_codes=codes, batches=1)

        return self._tx(work)

    def free_pages(self) -> int:
        """Pages of the file that hold nothing (reused by later writes, or given back)."""
        return int(self.db.execute("PRAGMA freelist_count").fetchone()[0])

    def give_back(self, pages: int) -> int:
        """Return up to `pages` (at least 1) free pages to the file system; how many are left."""
        # incremental_vacuum frees one page per step, and all of them for N < 1.
        self.db.execute(f"PRAGMA incremental_vacuum({max(1, int(pages))})").fetchall()
        return self.free_pages()

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds into the file, so that the log starts over.

        PASSIVE: it never waits for a reader. On this connection's own thread nothing writes
        meanwhile, so it copies the whole log and the next write starts the log from its
        beginning (cut back to `WAL_LIMIT_BYTES`, `store_schema.py`).
        """
        self.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
