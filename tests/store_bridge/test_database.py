"""The database's thread (gate jobs before upkeep, upkeep never starved) and its settings."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store_bridge import retention
from store_bridge.database import Database
from store_bridge.db_thread import UPKEEP_PASSED_MAX, DbThread, Lane
from store_bridge.storage import StorageUnavailable

from .conftest import Store, StoreFactory
from .test_retention import _published_events


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


async def test_a_check_in_is_on_disk_before_its_gate_opens(make_store: StoreFactory) -> None:
    """A power cut right after the gate opened must not take the check-in back."""
    store: Store = await make_store()
    _published_events(store.path, 30, sent=1.0)
    statements: list[str] = []
    await store.bridge.db.call(lambda s: s.db.set_trace_callback(statements.append))

    status, answer = await store.check_in(qr=store.operator.qr())
    await retention.purge(store.bridge.db, retention.due(datetime.now(UTC), 90), batch=10)
    await store.bridge.db.call(lambda s: s.db.set_trace_callback(None))

    assert status == 200, answer
    assert answer["opened"]
    full = statements.index("PRAGMA synchronous=FULL")
    done = statements.index("PRAGMA synchronous=NORMAL", full)
    durable = statements[full:done]
    assert any(s.startswith("INSERT INTO sessions") for s in durable)
    assert durable[-1] == "COMMIT"  # the commit itself waited for the disk
    assert statements.count("PRAGMA synchronous=FULL") == 1  # purge batches do not wait
    assert any(s.startswith("DELETE FROM outbox") for s in statements[done:])
