"""`serve`'s side of the checkout process: start it, restart it, ask it, hear from it.

The checkouts run in a process of their own (`checkout_process.py`), so that their work
never holds an exit's open command up on the gates' event loop. This facade is all the
parent sees of them:

- the operator's requests (`find`, `refund`, `settle_refund`, `retry`, `settle`, the API's)
  are forwarded
  over the channel (`checkout_channel.py`) and answered once the child committed; while the
  child is down they raise `CheckoutUnavailable` (the API answers 503), never a guess;
- `owes` (at a check-in) reads the debts from the database, not from the child's memory:
  a decline the child committed refuses the next check-in even while the channel is down;
- `status` gives the child's own counts (pending, retrying) as it last told them, or None
  for each while it is down or hung (unknown, never a hopeful 0);
- the child's commits wake the parent's publisher (`on_committed`), its counts the status
  (`on_change`).

The child tells its counts (or a plain beat) every `heartbeat_s`. A child the parent heard
nothing from for `SILENT_BEATS` beats (`start_s` before its first word) is hung —
deadlocked, stopped, stuck: its counts become unknown, its requests are answered
`CheckoutUnavailable`, it is logged once at error and killed (SIGKILL), and the supervisor
starts another as for any child that ended (which waits for the checkout lock, so never
runs beside the old one). A child that ends is restarted after a doubling delay
(`RESTART_BASE_S` to `RESTART_CAP_S`, back to the base after it ran `STABLE_S`), logged at
error with its exit code; the gates go on meanwhile. ``STORE_BRIDGE_CRASH_AT`` (tests)
reaches the first child only: a child that killed itself at its crash point is restarted
without one, so a test's run of `serve` crashes once at its point and then finishes the
work. `spawn` starts the first child while `serve` is still being built, so that the two
starts overlap; `stop` ends the child: SIGTERM, a wait, then SIGKILL (a stopped child too).
"""

import asyncio
import contextlib
import itertools
import logging
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Final

from . import checkout_channel as channel
from .checkout_runner import CheckoutSettings
from .core.checkout import Checkout
from .core.refund import Refund, RefundRefused, Settlement
from .crash_points import CRASH_ENV
from .database import Database
from .storage import StorageUnavailable

_LOGGER = logging.getLogger(__name__)

RESTART_BASE_S: Final = 0.5
RESTART_CAP_S: Final = 30.0
STABLE_S: Final = 60.0
READY_S: Final = 20.0
"""How long `start` waits for the first child to be ready (the API starts anyway then)."""
STOP_S: Final = 10.0
ASK_S: Final = 60.0
"""How long a request waits for its answer before the API says the checkout is unavailable."""
SILENT_BEATS: Final = 3
"""How many heartbeats the child may miss before it is taken as hung and killed."""
START_S: Final = 20.0
"""How long a child may take to say its first word (its imports, before it beats)."""


class CheckoutUnavailable(Exception):  # noqa: N818 - named after the condition
    """The checkout process is not running (or did not answer): try again later."""


def _owes(store: Any, account: str) -> bool:  # noqa: ANN401 - a `Store`
    row = store.db.execute("SELECT 1 FROM outstanding WHERE account = ? LIMIT 1", (account,))
    return row.fetchone() is not None


class CheckoutRemote:
    """The checkout process, as `serve` and its API see it."""

    def __init__(  # noqa: PLR0913 - the child's command, the parent's ears and its bounds
        self,
        db: Database,
        settings: CheckoutSettings,
        config_path: Path,
        *,
        on_committed: Callable[[], None],
        restart_base_s: float = RESTART_BASE_S,
        restart_cap_s: float = RESTART_CAP_S,
        stable_s: float = STABLE_S,
        heartbeat_s: float = channel.HEARTBEAT_S,
        ready_s: float = READY_S,
        start_s: float = START_S,
        ask_s: float = ASK_S,
        stop_s: float = STOP_S,
    ) -> None:
        """Run the child on `config_path`'s configuration; `on_committed` wakes the publisher.

        The bounds are the module's constants unless given (tests shorten them); they are
        attributes of the same names, read when used.
        """
        self.settings = settings
        self._db = db
        self._config = config_path
        self._on_committed = on_committed
        self.on_stop: Callable[[], Awaitable[None]] | None = None
        """What else `stop` closes (the parent's own processor, for check-ins)."""
        self._base_s = restart_base_s
        self._cap_s = restart_cap_s
        self.stable_s = stable_s
        self.heartbeat_s = heartbeat_s
        self.ready_s = ready_s
        self.start_s = start_s
        self.ask_s = ask_s
        self.stop_s = stop_s
        self.on_change: Callable[[], None] = lambda: None
        """Called when the child's counts changed, or it went down or up (the status)."""
        self._process: subprocess.Popen[bytes] | None = None
        self._early: subprocess.Popen[bytes] | None = None
        """A child started before the loop ran (`spawn`), adopted by `start`."""
        self._writer: asyncio.WriteTransport | None = None
        self._counts: dict[str, int] | None = None
        self._asked: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.started = 0
        """How many children were started (tests, the log)."""
        self.last_heard = 0.0
        """When the child last said anything (`time.monotonic`; 0: never)."""

    # --- what the parent asks -----------------------------------------------------------

    @property
    def up(self) -> bool:
        """Whether a child runs and said it is ready."""
        return self._counts is not None

    @property
    def pid(self) -> int | None:
        """The running child's process id (None: none runs)."""
        return None if self._process is None else self._process.pid

    def status(self) -> dict[str, int | None]:
        """The child's pending and retrying checkouts (None for each while it is down)."""
        counts = self._counts or {}
        return {"pending": counts.get("pending"), "retrying": counts.get("retrying")}

    async def owes(self, account: str) -> bool:
        """Whether `account` owes a declined payment (read from the database)."""
        return await self._db.call(lambda store: _owes(store, account))

    async def find(self, visit: str) -> Checkout | None:
        """A visit's checkout, as the child has it."""
        return channel.checkout_from_wire(await self._ask("find", visit=visit))

    async def refund(self, visit: str, amount: int) -> Refund:
        """Refund `amount` of `visit`'s captured payment (`RefundRefused` with a code)."""
        return channel.refund_from_wire(await self._ask("refund", visit=visit, amount=amount))

    async def settle_refund(self, visit: str, outcome: Settlement) -> tuple[Refund | None, bool]:
        """Close `visit`'s uncertain refund (`CheckoutOperators.settle_refund`)."""
        answer = await self._ask("settle_refund", visit=visit, outcome=outcome.value)
        found = answer["refund"]
        return (None if found is None else channel.refund_from_wire(found)), bool(answer["settled"])

    async def retry(self, visit: str) -> tuple[Checkout | None, bool]:
        """Try `visit`'s blocked checkout again (`CheckoutOperators.retry`)."""
        answer = await self._ask("retry", visit=visit)
        return channel.checkout_from_wire(answer["checkout"]), bool(answer["retried"])

    async def settle(self, account: str) -> dict[str, int]:
        """An operator settled `account`: what it owed, by currency."""
        owed = await self._ask("settle", account=account)
        return {str(currency): int(amount) for currency, amount in owed.items()}

    def wake_receipts(self) -> None:
        """A receipt was asked for: the child's sender looks now (if down: at its start)."""
        with contextlib.suppress(CheckoutUnavailable):  # down: it looks when it starts
            self._send({"op": "wake_receipts"})

    async def _ask(self, op: str, **values: object) -> Any:  # noqa: ANN401 - JSON data
        if not self.up:
            raise CheckoutUnavailable(op)
        ident = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._asked[ident] = future
        try:
            self._send({"id": ident, "op": op, **values})
            return await asyncio.wait_for(asyncio.shield(future), self.ask_s)
        except TimeoutError:
            raise CheckoutUnavailable(op) from None
        finally:
            self._asked.pop(ident, None)

    def _send(self, message: dict[str, Any]) -> None:
        writer = self._writer
        if self._process is None or writer is None or writer.is_closing():
            raise CheckoutUnavailable(str(message.get("op")))
        writer.write(channel.encode(message))

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the child (and keep it running); wait a while for it to be ready."""
        self._stopping = False
        self._task = asyncio.create_task(self._supervise(), name="store-bridge-checkout-process")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), self.ready_s)
        if not self.up:
            _LOGGER.error("The checkout process is not ready yet; the gates go on without it")

    async def stop(self) -> None:
        """Stop the child (SIGTERM, a wait, then SIGKILL) and stop restarting it."""
        self._stopping = True
        process = self._process or self._early
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(asyncio.to_thread(process.wait), self.stop_s)
            except TimeoutError:
                _LOGGER.error("The checkout process did not stop in %.1f s: killed", self.stop_s)  # noqa: TRY400
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await asyncio.to_thread(process.wait)
        self._early = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._process is not None:  # ended while its supervisor was being stopped
            self._down()
        if self.on_stop is not None:
            await self.on_stop()

    def _stopped(self) -> bool:
        return self._stopping

    async def _supervise(self) -> None:
        delay = self._base_s
        while True:
            began = time.monotonic()
            code = await self._run_child()
            self._down()
            if self._stopped():
                return
            if time.monotonic() - began >= self.stable_s:
                delay = self._base_s
            _LOGGER.error(
                "The checkout process ended (exit code %s); starting it again in %.1f s",
                code,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(self._cap_s, delay * 2)

    def spawn(self) -> None:
        """Start the first child now, before the event loop runs: its start overlaps serve's."""
        if self._early is None and self._process is None:
            with contextlib.suppress(OSError):  # `start` tries again, and logs it
                self._early = self._popen()

    def discard(self) -> None:
        """Kill the child `spawn` started, not to be used (the bridge could not be built)."""
        if self._early is not None:
            self._early.kill()
            self._early.wait()
            self._early = None

    def _popen(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env[channel.HEARTBEAT_ENV] = repr(self.heartbeat_s)
        if self.started:  # the crash test's point: the first child only
            env.pop(CRASH_ENV, None)
        self.started += 1
        return subprocess.Popen(  # noqa: S603 - this interpreter, our own module
            [
                sys.executable,
                "-m",
                "store_bridge",
                *(["-v"] if _LOGGER.isEnabledFor(logging.DEBUG) else []),
                channel.CHILD_COMMAND,
                "--config",
                str(self._config),
                "--parent",
                str(os.getpid()),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )

    async def _run_child(self) -> int | None:
        try:
            process = self._early or self._popen()
        except OSError as err:
            _LOGGER.error("The checkout process cannot start (%s)", err.strerror or err)  # noqa: TRY400
            return None
        self._early = None
        self._process = process
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=channel.LINE_LIMIT)
        hearing, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), process.stdout
        )
        self._writer, _ = await loop.connect_write_pipe(asyncio.Protocol, process.stdin)
        silence = self.start_s  # until its first word: its start (the imports)
        try:
            while True:
                try:
                    line = await asyncio.wait_for(reader.readline(), silence)
                except TimeoutError:
                    self._hung(process, silence)
                    break
                if not line:
                    break
                silence = self.heartbeat_s * SILENT_BEATS
                self.last_heard = time.monotonic()
                self._heard(channel.decode(line) or {})  # the child writes messages only
        except (ValueError, OSError) as err:  # an overlong line, a read that failed
            _LOGGER.error("The checkout process's channel failed (%s)", type(err).__name__)  # noqa: TRY400
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        finally:
            hearing.close()
            self._writer.close()
        return await asyncio.to_thread(process.wait)

    def _heard(self, message: dict[str, Any]) -> None:
        tell = message.get("tell")
        if tell == "committed":
            self._on_committed()
            return
        if tell in {"ready", "counts"}:
            self._counts = {key: int(message.get(key) or 0) for key in ("pending", "retrying")}
            self._ready.set()
            self.on_change()
            return
        future = self._asked.get(message.get("id", 0))
        if future is None or future.done():
            return
        if "result" in message:
            future.set_result(message["result"])
        elif "refused" in message:
            future.set_exception(RefundRefused(str(message["refused"])))
        elif message.get("failed") == "storage_unavailable":
            future.set_exception(StorageUnavailable("the checkout process's database"))
        else:
            future.set_exception(CheckoutUnavailable(str(message.get("failed"))))

    def _hung(self, process: subprocess.Popen[bytes], silence: float) -> None:
        """Nothing heard for `silence`: counts unknown, requests unanswered, the child killed."""
        _LOGGER.error(
            "The checkout process said nothing for %.1f s (hung?): killed, to be started again",
            silence,
        )
        self._unknown()
        with contextlib.suppress(ProcessLookupError):
            process.kill()

    def _down(self) -> None:
        """The child ended: its requests unanswered, its counts unknown."""
        self._process = None
        self._unknown()

    def _unknown(self) -> None:
        self._counts = None
        for future in self._asked.values():
            if not future.done():
                future.set_exception(CheckoutUnavailable("the checkout process ended"))
        self.on_change()
