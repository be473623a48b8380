"""A store's shelves in Home Assistant, on real stacks (a real Mosquitto, HA's real MQTT).

The test plays a bridge with shelf sensors: its retained status carries the `shelf`
counts, and its events include the virtual cart's. The owner sees the review queue, the
anomalies, the picks nobody made and the silent lanes as sensors; a repair issue while
picks wait for review; one event entity for what needs someone. Every pick is on the bus
and in the audit chain, but fires no entity.
"""

from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.diagnostics import async_get_config_entry_diagnostics
from custom_components.concierge.store_shelf import review_issue_id
from tests.waiting import until

from . import test_store_site as site
from .helpers import call
from .store_views import (
    assert_warning,
    counts_shown,
    entities,
    issue,
    track_fired,
    unload,
    valid_examples,
)
from .test_store_site import (
    WILL,
    Bridge,
    event,
    runtime,
    state,
    status,
)

# The store site's fixtures: a real broker, Home Assistant's MQTT, a loaded store.
mqtt_entry = site.mqtt_entry
bridge = site.bridge
store = site.store
access_events = site.access_events

SHELF = {"carts": 3, "review": 2, "anomalies": 1, "unattributed": 0, "stale_lanes": 0, "ignored": 5}
SENSORS = {
    "review": "sensor.corner_store_picks_waiting_for_review",
    "anomalies": "sensor.corner_store_shelf_anomalies",
    "unattributed": "sensor.corner_store_picks_nobody_made",
    "stale_lanes": "sensor.corner_store_silent_shelf_lanes",
    "carts": "sensor.corner_store_open_carts",
}
ALERTS = "event.corner_store_shelf_alerts"


def _shelf_entities(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    return entities(hass, entry, lambda unique_id: "shelf" in unique_id)


def _issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return issue(hass, review_issue_id(entry.entry_id))


async def _shelves(hass: HomeAssistant, bridge: Bridge, **counts: int | None) -> None:
    """Publish a status with these shelf counts and wait until the sensors show them."""
    shelf = SHELF | counts
    await bridge.status(status(shelf=shelf))
    await counts_shown(hass, SENSORS, shelf)


async def test_a_store_without_shelves_has_no_shelf_entities_until_its_bridge_names_them(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge, access_events: list[dict[str, Any]]
) -> None:
    await site._marker(bridge, access_events)
    assert _shelf_entities(hass, store) == []
    assert _issue(hass, store) is None

    await _shelves(hass, bridge)
    assert _shelf_entities(hass, store) == sorted([*SENSORS.values(), ALERTS])
    assert state(hass, SENSORS["review"]).attributes["state_class"] == "measurement"
    assert state(hass, SENSORS["anomalies"]).attributes["state_class"] == "total_increasing"
    assert state(hass, ALERTS).state == STATE_UNKNOWN
    registry = er.async_get(hass)
    stale = registry.async_get(SENSORS["stale_lanes"])
    assert stale is not None
    assert stale.entity_category is er.EntityCategory.DIAGNOSTIC
    # A second status adds nothing twice.
    await _shelves(hass, bridge, anomalies=4)
    assert len(_shelf_entities(hass, store)) == len(SENSORS) + 1


async def test_a_repair_stands_while_picks_wait_for_review(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    await _shelves(hass, bridge, review=2)
    assert_warning(_issue(hass, store), "picks_waiting_for_review", "2")

    await _shelves(hass, bridge, review=5)
    await until(lambda: (i := _issue(hass, store)) and i.translation_placeholders["count"] == "5")

    await _shelves(hass, bridge, review=0)
    assert _issue(hass, store) is None
    # The will says nothing of the shelves: the last counts stay, shown unavailable.
    await _shelves(hass, bridge, review=1)
    await bridge.status(WILL)
    await until(lambda: state(hass, SENSORS["review"]).state == STATE_UNAVAILABLE)
    assert _issue(hass, store) is not None

    # Unloading the store takes its repair with it.
    await unload(hass, store)
    assert _issue(hass, store) is None


async def test_an_unknown_review_count_raises_no_repair(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    await _shelves(hass, bridge, review=None, carts=None)
    assert state(hass, SENSORS["review"]).state == STATE_UNKNOWN
    assert _issue(hass, store) is None


async def test_shelf_alerts_fire_for_what_needs_someone_and_every_pick_reaches_the_bus(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge, access_events: list[dict[str, Any]]
) -> None:
    await _shelves(hass, bridge)
    fired = track_fired(hass, ALERTS)
    examples = valid_examples("store-cart-*.json")
    assert len(examples) == 9
    await bridge.events(*examples)
    await site._marker(bridge, access_events)

    # Every cart event is on the bus as received, and in the store's audit chain.
    assert [e["id"] for e in access_events[:-1]] == [e["id"] for e in examples]
    assert access_events[:-1] == examples
    verified = await call(hass, "verify_audit_log", config_entry_id=store.entry_id)
    assert verified["count"] == len(examples) + 1
    # Only what needs someone fired the shelf entity, and no gate's.
    assert sorted(kind for entity_id, kind in fired if entity_id == ALERTS) == [
        "lane_anomaly",
        "pick_review",
        "pick_unattributed",
        "review_resolved",
        "session_unbound",
    ]
    assert all(entity_id == ALERTS for entity_id, _ in fired[:-1])
    review = next(e for e in examples if e["type"] == "pick_review")
    await bridge.events(event("pick_review", data=review["data"], outcome="info"))
    await until(lambda: fired[-1] == (ALERTS, "pick_review"))
    shown = state(hass, ALERTS).attributes
    assert {k: shown[k] for k in ("lane", "sku", "quantity", "candidates", "review")} == {
        "lane": "lane-b1",
        "sku": "OAT-MILK-1L",
        "quantity": 1,
        "candidates": 2,
        "review": "rev-000012",
    }
    assert "change" not in shown


async def test_diagnostics_show_the_shelf_counts(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    diagnostics = await async_get_config_entry_diagnostics(hass, store)
    assert diagnostics["store"]["shelf"] is None
    await _shelves(hass, bridge)
    diagnostics = await async_get_config_entry_diagnostics(hass, store)
    assert diagnostics["store"]["shelf"] == SHELF
    assert runtime(store).shelves.shelf is not None
