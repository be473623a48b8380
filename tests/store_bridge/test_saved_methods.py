"""An app shopper's saved payment method, found after the check-in and used at checkout.

A real bridge (simulated turnstiles, a real SQLite file), the real `StripeProcessor` against a
real localstripe, reached through a proxy that notes every request (so what the checkout asks
the processor is counted there) and that can go down or fall silent. The shopper checks in
with the app's signed QR code (with the ``cus`` claim) as a gate reports it; the final cart is
written as the cart owner stores it once the shopper left.

localstripe accepts a payment created with a payment method detached from its customer (real
Stripe refuses it), so a method the processor no longer accepts is shown here as one
localstripe does not know (``resource_missing``, as Stripe answers for a removed one), and the
detachment itself with the fake processor.
"""

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from store_bridge.bridge import Bridge, GateInfo, StoreSettings
from store_bridge.checkout_runner import CheckoutRunner, CheckoutSettings
from store_bridge.core.checkout import RetryPolicy
from store_bridge.database import Database
from store_bridge.fake_processor import FakeProcessor
from store_bridge.gates.base import GateRole
from store_bridge.gates.simulator import SimulatedGate
from store_bridge.payments import Processor
from store_bridge.saved_methods import SavedMethods, store_method
from store_bridge.store_schema import SCHEMA_VERSION, connect
from store_bridge.stripe_processor import SecretKey, StripeProcessor

from ..localstripe_server import (
    SECRET_KEY,
    AnswerDroppingProxy,
    add_customer,
    payment_intents,
)
from ..waiting import until
from .conftest import ISSUER, SITE, Operator

PRICE = 129
LOOKUPS = ("GET /v1/customers", "GET /v1/payment_methods")
QUIET = ("store_bridge.saved_methods", "store_bridge.stripe_answers", "store_bridge.stripe")


@dataclass
class Shop:
    """A running bridge that charges through `processor`, and its saved-method lookups."""

    bridge: Bridge
    runner: CheckoutRunner
    saved: SavedMethods
    operator: Operator
    path: Path

    async def check_in(self, customer: str | None, account: str = "acct-7f3a") -> str:
        """An app shopper's QR at the entry gate; the visit (the gate opened)."""
        decision = await self.bridge.check_in_qr(
            "entry_1", self.operator.qr(sub=account, cus=customer)
        )
        assert decision.opened, decision
        assert decision.visit_id is not None
        return decision.visit_id

    async def leave_with(self, visit: str, cans: int) -> None:
        """The shopper leaves; their final cart is stored (as the cart owner does)."""
        assert (await self.bridge.exit("exit_1", visit_id=visit)).opened
        now = time.time()
        lines = [
            {
                "sku": "COLA",
                "name": "Cola",
                "quantity": cans,
                "unit_price": PRICE,
                "currency": "EUR",
                "tax_rate": "0.19",
                "sources": [f"chg-{visit}"],
            }
        ]
        with closing(sqlite3.connect(self.path, timeout=5, isolation_level=None)) as db:
            db.execute(
                "INSERT INTO carts (visit, lines, held, bound, updated, closed, final) "
                "VALUES (?, ?, 0, 1, ?, ?, 1)",
                (visit, json.dumps(lines), now, now),
            )
        self.runner.wake()

    def method_of(self, visit: str) -> str | None:
        """The payment method kept with the visit's session."""
        return _one(self.path, "SELECT payment_method FROM sessions WHERE visit_id = ?", visit)

    def phase(self, visit: str) -> tuple[str, int] | None:
        with closing(sqlite3.connect(self.path)) as db:
            row = db.execute(
                "SELECT phase, captured FROM checkouts WHERE visit = ?", (visit,)
            ).fetchone()
        return None if row is None else (row[0], row[1])

    def outbox(self) -> str:
        with closing(sqlite3.connect(self.path)) as db:
            return "\n".join(r[0] for r in db.execute("SELECT payload FROM outbox"))


def _one(path: Path, sql: str, *args: Any) -> Any:
    with closing(sqlite3.connect(path)) as db:
        row = db.execute(sql, args).fetchone()
    return None if row is None else row[0]


@asynccontextmanager
async def _shop(
    path: Path, operator: Operator, processor: Processor, *, timeout_s: float = 5.0
) -> AsyncIterator[Shop]:
    entry = SimulatedGate("entry_1", GateRole.ENTRY, passage_seconds=0)
    exit_ = SimulatedGate("exit_1", GateRole.EXIT, passage_seconds=0)
    settings = StoreSettings(
        site=SITE, name="Corner store", capacity=50, issuer=ISSUER, keys=operator.keys
    )
    bridge = Bridge(
        settings,
        Database(path),
        {
            "entry_1": GateInfo(entry, "Entry", "simulated"),
            "exit_1": GateInfo(exit_, "Exit", "simulated"),
        },
    )
    runner = CheckoutRunner(
        bridge.ledger,
        processor,
        CheckoutSettings(settle_s=0, poll_s=0.05),
        policy=RetryPolicy(base_s=0.05, cap_s=0.2),
    )
    bridge.checkout = runner
    saved = SavedMethods(bridge.db, processor, timeout_s=timeout_s)
    bridge.saved_methods = saved
    await bridge.start()
    try:
        yield Shop(bridge, runner, saved, operator, path)
    finally:
        await bridge.stop()


@pytest.fixture
def stripe_shop(
    tmp_path: Path, operator: Operator, proxy: AnswerDroppingProxy
) -> Callable[..., Any]:
    def make(**options: Any) -> Any:
        processor = StripeProcessor(SecretKey(SECRET_KEY), api_base=proxy.base, timeout=5)
        return _shop(tmp_path / "bridge.sqlite3", operator, processor, **options)

    return make


def _lookups(proxy: AnswerDroppingProxy, since: int = 0) -> list[str]:
    return [r for r in proxy.requests[since:] if r.startswith(LOOKUPS)]


async def _charged(shop: Shop, visit: str) -> tuple[str, int] | None:
    return await until(
        "the checkout is done", lambda: shop.phase(visit), want=lambda p: p and p[0] == "done"
    )


# --- the method found at check-in, used at checkout ----------------------------------------


async def test_the_check_in_finds_the_saved_card_and_the_checkout_looks_for_nothing(
    stripe_shop: Callable[..., Any],
    proxy: AnswerDroppingProxy,
    stripe_client: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    customer, method = await add_customer(stripe_client)
    async with stripe_shop() as shop:
        caplog.clear()  # the rig's own client logged the card it saved
        visit = await shop.check_in(customer)
        await until("the saved card is kept with the session", lambda: shop.method_of(visit))
        assert shop.method_of(visit) == method
        assert len(_lookups(proxy)) == 1  # the customer's default method: one read
        before = len(proxy.requests)

        await shop.leave_with(visit, 3)

        assert await _charged(shop, visit) == ("done", 3 * PRICE)
        asked = proxy.requests[before:]
        assert _lookups(proxy, before) == []
        assert [r.split(" ")[0] for r in asked] == ["POST", "POST"]  # created, confirmed
        [intent] = await payment_intents(stripe_client)
        assert intent["payment_method"] == method
        assert intent["status"] == "succeeded"
        status = json.dumps(shop.bridge.status())
    assert shop.saved.found == 1
    for where in (shop.outbox(), status, caplog.text):
        assert method not in where


async def test_a_customer_without_a_saved_card_is_left_to_the_checkout(
    stripe_shop: Callable[..., Any], proxy: AnswerDroppingProxy, stripe_client: Any
) -> None:
    customer = (await stripe_client.v1.customers.create_async({})).id
    async with stripe_shop() as shop:
        visit = await shop.check_in(customer)
        await until("the lookup ended", lambda: shop.saved.unresolved["none saved"])
        assert shop.method_of(visit) is None
        await shop.leave_with(visit, 1)
        phase = await until(
            "the checkout ended", lambda: shop.phase(visit), want=lambda p: p and p[0] == "failed"
        )
    assert phase == ("failed", 0)  # no card: owed, as without the lookup at check-in
    assert len(_lookups(proxy)) == 4  # two at check-in, two again at checkout


async def test_a_shopper_without_a_customer_is_not_looked_up(
    stripe_shop: Callable[..., Any], proxy: AnswerDroppingProxy
) -> None:
    async with stripe_shop() as shop:
        visit = await shop.check_in(None)
        assert shop.saved.pending == 0
        assert shop.method_of(visit) is None
    assert proxy.requests == []


# --- the lookup fails: the gate does not wait, the checkout still charges -------------------


async def test_a_processor_that_cannot_be_reached_at_check_in_neither_holds_the_gate_nor_the_charge(
    stripe_shop: Callable[..., Any],
    proxy: AnswerDroppingProxy,
    stripe_client: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    customer, method = await add_customer(stripe_client)
    async with stripe_shop() as shop:
        proxy.cut()  # the processor is down
        caplog.set_level(logging.INFO)
        visit = await shop.check_in(customer)
        await until("the lookup gave up", lambda: shop.saved.unresolved["unavailable"])
        assert shop.method_of(visit) is None
        said = [r for r in caplog.records if r.name.startswith(QUIET) and r.levelno >= logging.INFO]
        assert said == []  # counted at debug level only
        await proxy.restore()

        await shop.leave_with(visit, 2)

        assert await _charged(shop, visit) == ("done", 2 * PRICE)
    [intent] = await payment_intents(stripe_client)
    assert intent["payment_method"] == method
    assert _lookups(proxy) == ["GET /v1/customers/" + customer + " HTTP/1.1"]  # at checkout


async def test_a_processor_that_falls_silent_opens_the_gate_at_once_and_times_the_lookup_out(
    stripe_shop: Callable[..., Any], proxy: AnswerDroppingProxy, stripe_client: Any
) -> None:
    customer, _method = await add_customer(stripe_client)
    async with stripe_shop(timeout_s=0.3) as shop:
        silent = proxy.drop_answer("GET /v1/customers", mode="hold")
        visit = await shop.check_in(customer)
        assert shop.saved.pending == 1  # the gate opened while the lookup waits
        assert shop.bridge.counters["checked_in"] == 1
        await until("the lookup hangs", silent.is_set)
        await until("the lookup timed out", lambda: shop.saved.unresolved["timeout"])
        assert shop.method_of(visit) is None

        await shop.leave_with(visit, 1)

        assert await _charged(shop, visit) == ("done", PRICE)


# --- a method the processor no longer accepts ----------------------------------------------


async def test_a_method_the_processor_refuses_at_checkout_is_looked_up_again_not_owed(
    stripe_shop: Callable[..., Any], proxy: AnswerDroppingProxy, stripe_client: Any
) -> None:
    customer, method = await add_customer(stripe_client)
    async with stripe_shop() as shop:
        visit = await shop.check_in(customer)
        await until("the saved card is kept", lambda: shop.method_of(visit))
        # Removed at the processor since (localstripe keeps detached ones usable, see above).
        with closing(sqlite3.connect(shop.path, isolation_level=None)) as db:
            db.execute(
                "UPDATE sessions SET payment_method = 'pm_removed0000000001' WHERE visit_id = ?",
                (visit,),
            )

        await shop.leave_with(visit, 2)

        assert await _charged(shop, visit) == ("done", 2 * PRICE)
        assert shop.method_of(visit) is None  # the refused method is not kept
        owed = _one(shop.path, "SELECT count(*) FROM outstanding")
    assert owed == 0
    [intent] = await payment_intents(stripe_client)
    assert intent["payment_method"] == method


async def test_a_card_detached_between_check_in_and_checkout_charges_the_current_one(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    processor = FakeProcessor()
    processor.save_card("cus_A", brand="visa", last4="4242")
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        visit = await shop.check_in("cus_A")
        await until("the saved card is kept", lambda: shop.method_of(visit))
        processor.save_card("cus_A", brand="mastercard", last4="4444")  # the old one detached
        lookups = processor.method_lookups

        await shop.leave_with(visit, 1)

        assert await _charged(shop, visit) == ("done", PRICE)
        assert processor.method_lookups == lookups + 1
    [payment] = processor.payments.values()
    assert (payment.card_brand, payment.card_last4, payment.captured) == (
        "mastercard",
        "4444",
        PRICE,
    )
    assert shop.method_of(visit) is None  # the detached one is not kept


async def test_with_the_fake_processor_a_found_card_needs_no_lookup_at_checkout(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    processor = FakeProcessor()
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        visits = [await shop.check_in(f"cus_{n}", f"acct-{n}") for n in range(6)]
        await until("every lookup ended", lambda: shop.saved.found, want=lambda n: n == 6)
        assert processor.method_lookups == 6
        for visit in visits:
            await shop.leave_with(visit, 1)
        for visit in visits:
            await _charged(shop, visit)
    assert processor.method_lookups == 6


async def test_too_many_lookups_waiting_are_left_to_the_checkout(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    processor = FakeProcessor()
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        saved = SavedMethods(shop.bridge.db, processor, at_once=1, max_waiting=2)
        for n in range(3):
            saved.look_up(f"v{n}", "cus_X")
        assert saved.unresolved["too many waiting"] == 1
        await saved.settled()
        assert saved.unresolved["session gone"] == 2  # no such sessions here
        processor.down = True
        saved.look_up("v9", "cus_X")
        await asyncio.wait_for(saved.settled(), 5)
    assert saved.unresolved["unavailable"] == 1


# --- an older file ----------------------------------------------------------------------------


def test_a_schema_4_file_gets_the_column_and_keeps_its_sessions(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    connect(path).close()
    with closing(sqlite3.connect(path, isolation_level=None)) as db:  # as a schema 4 bridge left it
        db.execute("ALTER TABLE sessions DROP COLUMN payment_method")
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
        db.execute(
            "INSERT INTO sessions (visit_id, track_id, source, entry_gate, party, entered, "
            "account, state, customer) VALUES ('v1', 't1', 'store_app', 'entry_1', 1, "
            "'2026-12-01T10:00:00+00:00', 'acct-1', 'inside', 'cus_1')"
        )

    with closing(connect(path)) as db:
        assert store_method(db, "v1", "cus_1", "pm_1")
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0] == "5"
        rows = db.execute("SELECT visit_id, customer, payment_method FROM sessions").fetchall()
    assert [tuple(r) for r in rows] == [("v1", "cus_1", "pm_1")]
    assert SCHEMA_VERSION == 5


# --- a processor that misbehaves, a database that is gone, a bridge that stops ---------------


class _Silent(FakeProcessor):
    """A processor that never answers which card is saved."""

    async def saved_method(self, customer: str) -> Any:  # noqa: ARG002
        await asyncio.Event().wait()


class _Broken(FakeProcessor):
    """A processor adapter whose first lookup (the check-in's) breaks."""

    broke = False

    async def saved_method(self, customer: str) -> Any:
        if not self.broke:
            self.broke = True
            raise RuntimeError
        return await super().saved_method(customer)


async def test_a_bridge_stops_without_waiting_for_a_lookup_that_never_ends(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    async with asyncio.timeout(10), _shop(tmp_path / "b.sqlite3", operator, _Silent()) as shop:
        visit = await shop.check_in("cus_A")
        assert shop.saved.pending == 1
    assert shop.saved.pending == 0  # the bridge stopped (in time), the lookup cancelled
    assert shop.method_of(visit) is None


async def test_a_lookup_that_breaks_leaves_the_card_to_the_checkout(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> None:
    processor = _Broken()
    async with _shop(tmp_path / "bridge.sqlite3", operator, processor) as shop:
        visit = await shop.check_in("cus_A")
        await until("the lookup failed", lambda: shop.saved.unresolved["RuntimeError"])
        await shop.leave_with(visit, 1)
        assert await _charged(shop, visit) == ("done", PRICE)
    assert processor.method_lookups == 1  # at checkout


async def test_a_database_that_is_gone_leaves_the_card_to_the_checkout(tmp_path: Path) -> None:
    db = Database(tmp_path / "never-opened.sqlite3")
    saved = SavedMethods(db, FakeProcessor())
    try:
        saved.look_up("v1", "cus_A")
        await saved.settled()
    finally:
        await db.close()
    assert saved.unresolved["storage unavailable"] == 1
    assert saved.found == 0
