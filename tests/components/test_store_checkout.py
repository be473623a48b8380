"""A store's checkout in Home Assistant, on real stacks (a real Mosquitto, HA's real MQTT).

The test plays a bridge that takes payments: its retained status carries the `checkout`
counts and today's sales, and its events include the checkout's. The owner sees today's
sales (money in the currency's major units, exactly, and how many), payments failing,
accounts owing and receipts waiting as sensors; a repair issue while accounts owe, and one
while refunds stay uncertain past the bridge's bound; one event entity for what needs
someone. Every payment is on the bus and in the audit chain, but a capture fires no entity.
"""

import logging
from datetime import timedelta
from typing import Any

import pytest
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.stores import CHECKOUT_ALERT_TYPES, CHECKOUT_EVENT_TYPES
from custom_components.concierge.diagnostics import async_get_config_entry_diagnostics
from custom_components.concierge.store_checkout import owing_issue_id, stuck_issue_id
from tests.waiting import until

from . import test_store_site as site
from .helpers import call
from .store_views import (
    assert_warning,
    counts_shown,
    entities,
    issue,
    shown_state,
    track_fired,
    unload,
    valid_examples,
)
from .test_store_site import ENTRY_EVENT, WILL, Bridge, event, runtime, state
from .test_store_site import status as store_status

# The store site's fixtures: a real broker, Home Assistant's MQTT, a loaded store.
mqtt_entry = site.mqtt_entry
bridge = site.bridge
store = site.store
access_events = site.access_events

SALES = {"amount": 12345, "count": 17, "refunded": 250, "currency": "EUR"}
CHECKOUT: dict[str, Any] = {
    "pending": 2,
    "retrying": 1,
    "failed": 1,
    "outstanding_accounts": 1,
    "sales_today": SALES,
    "receipts_waiting": 3,
    "receipts_failed": 0,
    "refunds_uncertain": 0,
    "refunds_stuck": 0,
}
SALES_TODAY = "sensor.corner_store_sales_today"
SALES_COUNT = "sensor.corner_store_sales_today_count"
COUNTS = {
    "failed": "sensor.corner_store_payments_failing",
    "outstanding_accounts": "sensor.corner_store_accounts_owing",
    "receipts_waiting": "sensor.corner_store_receipts_waiting",
    "retrying": "sensor.corner_store_payments_retrying",
    "pending": "sensor.corner_store_checkouts_pending",
    "receipts_failed": "sensor.corner_store_receipts_not_sent",
    "refunds_uncertain": "sensor.corner_store_refunds_uncertain",
}
ALERTS = "event.corner_store_payment_alerts"


def _checkout_entities(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    return entities(
        hass,
        entry,
        lambda unique_id: (
            unique_id.endswith(("sales_today", "sales_count", "payment_alerts"))
            or "_checkout_" in unique_id
        ),
    )


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return issue(hass, owing_issue_id(entry.entry_id))


def _stuck_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return issue(hass, stuck_issue_id(entry.entry_id))


async def _checkout(hass: HomeAssistant, bridge: Bridge, **counts: Any) -> dict[str, Any]:
    """Publish a status with these checkout counts and wait until the sensors show them."""
    checkout = CHECKOUT | counts
    await bridge.status(store_status(checkout=checkout))
    await counts_shown(hass, COUNTS, checkout)
    sales = checkout["sales_today"] or {}
    count = "unknown" if sales.get("count") is None else str(sales["count"])
    await until(lambda: shown_state(hass, SALES_COUNT) == count)
    return checkout


async def test_a_store_without_payments_has_no_checkout_entities_until_its_bridge_names_them(
    hass: HomeAssistant,
    store: MockConfigEntry,
    bridge: Bridge,
    access_events: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await site._marker(bridge, access_events)
    assert _checkout_entities(hass, store) == []
    assert _issue(hass, store) is None

    caplog.set_level(logging.WARNING)
    await _checkout(hass, bridge)
    assert _checkout_entities(hass, store) == sorted(
        [*COUNTS.values(), SALES_TODAY, SALES_COUNT, ALERTS]
    )
    sales = state(hass, SALES_TODAY)
    # 12345 cents are 123.45 euros, exactly.
    assert sales.state == "123.45"
    assert sales.attributes["unit_of_measurement"] == "EUR"
    assert sales.attributes["device_class"] == "monetary"
    assert sales.attributes["state_class"] == "total"
    assert str(sales.attributes["refunded"]) == "2.50"
    assert dt_util.parse_datetime(sales.attributes["last_reset"]) == dt_util.start_of_local_day()
    count = state(hass, SALES_COUNT)
    assert count.state == "17"
    assert count.attributes["state_class"] == "total"
    assert count.attributes["last_reset"] == sales.attributes["last_reset"]
    assert state(hass, ALERTS).state == STATE_UNKNOWN
    registry = er.async_get(hass)
    for key in ("retrying", "pending", "receipts_failed", "refunds_uncertain"):
        entry = registry.async_get(COUNTS[key])
        assert entry is not None
        assert entry.entity_category is er.EntityCategory.DIAGNOSTIC
    # A second status adds nothing twice; Home Assistant found nothing wrong with them.
    await _checkout(hass, bridge, receipts_waiting=4)
    assert len(_checkout_entities(hass, store)) == len(COUNTS) + 3
    assert not [r for r in caplog.records if "corner_store" in r.getMessage()]


async def test_sales_in_a_currency_without_cents_and_sales_not_known(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    await _checkout(hass, bridge, sales_today={"amount": 1999, "count": 3, "currency": "JPY"})
    sales = state(hass, SALES_TODAY)
    assert (sales.state, sales.attributes["unit_of_measurement"]) == ("1999", "JPY")
    assert sales.attributes["refunded"] is None

    await _checkout(hass, bridge, sales_today=None, failed=None)
    assert state(hass, SALES_TODAY).state == STATE_UNKNOWN
    assert state(hass, COUNTS["failed"]).state == STATE_UNKNOWN
    assert runtime(store).checkouts.counts is not None


async def test_a_new_day_at_the_store_starts_the_daily_totals_again(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    await _checkout(hass, bridge)
    midnight = dt_util.start_of_local_day()
    before = dt_util.now()
    # The store's day turned (its time zone may not be Home Assistant's): totals back down.
    await _checkout(hass, bridge, sales_today={**SALES, "amount": 0, "count": 0, "refunded": 0})
    await until(lambda: state(hass, SALES_TODAY).state == "0.00")
    reset = dt_util.parse_datetime(state(hass, SALES_TODAY).attributes["last_reset"])
    assert reset is not None
    assert reset >= before > midnight
    assert state(hass, SALES_COUNT).attributes["last_reset"] == reset.isoformat()
    # Sales since then add up from zero; the day does not start again.
    await _checkout(hass, bridge, sales_today={**SALES, "amount": 499, "count": 1, "refunded": 0})
    assert state(hass, SALES_TODAY).state == "4.99"
    assert state(hass, SALES_TODAY).attributes["last_reset"] == reset.isoformat()
    assert reset - midnight < timedelta(days=1)


async def test_a_repair_stands_while_accounts_owe_and_goes_when_they_are_settled(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    await _checkout(hass, bridge, outstanding_accounts=2)
    assert_warning(_issue(hass, store), "payments_outstanding", "2")

    await _checkout(hass, bridge, outstanding_accounts=3)
    await until(lambda: (i := _issue(hass, store)) and i.translation_placeholders["count"] == "3")

    # Payments still being retried (the processor is away) owe nothing yet: no repair.
    await _checkout(hass, bridge, outstanding_accounts=0, retrying=5)
    assert _issue(hass, store) is None
    await _checkout(hass, bridge, outstanding_accounts=None)
    assert _issue(hass, store) is None

    # The will says nothing of the checkouts: the last counts stay, shown unavailable.
    await _checkout(hass, bridge, outstanding_accounts=1)
    await bridge.status(WILL)
    await until(lambda: state(hass, COUNTS["outstanding_accounts"]).state == STATE_UNAVAILABLE)
    assert state(hass, SALES_TODAY).state == STATE_UNAVAILABLE
    assert _issue(hass, store) is not None

    await unload(hass, store)
    assert _issue(hass, store) is None


async def test_refunds_of_unknown_outcome_are_counted_for_a_closer_look_without_a_repair(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    # The bridge looks each one up at the processor until it knows: nothing for the owner to do.
    await _checkout(hass, bridge, outstanding_accounts=0, refunds_uncertain=2)
    shown = state(hass, COUNTS["refunds_uncertain"])
    assert (shown.state, shown.attributes["friendly_name"]) == (
        "2",
        "Corner store Refunds uncertain",
    )
    assert shown.attributes["state_class"] == "measurement"
    assert [i for i in ir.async_get(hass).issues.values() if i.domain == DOMAIN] == []
    key = f"component.{DOMAIN}.entity.sensor.store_refunds_uncertain.name"
    translations = await async_get_translations(hass, "de", "entity", [DOMAIN])
    assert translations[key] == "Ungeklärte Erstattungen"

    await _checkout(hass, bridge, refunds_uncertain=0)  # each one found done or failed
    await _checkout(hass, bridge, refunds_uncertain=None)  # a bridge that does not say
    assert state(hass, COUNTS["refunds_uncertain"]).state == STATE_UNKNOWN


async def test_a_repair_stands_while_refunds_stay_uncertain_past_the_bound_until_known(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    # Two of three uncertain refunds were asked for over an hour ago: the operator is told.
    await _checkout(hass, bridge, outstanding_accounts=0, refunds_uncertain=3, refunds_stuck=2)
    assert_warning(await until(lambda: _stuck_issue(hass, store)), "refunds_stuck", "2")
    assert _issue(hass, store) is None  # nobody owes anything
    # What the operator reads, in English and German: where to look, and how to close them.
    key = f"component.{DOMAIN}.issues.refunds_stuck"
    for language, dashboard in (
        ("en", "payment processor's dashboard"),
        ("de", "Dashboard des Zahlungsdienstleisters"),
    ):
        words = await async_get_translations(hass, language, "issues", [DOMAIN])
        description = words[f"{key}.description"]
        assert dashboard in description
        assert "POST /v1/visits/VISIT/refund/settle" in description
        assert '"refunded"' in description
        assert '"not_refunded"' in description
        assert "{count}" in description
        assert "{site}" in words[f"{key}.title"]
    assert "ungeklärt" in words[f"{key}.title"]

    await _checkout(hass, bridge, refunds_uncertain=3, refunds_stuck=1)
    await until(
        lambda: (i := _stuck_issue(hass, store)) and i.translation_placeholders["count"] == "1"
    )

    # Known at last (done or failed): the repair goes; still uncertain but young ones raise none.
    await _checkout(hass, bridge, refunds_uncertain=1, refunds_stuck=0)
    await until(lambda: _stuck_issue(hass, store) is None)
    await _checkout(hass, bridge, refunds_uncertain=2, refunds_stuck=None)  # an older bridge
    assert _stuck_issue(hass, store) is None

    await _checkout(hass, bridge, refunds_uncertain=2, refunds_stuck=2)
    await until(lambda: _stuck_issue(hass, store))
    await unload(hass, store)
    assert _stuck_issue(hass, store) is None


async def test_payment_alerts_fire_for_what_needs_someone_and_every_payment_reaches_the_bus(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge, access_events: list[dict[str, Any]]
) -> None:
    await _checkout(hass, bridge)
    fired = track_fired(hass, ALERTS)
    every = valid_examples("store-*.json")
    examples = [e for e in every if e["type"] in CHECKOUT_EVENT_TYPES]
    assert {e["type"] for e in examples} >= {
        "checkout_started",
        "payment_captured",
        "payment_failed",
        "hold_released",
        "refund_issued",
        "account_settled",
    }
    await bridge.events(*examples)
    await site._marker(bridge, access_events)

    # Every checkout event is on the bus as received, and in the store's audit chain.
    assert access_events[:-1] == examples
    verified = await call(hass, "verify_audit_log", config_entry_id=store.entry_id)
    assert verified["count"] == len(examples) + 1
    # Only what needs someone fired the payments entity, and no gate's.
    alerts = sorted(kind for entity_id, kind in fired if entity_id == ALERTS)
    assert alerts == sorted(e["type"] for e in examples if e["type"] in CHECKOUT_ALERT_TYPES)
    assert {"account_settled", "payment_failed", "refund_issued"} <= set(alerts)
    assert not {"checkout_started", "payment_captured", "hold_released"} & set(alerts)
    assert all(entity_id == ALERTS for entity_id, _ in fired[:-1])
    await bridge.events(
        event(
            "payment_failed",
            visit="trip-1",
            outcome="failed",
            reason="card_declined",
            data={"amount": 1198, "currency": "EUR"},
        )
    )
    await until(lambda: len([f for f in fired if f[0] == ALERTS]) == len(alerts) + 1)
    shown = state(hass, ALERTS).attributes
    assert (shown["event_type"], shown["outcome"], shown["reason"]) == (
        "payment_failed",
        "failed",
        "card_declined",
    )
    # Aggregated only: which visit and how much are one purchase's data, not the state's.
    assert not {"visit_id", "event_id", "amount", "currency"} & set(shown)
    assert "trip-1" not in str(shown)


async def test_an_entry_refused_for_a_payment_outstanding_is_the_gates_and_said_in_words(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    refused = event(
        "access_denied",
        "entry_gate_1",
        outcome="denied",
        reason="payment_outstanding",
        source="store_app",
    )
    await bridge.events(refused)
    await until(lambda: state(hass, ENTRY_EVENT).attributes.get("event_type") == "access_denied")
    assert state(hass, ENTRY_EVENT).attributes["reason"] == "payment_outstanding"
    key = (
        f"component.{DOMAIN}.entity.event.gate_access.state_attributes.reason.state."
        "payment_outstanding"
    )
    for language, words in (("en", "Payment outstanding"), ("de", "Zahlung offen")):
        translations = await async_get_translations(hass, language, "entity", [DOMAIN])
        assert translations[key] == words


async def test_diagnostics_show_the_checkout_counts_and_nothing_personal(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    diagnostics = await async_get_config_entry_diagnostics(hass, store)
    assert diagnostics["store"]["checkout"] is None
    await _checkout(hass, bridge)
    diagnostics = await async_get_config_entry_diagnostics(hass, store)
    shown = diagnostics["store"]["checkout"]
    assert {k: v for k, v in shown.items() if k != "day_started_at"} == CHECKOUT
    assert dt_util.parse_datetime(shown["day_started_at"]) == dt_util.start_of_local_day()
