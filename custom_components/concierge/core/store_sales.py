"""A store's checkouts as its bridge's status says them: counts and today's sales (no HA).

A bridge with payments adds a `checkout` object to its retained status
(`schema/store-status.v1.schema.json`): checkouts pending, retrying and failed, the
accounts that owe, today's sales (in the store's time zone), the receipts waiting or
failed, and the refunds whose outcome is not known (and of those, the ones stuck: not known
an hour after they were asked for, which the operator has to look into). Aggregates only:
nothing in it names a shopper, an account, a payment or an address, and nothing here keeps
more.

`read_checkout` reads the object strictly (counts are non-negative whole numbers or null,
a currency is three capital letters); `major_units` turns an amount in minor units into
the currency's major units exactly (`Decimal`, ISO 4217's exponent); `day_started` says
when the bridge's totals went back down, which only a new day at the store does.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Final

__all__ = [
    "CHECKOUT_COUNTS",
    "SALES_KEYS",
    "CheckoutCounts",
    "InvalidCheckoutError",
    "SalesToday",
    "day_started",
    "major_units",
    "read_checkout",
]

_EXPONENTS: Final[Mapping[str, int]] = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}  # fmt: skip
"""ISO 4217 currencies whose minor unit is not a hundredth (the bridge's receipts agree)."""
_CODE_LENGTH: Final = 3


class InvalidCheckoutError(ValueError):
    """The status's `checkout` object is not what the schema allows."""


@dataclass(frozen=True, slots=True)
class SalesToday:
    """The store's day so far: money taken and refunded (minor units), payments taken."""

    amount: int | None = None
    count: int | None = None
    refunded: int | None = None
    currency: str | None = None

    @property
    def total(self) -> Decimal | None:
        """Money taken today in the currency's major units (None: amount or currency unknown)."""
        if self.amount is None or self.currency is None:
            return None
        return major_units(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class CheckoutCounts:
    """The status's checkout counts (None: the bridge does not say)."""

    pending: int | None = None
    retrying: int | None = None
    failed: int | None = None
    outstanding_accounts: int | None = None
    receipts_waiting: int | None = None
    receipts_failed: int | None = None
    refunds_uncertain: int | None = None
    refunds_stuck: int | None = None
    """Uncertain refunds asked for over an hour ago (the bridge's bound; None: it does not say)."""
    sales_today: SalesToday | None = None

    @property
    def accounts_owe(self) -> bool:
        """Whether an account owes a failed payment (its check-in is refused)."""
        return bool(self.outstanding_accounts)


CHECKOUT_COUNTS: tuple[str, ...] = tuple(
    f.name for f in fields(CheckoutCounts) if f.name != "sales_today"
)
"""The whole-number counts of the status's `checkout` object, by their wire names."""
SALES_KEYS: tuple[str, ...] = tuple(f.name for f in fields(SalesToday))
"""The keys of the `checkout` object's `sales_today`."""


def _count(obj: Mapping[str, object], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidCheckoutError(key)
    return value


def _currency(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != _CODE_LENGTH:
        raise InvalidCheckoutError("currency")
    if not (value.isascii() and value.isalpha() and value.isupper()):
        raise InvalidCheckoutError("currency")
    return value


def _sales(value: object) -> SalesToday | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidCheckoutError("sales_today")
    return SalesToday(
        amount=_count(value, "amount"),
        count=_count(value, "count"),
        refunded=_count(value, "refunded"),
        currency=_currency(value.get("currency")),
    )


def read_checkout(value: object) -> CheckoutCounts | None:
    """The status's `checkout` object (None: absent or null); keys it does not know are ignored.

    Raises `InvalidCheckoutError` for anything else the schema refuses.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidCheckoutError("checkout")
    counts = {key: _count(value, key) for key in CHECKOUT_COUNTS}
    return CheckoutCounts(**counts, sales_today=_sales(value.get("sales_today")))


def major_units(amount: int, currency: str) -> Decimal:
    """`amount` minor units of `currency` in its major units, exactly (1234 EUR → 12.34)."""
    exponent = _EXPONENTS.get(currency, 2)
    return Decimal(amount).scaleb(-exponent)


def day_started(before: SalesToday | None, after: SalesToday | None) -> bool:
    """Whether the store's day turned between two statuses: its totals went back down.

    Within a day the bridge's totals only grow (a refund is counted apart, never taken
    off the amount); a smaller amount, count or refunded sum, or another currency, is a
    new day. Unknown values on either side say nothing.
    """
    if before is None or after is None:
        return False
    if None not in (before.currency, after.currency) and before.currency != after.currency:
        return True
    for key in ("amount", "count", "refunded"):
        old, new = getattr(before, key), getattr(after, key)
        if old is not None and new is not None and new < old:
            return True
    return False
