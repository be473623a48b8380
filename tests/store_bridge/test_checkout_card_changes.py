"""An app shopper's card that changed between the check-in and the checkout.

A real bridge and SQLite file (`test_saved_methods.py`'s rig) with the fake processor made to
behave as Stripe does where it matters here (localstripe honours no idempotency key and takes
a detached card): a key reused with other parameters is refused (``idempotency_error``), the
same request under the same key answered as the first time, and a card replaced since the
check-in still taken at creation but refused at confirmation.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from store_bridge import checkout_calls
from store_bridge.core import checkout as machine
from store_bridge.database import Database
from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import (
    Accepted,
    Answer,
    Declined,
    Misconfigured,
    PaymentState,
    Unavailable,
    Unknown,
)

from ..waiting import until
from .conftest import Operator
from .test_saved_methods import PRICE, Shop, _one, _shop


@dataclass
class _StripeLike(FakeProcessor):
    """The fake processor with Stripe's idempotency keys and a replaced card's refusals."""

    replaced: set[str] = field(default_factory=set)
    """Methods replaced since the check-in: still taken at creation, refused at confirmation."""
    refusal: Answer = field(default_factory=lambda: Misconfigured("resource_missing"))
    fail_creations: int = 0
    """The next creations with the current card answer `Unavailable` (nothing made)."""
    sent: dict[str, tuple[object, ...]] = field(default_factory=dict)
    answered: dict[str, Answer] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)
    creations: list[str] = field(default_factory=list)
    refused_at_creation: set[str] = field(default_factory=set)
    """Every creation's key, oldest first."""
    made_with: dict[str, str | None] = field(default_factory=dict)
    lookups: Answer | None = None
    """What the lookups answer instead of the customer's card (None: the card)."""

    async def saved_method(self, customer: str) -> Any:
        if self.lookups is not None:
            return self.lookups
        return await super().saved_method(customer)

    async def create_payment(
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        reference: str,
        idempotency_key: str,
        payment_method: str | None = None,
    ) -> Answer:
        params = (customer, amount, currency, reference, payment_method)
        self.creations.append(idempotency_key)
        if self.sent.setdefault(idempotency_key, params) != params:
            self.reused.append(idempotency_key)
            return Misconfigured("idempotency_error")
        if idempotency_key in self.answered:  # the same request again: the same answer
            return self.answered[idempotency_key]
        if payment_method in self.refused_at_creation:
            return Misconfigured("resource_missing")
        if self.fail_creations and payment_method == self._method(customer):
            self.fail_creations -= 1
            return Unavailable("processor error 503")
        taken = None if payment_method in self.replaced else payment_method
        answer = await super().create_payment(
            customer=customer,
            amount=amount,
            currency=currency,
            reference=reference,
            idempotency_key=idempotency_key,
            payment_method=taken,
        )
        if isinstance(answer, Accepted):
            self.answered[idempotency_key] = answer
            self.made_with[answer.payment] = payment_method
        return answer

    async def confirm_payment(self, payment: str, *, idempotency_key: str) -> Answer:
        if self.made_with.get(payment) in self.replaced:
            return self.refusal
        return await super().confirm_payment(payment, idempotency_key=idempotency_key)


async def _checked_in(shop: Shop) -> str:
    visit = await shop.check_in("cus_A")
    await until("the saved card is kept", lambda: shop.method_of(visit))
    return visit


async def _ended(shop: Shop, visit: str) -> tuple[str, int] | None:
    return await until(
        "the checkout ended",
        lambda: shop.phase(visit),
        want=lambda p: p is not None and p[0] in {"done", "failed", "blocked"},
    )


async def _card_replaced(
    shop: Shop, processor: _StripeLike, *, attached: bool = True
) -> tuple[str, str]:
    """A shopper checks in; then their customer saves another card (a Mastercard).

    The visit and the card kept at the check-in; `attached`: that card is still taken at
    creation, refused at confirmation (else detached: refused at creation).
    """
    visit = await _checked_in(shop)
    old = str(shop.method_of(visit))
    processor.save_card("cus_A", brand="mastercard", last4="4444")
    if attached:
        processor.replaced.add(old)
    return visit, old


def _owed(shop: Shop) -> int:
    return int(_one(shop.path, "SELECT count(*) FROM outstanding"))


async def test_a_creation_retried_after_the_check_in_card_was_refused_reuses_no_key(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    processor = _StripeLike()
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        visit, old = await _card_replaced(shop, processor, attached=False)
        processor.fail_creations = 2  # the current card's creation fails, then again

        await shop.leave_with(visit, 2)

        assert await _ended(shop, visit) == ("done", 2 * PRICE)
        assert _owed(shop) == 0
    assert processor.reused == []  # Stripe would refuse: every key kept its parameters
    methods = [params[4] for params in processor.sent.values()]
    assert methods == [old, processor._method("cus_A")]  # one key per card, retries included
    keys = processor.creations
    assert (len(keys), len(set(keys))) == (4, 2)  # the old card's, the current one's thrice
    assert keys[1] == keys[2] == keys[3]
    assert all(old not in key for key in keys)  # a method id is never a key


@pytest.mark.parametrize(
    "refusal", [Misconfigured("resource_missing"), Declined("card_declined")], ids=repr
)
async def test_a_card_replaced_since_the_check_in_refused_at_confirmation_charges_the_current(
    tmp_path: Path, operator: Operator, socket_enabled: None, refusal: Answer
) -> None:
    processor = _StripeLike(refusal=refusal)
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        visit, _old = await _card_replaced(shop, processor)

        await shop.leave_with(visit, 1)

        assert await _ended(shop, visit) == ("done", PRICE)
        assert _owed(shop) == 0
        assert "payment_failed" not in shop.outbox()
        assert shop.method_of(visit) is None  # the replaced card is not used again
    first, second = processor.payments.values()
    assert (first.state, first.captured) == (PaymentState.CREATED, 0)  # never confirmed
    assert (second.card_brand, second.card_last4, second.captured) == ("mastercard", "4444", PRICE)
    assert processor.captured_total() == PRICE
    assert processor.reused == []


async def test_a_refusal_of_the_card_the_customer_still_has_is_owed(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    processor = _StripeLike()
    processor.decline("cus_A")
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        visit = await _checked_in(shop)
        await shop.leave_with(visit, 1)
        assert await _ended(shop, visit) == ("failed", 0)
        assert _owed(shop) == 1
    assert len(processor.payments) == 1  # no second payment for the same card


async def test_a_refusal_not_yet_compared_with_the_current_card_is_not_owed_yet(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    processor = _StripeLike()
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        visit, _old = await _card_replaced(shop, processor)
        processor.lookups = Unavailable("unreachable")  # the customer's card cannot be read

        await shop.leave_with(visit, 1)

        await until("the refusal is seen", lambda: len(processor.payments) == 1)
        await until("it is looked at again", lambda: shop.runner.status()["retrying"])
        assert shop.phase(visit) == ("created", 0)
        assert _owed(shop) == 0
        processor.lookups = None
        assert await _ended(shop, visit) == ("done", PRICE)


async def test_a_refusal_the_store_may_not_compare_stands(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    processor = _StripeLike()
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        visit, _old = await _card_replaced(shop, processor)
        processor.lookups = Misconfigured("api_key_not_permitted")

        await shop.leave_with(visit, 1)

        assert await _ended(shop, visit) == ("blocked", 0)  # for the operator, not silent
        assert _owed(shop) == 0
    assert len(processor.payments) == 1


async def test_a_customer_whose_card_was_removed_since_the_check_in_owes() -> None:
    processor = FakeProcessor()
    step = machine.Create("cus_A", PRICE, "EUR", "co-v1", "co-v1:create")
    processor.remove_card("cus_A")
    assert await checkout_calls.ask(processor, step) == Declined("no_payment_method")
    processor.down = True
    assert await checkout_calls.ask(processor, step) == Unavailable("unreachable")
    assert processor.payments == {}


async def test_a_check_in_card_refused_that_is_still_the_customers_is_not_sent_again(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    processor = _StripeLike()
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        visit = await _checked_in(shop)
        processor.refused_at_creation.add(str(shop.method_of(visit)))  # still the current one

        await shop.leave_with(visit, 1)

        assert await _ended(shop, visit) == ("blocked", 0)  # for the operator, nobody owes
        assert _owed(shop) == 0
    assert len(processor.creations) == 1  # the same request was not sent again


async def test_a_checkout_whose_database_is_gone_asks_which_card_the_customer_has(
    tmp_path: Path,
) -> None:
    processor = FakeProcessor()
    db = Database(tmp_path / "never-opened.sqlite3")
    step = machine.Create("cus_A", PRICE, "EUR", "co-v1", "co-v1:create")
    try:
        answer = await checkout_calls.ask(processor, step, db)
    finally:
        await db.close()
    assert isinstance(answer, Accepted)
    assert processor.method_lookups == 1


def test_a_creations_key_follows_its_method_and_never_names_it() -> None:
    step = machine.Create("cus_A", PRICE, "EUR", "co-v1", "co-v1:create")
    other_visit = machine.Create("cus_A", PRICE, "EUR", "co-v2", "co-v2:create")
    key = checkout_calls.creation_key(step, "pm_1")
    assert key == checkout_calls.creation_key(step, "pm_1")
    assert key.startswith("co-v1:create:")
    assert key != checkout_calls.creation_key(step, "pm_2")
    assert "pm_1" not in key
    assert key.split(":")[-1] != checkout_calls.creation_key(other_visit, "pm_1").split(":")[-1]


def test_a_payment_abandoned_for_a_replaced_card_is_created_again_once() -> None:
    checkout = machine.start(
        visit="v1",
        kind=machine.Kind.APP,
        account="a",
        customer="cus_A",
        total=PRICE,
        currency="EUR",
    )
    now = datetime(2026, 12, 6, tzinfo=UTC)
    created = machine.advance(checkout, Accepted("pi_1", PaymentState.CREATED), now)
    confirm = machine.call(created)
    assert isinstance(confirm, machine.Confirm)
    assert confirm.checkin_method
    replaced = Misconfigured(machine.METHOD_REPLACED, "pi_1")

    again = machine.advance(created, replaced, now)

    assert (again.phase, again.payment, again.outstanding) == (machine.Phase.FINAL, None, 0)
    assert machine.resumed(again) == again  # a restart creates it, nothing to look at
    create = machine.call(again)
    assert isinstance(create, machine.Create)
    assert not create.checkin_method
    second = machine.advance(again, Accepted("pi_2", PaymentState.CREATED), now)
    confirm = machine.call(second)
    assert isinstance(confirm, machine.Confirm)
    assert (confirm.payment, confirm.checkin_method) == ("pi_2", False)
    blocked = machine.advance(second, replaced, now)  # never abandoned twice
    assert (blocked.phase, blocked.payment, blocked.outstanding) == (
        machine.Phase.BLOCKED,
        "pi_2",
        0,
    )
    assert machine.advance(second, Unknown("lost", "pi_2"), now).payment == "pi_2"
