"""The bridge's SQLite file: shopping sessions, used QR ids, occupancy and the event outbox.

Every state change and the events it produces are written in one transaction (a
transactional outbox): an event exists exactly when its change happened, and the publisher
sends what the outbox holds. Nothing is deleted before it was published.

SQLite runs in one dedicated thread; `Database.call` runs a function there. Any SQLite
failure (locked, disk full, file gone) surfaces as `StorageUnavailable`; `busy_timeout` is
short so that a stuck database answers quickly instead of holding a gate decision.
"""

import asyncio
import sqlite3
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from .core.store import Session, SessionState
from .events import Wire, to_json

SCHEMA_VERSION: Final = 1
BUSY_TIMEOUT_MS: Final = 250

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    visit_id TEXT PRIMARY KEY, track_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    entry_gate TEXT NOT NULL, party INTEGER NOT NULL, entered TEXT NOT NULL,
    account TEXT NOT NULL, state TEXT NOT NULL, exit_gate TEXT, left_at TEXT);
CREATE INDEX IF NOT EXISTS sessions_inside ON sessions(state) WHERE state = 'inside';
CREATE TABLE IF NOT EXISTS replay (id TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL, created REAL NOT NULL, sent REAL);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox(seq) WHERE sent IS NULL;
"""


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
    )


class Store:
    """The synchronous SQLite side (used only from the database thread)."""

    def __init__(self, path: Path | str) -> None:
        """Open (and create) the database."""
        self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self.db.executescript(_SCHEMA)
        self.db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema', ?), ('occupancy', '0')",
            (str(SCHEMA_VERSION),),
        )

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def _tx[T](self, work: Callable[[], T]) -> T:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            result = work()
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return result

    def _add_events(self, events: Sequence[Wire], already_sent: Collection[str] = ()) -> None:
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
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                (
                    session.visit_id,
                    session.track_id,
                    session.source,
                    session.entry_gate,
                    session.party,
                    session.entered.isoformat(),
                    session.account,
                    session.state.value,
                ),
            )
            self._set_occupancy(occupancy)
            self._add_events(events)

        self._tx(work)

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
                    "UPDATE sessions SET state = ?, exit_gate = ?, left_at = ? "
                    "WHERE visit_id = ? AND state = 'inside'",
                    (state.value, gate, when.isoformat(), visit_id),
                )
            self._set_occupancy(occupancy)
            self._add_events(events)

        self._tx(work)

    def add_events(self, events: Sequence[Wire], already_sent: Collection[str] = ()) -> None:
        """Add events that change no state (denials, door signals, events held in memory).

        Events whose ids are in `already_sent` were published from memory and go in as sent.
        """
        self._tx(lambda: self._add_events(events, already_sent))

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

    def purge(self, *, sent_before: float, replay_before: float) -> int:
        """Drop published events older than the retention and expired QR ids."""

        def work() -> int:
            gone = self.db.execute(
                "DELETE FROM outbox WHERE sent IS NOT NULL AND sent < ?", (sent_before,)
            ).rowcount
            self.db.execute("DELETE FROM replay WHERE expires < ?", (replay_before,))
            return gone

        return self._tx(work)


class Database:
    """`Store` behind one thread, for the event loop."""

    def __init__(self, path: Path | str) -> None:
        """Remember where the file is; `open` opens it."""
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-bridge-db")
        self._store: Store | None = None

    async def open(self) -> Snapshot:
        """Open the file in the database thread and read the start state."""

        def work() -> Snapshot:
            self._store = Store(self.path)
            return self._store.snapshot()

        return await self._run(work)

    async def call[T](self, work: Callable[[Store], T]) -> T:
        """Run `work(store)` in the database thread."""

        def bound() -> T:
            if self._store is None:
                raise StorageUnavailable("closed")
            return work(self._store)

        return await self._run(bound)

    async def _run[T](self, work: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except sqlite3.Error as err:
            raise StorageUnavailable(type(err).__name__) from err
        except RuntimeError as err:  # the executor was shut down
            raise StorageUnavailable("closed") from err

    async def close(self) -> None:
        """Close the file and end the thread."""

        def work() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None

        try:
            await self._run(work)
        finally:
            self._executor.shutdown(wait=True)  # the thread is idle: this only joins it
