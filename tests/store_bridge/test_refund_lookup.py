"""A refund whose answer was lost is looked up before anything is sent again; never twice.

The processor's refund for a request is found again by the key the bridge sent it with
(stored in the refund's metadata): a lost answer, a server error or a crash mid-send leaves
the refund uncertain; the bridge lists the payment's refunds (`list_refunds`) and adopts the
one with its key, or, when none is there, sends it (once). Uncertain refunds are counted in
the status until settled. The bridge with a real SQLite file and the embedded processor;
the Stripe adapter against localstripe.
"""

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from store_bridge import checkout_store
from store_bridge.core import refund as refunds
from store_bridge.core.refund import Refund, RefundPhase
from store_bridge.database import Database
from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import (
    ListedRefund,
    Misconfigured,
    RefundDone,
    RefundStatus,
    Unavailable,
    Unknown,
)
from store_bridge.stripe_processor import SecretKey, StripeProcessor
from tests.localstripe_server import SECRET_KEY, LocalStripe, add_customer, terminal_hold

from ..waiting import until
from .cart_shop import COLA_TOPIC, Clock, Shop, start_shop, stop_shop
from .charging_shop import (
    UNIT,
    attach,
    charged,
    charging_shop,
    checkout_status,
    payment_events,
)
from .conftest import Operator

T0 = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


def _lost() -> Refund:
    sent = refunds.sending(Refund("rf-1", "trip-1", "pi_1", 300, "EUR"))
    return refunds.advance(sent, Unknown("timeout"), T0)


# --- the decision (pure) ---------------------------------------------------------------


def test_a_lost_refund_found_done_is_done_and_not_sent_again() -> None:
    lost = _lost()
    assert (lost.phase, refunds.lists(lost)) == (RefundPhase.UNCERTAIN, True)
    other = ListedRefund("re_0", 50, RefundStatus.DONE)  # made elsewhere (no key)
    mine = ListedRefund("re_1", 300, RefundStatus.DONE, refunds.key(lost))

    done = refunds.found(lost, [other, mine], T0)

    assert (done.phase, done.refund, done.amount) == (RefundPhase.DONE, "re_1", 300)
    assert not refunds.pending(done)


def test_a_lost_refund_not_there_is_sent_again_and_a_pending_one_looked_at() -> None:
    lost = _lost()
    other = ListedRefund("re_0", 300, RefundStatus.DONE, "rf-2:refund")

    again = refunds.found(lost, [other], T0)
    assert (again.phase, again.reason, refunds.lists(again)) == (
        RefundPhase.REQUESTED,
        None,
        False,
    )
    assert again.retry_at is not None
    assert again.retry_at > T0  # after the backoff

    pending = refunds.found(
        lost, [ListedRefund("re_1", 300, RefundStatus.PENDING, "rf-1:refund")], T0
    )
    assert (pending.phase, refunds.looks(pending)) == (RefundPhase.UNCERTAIN, "re_1")
    failed = refunds.found(
        lost, [ListedRefund("re_1", 300, RefundStatus.FAILED, "rf-1:refund")], T0
    )
    assert (failed.phase, failed.refund) == (RefundPhase.FAILED, "re_1")


def test_a_lookup_that_cannot_be_made_waits_or_goes_to_the_operator() -> None:
    lost = _lost()
    later = refunds.found(lost, Unavailable("down"), T0)
    assert (later.phase, refunds.lists(later), later.attempts) == (
        RefundPhase.UNCERTAIN,
        True,
        lost.attempts + 1,
    )
    unknown = refunds.found(lost, Misconfigured("resource_missing"), T0)
    assert (unknown.phase, unknown.reason, refunds.pending(unknown)) == (
        RefundPhase.UNCERTAIN,
        "resource_missing",
        False,
    )


def test_a_refund_caught_mid_send_is_looked_up_at_once_after_a_restart() -> None:
    caught = refunds.sending(Refund("rf-1", "trip-1", "pi_1", 300, "EUR"))
    resumed = refunds.resumed(caught, T0)
    assert (resumed.phase, resumed.retry_at, refunds.lists(resumed)) == (
        RefundPhase.UNCERTAIN,
        T0,
        True,
    )
    assert refunds.resumed(replace(caught, phase=RefundPhase.DONE), T0).phase is RefundPhase.DONE


async def test_the_embedded_processor_lists_each_payments_refunds() -> None:
    processor = FakeProcessor()
    first = processor.authorise_hold(1000, "EUR")
    second = processor.authorise_hold(1000, "EUR")
    for payment in (first, second):
        await processor.capture_hold(payment, amount=500, idempotency_key=f"{payment}:c")
    await processor.refund(first, amount=100, idempotency_key="a")
    processor.refunds_end("failed")
    await processor.refund(first, amount=200, idempotency_key="b")
    processor.refunds_end("pending")
    await processor.refund(second, amount=300, idempotency_key="c")

    listed = await processor.list_refunds(first)
    assert isinstance(listed, list)
    assert [(r.amount, r.status, r.key) for r in listed] == [
        (200, RefundStatus.FAILED, "b"),
        (100, RefundStatus.DONE, "a"),
    ]
    [pending] = await _fake_listed(processor, second)
    assert (pending.status, pending.key) == (RefundStatus.PENDING, "c")
    assert await processor.list_refunds("pi_unknown") == Misconfigured(
        "resource_missing", "pi_unknown"
    )
    processor.down = True
    assert await processor.list_refunds(first) == Unavailable("unreachable")


async def _fake_listed(processor: FakeProcessor, payment: str) -> list[ListedRefund]:
    listed = await processor.list_refunds(payment)
    assert isinstance(listed, list)
    return listed


# --- the bridge, with the embedded processor -----------------------------------------


@pytest.fixture
async def store(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[tuple[Shop, FakeProcessor]]:
    async with charging_shop(
        tmp_path / "bridge.sqlite3", operator, FakeProcessor(), chips=False
    ) as (shop, processor):
        yield shop, processor


def _sql(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql, args).fetchall()


def _refunds_issued(shop: Shop) -> list[tuple[str | None, dict[str, Any]]]:
    return [(e[1], e[3]) for e in payment_events(shop) if e[0] == "refund_issued"]


async def test_a_refund_whose_answer_was_lost_is_found_and_never_sent_twice(
    store: tuple[Shop, FakeProcessor],
) -> None:
    shop, processor = store
    visit = await charged(shop, "frigate-a")
    processor.lose_answers(1)  # the refund is made; its answer never arrives

    status, answer = await shop.post(f"/v1/visits/{visit}/refund", {"amount": 129})

    assert (status, answer["phase"], answer["reason"]) == (202, "uncertain", "answer_lost")
    issued = await until(
        "the refund is found at the processor and issued",
        lambda: _refunds_issued(shop),
        want=lambda found: len(found) == 1,
    )
    assert issued == [(visit, {"amount": 129, "currency": "EUR"})]
    assert len(processor.refunds) == 1  # looked up, not sent again
    assert sum(p.refunded for p in processor.payments.values()) == 129
    today = await until(
        "nothing uncertain is left",
        lambda: checkout_status(shop),
        want=lambda c: c["refunds_uncertain"] == 0 and c["sales_today"]["refunded"] == 129,
    )
    assert today["refunds_uncertain"] == 0


async def test_a_pending_refund_is_counted_uncertain_until_the_processor_settles_it(
    store: tuple[Shop, FakeProcessor],
) -> None:
    shop, processor = store
    visit = await charged(shop, "frigate-a")
    processor.refunds_end("pending")
    status, answer = await shop.post(f"/v1/visits/{visit}/refund", {"amount": 129})
    assert (status, answer["phase"]) == (202, "uncertain")
    await until(
        "the status counts the uncertain refund",
        lambda: checkout_status(shop),
        want=lambda c: c["refunds_uncertain"] == 1,
    )
    (refund,) = processor.refunds
    processor.settle_refund(refund)
    await until(
        "the status no longer counts it once it is done",
        lambda: checkout_status(shop),
        want=lambda c: c["refunds_uncertain"] == 0 and c["sales_today"]["refunded"] == 129,
    )


async def _crash_mid_send(path: Path, visit: str) -> None:
    """The database as a bridge that died between storing `sending` and the answer left it."""
    [(payment,)] = _sql(path, "SELECT payment FROM checkouts WHERE visit = ?", visit)
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute(
            "INSERT INTO refunds (id, visit, payment, amount, currency, phase, attempts, "
            "created, updated) VALUES (?, ?, ?, 129, 'EUR', 'sending', 0, 0, 0)",
            (f"rf-{visit}", visit, payment),
        )


@pytest.mark.parametrize("it_was_sent", [True, False])
async def test_a_refund_caught_mid_send_is_made_exactly_once_after_a_restart(
    tmp_path: Path, operator: Operator, socket_enabled: None, it_was_sent: bool
) -> None:
    clock = Clock()
    path = tmp_path / "bridge.sqlite3"
    shop = await start_shop(path, operator, clock)
    processor = FakeProcessor()
    await attach(shop, processor)
    shop.shelf.stock(COLA_TOPIC, 10, UNIT)
    shop.shelf.walk(2)
    visit = await charged(shop, "frigate-a")
    await stop_shop(shop)
    await _crash_mid_send(path, visit)
    if it_was_sent:  # the processor made it before the bridge died
        [(payment,)] = _sql(path, "SELECT payment FROM checkouts WHERE visit = ?", visit)
        made = await processor.refund(payment, amount=129, idempotency_key=f"rf-{visit}:refund")
        assert isinstance(made, RefundDone)

    again = await start_shop(path, operator, clock)
    try:
        await attach(again, processor)
        issued = await until(
            "the refund is issued after the restart",
            lambda: _refunds_issued(again),
            want=lambda found: len(found) == 1,
        )
        assert issued == [(visit, {"amount": 129, "currency": "EUR"})]
        assert len(processor.refunds) == 1  # once, whether it had gone or not
        assert sum(p.refunded for p in processor.payments.values()) == 129
        assert _sql(path, "SELECT phase FROM refunds WHERE visit = ?", visit) == [("done",)]
    finally:
        await stop_shop(again)


# --- Stripe (localstripe) --------------------------------------------------------------


@pytest.fixture
async def stripe_processor(localstripe: LocalStripe) -> AsyncIterator[StripeProcessor]:
    adapter = StripeProcessor(SecretKey(SECRET_KEY), api_base=localstripe.url)
    try:
        yield adapter
    finally:
        await adapter.close()


async def test_stripe_lists_a_payments_refunds_with_the_key_they_were_sent_with(
    stripe_processor: StripeProcessor, stripe_client: Any
) -> None:
    hold = await terminal_hold(stripe_client, amount=1000)
    await stripe_processor.capture_hold(hold, amount=600, idempotency_key="c1")
    [rest] = await _listed(stripe_processor, hold)  # localstripe's record of a partial capture
    assert (rest.amount, rest.status, rest.key) == (400, RefundStatus.DONE, None)

    made = await stripe_processor.refund(hold, amount=250, idempotency_key="rf-v1:refund")

    assert isinstance(made, RefundDone)
    listed = await stripe_processor.list_refunds(hold)
    assert isinstance(listed, list)
    mine = [item for item in listed if item.key == "rf-v1:refund"]
    assert mine == [ListedRefund(made.refund, 250, RefundStatus.DONE, "rf-v1:refund")]
    assert [item.refund for item in listed if item.key is None] == [rest.refund]  # not ours


async def _listed(adapter: StripeProcessor, payment: str) -> list[ListedRefund]:
    listed = await adapter.list_refunds(payment)
    assert isinstance(listed, list)
    return listed


async def test_stripe_refunds_of_an_unknown_payment_cannot_be_listed(
    stripe_processor: StripeProcessor, stripe_client: Any
) -> None:
    await add_customer(stripe_client)
    assert isinstance(await stripe_processor.list_refunds("pi_unknown"), Misconfigured)


async def test_an_uncertain_refund_is_kept_past_the_retention_until_it_is_settled(
    tmp_path: Path,
) -> None:
    database = Database(tmp_path / "bridge.sqlite3")
    await database.open()
    try:
        uncertain = _lost()

        def keep(db: sqlite3.Connection, refund: Refund) -> None:
            checkout_store.save_refund(db, refund, T0)

        async def purge() -> int:
            after = T0.timestamp() + 1
            return int(
                await database.call(
                    lambda s: s.change(lambda c: checkout_store.purge_batch(c, after, 10), [])
                )
            )

        await database.call(lambda s: s.change(lambda c: keep(c, uncertain), []))
        assert await purge() == 0
        counted = await database.call(lambda s: checkout_store.uncertain_refunds(s.db))
        assert counted == 1
        done = refunds.found(
            uncertain, [ListedRefund("re_1", 300, RefundStatus.DONE, "rf-1:refund")], T0
        )
        await database.call(lambda s: s.change(lambda c: keep(c, done), []))
        assert await purge() == 1
    finally:
        await database.close()
