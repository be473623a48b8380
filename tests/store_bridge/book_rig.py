"""A cart book with a small shop around it: products, lanes, a clock in seconds."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from store_bridge.core.attribution import AttributionTuning, CartBook
from store_bridge.core.cart_model import (
    CartNews,
    LaneSpec,
    NewsKind,
    Product,
    ShelfChange,
    ShelfChangeKind,
    TrackPhase,
    TrackSighting,
)

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
GATE = "entrance"

PRODUCTS = {
    "cola": Product("cola", "Cola 0.33 l", 150, "EUR", Decimal("0.19"), 350.0),
    "chips": Product("chips", "Chips", 199, "EUR", Decimal("0.07"), 175.0),
    "soap": Product("soap", "Soap", 249, "EUR", Decimal("0.19"), 100.0),
    "tea": Product("tea", "Tea", 300, "EUR", Decimal("0.07"), 120.0),
}
LANES = {
    "l1": LaneSpec("l1", "shelf1/sensor/l1/state", "cola", "aisle_1", 350.0, 20.0),
    "l2": LaneSpec("l2", "shelf1/sensor/l2/state", "chips", "aisle_2", 175.0, 15.0),
    "l3": LaneSpec("l3", "shelf2/sensor/l3/state", "soap", "aisle_3", 100.0, 10.0),
    "l4": LaneSpec("l4", "shelf9/sensor/l4/state", "tea", "back_room", 120.0, 10.0),
}


def at(seconds: float) -> datetime:
    """The shop's time `seconds` after T0."""
    return T0 + timedelta(seconds=seconds)


@dataclass
class Shop:
    """A cart book and every piece of news it said."""

    tuning: AttributionTuning = field(default_factory=AttributionTuning)
    news: list[CartNews] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.book = CartBook(PRODUCTS, LANES, self.tuning)
        self._changes = 0

    def _said(self, news: list[CartNews]) -> list[CartNews]:
        self.news += news
        return news

    def check_in(self, visit: str, seconds: float, party: int = 1) -> list[CartNews]:
        return self._said(self.book.session_opened(visit, zone=GATE, party=party, at=at(seconds)))

    def leave(self, visit: str, seconds: float) -> list[CartNews]:
        return self._said(self.book.session_closed(visit, at(seconds)))

    def see(
        self,
        track: str,
        seconds: float,
        *zones: str,
        phase: TrackPhase = TrackPhase.UPDATE,
        camera: str = "cam1",
    ) -> list[CartNews]:
        sighting = TrackSighting(track, camera, frozenset(zones), at(seconds), phase)
        return self._said(self.book.sighting(sighting))

    def end(self, track: str, seconds: float, *zones: str) -> list[CartNews]:
        return self.see(track, seconds, *zones, phase=TrackPhase.END)

    def change(
        self,
        lane: str,
        began: float,
        quantity: int = 1,
        kind: ShelfChangeKind = ShelfChangeKind.PICK,
        settle: float = 0.8,
    ) -> ShelfChange:
        """A settled change at `lane` (not yet handed to the book)."""
        self._changes += 1
        spec = LANES[lane]
        sign = -1 if kind is ShelfChangeKind.PICK else 1
        return ShelfChange(
            id=f"ch-{self._changes}",
            lane=lane,
            sku=spec.sku,
            zone=spec.zone,
            kind=kind,
            quantity=quantity,
            grams=sign * quantity * spec.unit_weight_g,
            began=at(began),
            settled=at(began + settle),
        )

    def shelf(self, change: ShelfChange) -> list[CartNews]:
        return self._said(self.book.shelf_change(change))

    def pick(self, lane: str, began: float, quantity: int = 1) -> ShelfChange:
        change = self.change(lane, began, quantity)
        self.shelf(change)
        return change

    def put_back(self, lane: str, began: float, quantity: int = 1) -> ShelfChange:
        change = self.change(lane, began, quantity, ShelfChangeKind.RETURN)
        self.shelf(change)
        return change

    def tick(self, seconds: float) -> list[CartNews]:
        return self._said(self.book.tick(at(seconds)))

    def kinds(self, since: int = 0) -> list[NewsKind]:
        return [n.kind for n in self.news[since:]]

    def quantities(self, visit: str) -> dict[str, int]:
        cart = self.book.cart(visit)
        assert cart is not None
        return {line.sku: line.quantity for line in cart.lines}

    def enter(self, visit: str, track: str, seconds: float, party: int = 1) -> None:
        """`track` stands alone at the gate, checks in and walks into the store."""
        self.see(track, seconds - 1, GATE, phase=TrackPhase.NEW)
        self.check_in(visit, seconds, party)
        self.see(track, seconds + 1, "aisle_0")
        self.tick(seconds + 6)
