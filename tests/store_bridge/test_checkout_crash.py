"""THE crash test: `store-bridge serve` killed (SIGKILL) at every step boundary, restarted.

A real `python -m store_bridge serve` runs against a real localstripe (the real `stripe`
library pointed at it) and a real Mosquitto. Final carts of closed sessions are put into the
bridge's SQLite file by the test, as the cart owner stores them (this test is about the
checkout, the carts have their own); the bridge charges them. ``STORE_BRIDGE_CRASH_AT`` makes
the bridge kill itself at a step boundary (after a payment's creation, before its
confirmation, after its answer …); the test starts it again each time, until every
checkout is finished. Then it counts at localstripe: exactly one captured payment per
non-empty cart, of the right amount, none for an empty cart.

``STORE_BRIDGE_CRASH_CHECKOUTS`` sets how many checkouts (CI: 120; 1,000 runs the issue's
full count, locally: ``STORE_BRIDGE_CRASH_CHECKOUTS=1000 .venv/bin/python -m pytest
tests/store_bridge/test_checkout_crash.py -s``). Each of the first runs is told a step
boundary to kill itself at (the 1st…7th time it gets there, the points in turn) and is killed
at a random point 0.8 to 1.6 s after it serves if it gets that far: up to 48 runs with CI's
count (the checkouts are usually all done after 7 to 10), up to 112 with a larger one (every
pair of point and occurrence twice); then the bridge runs until every checkout is done. The
figures printed include how often it killed itself at each point.

The checkouts run in `serve`'s checkout process (`checkout_process.py`), which inherits
``STORE_BRIDGE_CRASH_AT`` and kills itself at the point. Here the run ends there: the test
kills `serve` at once (as the one process it was, the bridge ended at the point); the random
kill is `serve`'s SIGKILL too. Its checkout process dies with it: no orphan is left running,
checked after every such kill. (`serve` itself would start the checkout process again,
without the crash point; `test_checkout_crash_points.py` lets it, and runs on.)
"""

import asyncio
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

from store_bridge import store_schema
from store_bridge.checkout_channel import CHILD_COMMAND

from ..localstripe_server import LocalStripe, add_customer, free_port, make_client
from ..mosquitto import Mosquitto
from .checkout_rig import seed_app_carts as _seed
from .checkout_rig import write_config

CHECKOUTS = int(os.environ.get("STORE_BRIDGE_CRASH_CHECKOUTS", "120"))
CI_CHECKOUTS = 120
FULL = CHECKOUTS > CI_CHECKOUTS
POINTS = (
    "started",
    "before_create",
    "after_create",
    "before_confirm",
    "after_confirm",
    "before_retrieve",
    "after_retrieve",
    "persisted",
)
KILLS = 2 * len(POINTS) * 7 if FULL else 48
"""How many runs are killed at a step boundary (then the bridge runs until it is done)."""
DEADLINE_S = max(100.0, CHECKOUTS * 0.6)


def _config(tmp: Path, *, stripe_url: str, broker: Mosquitto) -> Path:
    """The store's configuration: its API on a port of its own, two checkouts at a time."""
    return write_config(
        tmp, stripe_url=stripe_url, mqtt_port=broker.port, api_port=free_port(), concurrency=2
    )


def _unfinished(db_path: Path, total: int) -> int:
    with closing(sqlite3.connect(db_path, timeout=10)) as db:
        done = db.execute(
            "SELECT count(*) FROM checkouts WHERE phase IN ('done', 'failed')"
        ).fetchone()[0]
    return total - int(done)


def _crashes(log_path: Path) -> int:
    if not log_path.exists():
        return 0
    return log_path.read_text(errors="replace").count("Crashing at ")


def _last_error(log: str) -> str:
    """The log from its last traceback (what made the bridge exit), else its end."""
    start = log.rfind("Traceback")
    return log[start : start + 4000] if start >= 0 else log[-2000:]


def _serving(config: Path) -> bool:
    """Whether the bridge's API accepts connections (it has started its checkouts by then)."""
    port = tomllib.loads(config.read_text())["api"]["port"]
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
    except OSError:
        return False
    return True


def checkout_processes(config: Path) -> list[int]:
    """The checkout processes running for `config` (their ids)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        ours = CHILD_COMMAND.encode() in words and str(config.resolve()).encode() in words
        if ours and state != "Z":  # a zombie has ended: only its exit status is left
            found.append(int(entry.name))
    return found


def no_orphan(config: Path, seconds: float = 10.0) -> None:
    """Assert that no checkout process outlives its `serve` (polled: the kernel kills it)."""
    deadline = time.monotonic() + seconds
    while checkout_processes(config) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling another process's end, not proving an absence
    assert not checkout_processes(config), "a checkout process outlived its serve"


def _run_bridge(
    config: Path,
    crash_at: str | None,
    deadline: float,
    total: int,
    kill_after: float | None,
    *,
    end_at_crash: bool = False,
) -> int | None:
    """Run serve until it is killed or every checkout is done: its exit code (None: done).

    `end_at_crash`: kill serve as soon as its checkout process killed itself at its point.
    """
    log_path = config.parent / "bridge.log"
    crashes = _crashes(log_path)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    env.pop("STORE_BRIDGE_CRASH_AT", None)
    if crash_at:
        env["STORE_BRIDGE_CRASH_AT"] = crash_at
    with (config.parent / "bridge.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "store_bridge", "serve", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )
    born: float | None = None  # the random kill is timed from when the bridge serves
    try:
        while time.monotonic() < deadline:
            if born is None and _serving(config):
                born = time.monotonic()
            crashed = end_at_crash and _crashes(log_path) > crashes
            if crashed or (
                kill_after is not None and born and time.monotonic() - born > kill_after
            ):
                process.kill()  # a crash at a random point
                code = process.wait(10)
                no_orphan(config)
                return code
            code = process.poll()
            if code is not None:
                return code
            if not _unfinished(config.parent / "bridge.sqlite3", total):
                return None
            time.sleep(0.1)  # polling another process's progress, not proving an absence
        return None
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(10)


async def _payments(url: str) -> list[dict[str, Any]]:
    client = make_client(url)
    try:
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            page = await client.v1.payment_intents.list_async(params)
            found += [intent.to_dict() for intent in page.data]
            if not page.has_more:
                return found
            params["starting_after"] = page.data[-1].id
    finally:
        await client._requestor._client.close_async()


async def _customers(url: str, count: int) -> list[str]:
    client = make_client(url)
    try:
        return [(await add_customer(client))[0] for _ in range(count)]
    finally:
        await client._requestor._client.close_async()


def test_a_bridge_killed_at_every_step_charges_each_cart_exactly_once(
    tmp_path: Path, localstripe: LocalStripe, mosquitto: Mosquitto
) -> None:
    started = time.monotonic()
    config = _config(tmp_path, stripe_url=localstripe.url, broker=mosquitto)
    db_path = tmp_path / "bridge.sqlite3"
    customers = asyncio.run(_customers(localstripe.url, 4))
    store_schema.connect(db_path).close()  # the bridge's own schema, as at its first start
    carts = [
        (f"trip-crash-{index:05d}", customers[index % 4], (index % 3) * (1 + index % 5))
        for index in range(CHECKOUTS)
    ]
    _seed(db_path, carts)

    restarts = 0
    deadline = time.monotonic() + DEADLINE_S
    while _unfinished(db_path, CHECKOUTS) and time.monotonic() < deadline:
        point = POINTS[restarts % len(POINTS)]
        crash_at = f"{point}:{1 + restarts % 7}" if restarts < KILLS else None
        schedule = random.Random(restarts)  # noqa: S311 - a test's schedule
        kill_after = schedule.uniform(0.8, 1.6) if crash_at else None
        code = _run_bridge(
            config,
            crash_at,
            min(deadline, time.monotonic() + 20),
            CHECKOUTS,
            kill_after,
            end_at_crash=True,
        )
        restarts += 1
        assert code in {None, -9}, _last_error((tmp_path / "bridge.log").read_text())
    full_log = (tmp_path / "bridge.log").read_text(errors="replace")
    log = full_log[-3000:]
    fired = Counter(re.findall(r"Crashing at (\w+)", full_log))
    assert _unfinished(db_path, CHECKOUTS) == 0, f"after {restarts} restarts\n{log}"
    assert fired, "the bridge never reached a crash point: no crash was tested"

    payments = asyncio.run(_payments(localstripe.url))
    captured: dict[str, list[int]] = {}
    for intent in payments:
        if intent["status"] == "succeeded":
            captured.setdefault(intent["metadata"]["checkout"], []).append(intent["amount"])
    for visit, _customer, cans in carts:
        expected = [cans * 129] if cans else []
        assert captured.get(f"co-{visit}", []) == expected, visit
    orphans = [p for p in payments if p["status"] != "succeeded"]
    assert all(p["status"] in {"requires_confirmation", "requires_payment_method"} for p in orphans)
    charged = [cans for _visit, _customer, cans in carts if cans]
    print(  # noqa: T201 - the measured figures
        f"\n{CHECKOUTS} checkouts ({len(charged)} non-empty carts, {CHECKOUTS - len(charged)} "
        f"empty), {restarts} restarts ({min(restarts, KILLS)} told a crash point); at the "
        f"processor: {sum(len(a) for a in captured.values())} captured payments for "
        f"{len(captured)} checkouts, {sum(sum(a) for a in captured.values())} cents "
        f"(carts: {129 * sum(charged)}), {len(orphans)} orphans never confirmed; killed itself at "
        f"{dict(sorted(fired.items()))}; "
        f"{time.monotonic() - started:.1f} s"
    )
