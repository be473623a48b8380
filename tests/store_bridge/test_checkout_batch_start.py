"""Final carts taken together are started in one transaction (`checkout_runner._start_each`).

A real bridge with a real SQLite file (`cart_shop.py`) and the embedded processor; what a
shopper or operator would notice: a cart the database will not start does not hold up the
others taken with it, is charged once the database takes it, and nobody is charged twice.
"""

import asyncio
import logging
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store_bridge import checkout_store
from store_bridge.checkout_commits import AlreadyTaken, CheckoutCommits
from store_bridge.checkout_runner import CheckoutRunner, CheckoutSettings
from store_bridge.core import checkout as machine
from store_bridge.core.checkout import Checkout
from store_bridge.core.checkout_record import Kind
from store_bridge.fake_processor import FakeProcessor
from store_bridge.group_commit import Change
from store_bridge.payments import PaymentState
from store_bridge.storage import StorageUnavailable
from store_bridge.store_schema import connect

from ..waiting import until
from .cart_shop import Shop
from .charging_fixtures import shop_without_chips
from .charging_shop import CUSTOMER, payment_events, settle_time, shop_and_leave

__all__ = ["shop_without_chips"]  # the `shop` fixture


class BugError(Exception):
    """A change's work that fails for a reason of its own (a bug)."""


def _sql(path: Path, sql: str, *args: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute(sql, args)
        db.commit()


def _captured(processor: FakeProcessor) -> list[int]:
    return sorted(
        p.captured for p in processor.payments.values() if p.state is PaymentState.CAPTURED
    )


def _started(store: Shop) -> list[str]:
    return sorted(str(e[1]) for e in payment_events(store) if e[0] == "checkout_started")


async def test_a_cart_the_database_refuses_does_not_hold_up_those_taken_with_it(
    shop: tuple[Shop, FakeProcessor], caplog: pytest.LogCaptureFixture
) -> None:
    store, processor = shop
    refused = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    other = await shop_and_leave(store, "frigate-b", 2, cus=CUSTOMER)
    _sql(  # the database refuses this one visit's checkout (a constraint, as a broken row)
        store.path,
        f"CREATE TRIGGER refuse BEFORE INSERT ON checkouts WHEN NEW.visit = '{refused}' "
        "BEGIN SELECT RAISE(ABORT, 'no'); END",
    )
    with caplog.at_level(logging.WARNING, logger="store_bridge.checkout_runner"):
        settle_time(store)
        await until("the other cart is charged", lambda: _captured(processor), want=[258].__eq__)
    assert "Final carts cannot be read" in caplog.text  # the refusal is told
    assert _started(store) == [other]

    _sql(store.path, "DROP TRIGGER refuse")
    await until("both carts are charged", lambda: _captured(processor), want=[129, 258].__eq__)
    runner = store.bridge.checkout
    assert runner is not None
    await runner.settled()
    assert _captured(processor) == [129, 258]
    assert len(processor.payments) == 2
    assert _started(store) == sorted([refused, other])


async def test_each_change_of_a_batch_is_kept_or_undone_alone(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, _processor = shop
    commits = CheckoutCommits(store.bridge.ledger)
    await store.bridge.db.call(lambda s: s.db.execute("CREATE TABLE notes (n INTEGER UNIQUE)"))

    def note(n: int) -> Change:
        return Change(lambda db: db.execute("INSERT INTO notes VALUES (?)", (n,)), [])

    def taken(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO notes VALUES (50)")
        raise AlreadyTaken

    def broken(_db: sqlite3.Connection) -> None:
        raise BugError

    outcomes = await commits.commit_each(
        [note(1), Change(taken, []), note(1), Change(broken, []), note(2)]
    )

    assert outcomes[:2] == [True, False]
    assert isinstance(outcomes[2], StorageUnavailable)  # UNIQUE: the database refused it
    assert isinstance(outcomes[3], BugError)
    assert outcomes[4] is True
    rows = await store.bridge.db.call(
        lambda s: [r[0] for r in s.db.execute("SELECT n FROM notes ORDER BY n")]
    )
    assert rows == [1, 2]  # nothing of the undone ones


async def test_a_stored_checkout_is_updated_whole_even_without_its_row(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    """A transition writes what changes; a checkout whose row is gone is written whole."""
    store, processor = shop
    visit = await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    settle_time(store)
    await until("the cart is charged", lambda: _captured(processor), want=[129].__eq__)
    runner = store.bridge.checkout
    assert runner is not None
    await runner.settled()
    found = await runner.find(visit)
    assert found is not None

    now = store.bridge.ledger.clock()
    await store.bridge.db.call(
        lambda s: s.change(lambda db: db.execute("DELETE FROM checkouts"), [])
    )
    await store.bridge.db.call(
        lambda s: s.change(lambda db: checkout_store.update(db, found, found, now), [])
    )
    assert await runner.find(visit) == found
    moved = replace(found, total=found.total + 1)  # a column fixed at the start, changed
    await store.bridge.db.call(
        lambda s: s.change(lambda db: checkout_store.update(db, found, moved, now), [])
    )
    assert await runner.find(visit) == moved


def _runner(store: Shop, processor: FakeProcessor) -> CheckoutRunner:
    """A second runner on the shop's database, taking carts at once (the shop's waits)."""
    return CheckoutRunner(store.bridge.ledger, processor, CheckoutSettings(settle_s=0, poll_s=3600))


async def test_two_runners_starting_the_same_carts_start_each_once(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, _shops = shop
    visits = [await shop_and_leave(store, f"frigate-{n}", 1, cus=CUSTOMER) for n in "ab"]
    own = store.bridge.checkout
    assert own is not None
    await own.stop()  # only the two runners below take carts
    processor = FakeProcessor()
    first, second = _runner(store, processor), _runner(store, processor)
    now = store.bridge.ledger.clock()
    ready = await store.bridge.db.call(
        lambda s: checkout_store.ready_carts(
            s.db, settled_before=now, deadline_before=now, limit=10
        )
    )
    assert sorted(cart.visit for cart in ready) == sorted(visits)

    # Both read the same carts before either started them (as two bridges on one file).
    await asyncio.gather(first._start_each(now, ready), second._start_each(now, ready))

    for runner in (first, second):
        await runner.settled()
    assert _captured(processor) == [129, 129]  # each cart charged once
    assert len(processor.payments) == 2
    assert _started(store) == sorted(visits)


async def test_a_batch_the_database_cannot_take_starts_nothing_until_it_can(
    shop: tuple[Shop, FakeProcessor],
) -> None:
    store, _shops = shop
    await shop_and_leave(store, "frigate-a", 1, cus=CUSTOMER)
    own = store.bridge.checkout
    assert own is not None
    await own.stop()  # only the runner below takes carts
    processor = FakeProcessor()
    runner = _runner(store, processor)
    with closing(sqlite3.connect(store.path, timeout=0)) as other:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the file (as a stuck tool)
        with pytest.raises(StorageUnavailable, match="OperationalError"):
            await runner.take()
        other.rollback()
    assert processor.payments == {}  # nothing asked of the processor
    assert _started(store) == []

    assert await runner.take() == 1
    await runner.settled()
    assert _captured(processor) == [129]


def test_a_start_refused_for_another_reason_than_its_visit_is_not_taken_for_a_taken_visit(
    tmp_path: Path,
) -> None:
    """Only a visit that has a checkout already is skipped quietly: a start that clashes with
    another checkout's payment (a card hold already charged for another visit) is refused,
    loudly, and never read as "taken"."""
    db = connect(tmp_path / "b.sqlite3")
    now = datetime.now(UTC)

    def card(visit: str) -> Checkout:
        return machine.start(
            visit=visit, kind=Kind.CARD, account="pi_hold", customer=None, total=100,
            currency="EUR",
        )  # fmt: skip

    assert checkout_store.start(db, card("v1"), now)
    assert not checkout_store.start(db, card("v1"), now)  # taken already: skipped
    with pytest.raises(sqlite3.IntegrityError):
        checkout_store.start(db, card("v2"), now)
    db.close()
