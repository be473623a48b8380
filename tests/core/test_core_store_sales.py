"""A store's checkout counts and today's sales as Home Assistant reads them (`core.store_sales`)."""

from decimal import Decimal

import pytest

from custom_components.concierge.core.events import AccessEventType
from custom_components.concierge.core.store_sales import (
    CheckoutCounts,
    InvalidCheckoutError,
    SalesToday,
    day_started,
    major_units,
    read_checkout,
)
from custom_components.concierge.core.stores import (
    CHECKOUT_ALERT_TYPES,
    CHECKOUT_EVENT_TYPES,
    GATE_EVENT_TYPES,
    SHELF_EVENT_TYPES,
    STORE_EVENT_TYPES,
)


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (12345, "EUR", "123.45"),
        (5, "EUR", "0.05"),
        (0, "EUR", "0.00"),
        (1999, "JPY", "1999"),
        (1234, "KWD", "1.234"),
        (10**20 + 1, "USD", "1000000000000000000.01"),
    ],
)
def test_an_amount_in_minor_units_is_shown_exactly_in_major_units(
    amount: int, currency: str, shown: str
) -> None:
    value = major_units(amount, currency)
    assert str(value) == shown
    assert SalesToday(amount=amount, currency=currency).total == Decimal(shown)


def test_sales_without_an_amount_or_currency_have_no_total() -> None:
    assert SalesToday(amount=100).total is None
    assert SalesToday(currency="EUR").total is None


def test_the_checkout_object_is_read_strictly() -> None:
    assert read_checkout(None) is None
    counts = read_checkout(
        {
            "pending": 1,
            "outstanding_accounts": 2,
            "sales_today": {"amount": 250, "count": 1, "currency": "EUR"},
            "later": "ignored",
        }
    )
    assert counts == CheckoutCounts(
        pending=1,
        outstanding_accounts=2,
        sales_today=SalesToday(amount=250, count=1, currency="EUR"),
    )
    assert counts is not None
    assert counts.accounts_owe
    assert not CheckoutCounts(outstanding_accounts=0).accounts_owe
    for bad in (
        [],
        {"failed": -1},
        {"failed": True},
        {"sales_today": []},
        {"sales_today": {"currency": "eur"}},
        {"sales_today": {"currency": "EURO"}},
        {"sales_today": {"currency": "E1R"}},
        {"sales_today": {"currency": 978}},
    ):
        with pytest.raises(InvalidCheckoutError):
            read_checkout(bad)


def test_a_new_day_is_when_the_totals_go_back_down() -> None:
    noon = SalesToday(amount=5000, count=10, refunded=200, currency="EUR")
    later = SalesToday(amount=5250, count=11, refunded=200, currency="EUR")
    assert not day_started(noon, later)
    assert not day_started(noon, noon)
    assert day_started(later, SalesToday(amount=0, count=0, refunded=0, currency="EUR"))
    assert day_started(noon, SalesToday(amount=5000, count=10, refunded=0, currency="EUR"))
    assert day_started(noon, SalesToday(amount=5000, count=10, refunded=200, currency="CHF"))
    # What is not known says nothing.
    assert not day_started(None, later)
    assert not day_started(noon, None)
    assert not day_started(noon, SalesToday())


def test_the_store_wide_types_name_no_gate() -> None:
    assert set(CHECKOUT_EVENT_TYPES).isdisjoint(GATE_EVENT_TYPES)
    assert set(SHELF_EVENT_TYPES).isdisjoint(GATE_EVENT_TYPES)
    assert AccessEventType.PAYMENT_CAPTURED in CHECKOUT_EVENT_TYPES
    assert GATE_EVENT_TYPES[-1] is AccessEventType.OCCUPANCY_CHANGED
    assert set(GATE_EVENT_TYPES) | set(SHELF_EVENT_TYPES) | set(CHECKOUT_EVENT_TYPES) == set(
        STORE_EVENT_TYPES
    )
    assert AccessEventType.PAYMENT_FAILED in CHECKOUT_ALERT_TYPES
    assert AccessEventType.PAYMENT_CAPTURED not in CHECKOUT_ALERT_TYPES
    assert AccessEventType.CHECKOUT_STARTED not in CHECKOUT_ALERT_TYPES
