"""The checkout process: `serve`'s checkouts, refunds and receipts, away from the gates' loop.

Started by the parent (`checkout_remote.py`) as ``python -m store_bridge checkout-process
--config PATH --parent PID``. It dies with the parent: ``PR_SET_PDEATHSIG`` (Linux), and it
stops when its channel (stdin) closes. Once it runs, it yields the CPU to the gates:
``SCHED_BATCH`` and a nice increment, each skipped silently where refused.

Exactly one checkout runner per database: before it takes anything, it waits for the
checkout lock (``<db>.checkout.lock``, an exclusive `flock` the kernel releases however the
holder ends), so a child left over from a parent killed a moment ago is gone first.

It opens the database on its own connection (WAL), builds the processor from the
configuration, and runs the `CheckoutRunner` (refunds included) and, with ``[mail]``, the
receipts' sender. The parent's requests (`checkout_channel.py`) are answered once the work
is committed; what it commits and its counts are told to the parent as they change (at most
every `TELL_S`, coalesced), and
again every heartbeat (`checkout_channel.HEARTBEAT_S`, a plain ``beat`` before it runs): a
child whose loop is stuck falls silent, and the parent kills it and starts another.
"""

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from . import checkout_channel as channel
from .bridge_types import StoreSettings
from .checkout_parts import build_processor, checkout_settings, make_receipts
from .checkout_runner import CheckoutRunner
from .config import BridgeConfig, ConfigError, load_config
from .core.refund import RefundRefused, Settlement
from .database import Database
from .ledger import Ledger
from .receipts import Receipts
from .storage import StorageUnavailable

_LOGGER = logging.getLogger(__name__)

PR_SET_PDEATHSIG: Final = 1
NICE_INCREMENT: Final = 5
LOCK_POLL_S: Final = 0.05
TELL_S: Final = 0.1
"""Commits and changed counts are told to the parent at most this often (coalesced)."""
LOG_NOT_SYNCED: Final = 4
"""The exit code when the database's log could not be synced: every durable change would be
refused from then on, and a payment waiting for its id to be on disk never confirmed. The
parent starts a new checkout process, whose open writes the log afresh into the file
(`Database.open`); while the disk still fails, that open fails and the checkouts stay down,
visibly (the status' counts unknown, operator requests 503)."""


def checkout_lock_path(database: Path) -> Path:
    """The lock the one checkout runner of a database file holds."""
    return database.with_name(f"{database.name}.checkout.lock")


def die_with_parent() -> None:
    """Be killed when the parent ends (Linux; elsewhere the closed channel stops us)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def yield_to_gates() -> None:
    """Let the gates' process go first: batch scheduling and a nice increment, if allowed."""
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    with contextlib.suppress(OSError):
        os.nice(NICE_INCREMENT)


@contextlib.contextmanager
def _lock_file(database: Path) -> Iterator[int]:
    fd = os.open(checkout_lock_path(database), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        yield fd
    finally:
        os.close(fd)


async def _take_lock(fd: int, waiting: Callable[[], None]) -> None:
    """Wait until no other checkout runner holds the lock (`waiting` told once), then hold it."""
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not told:
                told = True
                waiting()
            await asyncio.sleep(LOCK_POLL_S)
        else:
            return


class NotReadyError(RuntimeError):
    """A request before the checkouts run (the parent asks only once told `ready`)."""


class _TellingLedger(Ledger):
    """The child's ledger: committed events wake the parent's publisher."""

    def __init__(self, settings: StoreSettings, db: Database, tell: Callable[[], None]) -> None:
        super().__init__(settings, db, None, lambda: datetime.now(UTC))
        self._tell = tell

    def wake_publisher(self) -> None:
        """Tell the parent: new events are in the outbox."""
        self._tell()


class Child:
    """The checkout process's work, its channel to the parent."""

    def __init__(self, out: int) -> None:
        """Write the channel's messages to the file descriptor `out`."""
        self._out = out
        self._committed = False
        self._counts_due = False
        self._telling: asyncio.TimerHandle | None = None
        self.runner: CheckoutRunner | None = None
        self.receipts: Receipts | None = None
        self.running = False
        """Told `ready`: the heartbeat carries the counts from now on."""
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, message: dict[str, Any]) -> None:
        """Write one message (whole: a pipe takes it or blocks)."""
        data = channel.encode(message)
        while data:
            data = data[os.write(self._out, data) :]

    def waiting(self) -> None:
        """Another checkout runner holds the lock: nothing is taken until it is gone."""
        _LOGGER.warning("The checkout process waits for another to end (it holds the lock)")
        self.send({"tell": "waiting"})

    def beat(self) -> None:
        """The heartbeat: the counts once the checkouts run, a plain beat before."""
        runner = self.runner if self.running else None
        self.send({"tell": "counts", **runner.status()} if runner is not None else {"tell": "beat"})

    def committed(self) -> None:
        """New events: told at most once per `TELL_S`, however many commits."""
        self._committed = True
        self._due()

    def counts_changed(self) -> None:
        """The counts may have changed: sent at most once per `TELL_S`."""
        self._counts_due = True
        self._due()

    def _due(self) -> None:
        """Tell the parent in `TELL_S` (whatever comes meanwhile goes with it).

        What the parent's loop handles stays a few messages a second: an exit's open
        command there never queues behind a message per commit.
        """
        if self._telling is None:
            self._telling = asyncio.get_running_loop().call_later(TELL_S, self._flush)

    def flush(self) -> None:
        """Tell what is due now (the child ends)."""
        self._flush()

    def _flush(self) -> None:
        if self._telling is not None:
            self._telling.cancel()  # when called at the end, before its time
            self._telling = None
        if self._committed:
            self._committed = False
            self.send({"tell": "committed"})
        if self._counts_due and self.runner is not None:
            self._counts_due = False
            self.send({"tell": "counts", **self.runner.status()})

    def handle(self, message: dict[str, Any]) -> None:
        """One request from the parent, answered when done (in a task of its own)."""
        task = asyncio.create_task(self._answer(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, message: dict[str, Any]) -> None:
        ident = message.get("id")
        try:
            result = await self._do(message)
        except RefundRefused as err:
            self.send({"id": ident, "refused": str(err)})
        except StorageUnavailable:
            self.send({"id": ident, "failed": "storage_unavailable"})
        except Exception as err:  # noqa: BLE001 - the parent answers 503, the child goes on
            _LOGGER.error("Checkout request failed (%s)", type(err).__name__)  # noqa: TRY400
            self.send({"id": ident, "failed": "unexpected"})
        else:
            if ident is not None:
                self.send({"id": ident, "result": result})

    async def _do(self, message: dict[str, Any]) -> object:  # noqa: PLR0911 - one per operation
        op = message.get("op")
        if op == "wake_receipts":  # asked before it runs too: it looks when it starts
            if self.receipts is not None:
                self.receipts.wake()
            return None
        runner = self.runner
        if runner is None:
            raise NotReadyError(op)
        if op == "find":
            return channel.checkout_to_wire(await runner.find(str(message["visit"])))
        if op == "refund":
            refund = await runner.refund(str(message["visit"]), int(message["amount"]))
            return channel.refund_to_wire(refund)
        if op == "settle_refund":
            outcome = Settlement(str(message["outcome"]))
            closed, settled = await runner.settle_refund(str(message["visit"]), outcome)
            wired = None if closed is None else channel.refund_to_wire(closed)
            return {"refund": wired, "settled": settled}
        if op == "retry":
            found, retried = await runner.retry(str(message["visit"]))
            return {"checkout": channel.checkout_to_wire(found), "retried": retried}
        if op == "settle":
            return await runner.settle(str(message["account"]))
        return None


async def _listen(reader: asyncio.StreamReader, child: Child, stop: asyncio.Event) -> None:
    while line := await reader.readline():
        message = channel.decode(line)
        if message is not None:
            child.handle(message)
    stop.set()  # the parent is gone (or closed the channel): stop


async def _beat(child: Child, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        child.beat()


async def run_child(config_path: Path, parent: int) -> int:
    """The checkout process's life: its exit code.

    0 when told to stop, 2 for a configuration it cannot use, `LOG_NOT_SYNCED` (4) when the
    database's log could not be synced.
    """
    die_with_parent()
    if os.getppid() != parent:  # the parent ended before the death signal was set
        return 0
    out = os.dup(1)
    os.dup2(2, 1)  # a stray print goes to the log, never into the channel
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reader = asyncio.StreamReader(limit=channel.LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        return await serve_checkouts(
            load_config(config_path),
            reader,
            out,
            stop,
            ready=yield_to_gates,
            heartbeat_s=channel.heartbeat_s(os.environ),
        )
    except ConfigError as err:
        _LOGGER.error("The checkout process cannot use %s: %s", config_path, err)  # noqa: TRY400
        return 2


async def serve_checkouts(  # noqa: PLR0913 - the channel, the stop and two settings
    config: BridgeConfig,
    reader: asyncio.StreamReader,
    out: int,
    stop: asyncio.Event,
    *,
    ready: Callable[[], None] = lambda: None,
    heartbeat_s: float = channel.HEARTBEAT_S,
) -> int:
    """Run the checkouts of `config`, asked on `reader`, telling on `out`, until `stop`.

    It tells the parent it is alive every `heartbeat_s` from the start (the lock's wait too).

    `ready` is called once they run (the process then yields the CPU to the gates: its
    start, the imports and the database, goes at the usual priority, so it is soon there).
    """
    if config.payments is None:
        _LOGGER.error("The checkout process has nothing to do without [payments]")
        return 2
    child = Child(out)
    listener = asyncio.create_task(_listen(reader, child, stop))
    beating = asyncio.create_task(_beat(child, heartbeat_s))
    try:
        with _lock_file(config.database) as fd:
            locked = asyncio.create_task(_take_lock(fd, child.waiting))
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait([locked, stopped], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not locked.done():  # told to stop while another runner held the lock
                locked.cancel()
                return 0
            settings = StoreSettings(
                site=config.site, name=config.name, capacity=config.capacity, issuer=config.issuer
            )
            unsynced = asyncio.Event()
            db = await _open(config.database, unsynced)
            if db is None:
                return LOG_NOT_SYNCED
            ledger = _TellingLedger(settings, db, child.committed)
            runner = CheckoutRunner(
                ledger, build_processor(config.payments), checkout_settings(config)
            )
            runner.on_change = child.counts_changed
            child.runner = runner
            if config.mail is not None:
                receipts = make_receipts(db, config.mail, ledger, config.name)
                runner.on_done = receipts.checkout_done
                receipts.on_change = child.counts_changed
                receipts.start()
                child.receipts = receipts
            await runner.start()
            child.send({"tell": "ready", **runner.status()})
            child.running = True
            ready()
            try:
                if await _first(stop, unsynced) is unsynced:
                    _LOGGER.error(
                        "The database's log could not be written to disk: the checkout "
                        "process ends, and the next one writes the log afresh at its start"
                    )
                    return LOG_NOT_SYNCED
            finally:
                if child.receipts is not None:
                    await child.receipts.close()
                await runner.stop()
                await db.close()
                child.flush()  # what the last commits did, told now
            return 0
    finally:
        listener.cancel()
        beating.cancel()


async def _open(path: Path, unsynced: asyncio.Event) -> Database | None:
    """The database, opened (`unsynced` set when a sync of its log fails); None: it cannot be."""
    db = Database(path)
    loop = asyncio.get_running_loop()
    db.on_sync_failed(lambda: _call_soon(loop, unsynced.set))
    try:
        await db.open()
    except StorageUnavailable as err:
        _LOGGER.error("The checkout process cannot open the database: %s", err)  # noqa: TRY400
        await db.close()
        return None
    return db


def _call_soon(loop: asyncio.AbstractEventLoop, job: Callable[[], object]) -> None:
    """Run `job` in `loop` (from another thread; nothing once the loop is closed)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(job)


async def _first(*events: asyncio.Event) -> asyncio.Event:
    """The first of `events` to be set."""
    waits = {asyncio.create_task(event.wait()): event for event in events}
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return waits[next(iter(done))]


def main(config_path: Path, parent: int) -> int:
    """Run the checkout process (the hidden ``checkout-process`` subcommand)."""
    return asyncio.run(run_child(config_path, parent))
