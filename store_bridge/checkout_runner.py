"""The checkout's shell: final carts charged at the processor, each exactly once.

Every `poll_s` (and when woken) it takes the closed carts that may be charged
(`checkout_store.ready_carts`: settled, nothing waiting for review, or past the review
deadline) and starts a checkout for each (`core/checkout.py`), stored with its
`checkout_started` event, unique per visit: `START_AT_ONCE` starts in one transaction, each
undone alone if its visit has a checkout already (`checkout_starts.py`). Each checkout then
runs as a task (at most `concurrency` at the processor at once, a payment under way before a
new one: `processor_slots.py`): ask `next_step`, call the processor, `advance`, and store
the new state with its events, committed, BEFORE the next call (committed together with the
other checkouts' changes waiting: `group_commit.py`). Unfinished checkouts are resumed at
start, their stored payment looked at first. Every state is committed before the processor
is asked anything; the commit that stores a payment's id is also on disk before the payment
may be confirmed (the log synced after the commit, once for all the durable commits waiting,
in a thread of its own: `wal_sync.py`): lost to a power cut, the payment would be created
again. The others need not wait for the disk: a state lost to a power cut is found again by
looking at the stored payment (a confirmed or captured payment is seen as such), and a later
synced commit makes every earlier one durable too. The payment a creation answered is stored
only if none is (a compare-and-set: another bridge on the same file, which `service.serve`'s
lock prevents anyway, cannot make it two). A task never ends on a surprise: an unexpected
exception is taken as an `Unknown` answer (look, after a backoff). A backoff waits at most
the policy's cap, whatever the wall clock says. One task per checkout at most (`_spawn`; a
retry runs under the visit's lock).

A declined payment leaves the amount outstanding on the account (`checkout_store.owe`);
the account's next check-in is refused with ``payment_outstanding`` (`owes`) until an
operator settles it (`settle`, ``POST /v1/accounts/settle``). The exit gate never waits for
any of it: checkout starts from what the database holds, later.

``STORE_BRIDGE_CRASH_AT`` (tests only): `crash_points.py`. The operators' part (settle,
refund, retry): `checkout_operators.py`. Its writes (a state and its events in one
transaction, durable or not, retried): `checkout_commits.py`.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Final

from . import checkout_calls, checkout_starts, checkout_store
from .checkout_commits import CheckoutCommits
from .checkout_operators import CheckoutOperators
from .checkout_refunds import RefundRunner
from .core import checkout as machine
from .core import checkout_news
from .core.checkout import Checkout, Phase, RetryPolicy
from .crash_points import Crasher
from .events import Wire
from .group_commit import Change
from .ledger import Ledger
from .payments import Answer, Processor, Unknown
from .processor_slots import ProcessorSlots
from .storage import StorageUnavailable

_LOGGER = logging.getLogger(__name__)

TAKE_AT_ONCE: Final = 200
START_AT_ONCE: Final = 8
"""Checkouts started in one transaction: the first go to the processor as soon as the default
concurrency's worth is stored, and a gate job waits for one short transaction at most."""


@dataclass(frozen=True, slots=True)
class CheckoutSettings:
    """When a cart is charged and how many checkouts run at once."""

    settle_s: float = 5.0
    review_deadline_s: float = 600.0
    concurrency: int = 8
    poll_s: float = 1.0
    timezone: tzinfo = field(default=UTC)
    """The store's: the day a sale is counted on (`daily_totals`)."""
    currency: str = "EUR"
    """The store's currency (the status' `sales_today` before the day's first sale, and an
    empty cart's checkout)."""


class CheckoutRunner(CheckoutOperators):
    """The store's checkouts: taken from final carts, run, resumed, counted."""

    def __init__(
        self,
        ledger: Ledger,
        processor: Processor,
        settings: CheckoutSettings | None = None,
        *,
        policy: RetryPolicy | None = None,
    ) -> None:
        """Charge through `processor`; `start` resumes what the database holds."""
        self._ledger = ledger
        self._commits = CheckoutCommits(ledger)
        self.processor = processor
        self.settings = settings or CheckoutSettings()
        self._policy = policy or RetryPolicy()
        self._crash = Crasher.from_environment()
        self._slots = ProcessorSlots(self.settings.concurrency)
        self._live: dict[str, Checkout] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._owing: set[str] = set()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._workers: dict[str, asyncio.Task[Any]] = {}
        self._methods: dict[str, str] = {}
        """The saved card found at check-in, read when a checkout starts (its first creation
        then needs no read of its own: `checkout_calls.ask`'s `known`)."""
        self._refunds = RefundRunner(
            ledger,
            processor,
            policy=self._policy,
            commit=self._commit_retried,
            zone=self.settings.timezone,
            spawn=self._task,
            changed=self.changed,  # an uncertain refund's count in the status
        )
        self.on_change: Callable[[], None] = lambda: None
        """Called when a count the status shows may have changed (`checkout_status.py`)."""
        self.on_done: Callable[[str], None] = lambda _visit: None
        """Called with a visit whose checkout is done (the receipts are woken)."""

    # --- what others ask ---------------------------------------------------------------

    def owes(self, account: str) -> bool:
        """Whether `account` owes a declined payment (its check-in is refused)."""
        return account in self._owing

    def status(self) -> dict[str, int]:
        """Checkouts under way and those retrying (aggregated counts only)."""
        counted = checkout_news.counts(list(self._live.values()))
        return {"pending": counted["pending"], "retrying": counted["retrying"]}

    def changed(self) -> None:
        """Tell the status that the counts may have changed."""
        self.on_change()

    def wake(self) -> None:
        """Look for final carts now."""
        self._wake.set()

    async def find(self, visit: str) -> Checkout | None:
        """A visit's checkout, as it stands."""
        for live in self._live.values():
            if live.visit == visit:
                return live
        return await self._ledger.db.call(lambda store: checkout_store.find(store.db, visit))

    # --- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Load what accounts owe and resume unfinished checkouts and refunds."""
        ledger = self._ledger

        def load(db: Any) -> tuple[set[str], list[Checkout], int, list[Any]]:  # noqa: ANN401
            return (
                checkout_store.owing(db),
                checkout_store.unfinished(db),
                checkout_store.failed_count(db),
                checkout_store.unfinished_refunds(db),
            )

        owing, unfinished, failed, open_refunds = await ledger.db.call(lambda s: load(s.db))
        self._owing = owing
        for checkout in unfinished:  # blocked ones too: the operator may have fixed the setup
            self._spawn(machine.resumed(checkout))
        await self._refunds.resume(open_refunds)
        self._loop_task = asyncio.create_task(self._take_loop(), name="store-bridge-checkouts")
        _LOGGER.info(
            "Checkout: %d resumed, %d accounts owe, %d failed",
            len(unfinished),
            len(owing),
            failed,
        )

    async def stop(self) -> None:
        """Stop taking carts and running checkouts (they resume at the next start)."""
        tasks = [t for t in (self._loop_task, *self._workers.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop_task, self._workers = None, {}
        await self.processor.close()

    async def settled(self) -> None:
        """Wait until no checkout is running (tests, the demo)."""
        while self._workers:
            await asyncio.gather(*self._workers.values(), return_exceptions=True)

    def _task(self, key: str, work: Awaitable[object]) -> None:
        async def run() -> object:
            return await work

        task = asyncio.create_task(run(), name=f"store-bridge-{key}")
        self._workers[key] = task
        task.add_done_callback(self._forget(key, task))

    # --- taking final carts ------------------------------------------------------------

    async def _take_loop(self) -> None:
        while True:
            try:
                await self.take()
            except StorageUnavailable as err:
                _LOGGER.warning("Final carts cannot be read (%s); trying again", err)
            except Exception:  # a bug must not stop checkout for good
                _LOGGER.exception("Taking final carts failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.poll_s)
            self._wake.clear()

    async def take(self) -> int:
        """Start a checkout for each cart that may be charged now; how many started."""
        now = self._ledger.clock()
        settle = timedelta(seconds=self.settings.settle_s)
        deadline = timedelta(seconds=self.settings.review_deadline_s)
        ready = await self._ledger.db.call(
            lambda store: checkout_store.ready_carts(
                store.db,
                settled_before=now - settle,
                deadline_before=now - deadline,
                limit=TAKE_AT_ONCE,
            )
        )
        for first in range(0, len(ready), START_AT_ONCE):
            await self._start_each(now, ready[first : first + START_AT_ONCE])
        if ready:
            self.changed()
        return len(ready)

    async def _start_each(self, now: datetime, carts: list[checkout_store.ReadyCart]) -> None:
        """Start a checkout for each cart: all stored in one transaction, then each run.

        A start is undone alone if its visit has a checkout already (`AlreadyTaken`); one
        undone by an error is raised once the others run.
        """
        methods = self._methods
        checkouts = [checkout_starts.checkout_of(cart, self.settings.currency) for cart in carts]
        changes = [
            Change(
                checkout_starts.start_work(now, c, cart.lines, methods),
                [self._commits.event(c, item) for item in checkout_news.started(c)],
            )
            for c, cart in zip(checkouts, carts, strict=True)
        ]
        try:
            stored = await self._commits.commit_each(changes)
        except BaseException:
            for checkout in checkouts:  # none of them stored: nothing asked
                methods.pop(checkout.id, None)
            raise
        failure: Exception | None = None
        for checkout, outcome in zip(checkouts, stored, strict=True):
            if outcome is not True:  # taken already, or not stored: nothing asked
                methods.pop(checkout.id, None)
                if isinstance(outcome, Exception) and failure is None:
                    failure = outcome
                continue
            self._crash.point("started")
            if checkout.phase is Phase.BLOCKED:
                self._log_blocked(checkout)
            if not checkout.stopped:
                self._spawn(checkout)
            elif checkout.phase is Phase.DONE:
                self.on_done(checkout.visit)
        if failure is not None:
            raise failure

    # --- running one checkout ----------------------------------------------------------

    def _spawn(self, checkout: Checkout) -> bool:
        """Run `checkout` as a task, unless one runs for it already (False)."""
        running = self._workers.get(checkout.id)
        if running is not None and not running.done():
            _LOGGER.warning("Checkout %s runs already: not started twice", checkout.id)
            return False
        self._live[checkout.id] = checkout
        task = asyncio.create_task(self._run(checkout), name=f"store-bridge-{checkout.id}")
        self._workers[checkout.id] = task
        task.add_done_callback(self._forget(checkout.id, task))
        return True

    def _forget(self, key: str, task: asyncio.Task[Any]) -> Callable[[asyncio.Task[Any]], None]:
        def done(_task: asyncio.Task[Any]) -> None:
            if self._workers.get(key) is task:  # not a newer task of the same key
                del self._workers[key]

        return done

    async def _run(self, checkout: Checkout) -> None:
        try:
            while True:
                step = machine.next_step(checkout, self._ledger.clock())
                if isinstance(step, machine.Finished):  # or blocked for the operator
                    return
                if isinstance(step, machine.Wait):  # at most the cap, whatever the clock
                    delay = (step.until - self._ledger.clock()).total_seconds()
                    await asyncio.sleep(min(max(0.0, delay), self._policy.cap_s))
                    asked = machine.call(checkout)
                    assert asked is not None  # noqa: S101 - only an unfinished one waits
                    step = asked
                checkout = await self._step(checkout, step)
        finally:
            self._live.pop(checkout.id, None)
            self._methods.pop(checkout.id, None)

    async def _step(self, checkout: Checkout, step: machine.Call) -> Checkout:
        """Ask, advance, store: the checkout as it now stands (a surprise is an `Unknown`)."""
        try:
            async with self._slots.slot(first=not isinstance(step, machine.Create)):
                answer = await self._ask(step)
        except Exception as err:  # noqa: BLE001 - a task must not die: look again later
            _LOGGER.error(  # noqa: TRY400 - no traceback: it may hold references
                "Checkout %s: the processor call failed unexpectedly (%s); looking again",
                checkout.id,
                type(err).__name__,
            )
            answer = Unknown("unexpected")
        after = machine.advance(checkout, answer, self._ledger.clock(), self._policy)
        try:
            return await self._persist(checkout, after)
        except Exception as err:  # noqa: BLE001 - not stored: look again after a backoff
            _LOGGER.error(  # noqa: TRY400 - no traceback: it may hold references
                "Checkout %s: its state could not be stored (%s); looking again",
                checkout.id,
                type(err).__name__,
            )
            await asyncio.sleep(self._policy.cap_s)
            return replace(checkout, look=checkout.payment is not None, retry_at=None)

    async def _ask(self, step: machine.Call) -> Answer:
        name = type(step).__name__.lower()
        self._crash.point(f"before_{name}")
        known = (
            self._methods.pop(step.reference, None) if isinstance(step, machine.Create) else None
        )
        answer = await checkout_calls.ask(self.processor, step, self._ledger.db, known=known)
        self._crash.point(f"after_{name}")
        return answer

    async def _persist(self, before: Checkout, after: Checkout) -> Checkout:
        """Store `after` with its events (retried until the database takes it).

        Returns it, or the stored checkout if another runner stored a payment first.
        """
        news = checkout_news.news(before, after)
        zone = self.settings.timezone
        owed = await self._commits.transition(before, after, news, zone=zone)
        if owed is None:
            _LOGGER.error("Checkout %s: another runner stored its payment first", after.id)
            stored = await self._ledger.db.call(lambda s: checkout_store.find(s.db, after.visit))
            assert stored is not None  # noqa: S101 - a checkout is never deleted while open
            return machine.resumed(stored)
        self._crash.point("persisted")
        self._live[after.id] = after
        self._after(before, after, owed, news=bool(news))
        return after

    def _log_blocked(self, checkout: Checkout) -> None:
        _LOGGER.error(
            "Checkout %s stopped (%s): fix the store's setup, then restart the bridge or POST "
            "/v1/visits/%s/checkout/retry (where the processor's answer may change)",
            checkout.id,
            checkout.reason,
            checkout.visit,
        )

    def _after(self, before: Checkout, after: Checkout, owed: int, *, news: bool) -> None:
        """What follows a stored transition: the operator's log, the status, the receipts."""
        if after.phase is Phase.BLOCKED and not before.alerted:
            self._log_blocked(after)
        if news or after.stopped or after.attempts != before.attempts:
            self.changed()
        if after.phase is Phase.DONE and not before.finished:
            self.on_done(after.visit)
        if after.finished and owed:
            self._owing.add(after.account)
            _LOGGER.warning(
                "Checkout %s: %d %s outstanding (%s)", after.id, owed, after.currency, after.reason
            )

    async def _commit_retried(self, work: Callable[[Any], object], events: list[Wire]) -> None:
        await self._commits.commit(work, events, retry=True)
        if events:
            self.changed()
