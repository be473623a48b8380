"""The demo's checkout: carts charged by an embedded processor, receipts into a mailbox.

`store-bridge demo` charges its tracked shoppers' carts as a store with ``[payments]``
does, with nothing installed: the processor is the embedded fake (`fake_processor.py`,
which charges nobody) and the mail server the demo's mailbox (`demo_mail.py`, receipts as
`.eml` files in the demo's folder). Most tracked shoppers come with the app (their QR code
names a processor customer, ``cus``, whose saved card is charged after they leave); some
tap a card at the tracked entry's terminal (the processor holds an amount first; at the
exit the cart is captured from the hold, and an empty cart's hold released).

Some app shoppers ask for a receipt through the API (`POST /v1/visits/<visit>/receipt`, as
the app's backend would), and card shoppers get a one-time receipt code at the exit: the
first code's page is printed for the newcomer to open; for the next card shopper the demo
fills in the page's form itself, as a shopper would on a phone.
"""

import random
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final, TextIO

import aiohttp

from .bridge import Bridge
from .checkout_parts import receipt_events
from .checkout_purchases import CheckoutPurchases
from .core.receipt import Language
from .demo_mail import DemoMailbox
from .fake_processor import FakeProcessor
from .mail_config import MailSpec
from .payments_config import PaymentsSpec
from .receipts import Receipts
from .service import attach_receipts, build_checkout

CURRENCY: Final = "EUR"
HOLD: Final = 5_000
"""What the demo's card terminal holds at a tap (50 euros)."""
RECEIPT_SHARE: Final = 0.5
"""How many app shoppers ask for a receipt."""
CARD_SHARE: Final = 0.3
"""How many tracked shoppers tap a card."""
DEMO_PAYMENTS: Final = PaymentsSpec(
    processor="fake",
    secret_key_file=None,
    api_base=None,
    settle_s=2.0,
    review_deadline_s=30.0,
    concurrency=4,
    demo=True,
)
"""A store that charges two seconds after a shopper left (late shelf messages are in by
then) and charges ambiguous picks nobody after thirty seconds in review."""
DEMO_MAIL: Final = MailSpec(
    host="localhost",
    port=25,
    sender="Demo store <receipts@demo-store.invalid>",
    retry_base_s=1.0,
    retry_max_s=5.0,
)
"""The receipts' settings; the demo's mailbox never connects anywhere."""
_FORM_TOKEN = re.compile(r'name="token" value="([^"]+)"')

type Post = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(slots=True)
class DemoPayments:
    """The demo's processor and mailbox, and what the shoppers did with them."""

    processor: FakeProcessor
    mailbox: DemoMailbox
    url: str = ""
    """The bridge's address (its receipt page is below it), once it runs."""
    page_shown: bool = False
    page_used: bool = False
    visits: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Each track's visit, and whether a card paid."""

    def hold(self) -> str:
        """A card tapped at a terminal: the processor holds `HOLD`; the hold's reference."""
        return self.processor.authorise_hold(HOLD, CURRENCY)


def attach_demo_payments(bridge: Bridge, folder: Path, out: TextIO) -> DemoPayments:
    """Give the demo's bridge its checkout (fake processor) and receipts (the mailbox)."""
    runner = build_checkout(bridge, DEMO_PAYMENTS)
    processor = runner.processor
    assert isinstance(processor, FakeProcessor)  # noqa: S101 - the demo's spec says "fake"

    def _arrived(path: Path) -> None:
        print(f"  receipt arrived: {path}", file=out, flush=True)

    mailbox = DemoMailbox(folder / "receipts", _arrived)
    receipts = Receipts(
        bridge.db,
        DEMO_MAIL,
        mailbox,
        CheckoutPurchases(bridge.db),
        store=bridge.settings.name,
        news=receipt_events(bridge.ledger),
        clock=bridge.clock,
        pending_poll_s=1.0,  # a receipt asked for before its checkout is done: look again soon
    )
    attach_receipts(bridge, receipts)
    return DemoPayments(processor, mailbox)


def customer() -> str:
    """A made-up processor customer for an app shopper (its saved card: Visa 4242)."""
    return f"cus_demo{secrets.token_hex(6)}"


@dataclass(slots=True)
class DemoShoppers:
    """The tracked shoppers' side of paying: their check-ins and what they do after."""

    payments: DemoPayments
    http: aiohttp.ClientSession
    post: Post
    rng: random.Random
    out: TextIO

    async def enter(self, gate: str, terminal: str, qr: Callable[[str], str]) -> str | None:
        """Check in with the app (`qr` for a customer) or a card; the track, or None."""
        payments = self.payments
        card = self.rng.random() < CARD_SHARE
        if card:
            result = await self.post(
                f"/v1/terminals/{terminal}/tap", {"card_token": payments.hold()}
            )
        else:
            result = await self.post(f"/v1/gates/{gate}/check-in", {"qr": qr(customer())})
        track, visit = result.get("track"), result.get("visit")
        if not result.get("opened") or not isinstance(track, str) or not isinstance(visit, str):
            return None
        payments.visits[track] = (visit, card)
        return track

    async def after_exit(self, track: str) -> None:
        """What a shopper who left does about a receipt: ask (app), or get a code (card)."""
        payments = self.payments
        visit, card = payments.visits.pop(track, (None, False))
        if visit is None:
            return
        if not card:
            if self.rng.random() < RECEIPT_SHARE:
                address = f"shopper-{secrets.token_hex(3)}@example.com"
                language = self.rng.choice(tuple(Language)).value
                body = {"email": address, "language": language}
                await self.post(f"/v1/visits/{visit}/receipt", body)
            return
        if payments.page_used:
            return
        issued = await self.post(f"/v1/visits/{visit}/receipt-code", {})
        path = issued.get("url")
        if not isinstance(path, str):
            return
        page = path if path.startswith("http") else f"{payments.url}{path}"
        if not payments.page_shown:
            payments.page_shown = True
            print(f"  receipt page  {page}  (a card shopper's QR code)", file=self.out, flush=True)
            return
        payments.page_used = await fill_in_page(self.http, page)


async def fill_in_page(http: aiohttp.ClientSession, page: str) -> bool:
    """Open a receipt page and send its form, as a shopper would on a phone."""
    async with http.get(page, headers={"Accept-Language": "de"}) as answer:
        html = await answer.text()
    found = _FORM_TOKEN.search(html)
    if found is None:
        return False
    form = {"token": found[1], "email": f"card-{secrets.token_hex(3)}@example.com", "lang": "de"}
    async with http.post(page, data=form) as answer:
        return answer.status == HTTPStatus.OK  # the thank-you page


def summary(payments: DemoPayments) -> str:
    """Money taken and receipts received, for the status line."""
    taken = payments.processor.captured_total()
    received = payments.mailbox.received
    return f"charged {taken // 100}.{taken % 100:02d} {CURRENCY} · receipts {received}"
