"""The checkout process when it goes wrong: hung, stopped, silent, refused its start.

Real parts throughout: the checkout process (``python -m store_bridge checkout-process``)
started by the parent's facade (`CheckoutRemote`), in this test's process so that coverage
sees the parent; localstripe behind the real ``stripe`` library; the SQLite file. A hung
child is a real one stopped by SIGSTOP; its bounds (heartbeat, request, stop) are shortened
through the facade's arguments, never waited out at their production values.
"""

import contextlib
import fcntl
import logging
import os
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from store_bridge import checkout_channel as channel
from store_bridge.checkout_process import checkout_lock_path
from store_bridge.checkout_remote import SILENT_BEATS, CheckoutRemote, CheckoutUnavailable
from store_bridge.checkout_runner import CheckoutSettings
from store_bridge.config import ConfigError, load_config
from store_bridge.database import Database
from store_bridge.service import build_bridge, running
from store_bridge.storage import StorageUnavailable

from ..localstripe_server import DECLINES_ON_CHARGE, VISA, LocalStripe
from ..waiting import until
from .test_checkout_crash import _payments, _seed, checkout_processes, no_orphan
from .test_checkout_process import Serve, _phases
from .test_checkout_remote import _customers, _store

CAN = 129
BEAT_S = 0.4
"""The child's heartbeat in these tests: it is taken as hung after SILENT_BEATS of them."""
SILENCE_S = BEAT_S * SILENT_BEATS
MARGIN_S = 2.0
"""What a loaded machine may add to a bound (a process's start, a scheduler's turn)."""


@contextlib.asynccontextmanager
async def _remote(config: Path, **bounds: float) -> AsyncIterator[CheckoutRemote]:
    """A started facade on `config`'s database (its checkout process running); stopped after."""
    db = Database(config.parent / "bridge.sqlite3")
    await db.open()
    remote = CheckoutRemote(
        db,
        CheckoutSettings(),
        config,
        on_committed=lambda: None,
        **{"restart_base_s": 0.05, **bounds},
    )
    try:
        await remote.start()
        yield remote
    finally:
        await remote.stop()
        await db.close()
    assert remote.pid is None
    no_orphan(config)


def _when(remote: CheckoutRemote, holds: Callable[[CheckoutRemote], bool]) -> list[float]:
    """The moments (monotonic) at which `holds` became true, as the facade's changes come."""
    seen: list[float] = []
    remote.on_change = lambda: seen.append(time.monotonic()) if holds(remote) else None
    return seen


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in record.getMessage() for record in caplog.records)


async def test_a_hung_checkout_process_is_killed_and_a_new_one_charges_the_waiting_cart_once(
    tmp_path: Path, localstripe: LocalStripe, caplog: pytest.LogCaptureFixture
) -> None:
    config = _store(tmp_path, localstripe)
    db_path = tmp_path / "bridge.sqlite3"
    (customer,) = await _customers(localstripe.url, VISA)
    async with _remote(config, heartbeat_s=BEAT_S, ask_s=30.0) as remote:
        assert remote.status() == {"pending": 0, "retrying": 0}
        unknown_at = _when(remote, lambda r: r.status() == {"pending": None, "retrying": None})
        hung = remote.pid
        assert hung is not None
        os.kill(hung, signal.SIGSTOP)
        stopped_at = time.monotonic()
        _seed(db_path, [("trip-hung", customer, 2)])  # a cart waits while it hangs

        with pytest.raises(CheckoutUnavailable):  # the API's 503, long before ask_s
            await remote.find("trip-hung")
        assert time.monotonic() - stopped_at < SILENCE_S + MARGIN_S
        assert unknown_at, "the counts were never taken as unknown"
        assert unknown_at[0] - stopped_at < SILENCE_S + MARGIN_S
        assert not remote.up

        await until(
            "a new checkout process runs",
            lambda: remote.up and remote.pid not in (None, hung),
            seconds=30,
        )
        assert hung not in checkout_processes(config)  # killed, not left stopped
        assert remote.started == 2
        await until(
            "the waiting cart is charged",
            lambda: _phases(db_path).get("trip-hung"),
            want=lambda phase: phase == "done",
            seconds=30,
        )
        found = await remote.find("trip-hung")
        assert found is not None
        assert found.captured == 2 * CAN
        assert await remote.find("nobody") is None
    succeeded = [p for p in await _payments(localstripe.url) if p["status"] == "succeeded"]
    assert [p["amount"] for p in succeeded] == [2 * CAN]
    assert _logged(caplog, "said nothing for") == 1  # once, however long it hung


async def test_a_stopped_child_answers_503_in_time_and_serve_stopping_kills_it(
    tmp_path: Path, localstripe: LocalStripe, caplog: pytest.LogCaptureFixture
) -> None:
    config = _store(tmp_path, localstripe)
    (customer,) = await _customers(localstripe.url, VISA)
    _seed(tmp_path / "bridge.sqlite3", [("trip-late", customer, 1)])
    stop_s = 0.5
    bridge = build_bridge(load_config(config), checkout_process=config)
    remote = bridge.checkout_remote
    assert remote is not None
    remote.ask_s, remote.stop_s = 0.5, stop_s
    async with (
        running(bridge, "127.0.0.1", 0, "t" * 40) as url,
        aiohttp.ClientSession() as http,
    ):
        serve = Serve(None, url, http, tmp_path / "bridge.log")
        await until(
            "the cart is charged",
            lambda: _phases(tmp_path / "bridge.sqlite3").get("trip-late"),
            want=lambda phase: phase == "done",
            seconds=30,
        )
        child = remote.pid
        assert child is not None

        os.kill(child, signal.SIGSTOP)
        asked_at = time.monotonic()
        status, answer = await serve.get("/v1/visits/trip-late/checkout")
        assert (status, answer["error"]) == (503, "checkout_unavailable")
        assert time.monotonic() - asked_at < remote.ask_s + MARGIN_S

        os.kill(child, signal.SIGCONT)  # it answers the request it was asked, too late
        status, found = await serve.get("/v1/visits/trip-late/checkout")
        assert (status, found["visit"], found["phase"]) == (200, "trip-late", "done")
        assert remote.pid == child  # a short stop is no hang

        os.kill(child, signal.SIGSTOP)
        leaving = time.monotonic()
    # leaving `serving_here` is what serve does on SIGTERM: it stops its checkout process
    assert time.monotonic() - leaving < stop_s + MARGIN_S
    assert _logged(caplog, "did not stop in") == 1
    no_orphan(config)


async def test_the_supervisor_backs_off_and_starts_again_after_a_stable_run(
    tmp_path: Path, localstripe: LocalStripe, caplog: pytest.LogCaptureFixture
) -> None:
    config = _store(tmp_path, localstripe)
    caplog.set_level(logging.ERROR, logger="store_bridge.checkout_remote")
    async with _remote(config, restart_base_s=0.1, restart_cap_s=0.2, stable_s=3600) as remote:
        remote.spawn()  # a child runs: nothing more is started
        assert remote.started == 1
        assert checkout_processes(config) == [remote.pid]

        async def killed(count: int) -> None:
            pid = await until("a checkout process", lambda: remote.pid)
            os.kill(pid, signal.SIGKILL)
            await until(
                "its restart is planned", lambda: _logged(caplog, "starting it again") == count
            )

        await killed(1)
        await killed(2)
        remote.stable_s = 0.0  # the next child ran long enough: the delay is the base again
        await killed(3)
        delays = [
            r.getMessage().rsplit(" in ", 1)[1]
            for r in caplog.records
            if "starting it again" in r.getMessage()
        ]
        assert delays == ["0.1 s", "0.2 s", "0.1 s"]
        await until("a checkout process runs again", lambda: remote.up, seconds=30)


async def test_a_child_that_cannot_start_or_use_its_configuration_is_tried_again(
    tmp_path: Path,
    localstripe: LocalStripe,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _store(tmp_path, localstripe)
    good = config.read_text()
    async with _remote(config, restart_cap_s=0.1) as remote:
        first = remote.pid
        assert first is not None
        # the interpreter is gone (an upgrade under a running serve)
        monkeypatch.setattr(sys, "executable", str(tmp_path / "gone" / "python3"))
        os.kill(first, signal.SIGKILL)
        await until("it cannot start", lambda: _logged(caplog, "cannot start") >= 2)
        assert remote.status() == {"pending": None, "retrying": None}
        config.write_text(good.replace("[payments]", "[payments\n"))  # and a broken file
        monkeypatch.undo()
        await until("it ended on the configuration", lambda: _logged(caplog, "exit code 2"))
        config.write_text(good)
        await until("a checkout process runs again", lambda: remote.up, seconds=30)


async def test_a_child_waiting_for_the_lock_beats_and_is_not_taken_as_hung(
    tmp_path: Path, localstripe: LocalStripe, caplog: pytest.LogCaptureFixture
) -> None:
    config = _store(tmp_path, localstripe)
    fd = os.open(checkout_lock_path(tmp_path / "bridge.sqlite3"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # an older checkout process, still alive
    try:
        async with _remote(config, heartbeat_s=BEAT_S, ready_s=0.1) as remote:
            assert not remote.up  # started anyway: the gates go on
            assert _logged(caplog, "not ready yet") == 1
            waiting = await until("a word from the child", lambda: remote.last_heard, seconds=30)
            await until(
                "a beat heard after the child would have been taken as hung",
                lambda: remote.last_heard > waiting + SILENCE_S,
                seconds=SILENCE_S + 30,
            )
            assert remote.started == 1
            assert not _logged(caplog, "said nothing for")
            os.close(fd)  # the older one ended
            fd = -1
            await until("the child takes over", lambda: remote.up, seconds=30)
            assert remote.started == 1
    finally:
        if fd >= 0:
            os.close(fd)


async def test_a_locked_database_is_told_as_storage_unavailable(
    tmp_path: Path, localstripe: LocalStripe
) -> None:
    config = _store(tmp_path, localstripe)
    (declining,) = await _customers(localstripe.url, DECLINES_ON_CHARGE)
    _seed(tmp_path / "bridge.sqlite3", [("trip-owes", declining, 1)])
    async with _remote(config) as remote:
        await until("the decline is stored", lambda: remote.owes("acct-trip-owes"), seconds=30)
        with closing(sqlite3.connect(tmp_path / "bridge.sqlite3", isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")  # another writer holds the database
            with pytest.raises(StorageUnavailable):
                await remote.settle("acct-trip-owes")
            db.execute("ROLLBACK")
        assert await remote.owes("acct-trip-owes")  # nothing was settled
        assert await remote.settle("acct-trip-owes") == {"EUR": CAN}


async def test_an_overlong_answer_fails_the_channel_and_the_child_is_replaced(
    tmp_path: Path, localstripe: LocalStripe, caplog: pytest.LogCaptureFixture
) -> None:
    config = _store(tmp_path, localstripe)
    now = time.time()
    with closing(sqlite3.connect(tmp_path / "bridge.sqlite3")) as db, db:
        db.execute(  # a damaged row: a reason longer than the channel carries
            "INSERT INTO checkouts (id, visit, kind, account, total, currency, items, phase, "
            "look, attempts, captured, outstanding, reason, created, updated) VALUES "
            "('co-big', 'trip-big', 'app', 'acct-big', 0, 'EUR', 0, 'done', 0, 0, 0, 0, ?, ?, ?)",
            ("x" * channel.LINE_LIMIT, now, now),
        )
    async with _remote(config) as remote:
        first = remote.pid
        with pytest.raises(CheckoutUnavailable):
            await remote.find("trip-big")
        assert _logged(caplog, "channel failed (ValueError)") == 1
        await until("a new checkout process", lambda: remote.up and remote.pid != first, seconds=30)


def test_the_heartbeat_interval_the_child_is_given() -> None:
    assert channel.heartbeat_s({channel.HEARTBEAT_ENV: "0.25"}) == 0.25
    assert channel.heartbeat_s({}) == channel.HEARTBEAT_S
    for unusable in ("", "soon", "0", "-1", "nan"):
        assert channel.heartbeat_s({channel.HEARTBEAT_ENV: unusable}) == channel.HEARTBEAT_S


def test_a_payments_configuration_serve_cannot_use_leaves_no_checkout_process(
    tmp_path: Path, localstripe: LocalStripe
) -> None:
    config = _store(tmp_path, localstripe)
    loaded = load_config(config)
    (tmp_path / "stripe-key").write_text("")  # emptied after the configuration was read
    with pytest.raises(ConfigError, match="secret_key_file"):
        build_bridge(loaded, checkout_process=config)
    no_orphan(config)
