"""The demo's checkout: tracked shoppers' carts charged, receipts in the demo's mailbox.

The demo's bridge (its gates, its shelves, its embedded fake processor and mail sink) runs
with its HTTP API; `demo_shelves.play` plays a short simulation into it in real time. What
a newcomer sees: money taken, a receipt as an `.eml` file in the demo's folder (asked for
through the API by an app shopper, or on the receipt page by a card shopper), and no
address left in the database once the receipt was accepted.
"""

import asyncio
import io
import json
import random
import re
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from store_bridge.demo import TERMINALS, DemoApi, DemoOptions, demo_bridge
from store_bridge.demo_checkout import DemoPayments, DemoShoppers, attach_demo_payments
from store_bridge.demo_mail import KEPT, DemoMailbox
from store_bridge.demo_shelves import SHELF_GATE, play
from store_bridge.mailer import Accepted
from store_bridge.service import running
from store_bridge.shop_sim import Simulation
from tests.waiting import until

from .test_demo_shelves import FAST

SHOPPERS = replace(FAST, sessions=4, shoppers=1, stay_s=(4.0, 6.0))
"""Four shoppers one after another, each picking at one shelf within seconds."""


class Rolls(random.Random):
    """A die that always shows `value` (0.2: a card shopper; 0.4: an app shopper who asks)."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@asynccontextmanager
async def _demo(
    folder: Path, rolls: float
) -> AsyncIterator[tuple[DemoPayments, io.StringIO, asyncio.Task[None]]]:
    """The demo's store with payments, its shoppers playing; the payments and what it said."""
    out = io.StringIO()
    bridge, signer = demo_bridge(DemoOptions(port=0), folder)
    payments = attach_demo_payments(bridge, folder, out)
    token = secrets.token_urlsafe(16)
    headers = {"Authorization": f"Bearer {token}"}
    sim = Simulation(replace(SHOPPERS, start=datetime.now(UTC)))
    async with (
        running(bridge, "127.0.0.1", 0, token, TERMINALS) as url,
        aiohttp.ClientSession() as http,
    ):
        payments.url = url
        api = DemoApi(http, url, headers)
        shoppers = DemoShoppers(payments, http, api.post, Rolls(rolls), out)

        async def _enter(party: int) -> str | None:
            def qr(customer: str) -> str:
                return signer.sign(now=time.time(), party=party, customer=customer)

            return await shoppers.enter(SHELF_GATE, "terminal_2", qr)

        async def _leave(track: str) -> object:
            result = await api.post("/v1/gates/exit_1/exit", {"track": track})
            await shoppers.after_exit(track)
            return result

        assert bridge.carts is not None
        player = asyncio.create_task(play(bridge.carts, sim, _enter, _leave))
        try:
            yield payments, out, player
        finally:
            player.cancel()
            await asyncio.gather(player, return_exceptions=True)


def _rows(folder: Path, query: str) -> list[Any]:
    with closing(sqlite3.connect(folder / "store-bridge.sqlite3", isolation_level=None)) as db:
        return db.execute(query).fetchall()


def _events(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(row[0]) for row in _rows(folder, "SELECT payload FROM outbox ORDER BY seq")]


def _charged_receipts(folder: Path) -> list[EmailMessage]:
    """The receipts in the demo's folder that name the card charged (Visa ending 4242)."""
    found = []
    for path in sorted((folder / "receipts").glob("receipt-*.eml")):
        receipt = _receipt(path)
        plain = receipt.get_body(preferencelist=("plain",))
        if plain is not None and "4242" in plain.get_content():
            found.append(receipt)
    return found


def _receipt(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.usefixtures("socket_enabled")
async def test_app_shoppers_are_charged_and_their_receipts_arrive_in_the_demo_folder(
    tmp_path: Path,
) -> None:
    async with _demo(tmp_path, 0.4) as (payments, out, _player):
        # A receipt of a cart that was charged (an empty cart's says nothing was charged).
        await until(lambda: _charged_receipts(tmp_path), seconds=150)
        taken = payments.processor.captured_total()
    assert taken > 0
    files = sorted((tmp_path / "receipts").glob("receipt-*.eml"))
    assert [f.name for f in files][:1] == ["receipt-0001.eml"]
    assert all(f"  receipt arrived: {f}" in out.getvalue().splitlines() for f in files)
    receipt = _charged_receipts(tmp_path)[0]
    assert receipt["To"].addresses[0].domain == "example.com"
    body = receipt.get_body(preferencelist=("plain",))
    assert body is not None
    assert "Demo store" in body.get_content()
    # Sent: the address is gone from the database; no event names it or the customer.
    sent = _rows(tmp_path, "SELECT address FROM receipt_requests WHERE state = 'sent'")
    assert sent
    assert all(address is None for (address,) in sent)
    events = _events(tmp_path)
    kinds = {e["type"] for e in events}
    assert {"checkout_started", "payment_captured", "receipt_sent"} <= kinds
    wire = json.dumps(events)
    assert "@example.com" not in wire
    assert "cus_demo" not in wire
    assert "page" not in out.getvalue()  # no card shopper, no receipt page


@pytest.mark.usefixtures("socket_enabled")
async def test_card_shoppers_get_a_receipt_page_and_one_uses_it(tmp_path: Path) -> None:
    async with _demo(tmp_path, 0.2) as (payments, out, _player):
        await until(lambda: payments.page_used, seconds=120)
        await until(lambda: payments.mailbox.received >= 1, seconds=60)
        assert payments.page_shown
    shown = re.search(r"  receipt page  (http://127\.0\.0\.1:\d+/r/\S+)  ", out.getvalue())
    assert shown is not None, out.getvalue()
    receipt = _receipt(tmp_path / "receipts" / "receipt-0001.eml")
    assert receipt["To"].addresses[0].username.startswith("card-")
    plain = receipt.get_body(preferencelist=("plain",))
    assert plain is not None
    assert plain.get_content().startswith("Beleg - Demo store")  # the page was in German
    # Card shoppers' holds were captured (at most the hold) or released (an empty cart).
    holds = list(payments.processor.payments.values())
    assert holds
    assert all(p.captured <= p.amount for p in holds)
    wire = json.dumps(_events(tmp_path))
    assert "@example.com" not in wire
    assert "pi_fake" not in wire


async def test_the_demo_mailbox_writes_each_receipt_and_keeps_the_last(tmp_path: Path) -> None:
    heard: list[Path] = []
    mailbox = DemoMailbox(tmp_path / "receipts", heard.append)
    for number in range(KEPT + 2):
        message = EmailMessage()
        message["To"] = f"someone-{number}@example.com"
        message["Subject"] = f"Receipt {number}"
        message.set_content("Thank you")
        assert await mailbox.send(message) == Accepted()
    assert mailbox.received == KEPT + 2
    assert len(mailbox.last) == KEPT
    assert mailbox.last[-1]["Subject"] == f"Receipt {KEPT + 1}"
    assert heard[-1] == tmp_path / "receipts" / f"receipt-{KEPT + 2:04d}.eml"
    assert _receipt(heard[0])["Subject"] == "Receipt 0"
