"""A receipt request's e-mail: what the visit bought, rendered, as one message.

The receipt (`core/receipt.py`: text and HTML, in the request's language, the time in the
store's time zone) goes to the request's address from the configured sender. Every attempt
of a request carries the same Message-ID (`message_id`, a digest: nothing personal), so a
mail system that got an earlier attempt can drop the duplicate.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from . import receipt_store as rs
from .core.receipt import Card, Language, ReceiptFacts, ReceiptLine, render
from .mail_config import MailSpec


@dataclass(frozen=True, slots=True)
class Purchase:
    """A visit's finished checkout, as its receipt shows it."""

    at: datetime
    """When it was charged (aware; shown in the store's time zone)."""
    lines: Sequence[ReceiptLine]
    currency: str
    card: Card | None = None
    """As the processor reported it; None when it said nothing (an app shopper)."""
    paid: int | None = None
    """What was taken, when less than the lines' total (the rest is owed); else None."""


def message_id(store: str, request: rs.DueRequest, domain: str) -> str:
    """The Message-ID of every attempt of `request` (nothing personal: a digest)."""
    seed = f"{store}\x00{request.visit}\x00{request.id}\x00{request.created!r}"
    digest = hashlib.sha256(seed.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return f"<receipt.{digest}@{domain or 'localhost'}>"


def receipt_message(
    request: rs.DueRequest, purchase: Purchase, now: datetime, *, store: str, spec: MailSpec
) -> EmailMessage:
    """`request`'s e-mail: the receipt of `purchase` in its language, text and HTML.

    Raises `ValueError` when it cannot be written (an address the message cannot carry).
    """
    facts = ReceiptFacts(
        store=store,
        at=purchase.at.astimezone(spec.timezone),
        lines=purchase.lines,
        currency=purchase.currency,
        card=purchase.card,
        paid=purchase.paid,
    )
    receipt = render(facts, Language(request.language))
    message = EmailMessage()
    message["Subject"] = " ".join(receipt.subject.split())
    message["From"] = spec.sender
    message["To"] = Address(addr_spec=request.address)
    message["Date"] = format_datetime(now)
    domain = parseaddr(spec.sender)[1].rpartition("@")[2]
    message["Message-ID"] = message_id(store, request, domain)
    message.set_content(receipt.text)
    message.add_alternative(receipt.html, subtype="html")
    return message
