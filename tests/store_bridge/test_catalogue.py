"""The catalogue (TOML or CSV) and the lanes checked against it: errors name line and field."""

import csv
import io
import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store_bridge.core.cart_model import LaneSpec, Product
from store_bridge.core.catalogue import (
    CatalogueError,
    lane_specs,
    parse_catalogue,
    parse_csv,
    parse_toml,
)

TOML = """\
currency = "EUR"
tax_rate = "0.07"

[[products]]
sku = "4006381333931"
name = "Cola 0.33 l"
price = 129
tax_rate = "0.19"
unit_weight_g = 355.0

[[products]]
sku = "0042"
name = "  Rye bread  "
price = 0
currency = "eur"
"""

COLA = Product(
    sku="4006381333931",
    name="Cola 0.33 l",
    unit_price=129,
    currency="EUR",
    tax_rate=Decimal("0.19"),
    unit_weight_g=355.0,
)
BREAD = Product(
    sku="0042", name="Rye bread", unit_price=0, currency="EUR", tax_rate=Decimal("0.07")
)


def test_a_toml_catalogue_gives_products_by_sku_with_the_file_wide_defaults() -> None:
    assert parse_toml(TOML) == {COLA.sku: COLA, BREAD.sku: BREAD}
    assert parse_catalogue(TOML, "toml") == parse_toml(TOML)


def test_a_csv_catalogue_with_the_same_names_gives_the_same_products() -> None:
    text = (
        "\ufeffsku,name,price,currency,tax_rate,unit_weight_g\r\n"
        "4006381333931,Cola 0.33 l,129,EUR,0.19,355\r\n"
        "\r\n"
        '0042,"  Rye bread  ",0,eur,0.07,\r\n'
    )
    assert parse_csv(text) == {COLA.sku: COLA, BREAD.sku: BREAD}
    assert parse_catalogue(text, "csv") == parse_csv(text)


def test_a_spreadsheets_semicolons_and_a_name_with_a_comma() -> None:
    text = 'sku;name;price;currency;tax_rate\n7;"Milk, 1 l";109;EUR;0.07\n'
    (product,) = parse_csv(text).values()
    assert (product.name, product.unit_price, product.unit_weight_g) == ("Milk, 1 l", 109, None)


def test_a_tax_rate_given_as_a_number_is_the_decimal_written() -> None:
    text = '[[products]]\nsku = "a"\nname = "A"\nprice = 1\ncurrency = "EUR"\ntax_rate = 0.07\n'
    assert parse_toml(text)["a"].tax_rate == Decimal("0.07")


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(CatalogueError, match="unknown format 'xlsx'"):
        parse_catalogue(TOML, "xlsx")


def product_toml(**fields: object) -> str:
    base: dict[str, object] = {
        "sku": "a",
        "name": "A",
        "price": 100,
        "currency": "EUR",
        "tax_rate": "0.19",
    }
    base.update(fields)
    lines = ["[[products]]"]
    for key, value in base.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {str(value).lower()}")
        elif value is not None:
            lines.append(f"{key} = {value!r}".replace("'", '"'))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"price": "2.49"}, "products[1].price: must be a whole number of minor units"),
        ({"price": 2.49}, "products[1].price: must be a whole number of minor units"),
        ({"price": -1}, "products[1].price: must be a whole number of minor units"),
        ({"price": True}, "products[1].price: must be a whole number of minor units"),
        ({"price": 10**10}, "products[1].price: must be a whole number of minor units"),
        ({"price": None}, "products[1].price: is missing"),
        ({"name": None}, "products[1].name: is missing"),
        ({"name": "   "}, "products[1].name: must be a non-empty text"),
        ({"name": "x" * 201}, "products[1].name: must be at most 200 printable"),
        ({"name": "tab\there"}, "products[1].name: must be at most 200 printable"),
        ({"sku": 4006381333931}, "products[1].sku: must be text"),
        ({"sku": "has space"}, "products[1].sku: must be 1-64 characters"),
        ({"sku": "a"}, "products[1].sku: 'a' appears twice (first products[0])"),
        ({"currency": "EU"}, "products[1].currency: must be a three-letter ISO 4217 code"),
        ({"currency": 978}, "products[1].currency: must be a three-letter ISO 4217 code"),
        ({"currency": "USD"}, "products[1].currency: USD differs from EUR (products[0])"),
        ({"tax_rate": "19"}, "products[1].tax_rate: must be a fraction"),
        ({"tax_rate": "-0.1"}, "products[1].tax_rate: must be a fraction"),
        ({"tax_rate": "NaN"}, "products[1].tax_rate: must be a fraction"),
        ({"tax_rate": "19 %"}, "products[1].tax_rate: must be a fraction"),
        ({"tax_rate": True}, "products[1].tax_rate: must be a fraction"),
        ({"unit_weight_g": 0}, "products[1].unit_weight_g: must be a number of grams above 0"),
        ({"unit_weight_g": "heavy"}, "products[1].unit_weight_g: must be a number of grams"),
        ({"unit_weight_g": "nan"}, "products[1].unit_weight_g: must be a number of grams"),
        ({"unit_weight_g": [1]}, "products[1].unit_weight_g: must be a number of grams"),
        ({"unit_price": 100}, "products[1].unit_price: unknown key"),
    ],
)
def test_a_toml_product_that_cannot_be_used_names_its_index_and_field(
    fields: dict[str, object], message: str
) -> None:
    first = product_toml(sku="a")
    second = product_toml(**{"sku": "b", **fields})
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_toml(first + second)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[products]]\nsku = "a"\nname = \n', "line 3: not valid TOML"),
        ('[[products]]\nsku = "a"\n', "products[0].name: is missing"),
        ('currency = "EUR"\n', "catalogue.products: give each product as a [[products]] table"),
        ("products = [1, 2]\n", "catalogue.products: give each product"),
        ("store = 1\nproducts = []\n", "catalogue.store: unknown key"),
        ("products = []\n", "catalogue: no products"),
    ],
)
def test_a_toml_catalogue_that_cannot_be_used_says_where(text: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_toml(text)


HEADER = "sku,name,price,currency,tax_rate,unit_weight_g\n"


@pytest.mark.parametrize(
    ("text", "message", "where", "field"),
    [
        (
            HEADER + "a,A,1,EUR,0.19,\n\nb,B,2.49,EUR,0.19,\n",
            "line 4, price: must be",
            "line 4",
            "price",
        ),
        (
            HEADER + "a,A,1,EUR,0.19,\nb,B,-5,EUR,0.19,\n",
            "line 3, price: must be",
            "line 3",
            "price",
        ),
        (
            HEADER + "a,A,1,EUR,0.19,\na,B,1,EUR,0.19,\n",
            "line 3, sku: 'a' appears twice (first line 2)",
            "line 3",
            "sku",
        ),
        (HEADER + "a,A,1,EUR,19%,\n", "line 2, tax_rate: must be a fraction", "line 2", "tax_rate"),
        (
            HEADER + "a,A,1,EURO,0.1,\n",
            "line 2, currency: must be a three-letter",
            "line 2",
            "currency",
        ),
        (HEADER + "a,A,1,EUR,0.1,12,5\n", "line 2: 7 cells, the header has 6", "line 2", None),
        (HEADER + "a,,1,EUR,0.1,\n", "line 2, name: is missing", "line 2", "name"),
        (
            HEADER + "a,A,1,EUR,0.1,-3\n",
            "line 2, unit_weight_g: must be a number of grams",
            "line 2",
            "unit_weight_g",
        ),
        (HEADER + 'a,"A"x,1,EUR,0.1,\n', "line 2: not valid CSV", "line 2", None),
        (
            "sku,name,price,currency\n",
            "line 1, tax_rate: the column is missing",
            "line 1",
            "tax_rate",
        ),
        (
            "sku,name,price,currency,tax_rate,colour\n",
            "line 1, colour: unknown column",
            "line 1",
            "colour",
        ),
        (
            "sku,name,price,price,currency,tax_rate\n",
            "line 1, price: the column appears twice",
            "line 1",
            "price",
        ),
        (
            "sku,,name,price,currency,tax_rate\n",
            "line 1, (empty): unknown column",
            "line 1",
            "(empty)",
        ),
        ("", "line 1: the header row is missing", "line 1", None),
        ('"sku\n', "line 1: not valid CSV", "line 1", None),
        (HEADER, "catalogue: no products", "catalogue", None),
    ],
)
def test_a_csv_catalogue_that_cannot_be_used_names_the_line_and_field(
    text: str, message: str, where: str, field: str | None
) -> None:
    with pytest.raises(CatalogueError, match=re.escape(message)) as caught:
        parse_csv(text)
    assert (caught.value.where, caught.value.field) == (where, field)


# --- round trip: what a shop writes is what it gets --------------------------------------

PRODUCTS = st.lists(
    st.builds(
        Product,
        sku=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True),
        name=st.text(
            st.characters(codec="utf-8", categories=["L", "N", "P"], include_characters=" "),
            min_size=1,
            max_size=40,
        )
        .map(str.strip)
        .filter(bool),
        unit_price=st.integers(min_value=0, max_value=10**9),
        currency=st.just("EUR"),
        tax_rate=st.decimals(min_value=0, max_value="0.99", places=3),
        unit_weight_g=st.none() | st.floats(min_value=0.1, max_value=10000.0),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda p: p.sku,
)


@settings(max_examples=50, deadline=None)
@given(products=PRODUCTS)
def test_products_written_as_csv_or_toml_read_back_the_same(products: list[Product]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "name", "price", "currency", "tax_rate", "unit_weight_g"])
    toml = []
    for p in products:
        weight = "" if p.unit_weight_g is None else repr(p.unit_weight_g)
        writer.writerow([p.sku, p.name, p.unit_price, p.currency, str(p.tax_rate), weight])
        name = p.name.replace("\\", "\\\\").replace('"', '\\"')
        toml.append(
            f'[[products]]\nsku = "{p.sku}"\nname = "{name}"\nprice = {p.unit_price}\n'
            f'currency = "{p.currency}"\ntax_rate = "{p.tax_rate}"\n'
            + ("" if p.unit_weight_g is None else f"unit_weight_g = {p.unit_weight_g!r}\n")
        )
    expected = {p.sku: p for p in products}
    assert parse_csv(out.getvalue()) == expected
    assert parse_toml("\n".join(toml)) == expected


# --- lanes against the catalogue --------------------------------------------------------

CATALOGUE = parse_toml(TOML)


def raw_lane(**fields: object) -> dict[str, object]:
    lane: dict[str, object] = {
        "id": "lane_cola",
        "topic": "shelf-1/sensor/lane_cola/state",
        "sku": COLA.sku,
        "zone": "aisle_drinks",
    }
    lane.update(fields)
    return {k: v for k, v in lane.items() if v is not None}


def test_a_lane_takes_its_unit_weight_from_the_catalogue_and_a_quarter_unit_tolerance() -> None:
    specs = lane_specs([raw_lane()], CATALOGUE)
    assert specs == {
        "lane_cola": LaneSpec(
            id="lane_cola",
            topic="shelf-1/sensor/lane_cola/state",
            sku=COLA.sku,
            zone="aisle_drinks",
            unit_weight_g=355.0,
            tolerance_g=88.75,
        )
    }


def test_a_lanes_own_unit_weight_and_tolerance_win() -> None:
    bread = raw_lane(id="lane_bread", topic="b", sku="0042", unit_weight_g=500, tolerance_g=20.5)
    spec = lane_specs([raw_lane(), bread], CATALOGUE)["lane_bread"]
    assert (spec.unit_weight_g, spec.tolerance_g) == (500.0, 20.5)


@pytest.mark.parametrize(
    ("lanes", "message"),
    [
        ([raw_lane(sku="999")], "lanes[0].sku: '999' is not in the catalogue (lane 'lane_cola')"),
        (
            [raw_lane(sku="0042")],
            "lanes[0].unit_weight_g: give it here or in the catalogue (0042) (lane 'lane_cola')",
        ),
        (
            [raw_lane(tolerance_g=177.5)],
            "lanes[0].tolerance_g: 177.5 g must be less than half the unit weight (355 g)",
        ),
        ([raw_lane(tolerance_g=0)], "lanes[0].tolerance_g: must be a number of grams above 0"),
        ([raw_lane(unit_weight_g=-3)], "lanes[0].unit_weight_g: must be a number of grams"),
        ([raw_lane(), raw_lane(topic="x")], "lanes[1].id: 'lane_cola' is used by another lane"),
        (
            [raw_lane(), raw_lane(id="other")],
            "lanes[1].topic: 'shelf-1/sensor/lane_cola/state' is used by lane 'lane_cola'",
        ),
        ([raw_lane(topic="shelf-1/sensor/+/state")], "lanes[0].topic: must be an MQTT topic"),
        ([raw_lane(id="no spaces")], "lanes[0].id: must be 1-64 characters"),
        ([raw_lane(zone=None)], "lanes[0].zone: must be a non-empty text"),
        ([raw_lane(zone=" ")], "lanes[0].zone: must be a non-empty text"),
        ([raw_lane(unit_weight=355)], "lanes[0].unit_weight: unknown key"),
    ],
)
def test_a_lane_that_does_not_fit_the_catalogue_is_named(
    lanes: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(CatalogueError, match=re.escape(message)):
        lane_specs(lanes, CATALOGUE)
