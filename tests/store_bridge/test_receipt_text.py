"""A receipt's words (pure): tax per rate, money, both languages, escaping; addresses; the
receipt page's language and HTML."""

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store_bridge.core.email_address import AddressProblem, address_problem
from store_bridge.core.receipt import (
    Card,
    Language,
    ReceiptFacts,
    ReceiptLine,
    money,
    percent,
    render,
    taxes,
)
from store_bridge.core.receipt_page import PageKind, language_of, page

RATES = [Decimal("0.19"), Decimal("0.07"), Decimal("0.055"), Decimal(0)]


def test_tax_per_rate_from_gross_rounded_half_even_once_per_rate():
    lines = [
        ReceiptLine("a", 1, 107, Decimal("0.07")),  # 7 of 107 exactly
        ReceiptLine("b", 3, 79, Decimal("0.07")),  # 237 at 7 %: 15.50...
        ReceiptLine("c", 1, 119, Decimal("0.19")),
    ]
    rows = {row.rate: row for row in taxes(lines)}
    # 344 gross at 7 %: 344 - 344/1.07 = 22.50467... -> 23 (per-line rounding would give 22)
    assert (rows[Decimal("0.07")].gross, rows[Decimal("0.07")].tax) == (344, 23)
    assert (rows[Decimal("0.19")].tax, rows[Decimal("0.19")].net) == (19, 100)
    assert [row.rate for row in taxes(lines)] == [Decimal("0.07"), Decimal("0.19")]


def test_a_half_rounds_to_even():
    # 0 % tax is none; a gross of 21 at 100 % is 10.5 of tax -> 10 (even), 23 -> 11.5 -> 12
    assert taxes([ReceiptLine("x", 1, 21, Decimal(1))])[0].tax == 10
    assert taxes([ReceiptLine("x", 1, 23, Decimal(1))])[0].tax == 12
    assert taxes([ReceiptLine("x", 1, 500, Decimal(0))])[0].tax == 0


@given(
    st.lists(
        st.tuples(st.integers(1, 20), st.integers(0, 100_000), st.sampled_from(RATES)),
        max_size=12,
    )
)
def test_tax_is_within_half_a_cent_per_rate_and_adds_up(items):
    lines = [ReceiptLine("p", q, price, rate) for q, price, rate in items]
    rows = taxes(lines)
    assert sum(row.gross for row in rows) == sum(line.amount for line in lines)
    for row in rows:
        exact = Decimal(row.gross) - Decimal(row.gross) / (1 + row.rate)
        assert abs(Decimal(row.tax) - exact) <= Decimal("0.5")
        assert row.net + row.tax == row.gross


def test_money_and_percent_as_people_read_them():
    assert money(123456, "EUR", Language.EN) == "1,234.56 EUR"
    assert money(123456, "EUR", Language.DE) == "1.234,56 EUR"
    assert money(5, "eur", Language.EN) == "0.05 EUR"
    assert money(-250, "EUR", Language.EN) == "-2.50 EUR"
    assert money(1500, "JPY", Language.EN) == "1,500 JPY"
    assert money(1234, "KWD", Language.DE) == "1,234 KWD"
    assert percent(Decimal("0.19"), Language.EN) == "19 %"
    assert percent(Decimal("0.055"), Language.DE) == "5,5 %"
    assert percent(Decimal("0.055"), Language.EN) == "5.5 %"


def facts(**changes) -> ReceiptFacts:
    base = {
        "store": 'Ecke & "Co" <b>',
        "at": datetime(2026, 7, 1, 10, 0, tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin")),
        "lines": (ReceiptLine("Milch <1 l>", 1, 119, Decimal("0.07")),),
        "currency": "EUR",
        "card": Card("mastercard", "4444"),
    }
    return ReceiptFacts(**(base | changes))


def test_text_and_html_in_both_languages_escaped():
    english = render(facts(), Language.EN)
    assert english.subject == 'Your receipt from Ecke & "Co" <b>'
    assert "1 x Milch <1 l> @ 1.19 EUR = 1.19 EUR" in english.text
    assert "2026-07-01 12:00 CEST" in english.text
    assert "Paid by card: mastercard ending in 4444" in english.text
    assert "Milch &lt;1 l&gt;" in english.html
    assert "Ecke &amp; &quot;Co&quot; &lt;b&gt;" in english.html
    assert "<b>" not in english.html
    german = render(facts(), Language.DE)
    assert "01.07.2026 12:00 CEST" in german.text
    assert "inkl. 7 % MwSt.: 0,08 EUR (netto 1,11 EUR)" in german.text
    assert '<html lang="de">' in german.html


def test_an_app_shopper_without_a_card_and_an_empty_cart():
    receipt = render(facts(card=None, lines=()), Language.EN)
    assert "card" not in receipt.text.lower().replace("your cart", "")
    assert "Nothing was charged: your cart was empty." in receipt.text
    assert "Total: 0.00 EUR" in receipt.text
    assert "Nothing was charged" in receipt.html
    assert "ending in" not in receipt.html


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("jane@mail.example", None),
        ("jäne+receipts@mail.example", None),
        ("", AddressProblem.EMPTY),
        ("jane@mail.example\r\nBcc: x@y.z", AddressProblem.LINE_BREAK),
        ("jane@mail.example\n", AddressProblem.LINE_BREAK),
        ("a" * 60 + "@" + "b" * 190 + ".example", AddressProblem.TOO_LONG),
        ("a" * 65 + "@mail.example", AddressProblem.NOT_AN_ADDRESS),
        ("jane.mail.example", AddressProblem.NOT_AN_ADDRESS),
        ("jane@@mail.example", AddressProblem.NOT_AN_ADDRESS),
        ("@mail.example", AddressProblem.NOT_AN_ADDRESS),
        ("jane@localhost", AddressProblem.NOT_AN_ADDRESS),
        ("jane@mail..example", AddressProblem.NOT_AN_ADDRESS),
        ("jane doe@mail.example", AddressProblem.NOT_AN_ADDRESS),
        ("<jane@mail.example>", AddressProblem.NOT_AN_ADDRESS),
        ("jane@mail.example,x@y.z", AddressProblem.NOT_AN_ADDRESS),
        ("jane\t@mail.example", AddressProblem.NOT_AN_ADDRESS),
    ],
)
def test_addresses(text, problem):
    assert address_problem(text) is problem


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("", Language.EN),
        ("de", Language.DE),
        ("de-AT", Language.DE),
        ("fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7", Language.DE),
        ("en-US,de;q=0.5", Language.EN),
        ("de;q=0.4,en;q=0.6", Language.EN),
        ("de;q=nonsense,en;q=0.1", Language.EN),
        ("fr, es", Language.EN),
    ],
)
def test_the_page_language_follows_accept_language(header, language):
    assert language_of(header) is language


def test_the_page_escapes_its_token_and_shows_the_reason():
    html = page(
        PageKind.FORM,
        Language.EN,
        token='"><script>',
        problem=AddressProblem.LINE_BREAK,
        store="Corner",
    )
    assert "<script>" not in html
    assert "An address cannot contain a line break." in html
    assert "<title>Your receipt - Corner</title>" in html
