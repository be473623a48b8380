"""Retention: what is past it leaves the database in small steps, and its space is given back.

The database has one thread, shared with gate decisions. A purge therefore never holds it
for long: each batch (at most `PURGE_BATCH` rows, one transaction, found through the
indexes of schema 2) is its own job on that thread, and the next batch is queued only after
the previous one is done, so that a check-in that arrives during a purge runs between two
batches instead of after the whole purge. Freed pages are then returned to the file system
in steps of `GIVE_BACK_PAGES` (incremental auto-vacuum), the same way, so that the file
does not keep the high-water mark of the busiest day.

What is past the retention: published events sent before it, sessions that ended before it
(with their account references), and used QR ids whose code has expired (a code that has
expired cannot be replayed). An event not yet published and a session still inside are
never deleted.
"""

from datetime import datetime, timedelta
from typing import Final

from .storage import PURGE_BATCH, Database, Due, Purged

GIVE_BACK_PAGES: Final = 128
"""Free pages returned to the file system per step (512 KiB with SQLite's 4 KiB pages)."""


def due(now: datetime, retention_days: int) -> Due:
    """What a purge at `now` may delete with a retention of `retention_days`."""
    keep = (now - timedelta(days=retention_days)).timestamp()
    return Due(sent_before=keep, ended_before=keep, expired_before=now.timestamp())


async def purge(
    db: Database, what: Due, *, batch: int = PURGE_BATCH, pages: int = GIVE_BACK_PAGES
) -> Purged:
    """Delete what is due, batch by batch; then give the freed pages back, step by step.

    Raises `StorageUnavailable` if the database fails; what was deleted until then stays
    deleted (each batch is complete), the rest waits for the next purge.
    """
    done = Purged()
    while True:
        step = await db.call(lambda store: store.purge_batch(what, batch))
        done += step
        if step.rows < batch:
            break
    if done.rows:
        free = before = await db.call(lambda store: store.free_pages())
        while free:
            left = await db.call(lambda store: store.give_back(pages))
            if left >= free:  # nothing moved: leave the rest for next time
                break
            free = left
        done += Purged(pages_freed=before - free)
    return done
