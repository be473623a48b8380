"""Which of a checkout's commits wait for the disk (a power cut, not a crash, loses the rest).

The payment's id must be on disk before the payment may be confirmed: lost, the checkout
would create and confirm a second payment. Every other state can be lost to a power cut
and found again by looking at the stored payment, so it need not wait for the disk (a
crash of the process loses nothing committed: the write-ahead log is in the system's cache).
Read from SQLite's own statement trace of a real checkout, the syncs of the log at the edge
(``os.fsync``, `disk_syncs.py`) and the calls the processor gets (fake processor: the edge),
in one log.
"""

from pathlib import Path
from typing import Any

import pytest

from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import Answer, SavedMethod
from store_bridge.saved_methods import store_method

from ..waiting import until
from .cart_shop import COLA_TOPIC, Clock, start_shop, stop_shop
from .charging_shop import CUSTOMER, UNIT, attach, payment_events, settle_time, shop_and_leave
from .conftest import Operator
from .disk_syncs import Syncs


async def _charged(
    tmp_path: Path,
    operator: Operator,
    cans: int,
    *,
    card_kept: bool = False,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[list[Any], list[Any], FakeProcessor]:
    """A shopper's cart charged: its payment events, the statements the checkout ran.

    With `monkeypatch`, the log holds the syncs of the log file and the confirmations sent
    too, in the order they happened (`disk_syncs.py`).

    `card_kept`: the customer's saved card is kept with the session first, as the check-in's
    lookup keeps it (`saved_methods.py`), and the processor's count of lookups starts at 0.
    """
    store = await start_shop(tmp_path / "bridge.sqlite3", operator, Clock())
    processor = FakeProcessor()
    try:
        await attach(store, processor)
        store.shelf.stock(COLA_TOPIC, 10, UNIT)
        store.shelf.walk(2)
        visit = await shop_and_leave(store, "frigate-a", cans, cus=CUSTOMER)
        if card_kept:
            found = await processor.saved_method(CUSTOMER)
            assert isinstance(found, SavedMethod)
            assert found.method is not None
            method = found.method
            await store.bridge.db.call(
                lambda s: s.change(lambda db: store_method(db, visit, CUSTOMER, method), [])
            )
            processor.method_lookups = 0
        statements: list[Any] = []
        if monkeypatch is not None:
            Syncs(monkeypatch, statements)
            confirm = processor.confirm_payment

            async def confirming(payment: str, *, idempotency_key: str) -> Answer:
                statements.append(("confirm", payment))
                return await confirm(payment, idempotency_key=idempotency_key)

            monkeypatch.setattr(processor, "confirm_payment", confirming)
        await store.bridge.db.call(lambda s: s.db.set_trace_callback(statements.append))
        settle_time(store)
        events = await until(
            "the cart is charged", lambda: payment_events(store), want=lambda e: len(e) == 2
        )
        await store.bridge.db.call(lambda s: s.db.set_trace_callback(None))
    finally:
        await stop_shop(store)
    assert [event[0] for event in events] == ["checkout_started", "payment_captured"]
    assert events[1][1] == visit
    return events, statements, processor


async def test_only_the_payments_id_waits_for_the_disk_before_it_is_confirmed(
    tmp_path: Path, operator: Operator, socket_enabled: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _events, log, processor = await _charged(tmp_path, operator, 2, monkeypatch=monkeypatch)

    wal = f"{(tmp_path / 'bridge.sqlite3').resolve()}-wal"
    synced = [n for n, entry in enumerate(log) if entry == ("fsync", wal)]
    assert len(synced) == 1, log  # of the checkout's commits, one waited for the disk
    (payment,) = processor.payments
    stored = next(
        n
        for n, s in enumerate(log)
        if isinstance(s, str) and s.startswith("UPDATE checkouts SET") and payment in s
    )
    assert "payment IS NULL" in log[stored]  # the payment's id, stored once (compare-and-set)
    committed = log.index("COMMIT", stored)
    confirmed = log.index(("confirm", payment))
    # Its commit ended, then the log was synced, then (only then) the payment was confirmed.
    assert committed < synced[0] < confirmed
    assert log.count("COMMIT") >= 3  # started, payment stored, captured: all committed


async def test_the_card_found_at_check_in_is_read_with_the_start_not_again(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    """The first creation takes the card the start read in its own transaction: no read more."""
    events, statements, processor = await _charged(tmp_path, operator, 1, card_kept=True)

    assert processor.method_lookups == 0  # the processor was not asked which card
    (payment,) = processor.payments.values()
    assert payment.captured == events[1][3]["amount"] > 0
    reads = [n for n, s in enumerate(statements) if s.startswith("SELECT s.payment_method")]
    assert len(reads) == 1  # one read of the card, in the start's transaction
    start = max(n for n in range(reads[0]) if statements[n] == "BEGIN IMMEDIATE")
    assert statements[start + 1 :].index("COMMIT") + start + 1 > reads[0]
    assert any(s.startswith("INSERT INTO checkouts") for s in statements[start : reads[0]])
