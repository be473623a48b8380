"""Retention: what is past it leaves the database in small steps, and its space is given back.

The database has one thread, shared with gate decisions. A purge therefore never holds it
for long: each batch (at most `PURGE_BATCH` rows, one transaction, found through the
indexes of schema 2) is its own upkeep job on that thread, and the next batch is queued only
after the previous one is done; the thread runs a waiting check-in before any upkeep
(`db_thread.py`), so a check-in that arrives during a purge waits for one step at most.
After each step a checkpoint, a job of its own, copies the pages the step wrote from the
write-ahead log into the file: a check-in's commit never carries a purge's pages (SQLite's
automatic checkpoint runs in whichever commit fills the log, which is what made check-ins
slow during a purge), and the log stays about one step long. Freed pages are then returned
to the file system in steps of `GIVE_BACK_PAGES` (incremental auto-vacuum), the same way, so
that the file does not keep the high-water mark of the busiest day.

What is past the retention: published events sent before it, sessions that ended before it
(with their account references), the carts of sessions that ended before it
(`cart_store.py`; with a checkout, only carts it took, and only sessions whose cart it took
or that had none), and used QR ids whose code has expired (a code that has expired cannot be
replayed). An event not yet published and a session or cart still inside are never deleted.
With a checkout: finished checkouts and refunds last changed before it (never an unfinished
or blocked checkout, nor a failed one whose account still owes: `checkout_store.py`), and
finished receipt requests and receipt codes expired before it (`receipt_store.py`); the
daily totals (no id) are kept.
"""

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from . import cart_store, checkout_store, receipt_store
from .database import Database
from .purge_counts import Due, Purged
from .storage import PURGE_BATCH, Store

GIVE_BACK_PAGES: Final = 128
"""Free pages returned to the file system per step (512 KiB with SQLite's 4 KiB pages)."""


def due(now: datetime, retention_days: int, *, charges: bool = False) -> Due:
    """What a purge at `now` may delete with a retention of `retention_days`.

    `charges`: the store charges carts (`[payments]`): a cart, and its session, stay until
    the checkout took the cart.
    """
    keep = (now - timedelta(days=retention_days)).timestamp()
    return Due(sent_before=keep, ended_before=keep, expired_before=now.timestamp(), charges=charges)


async def purge(
    db: Database, what: Due, *, batch: int = PURGE_BATCH, pages: int = GIVE_BACK_PAGES
) -> Purged:
    """Delete what is due, batch by batch; then give the freed pages back, step by step.

    Raises `StorageUnavailable` if the database fails; what was deleted until then stays
    deleted (each batch is complete), the rest waits for the next purge.
    """
    done = Purged()
    while True:
        step = await _step(db, lambda store: store.purge_batch(what, batch))
        done += step
        if step.rows < batch:
            break
    while True:  # the carts of ended sessions, the same way
        carts = await _step(
            db,
            lambda store: store.change(
                lambda sql: cart_store.purge_batch(
                    sql, what.ended_before, batch, charges=what.charges
                ),
                [],
            ),
        )
        done += Purged(carts=carts, batches=1 if carts else 0)
        if carts < batch:
            break
    checkouts, steps = await _batches(db, what.ended_before, batch, checkout_store.purge_batch)
    done += Purged(checkouts=checkouts, batches=steps)  # finished checkouts and refunds
    receipts, steps = await _batches(db, what.ended_before, batch, receipt_store.purge)
    done += Purged(receipts=receipts, batches=steps)  # finished receipt requests, codes
    if done.rows:
        free = before = await db.upkeep(lambda store: store.free_pages())
        while free:
            left = await _step(db, lambda store: store.give_back(pages))
            if left >= free:  # nothing moved: leave the rest for next time
                break
            free = left
        done += Purged(pages_freed=before - free)
    return done


async def _batches(
    db: Database,
    before: float,
    batch: int,
    delete: Callable[[sqlite3.Connection, float, int], int],
) -> tuple[int, int]:
    """`delete(sql, before, batch)` as steps until one deletes less than `batch`: rows, steps."""
    rows = steps = 0
    while True:
        deleted = await _step(
            db, lambda store: store.change(lambda sql: delete(sql, before, batch), [])
        )
        rows, steps = rows + deleted, steps + (1 if deleted else 0)
        if deleted < batch:
            return rows, steps


async def _step[T](db: Database, work: Callable[[Store], T]) -> T:
    """One step of upkeep, then a checkpoint of what it wrote: each its own job.

    A check-in never carries the step's pages into the file in its own commit (SQLite's
    automatic checkpoint), and can run between the step and its checkpoint.
    """
    result = await db.upkeep(work)
    await db.upkeep(lambda store: store.checkpoint())
    return result
