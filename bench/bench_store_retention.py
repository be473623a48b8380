"""Store bridge retention: check-ins during a purge, a purge with nothing due, the file's size.

Run: .venv/bin/python -m pytest bench/bench_store_retention.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

Real SQLite files (WAL, the bridge's own settings) in a temporary folder, the real `Bridge`
with its database thread, simulated turnstiles, app QR codes signed by an `Operator` and
verified for real. No broker: events are put in the outbox as published (the purge only
deletes published events), with the times the scenario needs.

1. A file of schema 1 (as the previous bridge wrote it: no `sent` index, no auto-vacuum)
   with `EVENTS` = 1M events, of which `DUE` (130k) were published before the retention,
   and `SESSIONS` ended sessions. Opening it migrates it (column, indexes, the one `VACUUM`):
   timed, with the file's size before and after.
2. Check-ins while a purge runs, on that file. One check-in every `PACE_S`
   (`Bridge.check_in_qr`, each in its own task); the latency is `Decision.decided_ms`
   (presented -> open command issued, the session's transaction included). Baseline: the
   same check-ins with no purge, before and after, in the same run. Then the `DUE` rows
   are purged by the bridge's purge (batches, space given back), and once more made due
   and purged by the previous bridge's statement (one `DELETE` in one transaction), for
   comparison. Goal (asserted): p99 during the purge at most the baseline's + `GOAL_MS`.
   The write-ahead log's largest size during the purge is sampled every 10 ms.
3. A purge with nothing due at `QUIET_ROWS` (600k) events: the bridge's purge (index)
   against the previous statement (`NOT INDEXED`: the full scan the issue measured), same
   file, alternating, median of `QUIET_RUNS`.
4. The file's size under a steady load: each cycle (a "day") adds `DAILY` published events,
   `DAILY // 10` ended sessions and as many used QR ids, moves the clock one day and
   purges with a retention of `RETAIN_DAYS` days; one day in the middle is a peak
   (`PEAK` times the load). Twice, in the same run: the bridge as it is now, and the previous
   bridge's file and purge (no auto-vacuum, one `DELETE`). Sizes are the database file plus
   its write-ahead log, and the log on its own.

Correctness and the check-in goal of part 2 are asserted; the other times are reported.
"""

import asyncio
import contextlib
import json
import os
import secrets
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store_bridge import retention
from store_bridge.bridge import Bridge, GateInfo, StoreSettings
from store_bridge.database import Database
from store_bridge.gates.base import GateRole
from store_bridge.gates.simulator import SimulatedGate
from store_bridge.purge_counts import Due
from store_bridge.storage import Store
from tests.store_bridge.conftest import ISSUER, SITE, Operator
from tests.store_bridge.test_retention import _SCHEMA_1

SCALE = float(os.environ.get("BENCH_RETENTION_SCALE", "1"))  # < 1: a quick trial run
EVENTS = int(1_000_000 * SCALE)
DUE = int(130_000 * SCALE)
SESSIONS = int(100_000 * SCALE)
RETAIN_DAYS = 90
PACE_S = 0.005
GOAL_MS = 20.0  # check-in p99 during the purge at most the baseline's + this
BASELINE_CHECK_INS = 400
QUIET_ROWS = int(600_000 * SCALE)
QUIET_RUNS = 15
DAILY = int(20_000 * SCALE)
CYCLES = 40
PEAK = 5
PEAK_DAY = 15
STEADY_RETAIN = 10  # days kept in part 4 (cycles are days)
DAY = 86400.0


# The shared bench conftest starts Home Assistant for every benchmark (through these two
# autouse fixtures); the store bridge is a standalone service: no Home Assistant here.
@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Nothing to enable: no Home Assistant in this benchmark."""


@pytest.fixture(autouse=True)
def config_dir_in_tmp() -> None:
    """No Home Assistant config folder in this benchmark."""


def _p50(samples: list[float]) -> float:
    return statistics.median(samples)


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def _size(path: Path) -> int:
    """The database file and its write-ahead log, in bytes."""
    wal = Path(f"{path}-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _wal(path: Path) -> int:
    """The write-ahead log alone, in bytes."""
    wal = Path(f"{path}-wal")
    return wal.stat().st_size if wal.exists() else 0


async def _largest_wal(path: Path, seen: list[int]) -> None:
    """Keep the write-ahead log's largest size in `seen[0]` until cancelled."""
    while True:
        seen[0] = max(seen[0], _wal(path))
        await asyncio.sleep(0.01)


def _mb(size: float) -> str:
    return f"{size / 1e6:.1f}"


def _payload(n: int) -> str:
    """An event as the outbox holds it (the size of a real check_in)."""
    return json.dumps(
        {
            "v": 1,
            "id": secrets.token_hex(13),
            "type": "check_in",
            "site": SITE,
            "time": "2025-06-01T10:00:00.000Z",
            "portal": "entry_1",
            "source": "store_app",
            "outcome": "ok",
            "visit": f"trip-{n:020d}",
            "data": {"track": f"t-{n:016d}", "party_size": 1},
        },
        separators=(",", ":"),
    )


def _rows(count: int, sent: Callable[[int], float], start: int = 0) -> Iterator[tuple[object, ...]]:
    for n in range(start, start + count):
        when = sent(n)
        yield (f"ev-{n}", _payload(n), when, when)


def _add_events(db: sqlite3.Connection, rows: Iterator[tuple[object, ...]]) -> None:
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO outbox (event_id, payload, created, sent) VALUES (?, ?, ?, ?)", rows
    )
    db.execute("COMMIT")


def _add_sessions(
    db: sqlite3.Connection, count: int, ended: float, start: int, *, v2: bool
) -> None:
    left = datetime.fromtimestamp(ended, UTC).isoformat()
    rows = [
        (f"trip-{start + n}", f"t-{start + n}", left, "acct-7f3a", left) + ((ended,) if v2 else ())
        for n in range(count)
    ]
    insert = (
        "INSERT INTO sessions (visit_id, track_id, source, entry_gate, party, entered, account, "
        "state, exit_gate, left_at{}) VALUES (?, ?, 'store_app', 'entry_1', 1, ?, ?, 'left', "
        "'exit_1', ?{})"
    )  # by name: a later schema adds columns
    db.execute("BEGIN")
    db.executemany(insert.format(*((", ended", ", ?") if v2 else ("", ""))), rows)
    db.executemany(
        "INSERT INTO replay VALUES (?, ?)",
        [(f"jti-{start + n}", ended + 60) for n in range(count)],
    )
    db.execute("COMMIT")


def _old_file(path: Path, now: float) -> None:
    """Schema 1 with EVENTS events (DUE past the retention) and SESSIONS ended sessions."""
    keep = now - RETAIN_DAYS * DAY
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA_1.replace("('occupancy', '2')", "('occupancy', '0')"))
        step = (now - keep - 7200) / (EVENTS - DUE)  # kept: from an hour past the cut
        _add_events(
            db,
            _rows(
                EVENTS,
                lambda n: keep - DAY + n * 1e-3 if n < DUE else keep + 3600 + (n - DUE) * step,
            ),
        )
        _add_sessions(db, SESSIONS // 2, keep - DAY, 0, v2=False)
        _add_sessions(db, SESSIONS // 2, now - DAY, SESSIONS // 2, v2=False)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _old_purge(store: Store, what: Due) -> int:
    """The previous bridge's purge: one transaction, one statement per table."""
    store.db.execute("BEGIN IMMEDIATE")
    gone = store.db.execute(
        "DELETE FROM outbox WHERE sent IS NOT NULL AND sent < ?", (what.sent_before,)
    ).rowcount
    store.db.execute("DELETE FROM replay WHERE expires < ?", (what.expired_before,))
    store.db.execute("COMMIT")
    return gone


def _make_due(store: Store, keep: float) -> int:
    """Make the DUE oldest published events due again (for the second purge)."""
    store.db.execute("BEGIN IMMEDIATE")
    changed = store.db.execute(
        "UPDATE outbox SET sent = ? WHERE seq IN (SELECT seq FROM outbox WHERE sent IS NOT "
        "NULL ORDER BY sent LIMIT ?)",
        (keep - DAY, DUE),
    ).rowcount
    store.db.execute("COMMIT")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return changed


class CheckIns:
    """Check-ins at a steady pace; their decided_ms."""

    def __init__(self, bridge: Bridge, operator: Operator) -> None:
        """Check in at the bridge's entry_1 with the operator's codes."""
        self.bridge = bridge
        self.operator = operator

    async def one(self) -> float:
        """One check-in (it must open); its decided_ms."""
        token = self.operator.qr()  # signed before the check-in's clock starts
        decision = await self.bridge.check_in_qr("entry_1", token)
        assert decision.opened, decision
        return decision.decided_ms

    async def paced(self, *, until: asyncio.Future[object] | None, count: int = 0) -> list[float]:
        """One every PACE_S: `count` of them, or until `until` is done (at least 50)."""
        tasks: list[asyncio.Task[float]] = []
        while (until is not None and (not until.done() or len(tasks) < 50)) or len(tasks) < count:
            tasks.append(asyncio.create_task(self.one()))
            await asyncio.sleep(PACE_S)
        return list(await asyncio.gather(*tasks))


async def part_1_and_2(folder: Path) -> dict[str, object]:
    """The migration of a file with EVENTS events; check-ins while its DUE rows are purged."""
    path = folder / "million.sqlite3"
    now = time.time()
    await asyncio.to_thread(_old_file, path, now)
    before = _size(path)
    started = time.perf_counter()
    await asyncio.to_thread(lambda: Store(path).close())  # the migration, as at the start
    migrated = time.perf_counter() - started
    after = _size(path)

    operator = Operator()
    gate = SimulatedGate("entry_1", GateRole.ENTRY, passage_seconds=0)
    settings = StoreSettings(
        site=SITE, name="Bench store", capacity=10**6, issuer=ISSUER, keys=operator.keys
    )
    bridge = Bridge(settings, Database(path), {"entry_1": GateInfo(gate, "Entry", "simulated")})
    await bridge.start()
    check_ins = CheckIns(bridge, operator)
    for _ in range(50):  # warm-up
        await check_ins.one()
    rows: dict[str, list[float]] = {}
    what = retention.due(datetime.now(UTC), RETAIN_DAYS)
    try:
        quiet = await check_ins.paced(until=None, count=BASELINE_CHECK_INS // 2)
        wal = [_wal(path)]
        watch = asyncio.create_task(_largest_wal(path, wal))
        started = time.perf_counter()
        purge = asyncio.ensure_future(retention.purge(bridge.db, what))
        rows["during the bridge's purge"] = await check_ins.paced(until=purge)
        purged = await purge
        purge_s = time.perf_counter() - started
        watch.cancel()
        files = (path.stat().st_size, wal[0], _wal(path))
        assert purged.events == DUE
        assert purged.sessions == SESSIONS // 2
        quiet += await check_ins.paced(until=None, count=BASELINE_CHECK_INS // 2)
        assert await bridge.db.call(lambda s: _make_due(s, what.sent_before)) == DUE
        started = time.perf_counter()
        old = asyncio.ensure_future(bridge.db.call(lambda s: _old_purge(s, what)))
        rows["during the previous purge (one DELETE)"] = await check_ins.paced(until=old)
        assert await old == DUE
        old_s = time.perf_counter() - started
        rows["no purge (baseline)"] = quiet
    finally:
        await bridge.stop()
    return {
        "migration": (migrated, before, after),
        "rows": rows,
        "purge": (purged, purge_s, old_s),
        "files": files,
    }


async def part_3(folder: Path) -> tuple[list[float], list[float]]:
    """A purge with nothing due at QUIET_ROWS events: the bridge's, and a full scan."""
    path = folder / "quiet.sqlite3"
    now = time.time()
    Store(path).close()
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        _add_events(db, _rows(QUIET_ROWS, lambda n: now - (QUIET_ROWS - n) * 1e-1))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db = Database(path)
    await db.open()
    what = retention.due(datetime.now(UTC), RETAIN_DAYS)
    new: list[float] = []
    old: list[float] = []

    def full_scan(store: Store) -> int:
        store.db.execute("BEGIN IMMEDIATE")
        gone = store.db.execute(
            "DELETE FROM outbox NOT INDEXED WHERE sent IS NOT NULL AND sent < ?",
            (what.sent_before,),
        ).rowcount
        store.db.execute("DELETE FROM replay NOT INDEXED WHERE expires < ?", (what.expired_before,))
        store.db.execute("COMMIT")
        return gone

    try:
        for n in range(QUIET_RUNS + 1):
            for run in ("new", "old") if n % 2 else ("old", "new"):
                started = time.perf_counter()
                if run == "new":
                    assert (await retention.purge(db, what)).rows == 0
                else:
                    assert await db.call(full_scan) == 0
                took = time.perf_counter() - started
                if n:
                    (new if run == "new" else old).append(took)
    finally:
        await db.close()
    return new, old


def _day(db: sqlite3.Connection, day: int, *, v2: bool) -> None:
    count = DAILY * (PEAK if day == PEAK_DAY else 1)
    base = day * DAY
    _add_events(db, _rows(count, lambda n: base + n * 1e-3, start=day * DAILY * PEAK))
    _add_sessions(db, count // 10, base + DAY / 2, day * DAILY * PEAK, v2=v2)


async def part_4(folder: Path) -> tuple[list[int], list[int], list[int]]:
    """Sizes after each day's purge: the bridge now, and the previous file and purge."""
    new_path, old_path = folder / "steady-new.sqlite3", folder / "steady-old.sqlite3"
    Store(new_path).close()
    with closing(sqlite3.connect(old_path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA_1)
    db = Database(new_path)
    await db.open()
    new: list[int] = []
    old: list[int] = []
    logs: list[int] = []
    try:
        with (
            closing(sqlite3.connect(new_path, isolation_level=None)) as writer,
            closing(sqlite3.connect(old_path, isolation_level=None)) as previous,
        ):
            for day in range(1, CYCLES + 1):
                _day(writer, day, v2=True)
                _day(previous, day, v2=False)
                now = datetime.fromtimestamp((day + 1) * DAY, UTC)
                what = retention.due(now, STEADY_RETAIN)
                await retention.purge(db, what)
                previous.execute("BEGIN IMMEDIATE")
                previous.execute("DELETE FROM outbox WHERE sent IS NOT NULL AND sent < ?",
                                 (what.sent_before,))  # fmt: skip
                previous.execute("DELETE FROM replay WHERE expires < ?", (what.expired_before,))
                previous.execute("COMMIT")
                new.append(_size(new_path))
                old.append(_size(old_path))
                logs.append(_wal(new_path))
    finally:
        await db.close()
    return new, old, logs


def _print(one: dict[str, object], quiet: tuple[list[float], list[float]],
           sizes: tuple[list[int], list[int], list[int]], took: float) -> None:  # fmt: skip
    migrated, before, after = one["migration"]  # type: ignore[misc]
    purged, purge_s, old_s = one["purge"]  # type: ignore[misc]
    rows: dict[str, list[float]] = one["rows"]  # type: ignore[assignment]
    base = rows["no purge (baseline)"]
    print()
    print(f"### Store retention, {EVENTS:,} events, {took:.0f} s")
    print()
    print(f"Migration of a schema-1 file ({EVENTS:,} events, {SESSIONS:,} sessions): "
          f"{migrated:.1f} s (column, indexes, one VACUUM); "
          f"{_mb(before)} MB -> {_mb(after)} MB")  # fmt: skip
    print()
    print(f"Check-ins (one every {PACE_S * 1000:.0f} ms) while {DUE:,} events and "
          f"{SESSIONS // 2:,} sessions are purged: presented -> open command (ms)")  # fmt: skip
    print()
    print("| while | n | p50 | p99 | max | p99 - baseline p99 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, samples in rows.items():
        print(f"| {name} | {len(samples)} | {_p50(samples):.2f} | {_p99(samples):.2f} "
              f"| {max(samples):.2f} | {_p99(samples) - _p99(base):+.2f} |")  # fmt: skip
    print()
    print(f"The bridge's purge: {purged.batches} batches, {purge_s:.2f} s, "
          f"{purged.pages_freed:,} pages given back; "
          f"the previous purge: {old_s:.2f} s")  # fmt: skip
    file_bytes, wal_peak, wal_after = one["files"]  # type: ignore[misc]
    print(f"After the purge: database file {_mb(file_bytes)} MB; write-ahead log at most "
          f"{_mb(wal_peak)} MB during it, {_mb(wal_after)} MB after")  # fmt: skip
    new, old = quiet
    print()
    print(f"A purge with nothing due, {QUIET_ROWS:,} events (median of {QUIET_RUNS}): "
          f"bridge {_p50(new) * 1000:.2f} ms, previous (full scan) {_p50(old) * 1000:.1f} ms, "
          f"ratio {_p50(new) / _p50(old):.3f}")  # fmt: skip
    now, before_, logs = sizes
    steady = slice(STEADY_RETAIN + 1, PEAK_DAY - 1)
    after_peak = slice(PEAK_DAY + STEADY_RETAIN + 2, CYCLES)
    print()
    print(f"File size (MB, database + WAL) after each day's purge: {DAILY:,} events and "
          f"{DAILY // 10:,} sessions a day, kept {STEADY_RETAIN} days, day {PEAK_DAY} "
          f"{PEAK}x")  # fmt: skip
    print()
    print("| file | steady, before the peak | highest | steady, after the peak ages out |")
    print("|---|---:|---:|---:|")
    for name, series in (("bridge", now), ("previous", before_)):
        print(f"| {name} | {_mb(min(series[steady]))}-{_mb(max(series[steady]))} "
              f"| {_mb(max(series))} | {_mb(min(series[after_peak]))}-"
              f"{_mb(max(series[after_peak]))} |")  # fmt: skip
    print()
    print("days: " + " ".join(_mb(s) for s in now))
    print("write-ahead log (MB) after each day's purge: " + " ".join(_mb(s) for s in logs))


async def test_bench_store_retention(tmp_path: Path) -> None:
    """Measure check-ins during a purge, a purge with nothing due, and the file's size."""
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(False)
    started = time.perf_counter()
    try:
        one = await part_1_and_2(tmp_path)
        for suffix in ("", "-wal", "-shm"):  # the disk space for the next parts
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{tmp_path / 'million.sqlite3'}{suffix}")  # noqa: PTH108
        quiet = await part_3(tmp_path)
        sizes = await part_4(tmp_path)
    finally:
        loop.set_debug(debug)
    _print(one, quiet, sizes, time.perf_counter() - started)
    rows: dict[str, list[float]] = one["rows"]  # type: ignore[assignment]
    during, base = _p99(rows["during the bridge's purge"]), _p99(rows["no purge (baseline)"])
    assert during <= base + GOAL_MS, (
        f"check-in p99 {during:.1f} ms during the purge, {base:.1f} idle"
    )
