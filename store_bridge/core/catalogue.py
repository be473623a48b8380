"""The product catalogue: TOML or CSV text → `Product`s by SKU, and lanes checked against it.

TOML (one ``[[products]]`` table per product)::

    currency = "EUR"          # optional: the currency of every product that names none
    tax_rate = "0.07"         # optional: likewise

    [[products]]
    sku = "4006381333931"     # text (quotes keep leading zeros): A-Z a-z 0-9 . _ : -
    name = "Cola 0.33 l"
    price = 129               # the unit price in MINOR units (cents): 129 is 1.29 EUR
    currency = "EUR"          # ISO 4217, three letters
    tax_rate = "0.19"         # a fraction (as text or a number): "0.19" is 19 %
    unit_weight_g = 355.0     # optional: one unit's weight in grams (a lane may give its own)

CSV: a header row with the same names, then one product per row (comma- or
semicolon-separated, as spreadsheets write them; an empty ``unit_weight_g`` cell is none)::

    sku,name,price,currency,tax_rate,unit_weight_g
    4006381333931,Cola 0.33 l,129,EUR,0.19,355

The price is always a whole number of minor units, never a decimal: ``price = 2.49`` and
``"2.49"`` are refused (write ``249``), so no rounding ever decides what a shopper pays.
Every SKU appears once, and a store has one currency. Each problem is a `CatalogueError`
naming the product and the field: ``products[2].price: ...`` (the index counts from 0, as
in the bridge's configuration) or ``line 4, price: ...`` (the CSV file's line, header = 1).
"""

import csv
import io
import math
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Final

from .cart_model import LaneSpec, Product

if TYPE_CHECKING:
    from _csv import Reader

FIELDS: Final = ("sku", "name", "price", "currency", "tax_rate", "unit_weight_g")
REQUIRED: Final = frozenset({"sku", "name", "price", "currency", "tax_rate"})
LANE_FIELDS: Final = frozenset({"id", "topic", "sku", "zone", "unit_weight_g", "tolerance_g"})
SKU: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
LANE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
CURRENCY: Final = re.compile(r"[A-Za-z]{3}")
MINOR_UNITS: Final = re.compile(r"[0-9]+")
MAX_PRICE: Final = 10**9
MAX_NAME: Final = 200
MAX_WEIGHT_G: Final = 1e6
DEFAULT_TOLERANCE_SHARE: Final = 0.25
"""A lane that gives no tolerance accepts a quarter of a unit either side of whole units."""


class CatalogueError(ValueError):
    """The catalogue (or a lane against it) cannot be used; says where and which field."""

    def __init__(self, where: str, field: str | None, problem: str) -> None:
        """`where`: ``products[2]``, ``line 4`` or ``lanes[1]``; `field` the key, if one."""
        self.where = where
        self.field = field
        if field is None:
            text = f"{where}: {problem}"
        elif where.startswith("line "):
            text = f"{where}, {field}: {problem}"
        else:
            text = f"{where}.{field}: {problem}"
        super().__init__(text)


def parse_catalogue(text: str, kind: str) -> dict[str, Product]:
    """The products in a catalogue's text, by SKU (`kind`: ``toml`` or ``csv``)."""
    if kind == "toml":
        return parse_toml(text)
    if kind == "csv":
        return parse_csv(text)
    raise CatalogueError("catalogue", None, f"unknown format {kind!r} (toml or csv)")


def parse_toml(text: str) -> dict[str, Product]:
    """The products of a TOML catalogue (``[[products]]`` tables)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        where = f"line {err.lineno}" if err.lineno else "catalogue"
        raise CatalogueError(where, None, f"not valid TOML ({err.msg})") from None
    if unknown := set(raw) - {"products", "currency", "tax_rate"}:
        name = min(unknown)
        raise CatalogueError("catalogue", name, "unknown key (products, currency, tax_rate)")
    products = raw.get("products")
    if not isinstance(products, list) or not all(isinstance(p, dict) for p in products):
        raise CatalogueError("catalogue", "products", "give each product as a [[products]] table")
    defaults: dict[str, object] = {k: raw[k] for k in ("currency", "tax_rate") if k in raw}
    return _collect(
        (f"products[{index}]", {**defaults, **table}) for index, table in enumerate(products)
    )


def parse_csv(text: str) -> dict[str, Product]:
    """The products of a CSV catalogue (a header row with the field names)."""
    text = text.removeprefix("\ufeff")
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise CatalogueError("line 1", None, "the header row is missing") from None
    except csv.Error as err:
        raise CatalogueError("line 1", None, f"not valid CSV ({err})") from None
    for name in header:
        if name not in FIELDS:
            raise CatalogueError(
                "line 1", name or "(empty)", f"unknown column ({', '.join(FIELDS)})"
            )
        if header.count(name) > 1:
            raise CatalogueError("line 1", name, "the column appears twice")
    for name in FIELDS:
        if name in REQUIRED and name not in header:
            raise CatalogueError("line 1", name, "the column is missing")
    return _collect(_csv_rows(reader, header))


def _csv_rows(reader: Reader, header: list[str]) -> Iterator[tuple[str, dict[str, object]]]:
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise CatalogueError(
                f"line {reader.line_num}", None, f"not valid CSV ({err})"
            ) from None
        where = f"line {reader.line_num}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            raise CatalogueError(where, None, f"{len(cells)} cells, the header has {len(header)}")
        yield (
            where,
            {name: cell.strip() for name, cell in zip(header, cells, strict=False) if cell.strip()},
        )


def _collect(rows: Iterable[tuple[str, Mapping[str, object]]]) -> dict[str, Product]:
    products: dict[str, Product] = {}
    first: dict[str, str] = {}
    currency: tuple[str, str] | None = None
    for where, row in rows:
        product = _product(where, row)
        if product.sku in products:
            raise CatalogueError(
                where, "sku", f"{product.sku!r} appears twice (first {first[product.sku]})"
            )
        if currency is None:
            currency = (product.currency, where)
        elif product.currency != currency[0]:
            raise CatalogueError(
                where,
                "currency",
                f"{product.currency} differs from {currency[0]} ({currency[1]}): "
                "a store has one currency",
            )
        products[product.sku] = product
        first[product.sku] = where
    if not products:
        raise CatalogueError("catalogue", None, "no products")
    return products


def _product(where: str, row: Mapping[str, object]) -> Product:
    if unknown := set(row) - set(FIELDS):
        raise CatalogueError(where, min(unknown), f"unknown key ({', '.join(FIELDS)})")
    for name in FIELDS:
        if name in REQUIRED and name not in row:
            raise CatalogueError(where, name, "is missing")
    weight = row.get("unit_weight_g")
    return Product(
        sku=_sku(where, row["sku"]),
        name=_name(where, row["name"]),
        unit_price=_price(where, row["price"]),
        currency=_currency(where, row["currency"]),
        tax_rate=_tax_rate(where, row["tax_rate"]),
        unit_weight_g=None if weight is None else _grams(where, "unit_weight_g", weight),
    )


def _sku(where: str, value: object) -> str:
    if not isinstance(value, str):
        raise CatalogueError(where, "sku", "must be text (quotes keep leading zeros)")
    if not SKU.fullmatch(value):
        raise CatalogueError(where, "sku", "must be 1-64 characters of A-Z a-z 0-9 . _ : -")
    return value


def _name(where: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(where, "name", "must be a non-empty text")
    name = value.strip()
    if len(name) > MAX_NAME or any(not ch.isprintable() for ch in name):
        raise CatalogueError(where, "name", f"must be at most {MAX_NAME} printable characters")
    return name


def _price(where: str, value: object) -> int:
    if isinstance(value, str) and MINOR_UNITS.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PRICE:
        raise CatalogueError(
            where,
            "price",
            f"must be a whole number of minor units from 0 to {MAX_PRICE} "
            f"(249 for 2.49), not {value!r}",
        )
    return value


def _currency(where: str, value: object) -> str:
    if not isinstance(value, str) or not CURRENCY.fullmatch(value):
        raise CatalogueError(where, "currency", "must be a three-letter ISO 4217 code (EUR)")
    return value.upper()


def _tax_rate(where: str, value: object) -> Decimal:
    problem = 'must be a fraction from 0 to below 1 ("0.19" for 19 %)'
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise CatalogueError(where, "tax_rate", problem)
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation:
        raise CatalogueError(where, "tax_rate", problem) from None
    if not rate.is_finite() or not 0 <= rate < 1:
        raise CatalogueError(where, "tax_rate", problem)
    return rate


def _grams(where: str, field: str, value: object) -> float:
    problem = f"must be a number of grams above 0 (at most {MAX_WEIGHT_G:g})"
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise CatalogueError(where, field, problem) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CatalogueError(where, field, problem)
    grams = float(value)
    if not math.isfinite(grams) or not 0 < grams <= MAX_WEIGHT_G:
        raise CatalogueError(where, field, problem)
    return grams


def lane_specs(
    lanes: Iterable[Mapping[str, object]], products: Mapping[str, Product]
) -> dict[str, LaneSpec]:
    """Raw ``[[lanes]]`` tables checked against the catalogue, by lane id.

    A lane without ``unit_weight_g`` takes its product's; one without ``tolerance_g``
    accepts a quarter of a unit. The tolerance must stay below half a unit (else a change
    could be two different numbers of units). Lane ids and topics are unique. Errors name
    the lane: ``lanes[1].sku: ...``.
    """
    specs: dict[str, LaneSpec] = {}
    topics: dict[str, str] = {}
    for index, table in enumerate(lanes):
        where = f"lanes[{index}]"
        spec = _lane(where, table, products)
        if spec.id in specs:
            raise CatalogueError(where, "id", f"{spec.id!r} is used by another lane")
        if spec.topic in topics:
            raise CatalogueError(
                where, "topic", f"{spec.topic!r} is used by lane {topics[spec.topic]!r}"
            )
        specs[spec.id] = spec
        topics[spec.topic] = spec.id
    return specs


def _lane(where: str, table: Mapping[str, object], products: Mapping[str, Product]) -> LaneSpec:
    if unknown := set(table) - LANE_FIELDS:
        raise CatalogueError(where, min(unknown), f"unknown key ({', '.join(sorted(LANE_FIELDS))})")
    for name in ("id", "topic", "sku", "zone"):
        value = table.get(name)
        if not isinstance(value, str) or not value.strip():
            raise CatalogueError(where, name, "must be a non-empty text")
    lane_id, topic = str(table["id"]), str(table["topic"])
    sku, zone = str(table["sku"]), str(table["zone"])
    if not LANE_ID.fullmatch(lane_id):
        raise CatalogueError(where, "id", "must be 1-64 characters of A-Z a-z 0-9 . _ : -")
    if any(ch in topic for ch in "#+\x00"):
        raise CatalogueError(where, "topic", "must be an MQTT topic without wildcards")
    product = products.get(sku)
    if product is None:
        raise CatalogueError(where, "sku", f"{sku!r} is not in the catalogue (lane {lane_id!r})")
    unit = _unit_weight(where, table.get("unit_weight_g"), product, lane_id)
    return LaneSpec(
        id=lane_id,
        topic=topic,
        sku=sku,
        zone=zone,
        unit_weight_g=unit,
        tolerance_g=_tolerance(where, table.get("tolerance_g"), unit, lane_id),
    )


def _unit_weight(where: str, raw: object, product: Product, lane_id: str) -> float:
    if raw is not None:
        return _grams(where, "unit_weight_g", raw)
    if product.unit_weight_g is not None:
        return product.unit_weight_g
    raise CatalogueError(
        where,
        "unit_weight_g",
        f"give it here or in the catalogue ({product.sku}) (lane {lane_id!r})",
    )


def _tolerance(where: str, raw: object, unit: float, lane_id: str) -> float:
    if raw is None:
        return unit * DEFAULT_TOLERANCE_SHARE
    tolerance = _grams(where, "tolerance_g", raw)
    if tolerance >= unit / 2:
        raise CatalogueError(
            where,
            "tolerance_g",
            f"{tolerance:g} g must be less than half the unit weight ({unit:g} g) "
            f"(lane {lane_id!r})",
        )
    return tolerance
