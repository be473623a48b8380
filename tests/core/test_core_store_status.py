"""The contract, Home Assistant side: the store status schema and `core.stores.parse_status`.

The retained status a store bridge publishes has its own schema
(`schema/store-status.v1.schema.json`) and example files. The integration's parser accepts
every valid example and refuses every invalid one, and it agrees with the schema on every
one-key change of a valid example. (The bridge's side, that what it publishes validates,
is in tests/store_bridge/test_contract.py.)
"""

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from custom_components.concierge.core.store_sales import (
    CHECKOUT_COUNTS,
    SALES_KEYS,
    CheckoutCounts,
    SalesToday,
)
from custom_components.concierge.core.stores import (
    MAX_GATES,
    MAX_NAME_LENGTH,
    SHELF_COUNTS,
    STATUS_VERSION,
    Drop,
    Shelf,
    StoreStatus,
    parse_status,
)
from custom_components.concierge.core.vocabulary import status_topic

ROOT = Path(__file__).resolve().parents[2]
SCHEMA: dict[str, Any] = json.loads(
    (ROOT / "schema" / "store-status.v1.schema.json").read_text(encoding="utf-8")
)
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=FormatChecker())
EXAMPLES = ROOT / "schema" / "examples" / "store-status"
VALID = sorted((EXAMPLES / "valid").glob("*.json"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.json"))
SITE = "store-042"
SHELF_CHECKED_ONLY = "tracker_offset_s"
"""A shelf key the integration checks (as the schema says) but does not show."""
ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    True,
    False,
    "",
    "   ",
    "x" * 300,
    "a b",
    "Entry",
    "2025-07-01",
    [],
    [{"id": "g"}],
    {},
    {"id": "g"},
]


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def accepted(obj: object) -> bool:
    """The integration's verdict: a well-formed status (of this site or another)."""
    return parse_status(json.dumps(obj), SITE) is not Drop.INVALID_STATUS


def test_the_schema_is_a_draft_2020_12_schema_that_the_code_agrees_with() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["properties"]["v"]["const"] == STATUS_VERSION
    assert SCHEMA["properties"]["gates"]["maxItems"] == MAX_GATES
    assert SCHEMA["$defs"]["name"]["maxLength"] == MAX_NAME_LENGTH
    assert set(SCHEMA["required"]) == {"v", "site", "online"}
    assert set(SCHEMA["$defs"]["shelf"]["properties"]) == {*SHELF_COUNTS, SHELF_CHECKED_ONLY}
    checkout = SCHEMA["$defs"]["checkout"]["properties"]
    assert set(checkout) == {*CHECKOUT_COUNTS, "sales_today"}
    assert set(SCHEMA["$defs"]["sales"]["properties"]) == set(SALES_KEYS)


def test_the_topics_file_names_this_schema_for_the_status_topic() -> None:
    topics = load(ROOT / "schema" / "store-topics.json")["topics"]
    assert topics["status"]["payload"] == "store-status.v1.schema.json"
    assert topics["status"]["retain"] is True
    assert status_topic("p", SITE) == topics["status"]["address"].format(prefix="p", site=SITE)


def test_there_are_enough_examples() -> None:
    assert len(VALID) >= 6
    assert len(INVALID) >= 15
    assert sum("shelf" in load(path) for path in VALID) >= 2
    assert sum("shelf" in load(path) for path in INVALID) >= 3
    assert sum("checkout" in load(path) for path in VALID) >= 3
    assert sum("checkout" in load(path) for path in INVALID) >= 6


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_every_valid_example_is_read_as_it_says(path: Path) -> None:
    obj = load(path)
    VALIDATOR.validate(obj)
    status = parse_status(path.read_text(encoding="utf-8"), SITE)
    assert isinstance(status, StoreStatus)
    assert status.online is obj["online"]
    assert status.name == obj.get("name")
    assert status.capacity == obj.get("capacity")
    assert status.occupancy == obj.get("occupancy")
    if obj.get("gates") is None:
        assert status.gates is None
    else:
        assert status.gates is not None
        assert [(g.gate_id, g.name, g.role) for g in status.gates] == [
            (g["id"], g.get("name", g["id"]), g.get("role")) for g in obj["gates"]
        ]
    if obj.get("shelf") is None:
        assert status.shelf is None
    else:
        assert status.shelf == Shelf(**{key: obj["shelf"].get(key) for key in SHELF_COUNTS})
    checkout = obj.get("checkout")
    if checkout is None:
        assert status.checkout is None
    else:
        sales = checkout.get("sales_today")
        assert status.checkout == CheckoutCounts(
            **{key: checkout.get(key) for key in CHECKOUT_COUNTS},
            sales_today=None
            if sales is None
            else SalesToday(**{key: sales.get(key) for key in SALES_KEYS}),
        )


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_every_invalid_example_is_refused(path: Path) -> None:
    assert not VALIDATOR.is_valid(load(path))
    assert parse_status(path.read_text(encoding="utf-8"), SITE) is Drop.INVALID_STATUS


def _variants(base: dict[str, Any]) -> list[Any]:
    """Each key of `base` (its first gate's, its shelf's) removed or replaced by odd values."""
    variants: list[Any] = [{**base, "extra": 1}]
    for key in base:
        variants.append({k: v for k, v in base.items() if k != key})
        variants.extend({**base, key: value} for value in ODD_VALUES)
    gates = base.get("gates")
    if gates:
        first, rest = gates[0], gates[1:]
        for key in ("id", "name", "role"):
            changed = [{k: v for k, v in first.items() if k != key}]
            changed.extend({**first, key: value} for value in ODD_VALUES)
            variants.extend({**base, "gates": [gate, *rest]} for gate in changed)
    shelf = base.get("shelf")
    if shelf:
        for key in (*SHELF_COUNTS, SHELF_CHECKED_ONLY, "later"):
            changed = [{k: v for k, v in shelf.items() if k != key}]
            changed.extend({**shelf, key: value} for value in ODD_VALUES)
            variants.extend({**base, "shelf": counts} for counts in changed)
    checkout = base.get("checkout")
    if checkout:
        for key in (*CHECKOUT_COUNTS, "sales_today", "later"):
            changed = [{k: v for k, v in checkout.items() if k != key}]
            changed.extend({**checkout, key: value} for value in ODD_VALUES)
            variants.extend({**base, "checkout": counts} for counts in changed)
        sales = checkout.get("sales_today")
        for key in (*SALES_KEYS, "later") if sales else ():
            changed = [{k: v for k, v in sales.items() if k != key}]
            changed.extend({**sales, key: value} for value in (*ODD_VALUES, "EUR", "eur", "E1R"))
            variants.extend({**base, "checkout": {**checkout, "sales_today": s}} for s in changed)
    return variants


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_the_parser_agrees_with_the_schema_on_every_change(path: Path) -> None:
    for variant in _variants(load(path)):
        assert accepted(variant) is VALIDATOR.is_valid(variant), variant


def test_a_status_of_another_site_is_well_formed_but_not_ours() -> None:
    other = {**load(EXAMPLES / "valid" / "online.json"), "site": "store-043"}
    assert VALIDATOR.is_valid(other)
    assert parse_status(json.dumps(other), SITE) is Drop.OTHER_SITE


def test_repeated_gate_ids_are_refused_although_the_schema_cannot_say_so() -> None:
    status = load(EXAMPLES / "valid" / "online.json")
    status["gates"] = [status["gates"][0], status["gates"][0]]
    assert VALIDATOR.is_valid(status)
    assert parse_status(json.dumps(status), SITE) is Drop.INVALID_STATUS


def test_picks_wait_for_review_while_the_queue_is_not_empty() -> None:
    status = load(EXAMPLES / "valid" / "with-shelf.json")
    for review, waiting in ((3, True), (0, False), (None, False)):
        status["shelf"]["review"] = review
        read = parse_status(json.dumps(status), SITE)
        assert isinstance(read, StoreStatus)
        assert read.shelf is not None
        assert read.shelf.waiting_for_review is waiting
