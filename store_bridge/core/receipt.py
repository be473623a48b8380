"""A receipt's words: its text and HTML, in English or German, from plain values.

No I/O, no clock: the shell (`receipts.py`) gives the store's name, the moment of the
purchase in the store's time zone, the cart's lines, and the card as the processor reported
it (brand and last four digits, or nothing: an app shopper whose processor said nothing).

Money is in the currency's minor units throughout (``199`` is 1.99 EUR); a currency's
exponent is ISO 4217's (2 unless listed in `_EXPONENTS`).

Tax: catalogue prices are gross (tax included), so the receipt shows, per tax rate, how much
of the gross amount at that rate is tax::

    tax = gross - gross / (1 + rate)

computed exactly (`Decimal`) over the sum of the lines at that rate, then rounded once, half to
even, to the currency's minor unit. Rounding once per rate (not per line) is what a till does,
and keeps each rate's tax within half a minor unit of the exact figure. The net amount shown
is ``gross - tax``, so net and tax add up to the gross amount exactly.

Every text that came from outside (store name, product names, the card brand) is escaped in
the HTML.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from html import escape
from typing import Final

_EXPONENTS: Final[Mapping[str, int]] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip


class Language(StrEnum):
    """The languages a receipt (and its page) is written in."""

    EN = "en"
    DE = "de"


_WORDS: Final[Mapping[Language, Mapping[str, str]]] = {
    Language.EN: {
        "subject": "Your receipt from {store}",
        "title": "Receipt",
        "intro": "Thank you for shopping at {store}.",
        "time": "Time",
        "item": "Item",
        "qty": "Qty",
        "unit": "Unit price",
        "amount": "Amount",
        "total": "Total",
        "tax_line": "incl. {rate} VAT: {tax} (net {net})",
        "card": "Paid by card: {brand} ending in {last4}",
        "paid": "Paid",
        "outstanding": "Outstanding (still to be paid)",
        "nothing": "Nothing was charged: your cart was empty.",
        "footer": "Prices include VAT. This e-mail was sent because you asked for a receipt; "
        "the store does not keep your address.",
    },
    Language.DE: {
        "subject": "Ihr Beleg von {store}",
        "title": "Beleg",
        "intro": "Vielen Dank für Ihren Einkauf bei {store}.",
        "time": "Zeit",
        "item": "Artikel",
        "qty": "Menge",
        "unit": "Einzelpreis",
        "amount": "Betrag",
        "total": "Summe",
        "tax_line": "inkl. {rate} MwSt.: {tax} (netto {net})",
        "card": "Bezahlt mit Karte: {brand} mit Endziffern {last4}",
        "paid": "Bezahlt",
        "outstanding": "Offen (noch zu zahlen)",
        "nothing": "Es wurde nichts berechnet: Ihr Warenkorb war leer.",
        "footer": "Preise inkl. MwSt. Diese E-Mail wurde gesendet, weil Sie einen Beleg "
        "angefordert haben; der Laden speichert Ihre Adresse nicht.",
    },
}


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One product on the receipt."""

    name: str
    quantity: int
    unit_price: int
    """Gross, minor units."""
    tax_rate: Decimal
    """A fraction (``Decimal("0.19")``)."""

    @property
    def amount(self) -> int:
        """Quantity times unit price (gross, minor units)."""
        return self.quantity * self.unit_price


@dataclass(frozen=True, slots=True)
class Card:
    """The card as the processor reported it (never more than this)."""

    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class ReceiptFacts:
    """What a receipt says."""

    store: str
    at: datetime
    """The purchase, already in the store's time zone (aware)."""
    lines: Sequence[ReceiptLine]
    currency: str
    card: Card | None = None
    paid: int | None = None
    """What was taken (minor units) when it is less than the total (a cart above a card's
    hold): the receipt then says what was paid and what is still outstanding."""

    @property
    def total(self) -> int:
        """The sum of the lines (gross, minor units)."""
        return sum(line.amount for line in self.lines)

    @property
    def outstanding(self) -> int:
        """What is still to be paid (0 when everything was paid)."""
        return 0 if self.paid is None else max(0, self.total - self.paid)


@dataclass(frozen=True, slots=True)
class TaxRow:
    """The tax in the lines at one rate."""

    rate: Decimal
    gross: int
    tax: int

    @property
    def net(self) -> int:
        """Gross less tax (so net + tax is exactly gross)."""
        return self.gross - self.tax


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt ready to send."""

    subject: str
    text: str
    html: str


def taxes(lines: Sequence[ReceiptLine]) -> tuple[TaxRow, ...]:
    """The tax per rate (rates ascending; see the module's note for the rounding)."""
    gross: dict[Decimal, int] = {}
    for line in lines:
        gross[line.tax_rate] = gross.get(line.tax_rate, 0) + line.amount
    rows = []
    for rate in sorted(gross):
        amount = Decimal(gross[rate])
        exact = amount - amount / (1 + rate)
        rows.append(TaxRow(rate, gross[rate], int(exact.quantize(Decimal(1), ROUND_HALF_EVEN))))
    return tuple(rows)


def money(amount: int, currency: str, language: Language) -> str:
    """An amount in minor units as people read it (``1.99 EUR``, ``1,99 EUR``)."""
    exponent = _EXPONENTS.get(currency.upper(), 2)
    sign = "-" if amount < 0 else ""
    whole, part = divmod(abs(amount), 10**exponent)
    grouped = f"{whole:,}".replace(",", "." if language is Language.DE else ",")
    point = "," if language is Language.DE else "."
    digits = f"{point}{part:0{exponent}d}" if exponent else ""
    return f"{sign}{grouped}{digits} {currency.upper()}"


def percent(rate: Decimal, language: Language) -> str:
    """A tax rate as a percentage (``19 %``, ``7 %``, ``5.5 %``)."""
    value = (rate * 100).normalize()
    text = f"{value:f}"
    if language is Language.DE:
        text = text.replace(".", ",")
    return f"{text} %"


def when(at: datetime, language: Language) -> str:
    """The purchase's local date and time with its zone's name."""
    zone = at.tzname() or ""
    if language is Language.DE:
        return f"{at:%d.%m.%Y %H:%M} {zone}".rstrip()
    return f"{at:%Y-%m-%d %H:%M} {zone}".rstrip()


def render(facts: ReceiptFacts, language: Language) -> Receipt:
    """The receipt's subject, plain text and HTML."""
    words = _WORDS[language]
    return Receipt(
        subject=words["subject"].format(store=facts.store),
        text=_text(facts, language),
        html=_html(facts, language),
    )


def _tax_lines(facts: ReceiptFacts, language: Language) -> list[str]:
    words = _WORDS[language]
    return [
        words["tax_line"].format(
            rate=percent(row.rate, language),
            tax=money(row.tax, facts.currency, language),
            net=money(row.net, facts.currency, language),
        )
        for row in taxes(facts.lines)
    ]


def _card_line(facts: ReceiptFacts, language: Language) -> str | None:
    if facts.card is None:
        return None
    return _WORDS[language]["card"].format(brand=facts.card.brand, last4=facts.card.last4)


def _paid_lines(facts: ReceiptFacts, language: Language) -> list[str]:
    """What was paid and what is outstanding, when not everything was paid."""
    if facts.paid is None or not facts.outstanding:
        return []
    words = _WORDS[language]
    return [
        f"{words['paid']}: {money(facts.paid, facts.currency, language)}",
        f"{words['outstanding']}: {money(facts.outstanding, facts.currency, language)}",
    ]


def _text(facts: ReceiptFacts, language: Language) -> str:
    words = _WORDS[language]
    cur = facts.currency
    out = [
        f"{words['title']} - {facts.store}",
        f"{words['time']}: {when(facts.at, language)}",
        "",
    ]
    for line in facts.lines:
        unit = money(line.unit_price, cur, language)
        amount = money(line.amount, cur, language)
        out.append(f"{line.quantity} x {line.name} @ {unit} = {amount}")
    if not facts.lines:
        out.append(words["nothing"])
    out += ["", f"{words['total']}: {money(facts.total, cur, language)}"]
    out += _tax_lines(facts, language)
    out += _paid_lines(facts, language)
    if (card := _card_line(facts, language)) is not None:
        out.append(card)
    out += ["", words["intro"].format(store=facts.store), words["footer"]]
    return "\n".join(out) + "\n"


def _html(facts: ReceiptFacts, language: Language) -> str:
    words = _WORDS[language]
    cur = facts.currency
    store = escape(facts.store)
    rows = "".join(
        f"<tr><td>{escape(line.name)}</td><td class=n>{line.quantity}</td>"
        f"<td class=n>{escape(money(line.unit_price, cur, language))}</td>"
        f"<td class=n>{escape(money(line.amount, cur, language))}</td></tr>"
        for line in facts.lines
    )
    empty = "" if facts.lines else f"<p>{escape(words['nothing'])}</p>"
    tax = "".join(f"<p>{escape(text)}</p>" for text in _tax_lines(facts, language))
    card = _card_line(facts, language)
    paid = "".join(f"<p><strong>{escape(t)}</strong></p>" for t in _paid_lines(facts, language))
    paid += "" if card is None else f"<p>{escape(card)}</p>"
    return (
        f'<!DOCTYPE html><html lang="{language.value}"><head><meta charset="utf-8">'
        f"<title>{escape(words['title'])} - {store}</title>"
        "<style>td,th{padding:2px 8px;text-align:left}.n{text-align:right}</style></head>"
        f"<body><h1>{escape(words['title'])} - {store}</h1>"
        f"<p>{escape(words['time'])}: {escape(when(facts.at, language))}</p>"
        f"<table><tr><th>{escape(words['item'])}</th><th class=n>{escape(words['qty'])}</th>"
        f"<th class=n>{escape(words['unit'])}</th><th class=n>{escape(words['amount'])}</th>"
        f"</tr>{rows}</table>{empty}"
        f"<p><strong>{escape(words['total'])}: "
        f"{escape(money(facts.total, cur, language))}</strong></p>{tax}{paid}"
        f"<p>{escape(words['intro'].format(store=facts.store))}</p>"
        f"<p><small>{escape(words['footer'])}</small></p></body></html>"
    )
