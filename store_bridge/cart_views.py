"""The carts and the review queue as the API answers them (JSON objects).

Amounts are whole minor units of the currency (cents), as in the catalogue. A cart line
names the shelf changes behind it (`sources`), so that each charged item can be explained
from the sensor events that made it. A review names its candidate sessions by visit id (the
operator decides with `POST /v1/reviews/<id>`); nothing about a person is in either.
"""

from typing import TYPE_CHECKING, Any

from .core.cart_model import Cart, Review
from .status_page import CartRow, ReviewRow, Shelves
from .vocabulary import format_wire_time

if TYPE_CHECKING:
    from .carts import Carts


def cart_json(cart: Cart) -> dict[str, Any]:
    """``GET /v1/visits/<visit>/cart``."""
    currencies = {line.currency for line in cart.lines}
    return {
        "visit": cart.visit,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "currency": line.currency,
                "amount": line.amount,
                "sources": list(line.sources),
            }
            for line in cart.lines
        ],
        "total": cart.total,
        "currency": currencies.pop() if len(currencies) == 1 else None,
        "held": cart.held,
        "bound": cart.bound,
    }


def review_json(review: Review) -> dict[str, Any]:
    """One entry of ``GET /v1/reviews``."""
    change = review.change
    return {
        "id": review.id,
        "lane": change.lane,
        "sku": change.sku,
        "kind": change.kind.value,
        "quantity": change.quantity,
        "change": change.id,
        "at": format_wire_time(change.began),
        "candidates": list(review.candidates),
        "since": format_wire_time(review.since),
    }


def shelves(carts: Carts) -> Shelves:
    """What the status page shows of the shelves (no visit ids)."""
    products = carts.shelf.products
    rows = [
        CartRow(
            items=sum(line.quantity for line in cart.lines),
            total=cart.total,
            currency=cart.lines[0].currency if cart.lines else None,
            held=cart.held,
            bound=cart.bound,
        )
        for cart in carts.open_carts()
    ]
    reviews = [
        ReviewRow(
            lane=review.change.lane,
            product=product.name if (product := products.get(review.change.sku)) else "?",
            quantity=review.change.quantity,
            candidates=len(review.candidates),
            since=review.since,
        )
        for review in carts.reviews()
    ]
    return Shelves(
        carts=rows,
        reviews=reviews,
        anomalies=carts.anomalies,
        unattributed=carts.unattributed,
        ignored=sum(carts.ignored.values()),
        stale=sorted(carts.stale),
        abandoned=carts.abandoned,
        tracker_offset_s=carts.tracker_offset_s,
    )
