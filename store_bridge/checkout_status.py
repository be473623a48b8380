"""The status' `checkout` object: checkouts, sales today and receipts, as counts only.

The object (the STATUS CONTRACT, `schema/store-status.v1.schema.json`)::

    {"pending": n, "retrying": n, "failed": n, "outstanding_accounts": n,
     "sales_today": {"amount": n, "count": n, "refunded": n, "currency": "EUR"},
     "receipts_waiting": n, "receipts_failed": n, "refunds_uncertain": n,
     "refunds_stuck": n}

- `pending`, `retrying`: checkouts under way, and those waiting to try the processor again
  (the runner's memory; for `serve`, the checkout process's, as it last told them, and null
  while that process is down: unknown, never a hopeful 0).
- `failed`: checkouts the operator has to act on: declined with the account still owing,
  and checkouts `blocked` because the processor said the store's setup is wrong
  (`Misconfigured`: nobody owes anything; they go on after a restart or
  ``POST /v1/visits/<visit>/checkout/retry``).
- `outstanding_accounts`: accounts whose next check-in is refused until settled.
- `sales_today`: the store's day so far in its time zone (`daily_totals`), in its currency.
- `receipts_waiting`, `receipts_failed`: receipt requests not sent yet, and given up
  (within the retention).
- `refunds_uncertain`: refunds that may or may not have been made (an answer lost, pending
  at the processor), looked up until the processor says; kept until settled.
- `refunds_stuck`: of those, the ones asked for more than an hour ago
  (`core/refund.STUCK_AFTER`): the operator is told (Home Assistant raises a repair).

Never an id, a reference or an address. The bridge's status is built synchronously (the
publisher asks for it), so the object is kept here and refreshed from the database when a
part says something changed (`changed`), at most once per `min_interval_s`, and every
`refresh_s` besides (the day turns at midnight, an uncertain refund's hour runs out); when
it differs from the last one the retained status is published again (`publish`). A read
that fails (the database, or anything unexpected: logged by its kind) is tried again after a
doubling delay; the loop never stops.
"""

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, Protocol

from . import checkout_store
from .checkout_runner import CheckoutSettings
from .core.refund import stuck_before
from .database import Database
from .storage import StorageUnavailable

_LOGGER = logging.getLogger(__name__)

MIN_INTERVAL_S: Final = 1.0
REFRESH_S: Final = 30.0


def _receipts(db: sqlite3.Connection) -> tuple[int, int]:
    """Receipt requests waiting and given up (each count read from its partial index)."""
    waiting = db.execute("SELECT count(*) FROM receipt_requests WHERE state = 'waiting'")
    failed = db.execute("SELECT count(*) FROM receipt_requests WHERE state = 'failed'")
    return int(waiting.fetchone()[0]), int(failed.fetchone()[0])


def stored_counts(db: sqlite3.Connection, day: str, currency: str, now: datetime) -> dict[str, Any]:
    """What the object takes from the database (all but the runner's own counts) at `now`."""
    by_currency = checkout_store.sales(db, day)
    shown = currency if currency in by_currency or not by_currency else None
    if shown is None:  # another currency than the store's usual one: the busiest
        shown = max(by_currency, key=lambda c: (by_currency[c][1], c))
    amount, count, refunded = by_currency.get(shown, (0, 0, 0))
    waiting, failed = _receipts(db)
    return {
        "failed": checkout_store.failed_count(db),
        "outstanding_accounts": checkout_store.owing_count(db),
        "sales_today": {
            "amount": amount,
            "count": count,
            "refunded": refunded,
            "currency": shown,
        },
        "receipts_waiting": waiting,
        "receipts_failed": failed,
        "refunds_uncertain": checkout_store.uncertain_refunds(db),
        "refunds_stuck": checkout_store.stuck_refunds(db, stuck_before(now)),
    }


class CountSource(Protocol):
    """Whoever runs the checkouts: the runner, or `serve`'s checkout process (its facade)."""

    settings: CheckoutSettings
    on_change: Callable[[], None]

    def status(self) -> Mapping[str, int | None]:
        """Checkouts pending and retrying (None: not known right now)."""
        ...


class CheckoutStatus:
    """Keeps the `checkout` object and republishes the status when it changes."""

    def __init__(  # noqa: PLR0913 - the status' sources
        self,
        db: Database,
        runner: CountSource,
        publish: Callable[[], None],
        clock: Callable[[], datetime],
        *,
        min_interval_s: float = MIN_INTERVAL_S,
        refresh_s: float = REFRESH_S,
    ) -> None:
        """Read `db` and `runner`; `publish` sends the retained status again."""
        self._db = db
        self._runner = runner
        self._publish = publish
        self._clock = clock
        self._min_interval_s = min_interval_s
        self._refresh_s = refresh_s
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.current: dict[str, Any] | None = None
        """The object as last read (None before the first read)."""
        self.published = 0
        """How many times a change was published (tests)."""
        runner.on_change = self.changed

    def changed(self) -> None:
        """Something the object counts may have changed: read it again soon."""
        self._changed.set()

    async def start(self) -> None:
        """Read the object once, then keep it up to date."""
        try:
            await self.refresh()
        except StorageUnavailable:
            pass
        except Exception as err:  # noqa: BLE001 - the loop below tries again
            _LOGGER.error("The checkout status could not be read (%s)", type(err).__name__)  # noqa: TRY400
            self._changed.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="store-bridge-checkout-status")

    async def stop(self) -> None:
        """Stop keeping it up to date."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def refresh(self) -> bool:
        """Read the object now; True (and the status published) if it changed."""
        settings = self._runner.settings
        now = self._clock()
        day = checkout_store.sales_day(now, settings.timezone)
        stored = await self._db.call(
            lambda store: stored_counts(store.db, day, settings.currency, now)
        )
        fresh = {**self._runner.status(), **stored}
        ordered = {key: fresh[key] for key in ("pending", "retrying", *stored)}
        if ordered == self.current:
            return False
        first = self.current is None
        self.current = ordered
        if not first:
            self.published += 1
            self._publish()
        return True

    async def _run(self) -> None:
        last = time.monotonic()
        faults = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self._refresh_s)
            wait = last + self._min_interval_s - time.monotonic()
            if wait > 0:  # at most one publication per `min_interval_s`
                await asyncio.sleep(wait)
            self._changed.clear()
            last = time.monotonic()
            try:
                await self.refresh()
                faults = 0
            except StorageUnavailable as err:
                _LOGGER.debug("The checkout status waits for the database (%s)", err)
                faults += 1
            except Exception as err:  # noqa: BLE001 - the loop must go on; the kind is logged
                _LOGGER.error(  # noqa: TRY400 - no traceback: it could hold a reference
                    "The checkout status could not be read (%s); trying again",
                    type(err).__name__,
                )
                faults += 1
            if faults:  # look again after a doubling delay, not only at the next change
                await asyncio.sleep(
                    min(self._refresh_s, self._min_interval_s * 2.0 ** min(faults, 16))
                )
                self._changed.set()
