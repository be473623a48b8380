"""One shopping session as the cart book holds it: its tracks and its cart's lines."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from .cart_model import Cart, CartLine, Product


@dataclass(slots=True)
class ShopSession:
    """A session's gate, party, times, bound track ids and cart lines (by SKU, in order)."""

    visit: str
    zone: str
    """The entry gate's zone (where its tracks are bound)."""
    party: int
    opened: datetime
    closed: datetime | None = None
    tracks: set[str] = field(default_factory=set)
    """Every track bound to it that the cart book still remembers (relinked ones too)."""
    at_gate: int = 0
    """Tracks bound at the gate (a party binds up to `party`)."""
    passed: list[datetime] = field(default_factory=list)
    """When each track bound at the gate passed it (left the gate zone, or stood there)."""
    lines: dict[str, CartLine] = field(default_factory=dict)
    lost_zones: frozenset[str] = frozenset()
    lost_at: datetime | None = None
    """Where and when its last track was lost (no relink fitted)."""

    def open_at(self, start: datetime, end: datetime, tolerance_s: float) -> bool:
        """Whether it was in the store at some moment of [start, end]."""
        opened = self.opened - timedelta(seconds=tolerance_s)
        return opened <= end and (self.closed is None or self.closed >= start)

    def holds(self, sku: str) -> int:
        """How many units of `sku` its cart holds."""
        line = self.lines.get(sku)
        return 0 if line is None else line.quantity

    def add(self, product: Product, quantity: int, change: str) -> None:
        """Put `quantity` units in the cart, citing the shelf change."""
        line = self.lines.get(product.sku)
        if line is None:
            self.lines[product.sku] = CartLine(
                sku=product.sku,
                name=product.name,
                quantity=quantity,
                unit_price=product.unit_price,
                currency=product.currency,
                tax_rate=product.tax_rate,
                sources=(change,),
            )
        else:
            self.lines[product.sku] = replace(
                line, quantity=line.quantity + quantity, sources=(*line.sources, change)
            )

    def remove(self, sku: str, quantity: int, change: str) -> int:
        """Take up to `quantity` units of a SKU it holds out; how many it took.

        A line at 0 leaves the cart.
        """
        line = self.lines[sku]
        taken = min(quantity, line.quantity)
        if taken == line.quantity:
            del self.lines[sku]
        else:
            self.lines[sku] = replace(
                line, quantity=line.quantity - taken, sources=(*line.sources, change)
            )
        return taken

    def cart(self, *, held: int, bound: bool) -> Cart:
        """Its cart as it stands."""
        return Cart(self.visit, tuple(self.lines.values()), held=held, bound=bound)
