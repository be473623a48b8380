"""Retention: what is past it leaves the database in batches, and the file gives space back."""

import asyncio
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store_bridge import retention
from store_bridge.database import Database
from store_bridge.storage import StorageUnavailable
from store_bridge.store_schema import SCHEMA_VERSION
from tests.waiting import until

from .conftest import Store, StoreFactory

RETENTION = timedelta(days=90)


def _sql(path: Path, statement: str, *args: object) -> list[tuple[object, ...]]:
    """One statement through a second connection (as an operator's sqlite3 would)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        return db.execute(statement, args).fetchall()


def _sessions(path: Path) -> dict[str, str]:
    return dict(_sql(path, "SELECT visit_id, state FROM sessions"))  # type: ignore[arg-type]


async def _visit(store: Store, now: datetime, *, leave: bool) -> str:
    status, answer = await store.check_in(qr=store.operator.qr(now=now.timestamp()))
    assert status == 200, answer
    assert answer["opened"]
    if leave:
        status, _ = await store.leave(track=answer["track"])
        assert status == 200
    return str(answer["visit"])


def _published_events(path: Path, count: int, *, sent: float) -> None:
    """`count` events in the outbox, published at `sent` (seconds since the epoch)."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.executemany(
            "INSERT INTO outbox (event_id, payload, created, sent) VALUES (?, '{}', ?, ?)",
            [(f"old-{n}", sent, sent) for n in range(count)],
        )


async def test_sessions_past_the_retention_are_purged_and_current_ones_kept(
    make_store: StoreFactory,
) -> None:
    clock = [datetime.now(UTC) - RETENTION - timedelta(days=1)]
    store: Store = await make_store(clock=lambda: clock[0])
    gone = await _visit(store, clock[0], leave=True)
    still_inside = await _visit(store, clock[0], leave=False)
    clock[0] += timedelta(days=60)
    recent = await _visit(store, clock[0], leave=True)
    clock[0] += timedelta(days=31)
    events = {e["id"] for e in store.outbox()}

    purged = await store.bridge.purge()

    assert _sessions(store.path) == {still_inside: "inside", recent: "left"}
    assert gone not in _sessions(store.path)
    assert (purged.sessions, purged.used_codes) == (1, 3)  # every code has long expired
    assert events <= {e["id"] for e in store.outbox()}  # none was published: none is deleted
    assert still_inside in store.bridge.inside
    assert store.bridge.occupancy == 1


async def test_unpublished_events_survive_a_purge_in_batches(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    _published_events(store.path, 25, sent=1.0)  # published in 1970
    with closing(sqlite3.connect(store.path, isolation_level=None)) as db:
        db.executemany(
            "INSERT INTO outbox (event_id, payload, created, sent) VALUES (?, '{}', 1.0, NULL)",
            [(f"waiting-{n}",) for n in range(7)],
        )
    what = retention.due(datetime.now(UTC), 90)

    purged = await retention.purge(store.bridge.db, what, batch=4)

    assert purged.events == 25
    assert purged.batches == 7  # 6 full batches of 4 and the last one
    assert [e for (e,) in _sql(store.path, "SELECT event_id FROM outbox ORDER BY seq")] == [
        f"waiting-{n}" for n in range(7)
    ]
    assert await store.bridge.db.call(lambda s: s.snapshot().pending) == 7


def _wal_bytes(path: Path) -> int:
    """The size of the database's write-ahead log."""
    return Path(f"{path}-wal").stat().st_size


def _seen_triggers(path: Path) -> None:
    """Table `seen`: each purged event and each check-in, in the order they were written."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.executescript(
            """
            CREATE TABLE seen (n INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT NOT NULL);
            CREATE TRIGGER purged AFTER DELETE ON outbox
                BEGIN INSERT INTO seen (what) VALUES ('purged'); END;
            CREATE TRIGGER checked_in AFTER INSERT ON sessions
                BEGIN INSERT INTO seen (what) VALUES ('checked in'); END;
            """
        )


async def test_a_check_in_during_a_purge_runs_between_its_batches(
    make_store: StoreFactory,
) -> None:
    store: Store = await make_store()
    _published_events(store.path, 400, sent=1.0)
    _seen_triggers(store.path)
    what = retention.due(datetime.now(UTC), 90)

    purge = asyncio.create_task(retention.purge(store.bridge.db, what, batch=5))
    await asyncio.sleep(0)  # the purge's first batch is queued (or already running)
    decision = await store.bridge.check_in_qr("entry_1", store.operator.qr())
    purged = await purge

    assert decision.opened
    assert purged.events == 400
    order = [w for (w,) in _sql(store.path, "SELECT what FROM seen ORDER BY n")]
    at = order.index("checked in")
    assert at < len(order) - 1, "the check-in waited for the whole purge"
    assert at % 5 == 0  # between two batches, not inside one


async def test_a_check_in_goes_before_the_purge_batch_that_waited_first(
    make_store: StoreFactory,
) -> None:
    store: Store = await make_store()
    _published_events(store.path, 40, sent=1.0)
    _seen_triggers(store.path)
    db = store.bridge.db
    busy, free = threading.Event(), threading.Event()
    holder = asyncio.create_task(db.call(lambda _: (busy.set(), free.wait(10))))
    await until("the database thread is busy", busy.is_set)
    what = retention.due(datetime.now(UTC), 90)

    purge = asyncio.create_task(retention.purge(db, what, batch=5))
    await until("the purge's first batch waits", lambda: db.waiting == 1)
    check_in = asyncio.create_task(store.bridge.check_in_qr("entry_1", store.operator.qr()))
    await until("the check-in waits behind it", lambda: db.waiting == 2)
    free.set()
    decision, purged, _ = await asyncio.gather(check_in, purge, holder)

    assert decision.opened
    assert purged.events == 40
    order = [w for (w,) in _sql(store.path, "SELECT what FROM seen ORDER BY n")]
    assert order[0] == "checked in", "the check-in waited for upkeep queued before it"


async def test_a_purge_leaves_a_short_write_ahead_log(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    _published_events(store.path, 3000, sent=1.0)
    _sql(store.path, "PRAGMA wal_checkpoint(TRUNCATE)")
    assert _wal_bytes(store.path) == 0

    purged = await retention.purge(store.bridge.db, retention.due(datetime.now(UTC), 90), batch=50)

    assert purged.events == 3000
    # Each step's pages went into the file before the next step: the log holds about one
    # step (a few pages), not the whole purge (hundreds of pages).
    assert _wal_bytes(store.path) < 40 * 4096


async def test_a_purge_gives_the_space_back_to_the_file_system(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    _published_events(store.path, 3000, sent=1.0)
    _sql(store.path, "PRAGMA wal_checkpoint(TRUNCATE)")
    (pages,) = _sql(store.path, "PRAGMA page_count")[0]

    purged = await store.bridge.purge()

    assert purged.events == 3000
    assert purged.pages_freed > 0
    assert _sql(store.path, "PRAGMA freelist_count") == [(0,)]
    (left,) = _sql(store.path, "PRAGMA page_count")[0]
    assert left + purged.pages_freed == pages  # type: ignore[operator]


@pytest.mark.parametrize(
    ("table", "query", "index"),
    [
        ("outbox", "SELECT seq FROM outbox WHERE sent IS NOT NULL AND sent < 1", "outbox_sent"),
        (
            "sessions",
            (
                "SELECT rowid FROM sessions WHERE ended IS NOT NULL AND ended < 1 "
                "AND state != 'inside'"
            ),
            "sessions_ended",
        ),
        ("replay", "SELECT rowid FROM replay WHERE expires < 1", "replay_expires"),
    ],
)
async def test_a_purge_finds_what_is_due_through_an_index(
    make_store: StoreFactory, table: str, query: str, index: str
) -> None:
    store: Store = await make_store()
    plan = " ".join(str(row[-1]) for row in _sql(store.path, f"EXPLAIN QUERY PLAN {query}"))
    assert f"USING INDEX {index}" in plan or f"USING COVERING INDEX {index}" in plan, table


_SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sessions (
    visit_id TEXT PRIMARY KEY, track_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
    entry_gate TEXT NOT NULL, party INTEGER NOT NULL, entered TEXT NOT NULL,
    account TEXT NOT NULL, state TEXT NOT NULL, exit_gate TEXT, left_at TEXT);
CREATE INDEX sessions_inside ON sessions(state) WHERE state = 'inside';
CREATE TABLE replay (id TEXT PRIMARY KEY, expires REAL NOT NULL);
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL, created REAL NOT NULL, sent REAL);
CREATE INDEX outbox_unsent ON outbox(seq) WHERE sent IS NULL;
INSERT INTO meta VALUES ('schema', '1'), ('occupancy', '2');
"""


def _old_database(path: Path, now: datetime) -> None:
    """A file as the bridge of schema 1 left it: one shopper inside, one long gone."""
    long_ago, today = now - RETENTION - timedelta(days=5), now - timedelta(hours=1)
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA_1)
        db.executemany(
            "INSERT INTO sessions VALUES (?, ?, 'store_app', 'entry_1', ?, ?, 'acct', ?, ?, ?)",
            [
                ("trip-gone", "t-gone", 1, long_ago.isoformat(), "left", "exit_1",
                 (long_ago + timedelta(minutes=20)).isoformat()),
                ("trip-inside", "t-inside", 2, today.isoformat(), "inside", None, None),
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO outbox (event_id, payload, created, sent) VALUES (?, '{}', ?, ?)",
            [
                ("sent-long-ago", long_ago.timestamp(), long_ago.timestamp()),
                ("never-sent", long_ago.timestamp(), None),
                ("sent-today", today.timestamp(), today.timestamp()),
            ],
        )
        db.execute("INSERT INTO replay VALUES ('used', ?)", (now.timestamp() + 30,))


async def test_a_database_of_schema_1_is_migrated_and_then_purged(
    make_store: StoreFactory, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    path = tmp_path / "old.sqlite3"
    _old_database(path, now)
    assert _sql(path, "PRAGMA auto_vacuum") == [(0,)]

    store: Store = await make_store(path=path, clock=lambda: now)

    assert store.bridge.occupancy == 2
    assert list(store.bridge.inside) == ["trip-inside"]
    assert _sql(path, "SELECT value FROM meta WHERE key = 'schema'") == [(str(SCHEMA_VERSION),)]
    assert _sql(path, "PRAGMA auto_vacuum") == [(2,)]  # incremental, after the one rewrite
    purged = await store.bridge.purge()
    assert (purged.events, purged.sessions, purged.used_codes) == (1, 1, 0)
    assert _sessions(path) == {"trip-inside": "inside"}
    assert [e for (e,) in _sql(path, "SELECT event_id FROM outbox ORDER BY seq")] == [
        "never-sent",
        "sent-today",
    ]
    await _visit(store, now, leave=True)  # the migrated file takes new sessions
    assert len(_sessions(path)) == 2


async def test_a_database_from_a_newer_bridge_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    _sql(path, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    _sql(path, "INSERT INTO meta VALUES ('schema', ?)", str(SCHEMA_VERSION + 1))
    db = Database(path)
    with pytest.raises(StorageUnavailable, match="NewerSchemaError"):
        await db.open()
    await db.close()
    assert _sql(path, "SELECT value FROM meta") == [(str(SCHEMA_VERSION + 1),)]
