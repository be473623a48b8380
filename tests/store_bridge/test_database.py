"""The database's thread (gate jobs before upkeep, upkeep never starved) and its settings."""

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from store_bridge.db_thread import UPKEEP_PASSED_MAX, DbThread, Lane
from store_bridge.storage import Database, StorageUnavailable, Store


def _held(thread: DbThread) -> threading.Event:
    """Keep `thread` busy until the returned event is set."""
    busy, free = threading.Event(), threading.Event()
    thread.submit(Lane.FOREGROUND, lambda: (busy.set(), free.wait(10)))
    assert busy.wait(10)
    return free


def _job(ran: list[str], name: str) -> Callable[[], str]:
    def work() -> str:
        ran.append(name)
        return name

    return work


def test_gate_jobs_go_before_upkeep_that_waited_longer() -> None:
    thread = DbThread("test-db")
    free = _held(thread)
    ran: list[str] = []
    thread.submit(Lane.UPKEEP, _job(ran, "purge batch"))
    thread.submit(Lane.UPKEEP, _job(ran, "checkpoint"))
    check_in = thread.submit(Lane.FOREGROUND, _job(ran, "check-in"))
    exit_ = thread.submit(Lane.FOREGROUND, _job(ran, "exit"))
    assert thread.waiting == 4

    free.set()
    thread.shutdown()  # runs what is queued, then ends

    assert ran == ["check-in", "exit", "purge batch", "checkpoint"]
    assert (check_in.result(), exit_.result()) == ("check-in", "exit")


def test_upkeep_runs_in_a_store_busy_without_a_pause() -> None:
    thread = DbThread("test-db")
    free = _held(thread)
    ran: list[str] = []
    thread.submit(Lane.UPKEEP, _job(ran, "purge batch"))
    for n in range(UPKEEP_PASSED_MAX + 10):
        thread.submit(Lane.FOREGROUND, _job(ran, f"check-in {n}"))

    free.set()
    thread.shutdown()

    assert ran.index("purge batch") == UPKEEP_PASSED_MAX  # after that many check-ins, not all
    assert len(ran) == UPKEEP_PASSED_MAX + 11


def test_a_job_given_up_before_it_started_never_runs_and_errors_reach_the_caller() -> None:
    thread = DbThread("test-db")
    free = _held(thread)
    ran: list[str] = []
    given_up = thread.submit(Lane.FOREGROUND, _job(ran, "given up"))
    failing = thread.submit(Lane.UPKEEP, lambda: 1 // 0)
    assert given_up.cancel()

    free.set()
    thread.shutdown()

    assert ran == []
    with pytest.raises(ZeroDivisionError):
        failing.result()
    with pytest.raises(RuntimeError):
        thread.submit(Lane.FOREGROUND, _job(ran, "too late"))
    thread.shutdown()  # again: nothing happens


async def test_after_close_the_database_answers_unavailable(tmp_path: Path) -> None:
    db = Database(tmp_path / "bridge.sqlite3")
    await db.open()
    assert await db.upkeep(lambda store: store.free_pages()) == 0
    await db.close()
    with pytest.raises(StorageUnavailable, match="closed"):
        await db.call(lambda store: store.snapshot())
    with pytest.raises(StorageUnavailable, match="closed"):
        await db.upkeep(lambda store: store.checkpoint())


def test_every_commit_reaches_the_disk_before_it_returns(tmp_path: Path) -> None:
    """A check-in is recorded before its gate opens: a power cut must not take it back."""
    store = Store(tmp_path / "bridge.sqlite3")
    try:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "bridge.sqlite3") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'occupancy'").fetchone() == ("0",)
