"""The virtual cart's news as access events: every kind maps, validates and says no more.

What the cart book says (`CartNews`) is published as an access event of the shared model:
the same word as its type, the session as its visit, ids, SKUs and whole quantities as its
data. Each event is checked against the schema (the bridge's quick validator and the
reference one) and read back unchanged by the integration's strict parser.
"""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from custom_components.concierge.core.events import AccessEventType, from_wire, to_wire
from custom_components.concierge.core.stores import (
    GATE_EVENT_TYPES,
    SHELF_ALERT_TYPES,
    SHELF_EVENT_TYPES,
    STORE_EVENT_TYPES,
)
from store_bridge.cart_events import OUTCOMES, news_data, news_event
from store_bridge.core.cart_model import CartNews, NewsKind
from store_bridge.events import InvalidEventError, schema
from store_bridge.vocabulary import EventType

REFERENCE = Draft202012Validator(schema(), format_checker=FormatChecker())
AT = datetime(2025, 7, 1, 9, 5, 12, 250_000, tzinfo=UTC)
SITE = "store-042"

FULL = {
    "lane": "lane-a3",
    "sku": "4006381333931",
    "quantity": 2,
    "change": "chg-000173",
    "candidates": 2,
    "review": "rev-000012",
    "reason": "deadline",
}


def _news(kind: NewsKind, **values: Any) -> CartNews:
    return CartNews(kind=kind, at=AT, visit="trip-0001", **{**FULL, **values})


@pytest.mark.parametrize("kind", list(NewsKind))
def test_every_kind_of_news_is_an_event_of_the_same_name_that_validates(kind: NewsKind) -> None:
    event = news_event(_news(kind), site=SITE)
    assert event["type"] == kind.value
    assert event["site"] == SITE
    assert event["visit"] == "trip-0001"
    assert event["portal"] is None
    assert event["grant"] is None
    assert event["source"] == "system"
    assert event["reason"] == "deadline"
    assert event["time"] == "2025-07-01T09:05:12.250Z"
    assert event["outcome"] == OUTCOMES[kind].value
    assert REFERENCE.is_valid(event)
    # The integration reads it unchanged, and knows it as a store event of the cart's.
    read = from_wire(json.loads(json.dumps(event)))
    assert to_wire(read) == event
    assert read.type in SHELF_EVENT_TYPES


def test_the_news_kinds_are_exactly_the_cart_event_types_on_both_sides() -> None:
    kinds = {kind.value for kind in NewsKind}
    assert kinds == {t.value for t in SHELF_EVENT_TYPES}
    assert kinds <= {t.value for t in EventType}
    assert kinds <= {t.value for t in STORE_EVENT_TYPES}
    # A gate's event entity offers none of them; the shelf entity offers only alerts.
    assert not kinds & {t.value for t in GATE_EVENT_TYPES}
    assert set(SHELF_ALERT_TYPES) <= SHELF_EVENT_TYPES
    assert AccessEventType.ITEM_PICKED not in SHELF_ALERT_TYPES


def test_a_pick_carries_its_lane_sku_quantity_and_change_only() -> None:
    news = CartNews(
        kind=NewsKind.ITEM_PICKED,
        at=AT,
        visit="trip-0001",
        lane="lane-a3",
        sku="OAT-MILK-1L",
        quantity=2,
        change="chg-1",
    )
    event = news_event(news, site=SITE)
    assert event["data"] == {
        "lane": "lane-a3",
        "sku": "OAT-MILK-1L",
        "quantity": 2,
        "change": "chg-1",
    }
    assert event["reason"] is None
    assert event["outcome"] == "ok"


def test_an_ambiguous_pick_says_how_many_could_have_made_it_but_not_who() -> None:
    news = CartNews(
        kind=NewsKind.PICK_REVIEW,
        at=AT,
        lane="lane-b1",
        sku="OAT-MILK-1L",
        quantity=1,
        change="chg-2",
        candidates=3,
        review="rev-7",
        reason="deadline",
    )
    event = news_event(news, site=SITE)
    assert event["visit"] is None
    assert event["data"] == {
        "lane": "lane-b1",
        "sku": "OAT-MILK-1L",
        "quantity": 1,
        "change": "chg-2",
        "candidates": 3,
        "review": "rev-7",
    }
    # An ambiguous pick with no candidate count yet still says 0, not nothing.
    held = news_data(CartNews(kind=NewsKind.PICK_AMBIGUOUS, at=AT, lane="l", sku="s"))
    assert held == {"lane": "l", "sku": "s", "quantity": 0, "candidates": 0}


def test_session_news_names_no_shelf() -> None:
    bound = news_event(CartNews(kind=NewsKind.TRACK_BOUND, at=AT, visit="v1"), site=SITE)
    assert bound["data"] == {}
    assert bound["outcome"] == "ok"
    unbound = news_event(
        CartNews(kind=NewsKind.SESSION_UNBOUND, at=AT, visit="v1", reason="deadline"), site=SITE
    )
    assert (unbound["outcome"], unbound["reason"], unbound["data"]) == ("failed", "deadline", {})


def test_an_anomaly_says_zero_units() -> None:
    news = CartNews(
        kind=NewsKind.LANE_ANOMALY,
        at=AT,
        lane="lane-c7",
        sku="CHOC-100G",
        change="chg-9",
        reason="not_whole_units",
    )
    event = news_event(news, site=SITE)
    assert event["data"]["quantity"] == 0
    assert event["reason"] == "not_whole_units"
    assert event["outcome"] == "info"


def test_a_time_in_another_zone_is_sent_in_utc() -> None:
    at = datetime(2025, 7, 1, 11, 5, 12, tzinfo=timezone(timedelta(hours=2)))
    event = news_event(CartNews(kind=NewsKind.TRACK_BOUND, at=at, visit="v1"), site=SITE)
    assert event["time"] == "2025-07-01T09:05:12.000Z"


@pytest.mark.parametrize(
    "news",
    [
        CartNews(kind=NewsKind.TRACK_BOUND, at=datetime(2025, 7, 1, 9, 0), visit="v1"),  # noqa: DTZ001 - the naive time refused
        CartNews(kind=NewsKind.ITEM_PICKED, at=AT, visit="a visit with spaces"),
        CartNews(kind=NewsKind.LANE_ANOMALY, at=AT, lane="l", reason="Not Snake"),
        CartNews(kind=NewsKind.ITEM_PICKED, at=AT, sku="x" * 201),
    ],
    ids=["naive-time", "visit-not-an-id", "reason-not-a-code", "sku-too-long"],
)
def test_news_the_schema_cannot_carry_is_refused_not_published(news: CartNews) -> None:
    with pytest.raises(InvalidEventError):
        news_event(news, site=SITE)
