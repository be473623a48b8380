"""The checkout's shell: final carts charged at the processor, each exactly once.

Every `poll_s` (and when woken) it takes the closed carts that may be charged
(`checkout_store.ready_carts`: settled, nothing waiting for review, or past the review
deadline) and starts a checkout for each (`core/checkout.py`), stored with its
`checkout_started` event in one transaction, unique per visit. Each checkout then runs as a
task (at most `concurrency` at the processor at once): ask `next_step`, call the processor,
`advance`, and store the new state with its events, committed, BEFORE the next call.
Unfinished checkouts are resumed at start, their stored payment looked at first.

A declined payment leaves the amount outstanding on the account (`checkout_store.owe`);
the account's next check-in is refused with ``payment_outstanding`` (`owes`) until an
operator settles it (`settle`, ``POST /v1/accounts/settle``). The exit gate never waits for
any of it: checkout starts from what the database holds, later.

``STORE_BRIDGE_CRASH_AT`` (tests only): ``<point>:<n>[,<point>:<n>…]`` kills the process
with SIGKILL the n-th time it reaches that point (``started``, ``before_<call>``,
``after_<call>`` with call one of create, confirm, retrieve, capture, cancel, and
``persisted``), so a test can prove that a crash at any step boundary charges nobody twice.
"""

import asyncio
import contextlib
import logging
import os
import signal
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, timedelta, tzinfo
from typing import Any, Final

from . import checkout_store
from .checkout_refunds import RefundRunner
from .core import checkout as machine
from .core.checkout import Checkout, Phase, RetryPolicy
from .core.refund import Refund
from .events import Wire
from .ledger import Ledger
from .payments import Answer, Processor
from .storage import StorageUnavailable
from .vocabulary import EventType, Outcome

_LOGGER = logging.getLogger(__name__)

CRASH_ENV: Final = "STORE_BRIDGE_CRASH_AT"
STORE_RETRY_S: Final = 1.0
TAKE_AT_ONCE: Final = 200


@dataclass(frozen=True, slots=True)
class CheckoutSettings:
    """When a cart is charged and how many checkouts run at once."""

    settle_s: float = 5.0
    review_deadline_s: float = 600.0
    max_cart_value: int = 20_000
    concurrency: int = 8
    poll_s: float = 1.0
    timezone: tzinfo = field(default=UTC)
    """The store's: the day a sale is counted on (`daily_totals`)."""
    currency: str = "EUR"
    """The store's usual currency (the status' `sales_today` before the day's first sale)."""


class _AlreadyTaken(Exception):  # noqa: N818 - a rollback, not an error
    """The visit has a checkout already: roll the transaction (and its events) back."""


class _Crasher:
    """The test-only fault injection of ``STORE_BRIDGE_CRASH_AT``."""

    def __init__(self, spec: str | None) -> None:
        self._at: dict[str, int] = {}
        self._seen: Counter[str] = Counter()
        for part in (spec or "").split(","):
            point, _, count = part.strip().partition(":")
            if point:
                self._at[point] = int(count or "1")

    def point(self, name: str) -> None:
        if not self._at:
            return
        self._seen[name] += 1
        if self._at.get(name) == self._seen[name]:
            _LOGGER.warning("Crashing at %s (%s, a test's fault injection)", name, CRASH_ENV)
            os.kill(os.getpid(), signal.SIGKILL)


class CheckoutRunner:
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
        self.processor = processor
        self.settings = settings or CheckoutSettings()
        self._policy = policy or RetryPolicy()
        self._crash = _Crasher(os.environ.get(CRASH_ENV))
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._live: dict[str, Checkout] = {}
        self._failed = 0
        self._owing: set[str] = set()
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._workers: dict[str, asyncio.Task[Any]] = {}
        self._refunds = RefundRunner(
            ledger,
            processor,
            policy=self._policy,
            commit=self._commit_retried,
            zone=self.settings.timezone,
            spawn=self._task,
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
        counted = machine.counts(list(self._live.values()))
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

        def load(db: Any) -> tuple[set[str], list[Checkout], int, list[Refund]]:  # noqa: ANN401
            return (
                checkout_store.owing(db),
                checkout_store.unfinished(db),
                checkout_store.failed_count(db),
                checkout_store.unfinished_refunds(db),
            )

        owing, unfinished, failed, open_refunds = await ledger.db.call(lambda s: load(s.db))
        self._owing, self._failed = owing, failed
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
        task.add_done_callback(self._forget(key))

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
        for cart in ready:
            currency = cart.lines[0].currency if cart.lines else "EUR"
            checkout = machine.start(
                visit=cart.visit,
                kind=cart.kind,
                account=cart.account,
                customer=cart.customer,
                total=sum(line.amount for line in cart.lines),
                currency=currency,
                items=sum(line.quantity for line in cart.lines),
            )
            first = machine.started_news(checkout)
            events = [self._event(checkout, first)]
            started_news = machine.news(replace(checkout, phase=Phase.FINAL), checkout)
            events += [self._event(checkout, item) for item in started_news]
            owed = checkout.outstanding

            def work(db: Any, c: Checkout = checkout, owed: int = owed) -> None:  # noqa: ANN401
                if not checkout_store.start(db, c, now):
                    raise _AlreadyTaken
                if owed:
                    checkout_store.owe(db, c.account, owed, c.currency, now)

            if not await self._commit(work, events):
                continue
            self._crash.point("started")
            if checkout.phase is Phase.FAILED:
                self._failed += 1
                self._owing.add(checkout.account)
            if not checkout.finished:
                self._spawn(checkout)
            elif checkout.phase is Phase.DONE:
                self.on_done(checkout.visit)
        if ready:
            self.changed()
        return len(ready)

    # --- running one checkout ----------------------------------------------------------

    def _spawn(self, checkout: Checkout) -> None:
        self._live[checkout.id] = checkout
        task = asyncio.create_task(self._run(checkout), name=f"store-bridge-{checkout.id}")
        self._workers[checkout.id] = task
        task.add_done_callback(self._forget(checkout.id))

    def _forget(self, key: str) -> Callable[[asyncio.Task[Any]], None]:
        def done(_task: asyncio.Task[Any]) -> None:
            self._workers.pop(key, None)

        return done

    async def _run(self, checkout: Checkout) -> None:
        try:
            while True:
                step = machine.next_step(checkout, self._ledger.clock())
                if isinstance(step, machine.Finished):  # or blocked for the operator
                    return
                if isinstance(step, machine.Wait):
                    delay = (step.until - self._ledger.clock()).total_seconds()
                    await asyncio.sleep(max(0.0, delay))  # then the call, whatever the clock
                    asked = machine.call(checkout)
                    assert asked is not None  # noqa: S101 - only an unfinished one waits
                    step = asked
                async with self._slots:
                    answer = await self._ask(step)
                after = machine.advance(checkout, answer, self._ledger.clock(), self._policy)
                await self._persist(checkout, after)
                checkout = after
        finally:
            self._live.pop(checkout.id, None)

    async def _ask(self, step: machine.Call) -> Answer:
        processor = self.processor
        name = type(step).__name__.lower()
        self._crash.point(f"before_{name}")
        match step:
            case machine.Create():
                answer = await processor.create_payment(
                    customer=step.customer,
                    amount=step.amount,
                    currency=step.currency,
                    reference=step.reference,
                    idempotency_key=step.key,
                )
            case machine.Confirm():
                answer = await processor.confirm_payment(step.payment, idempotency_key=step.key)
            case machine.Retrieve():
                answer = await processor.retrieve(step.payment)
            case machine.Capture():
                answer = await processor.capture_hold(
                    step.payment, amount=step.amount, idempotency_key=step.key
                )
            case machine.Cancel():
                answer = await processor.cancel_hold(step.payment, idempotency_key=step.key)
        self._crash.point(f"after_{name}")
        return answer

    async def _persist(self, before: Checkout, after: Checkout) -> None:
        """Store `after` with its events; retried until the database takes it."""
        news = machine.news(before, after)
        events = [self._event(after, item) for item in news]
        now = self._ledger.clock()
        owed = after.outstanding if after.finished and not before.finished else 0
        captured = after.captured if any(n.type == "payment_captured" for n in news) else 0
        day = checkout_store.sales_day(now, self.settings.timezone)

        def work(db: Any) -> None:  # noqa: ANN401
            checkout_store.save(db, after, now)
            if owed:
                checkout_store.owe(db, after.account, owed, after.currency, now)
            if captured:  # the day's totals, with the `payment_captured` they count
                checkout_store.add_sale(db, day, after.currency, captured)

        while not await self._commit(work, events, retry=True):
            pass  # pragma: no cover - `retry` only returns once stored
        self._crash.point("persisted")
        self._live[after.id] = after
        self._after(before, after, owed, news=bool(news))

    def _after(self, before: Checkout, after: Checkout, owed: int, *, news: bool) -> None:
        """What follows a stored transition: the operator's log, the status, the receipts."""
        if after.phase is Phase.BLOCKED and before.phase is not Phase.BLOCKED:
            _LOGGER.error(
                "Checkout %s stopped: the processor says the store's setup is wrong; fix it, "
                "then restart the bridge or POST /v1/visits/%s/checkout/retry",
                after.id,
                after.visit,
            )
        if news or after.stopped or after.attempts != before.attempts:
            self.changed()
        if after.phase is Phase.DONE and not before.finished:
            self.on_done(after.visit)
        if after.finished:
            if after.phase is Phase.FAILED:
                self._failed += 1
            if owed:
                self._owing.add(after.account)
                _LOGGER.warning(
                    "Checkout %s: %d %s outstanding (%s)",
                    after.id,
                    owed,
                    after.currency,
                    after.reason,
                )

    async def _commit(
        self, work: Callable[[Any], object], events: list[Wire], *, retry: bool = False
    ) -> bool:
        """Write `work` and `events` in one transaction; False if the visit was taken."""
        ledger = self._ledger
        while True:
            try:
                await ledger.db.call(lambda store: store.change(work, events))
            except _AlreadyTaken:
                return False
            except StorageUnavailable as err:
                if not retry:
                    raise
                _LOGGER.warning("A checkout's state cannot be stored (%s); waiting", err)
                await asyncio.sleep(STORE_RETRY_S)
                continue
            break
        ledger.activity.saw(events, ledger.clock())
        ledger.wake_publisher()
        return True

    async def _commit_retried(self, work: Callable[[Any], object], events: list[Wire]) -> None:
        await self._commit(work, events, retry=True)
        if events:
            self.changed()

    def _event(self, checkout: Checkout, news: machine.News) -> Wire:
        return self._ledger.event(
            EventType(news.type),
            Outcome(news.outcome),
            visit=checkout.visit,
            reason=news.reason,
            data=news.data,
        )

    # --- operators ---------------------------------------------------------------------

    async def settle(self, account: str) -> dict[str, int]:
        """An operator settled what `account` owed; `account_settled` per currency."""
        owed = await self._ledger.db.call(lambda s: checkout_store.settle(s.db, account))
        events = [
            self._ledger.event(
                EventType.ACCOUNT_SETTLED,
                Outcome.OK,
                data={"amount": amount, "currency": currency},
            )
            for currency, amount in sorted(owed.items())
        ]
        if events:
            await self._ledger.write(lambda store: store.add_events(events), events)
        self._owing.discard(account)
        self.changed()
        return owed

    async def refund(self, visit: str, amount: int) -> Refund:
        """Refund `amount` of `visit`'s captured payment, once (`RefundRefused` with a code)."""
        return await self._refunds.refund(await self.find(visit), visit, amount)

    async def retry(self, visit: str) -> Checkout | None:
        """An operator fixed the store's setup: try `visit`'s blocked checkout again.

        None if the visit has no checkout; the checkout unchanged if it is not blocked.
        """
        found = await self.find(visit)
        if found is None or found.phase is not Phase.BLOCKED or found.id in self._workers:
            return found
        again = machine.unblocked(found)
        now = self._ledger.clock()
        await self._commit(lambda db: checkout_store.save(db, again, now), [], retry=True)
        self._spawn(again)
        self.changed()
        return again
