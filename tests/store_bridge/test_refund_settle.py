"""The operator closes an uncertain refund once they looked it up: exactly once, never both.

``POST /v1/visits/<visit>/refund/settle`` with ``{"outcome": "refunded"|"not_refunded"}``:
only an uncertain refund (its answer lost, or pending, and the processor says nothing) can be
closed; a refund the processor answered first keeps the processor's answer (409), and a
lookup answered after the operator closed it changes nothing. A refund closed as refunded
is counted once in the day's refunds and announced (`refund_issued`); one closed as never
made lets the operator ask for a new refund, which goes out under a new key. The bridge with
a real SQLite file and the embedded processor (the edge of the world), whose refund lists
can be made unavailable and whose refunds can time out without taking effect.
"""

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from store_bridge.core import refund as refunds
from store_bridge.core.refund import Refund, RefundPhase, Settlement
from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import Declined, ListedRefund, RefundAnswer, Unavailable, Unknown

from ..waiting import until
from .cart_shop import Shop
from .charging_shop import (
    charged,
    charging_shop,
    checkout_status,
    payment_events,
)
from .conftest import Operator

CANS = 129
T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@dataclass
class Dashboard(FakeProcessor):
    """The embedded processor, with what makes a refund uncertain and a lookup race.

    `lists_fail`: its refund lists cannot be had. `times_out`: the next refund times out
    before it reached the processor (nothing refunded; the bridge cannot know). `meanwhile`:
    run once inside the next list of refunds, before it answers (the operator's request
    racing a lookup).
    """

    lists_fail: bool = False
    times_out: bool = False
    lists: int = 0
    meanwhile: Callable[[], Awaitable[None]] | None = None
    _seen: list[str] = field(default_factory=list)

    async def refund(self, payment: str, *, amount: int, idempotency_key: str) -> RefundAnswer:
        """Nothing refunded and no answer while `times_out` (once), else as the processor."""
        self._seen.append(idempotency_key)
        if self.times_out:
            self.times_out = False
            return Unknown("timeout", payment)
        return await super().refund(payment, amount=amount, idempotency_key=idempotency_key)

    async def list_refunds(self, payment: str) -> list[ListedRefund] | Unavailable:
        """Counted; unavailable while `lists_fail`; `meanwhile` runs first (once)."""
        self.lists += 1
        if (racing := self.meanwhile) is not None:
            self.meanwhile = None
            await racing()
        if self.lists_fail:
            return Unavailable("unreachable")
        return await super().list_refunds(payment)

    def sent_keys(self) -> list[str]:
        """The idempotency keys refunds were sent with, in order."""
        return list(self._seen)


@pytest.fixture
async def store(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[tuple[Shop, Dashboard]]:
    async with charging_shop(tmp_path / "bridge.sqlite3", operator, Dashboard(), chips=False) as (
        shop,
        processor,
    ):
        yield shop, processor


async def _uncertain(shop: Shop, processor: Dashboard, *, made: bool) -> str:
    """A charged visit whose refund of `CANS` is uncertain (`made`: it did go through)."""
    visit = await charged(shop)
    processor.lists_fail = True
    if made:
        processor.lose_answers(1)
    else:
        processor.times_out = True
    status, answer = await shop.post(f"/v1/visits/{visit}/refund", {"amount": CANS})
    assert (status, answer["phase"]) == (202, "uncertain")
    return visit


def _issued(shop: Shop) -> list[tuple[str | None, dict[str, Any]]]:
    return [(e[1], e[3]) for e in payment_events(shop) if e[0] == "refund_issued"]


def _stored(shop: Shop, visit: str) -> list[tuple[str, str, str | None]]:
    with closing(sqlite3.connect(shop.path)) as db:
        rows = db.execute("SELECT id, phase, reason FROM refunds WHERE visit = ?", (visit,))
        return [tuple(row) for row in rows]


def _idle(shop: Shop, visit: str) -> bool:
    """Whether the bridge's task for the visit's refund (lookups, sends) has ended."""
    runner = shop.bridge.checkout
    assert runner is not None
    return f"rf-{visit}" not in runner._workers


async def _settle(shop: Shop, visit: str, outcome: str) -> tuple[int, Any]:
    return await shop.post(f"/v1/visits/{visit}/refund/settle", {"outcome": outcome})


# --- the decision (pure) ---------------------------------------------------------------


def _lost() -> Refund:
    sent = refunds.sending(Refund("rf-v", "v", "pi_1", 300, "EUR"))
    return refunds.advance(sent, Unknown("timeout"), T0)


def test_only_an_uncertain_refund_is_closed_and_the_operators_word_ends_it() -> None:
    lost = _lost()
    done = refunds.settled(lost, Settlement.REFUNDED)
    failed = refunds.settled(lost, Settlement.NOT_REFUNDED)
    assert done is not None
    assert failed is not None
    assert (done.phase, done.reason, refunds.pending(done)) == (
        RefundPhase.DONE,
        "settled_by_operator",
        False,
    )
    assert (failed.phase, refunds.pending(failed), refunds.blocks(failed)) == (
        RefundPhase.FAILED,
        False,
        False,
    )
    assert refunds.blocks(done)
    for answered in (done, failed, Refund("rf-v", "v", "pi_1", 300, "EUR")):
        assert refunds.settled(answered, Settlement.REFUNDED) is None
    declined = refunds.advance(refunds.sending(lost), Declined("card_declined"), T0)
    assert declined.phase is RefundPhase.FAILED
    assert not refunds.blocks(declined)  # nothing moved: a new refund may be asked for
    uncertain = refunds.advance(refunds.sending(lost), Unknown("timeout"), T0)
    assert refunds.blocks(uncertain)  # it may have moved money


def test_a_new_refund_after_one_closed_as_never_made_has_a_new_key() -> None:
    first = Refund(refunds.next_id("v", None), "v", "pi_1", 300, "EUR")
    second = Refund(refunds.next_id("v", first), "v", "pi_1", 300, "EUR")
    third = refunds.next_id("v", second)
    assert [first.id, second.id, third] == ["rf-v", "rf-v~2", "rf-v~3"]
    assert refunds.key(first) != refunds.key(second)


# --- the bridge ------------------------------------------------------------------------


async def test_a_refund_closed_as_refunded_is_counted_once_and_a_later_lookup_changes_nothing(
    store: tuple[Shop, Dashboard],
) -> None:
    shop, processor = store
    visit = await _uncertain(shop, processor, made=True)

    status, answer = await _settle(shop, visit, "refunded")

    assert (status, answer["phase"], answer["reason"], answer["amount"]) == (
        200,
        "done",
        "settled_by_operator",
        CANS,
    )
    assert _stored(shop, visit) == [(f"rf-{visit}", "done", "settled_by_operator")]
    shown = await until(
        "the day's totals count the refund, nothing is uncertain",
        lambda: checkout_status(shop),
        want=lambda c: c["refunds_uncertain"] == 0 and c["sales_today"]["refunded"] == CANS,
    )
    assert shown["refunds_stuck"] == 0
    assert _issued(shop) == [(visit, {"amount": CANS, "currency": "EUR"})]
    # Its lookup under way (the processor still unreachable) ends without undoing it.
    await until("the bridge stopped working on the refund", lambda: _idle(shop, visit))
    status, again = await _settle(shop, visit, "not_refunded")
    assert (status, again["error"], again["phase"]) == (409, "not_uncertain", "done")
    assert _issued(shop) == [(visit, {"amount": CANS, "currency": "EUR"})]
    assert (await checkout_status(shop))["sales_today"]["refunded"] == CANS
    assert _stored(shop, visit) == [(f"rf-{visit}", "done", "settled_by_operator")]
    assert len(processor.refunds) == 1


async def test_a_refund_closed_as_never_made_is_not_sent_and_a_new_one_may_be_asked_for(
    store: tuple[Shop, Dashboard],
) -> None:
    shop, processor = store
    visit = await _uncertain(shop, processor, made=False)
    status, refused = await shop.post(f"/v1/visits/{visit}/refund", {"amount": 1})
    assert (status, refused["reason"]) == (409, "already_refunded")  # while it is uncertain

    closed: list[tuple[int, Any]] = []

    async def operator_first() -> None:  # while the lookup waits for the processor's answer
        closed.append(await _settle(shop, visit, "not_refunded"))

    processor.meanwhile = operator_first
    processor.lists_fail = False  # this lookup finds nothing: it would be sent again

    await until("the operator's request was answered", lambda: closed)
    status, answer = closed[0]
    assert (status, answer["phase"], answer["reason"]) == (200, "failed", "settled_by_operator")
    await until("the bridge stopped working on the refund", lambda: _idle(shop, visit))
    await until(
        "nothing is uncertain any more",
        lambda: checkout_status(shop),
        want=lambda c: c["refunds_uncertain"] == 0,
    )
    status, again = await _settle(shop, visit, "refunded")
    assert (status, again["phase"]) == (409, "failed")
    assert processor.refunds == {}
    assert processor.sent_keys() == [f"rf-{visit}:refund"]
    assert _issued(shop) == []

    status, made = await shop.post(f"/v1/visits/{visit}/refund", {"amount": CANS})

    assert (status, made["phase"], made["amount"]) == (200, "done", CANS)
    assert processor.sent_keys() == [f"rf-{visit}:refund", f"rf-{visit}~2:refund"]
    assert len(processor.refunds) == 1
    assert _stored(shop, visit) == [(f"rf-{visit}~2", "done", None)]
    assert _issued(shop) == [(visit, {"amount": CANS, "currency": "EUR"})]
    shown = await until(
        "the day's totals count the new refund once",
        lambda: checkout_status(shop),
        want=lambda c: c["sales_today"]["refunded"] == CANS,
    )
    assert shown["refunds_uncertain"] == 0
    status, refused = await shop.post(f"/v1/visits/{visit}/refund", {"amount": 1})
    assert (status, refused["reason"]) == (409, "already_refunded")  # a done one blocks


async def test_a_refund_the_processor_failed_may_be_asked_for_again(
    store: tuple[Shop, Dashboard],
) -> None:
    shop, processor = store
    visit = await charged(shop)
    processor.refunds_end("failed", "expired_or_canceled_card")

    status, failed = await shop.post(f"/v1/visits/{visit}/refund", {"amount": CANS})

    assert (status, failed["phase"]) == (502, "failed")  # the processor failed it
    assert _issued(shop) == []
    processor.refunds_end("succeeded")
    status, made = await shop.post(f"/v1/visits/{visit}/refund", {"amount": CANS})
    assert (status, made["phase"], made["amount"]) == (200, "done", CANS)
    assert processor.sent_keys() == [f"rf-{visit}:refund", f"rf-{visit}~2:refund"]
    assert _stored(shop, visit) == [(f"rf-{visit}~2", "done", None)]
    assert _issued(shop) == [(visit, {"amount": CANS, "currency": "EUR"})]
    status, refused = await shop.post(f"/v1/visits/{visit}/refund", {"amount": 1})
    assert (status, refused["reason"]) == (409, "already_refunded")


async def test_the_processors_answer_first_stands_and_the_operator_is_told_what_it_is(
    store: tuple[Shop, Dashboard],
) -> None:
    shop, processor = store
    visit = await charged(shop)
    processor.refunds_end("pending")
    status, answer = await shop.post(f"/v1/visits/{visit}/refund", {"amount": CANS})
    assert (status, answer["phase"]) == (202, "uncertain")
    (made,) = processor.refunds
    processor.settle_refund(made)
    await until(
        "the processor's answer is stored",
        lambda: checkout_status(shop),
        want=lambda c: c["refunds_uncertain"] == 0 and c["sales_today"]["refunded"] == CANS,
    )

    status, late = await _settle(shop, visit, "not_refunded")

    assert (status, late["error"], late["phase"], late["reason"]) == (
        409,
        "not_uncertain",
        "done",
        None,
    )
    assert _issued(shop) == [(visit, {"amount": CANS, "currency": "EUR"})]
    assert (await checkout_status(shop))["sales_today"]["refunded"] == CANS


async def test_an_operator_closing_a_refund_while_its_lookup_is_answered_wins_once(
    store: tuple[Shop, Dashboard],
) -> None:
    shop, processor = store
    visit = await _uncertain(shop, processor, made=True)
    closed: list[tuple[int, Any]] = []

    async def operator_first() -> None:  # while the lookup waits for the processor's answer
        closed.append(await _settle(shop, visit, "refunded"))

    processor.meanwhile = operator_first
    processor.lists_fail = False  # this lookup finds the refund done

    await until("the operator's request was answered", lambda: closed)
    assert closed[0][0] == 200
    await until("the bridge stopped working on the refund", lambda: _idle(shop, visit))
    shown = await until(
        "the day's totals count the refund",
        lambda: checkout_status(shop),
        want=lambda c: c["sales_today"]["refunded"] == CANS and c["refunds_uncertain"] == 0,
    )
    assert shown["refunds_stuck"] == 0
    assert _stored(shop, visit) == [(f"rf-{visit}", "done", "settled_by_operator")]
    assert _issued(shop) == [(visit, {"amount": CANS, "currency": "EUR"})]


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "bad_request"),
        ({"outcome": "maybe"}, 400, "bad_request"),
        ({"outcome": True}, 400, "bad_request"),
        ({"outcome": "refunded", "amount": 1}, 400, "bad_request"),
    ],
)
async def test_a_bad_request_to_close_a_refund_changes_nothing(
    store: tuple[Shop, Dashboard], body: dict[str, Any], status: int, error: str
) -> None:
    shop, processor = store
    visit = await _uncertain(shop, processor, made=True)
    answer = await shop.post(f"/v1/visits/{visit}/refund/settle", body)
    assert (answer[0], answer[1]["error"]) == (status, error)
    assert _stored(shop, visit) == [(f"rf-{visit}", "uncertain", "answer_lost")]


async def test_closing_the_refund_of_a_visit_without_one_is_not_found(
    store: tuple[Shop, Dashboard],
) -> None:
    shop, _processor = store
    visit = await charged(shop)
    for unknown in (visit, "no-such-visit"):
        status, answer = await _settle(shop, unknown, "refunded")
        assert (status, answer["error"]) == (404, "unknown_refund"), unknown
    status, answer = await _settle(shop, "x" * 300, "refunded")
    assert (status, answer["error"]) == (404, "unknown_visit")
    status, answer = await shop.post(
        f"/v1/visits/{visit}/refund/settle", {"outcome": "refunded"}, auth=False
    )
    assert status == 401
