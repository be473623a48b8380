"""Store sites on real stacks: a real Mosquitto, Home Assistant's real MQTT integration.

The test plays the store bridge: it publishes the retained status (and the will) and the
access events with aiomqtt, exactly as `schema/store-topics.json` describes them.
"""

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
from homeassistant import config_entries
from homeassistant.components import mqtt
from homeassistant.components.mqtt import client as mqtt_client
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, State, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge import async_remove_config_entry_device, config_flow
from custom_components.concierge import calendar as calendar_platform
from custom_components.concierge import image as image_platform
from custom_components.concierge import switch as switch_platform
from custom_components.concierge.assist import async_answer
from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.answers import Question
from custom_components.concierge.core.events import new_id
from custom_components.concierge.core.stores import GATE_EVENT_TYPES
from custom_components.concierge.diagnostics import async_get_config_entry_diagnostics
from custom_components.concierge.logbook import async_describe_events
from custom_components.concierge.store_gates import gate_device_id, store_device_id
from custom_components.concierge.store_site import StoreSite
from tests.mosquitto import Mosquitto
from tests.waiting import until

from .helpers import call

SITE = "store-042"
PREFIX = "concierge/store"
STATUS_TOPIC = f"{PREFIX}/{SITE}/status"
EVENTS_TOPIC = f"{PREFIX}/{SITE}/events"
EXAMPLES = Path(__file__).parent.parent.parent / "schema" / "examples"
GATES = [
    {"id": "entry_gate_1", "name": "Entry", "role": "entry"},
    {"id": "exit_gate_1", "name": "Exit", "role": "exit"},
    # The portal the invalid examples name: were they accepted, this gate would show it.
    {"id": "back_door", "name": "Staff door"},
]
WILL = {"v": 1, "site": SITE, "online": False}
STORE_DATA = {"kind": "store", "name": "Corner store", "site": SITE, "topic_prefix": PREFIX}
ENTITY_KEYS = {
    ("event", "gate_entry_gate_1_access"): "event.entry_access",
    (
        "binary_sensor",
        "gate_entry_gate_1_visit_in_progress",
    ): "binary_sensor.entry_visit_in_progress",
    ("sensor", "occupancy"): "sensor.corner_store_shoppers_in_the_store",
}
ENTRY_EVENT = "event.entry_access"
EXIT_EVENT = "event.exit_access"
STAFF_EVENT = "event.staff_door_access"
ENTRY_VISIT = "binary_sensor.entry_visit_in_progress"
EXIT_VISIT = "binary_sensor.exit_visit_in_progress"
OCCUPANCY = "sensor.corner_store_shoppers_in_the_store"


def status(**changes: Any) -> dict[str, Any]:
    """The bridge's retained status (the topics module's example)."""
    return {
        "v": 1,
        "site": SITE,
        "name": "Corner store",
        "online": True,
        "capacity": 30,
        "occupancy": 0,
        "gates": GATES,
    } | changes


def event(
    kind: str, portal: str | None = None, visit: str | None = None, **fields: Any
) -> dict[str, Any]:
    """An access event as the bridge publishes it, happening now."""
    return {
        "v": 1,
        "id": new_id(),
        "time": dt_util.utcnow().strftime("%Y-%m-%dT%H:%M:%S.") + "000Z",
        "site": SITE,
        "portal": portal,
        "grant": None,
        "visit": visit,
        "type": kind,
        "outcome": "ok",
        "reason": None,
        "source": "system",
        "data": {},
        "evidence": [],
    } | fields


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def state(hass: HomeAssistant, entity_id: str) -> State:
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found


class Bridge:
    """The store bridge's side of the contract, published with aiomqtt."""

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker

    async def publish(self, *messages: tuple[str, bytes | str | dict[str, Any], bool]) -> None:
        """Publish (topic, payload, retain) messages in order, QoS 1, on one connection."""
        async with aiomqtt.Client(self.broker.host, self.broker.port) as client:
            for topic, payload, retain in messages:
                body = json.dumps(payload) if isinstance(payload, dict) else payload
                await client.publish(topic, body, qos=1, retain=retain)

    async def status(self, payload: dict[str, Any] | None = None) -> None:
        await self.publish((STATUS_TOPIC, payload or status(), True))

    async def events(self, *payloads: bytes | str | dict[str, Any]) -> None:
        await self.publish(*((EVENTS_TOPIC, payload, False) for payload in payloads))


@pytest.fixture
def bridge(mosquitto: Mosquitto) -> Bridge:
    return Bridge(mosquitto)


@pytest.fixture
async def mqtt_entry(hass: HomeAssistant, mosquitto: Mosquitto) -> AsyncIterator[MockConfigEntry]:
    """Home Assistant's real MQTT integration, connected to the real broker.

    Unloaded at the end (Concierge first), so that no client, timer or task lingers.
    """
    # MQTT reads configuration.yaml for its YAML items; the test's config folder has none.
    write(Path(hass.config.path("configuration.yaml")), "{}\n")
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        data={"broker": mosquitto.host, "port": mosquitto.port, "protocol": "5"},
        options={"discovery": False},
        version=mqtt.CONFIG_ENTRY_VERSION,
        minor_version=mqtt.CONFIG_ENTRY_MINOR_VERSION,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await until(lambda: mqtt.is_connected(hass))
    yield entry
    for concierge in hass.config_entries.async_entries(DOMAIN):
        if concierge.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(concierge.entry_id)
    if entry.state is ConfigEntryState.LOADED:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def _add_store(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=f"{PREFIX}/{SITE}", title="Corner store", data=STORE_DATA
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def runtime(entry: MockConfigEntry) -> StoreSite:
    store = entry.runtime_data
    assert isinstance(store, StoreSite)
    return store


@pytest.fixture
async def store(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, bridge: Bridge
) -> MockConfigEntry:
    """A loaded store site whose bridge is online with three gates.

    Ready when the retained status has arrived: the events topic was subscribed in the
    same request, so events published from now on arrive.
    """
    await bridge.status()
    entry = await _add_store(hass)
    await until(lambda: runtime(entry).available and hass.states.get(ENTRY_EVENT) is not None)
    await until(lambda: hass.states.get(OCCUPANCY) is not None)
    return entry


@pytest.fixture
def access_events(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every access event fired on the bus, in wire form, in order."""
    seen: list[dict[str, Any]] = []

    @callback
    def _seen(fired: Event[dict[str, Any]]) -> None:
        seen.append(dict(fired.data))

    hass.bus.async_listen("concierge_access_event", _seen)
    return seen


async def _marker(bridge: Bridge, access_events: list[dict[str, Any]]) -> dict[str, Any]:
    """Publish a valid event and wait for it: everything published before it was handled."""
    marker = event("door_opened", "exit_gate_1")
    await bridge.events(marker)
    await until(lambda: any(e["id"] == marker["id"] for e in access_events))
    return marker


# --- config flow ------------------------------------------------------------------------


async def _store_form(hass: HomeAssistant) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["home", "store"]
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "store"}
    )


async def test_store_flow_needs_mqtt(hass: HomeAssistant) -> None:
    result = await _store_form(hass)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_set_up"
    english = json.loads(
        (Path(config_flow.__file__).parent / "translations" / "en.json").read_text()
    )
    assert "Set up MQTT" in english["config"]["abort"]["mqtt_not_set_up"]


async def test_store_flow_checks_input_and_waits_for_the_bridge(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    bridge: Bridge,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(config_flow, "STORE_STATUS_WAIT", 2.0)
    result = await _store_form(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "store"
    flow_id = result["flow_id"]
    for user_input, errors in (
        ({"name": " ", "site": SITE}, {"name": "empty_name"}),
        ({"name": "Corner store", "site": "store 042"}, {"site": "invalid_site_id"}),
        (
            {"name": "Corner store", "site": SITE, "topic_prefix": "concierge/+"},
            {"topic_prefix": "invalid_topic_prefix"},
        ),
        (
            {"name": "Corner store", "site": SITE, "topic_prefix": "/concierge/store"},
            {"topic_prefix": "invalid_topic_prefix"},
        ),
    ):
        result = await hass.config_entries.flow.async_configure(flow_id, user_input)
        assert result["type"] is FlowResultType.FORM
        assert result["errors"] == errors
    # No bridge has said anything on the topic yet.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"name": "Corner store", "site": SITE}
    )
    assert result["errors"] == {"base": "no_bridge"}
    assert result["description_placeholders"] == {"topic": STATUS_TOPIC}
    # A status of another site on this topic is no answer either.
    await bridge.status(status(site="store-043"))
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"name": "Corner store", "site": SITE}
    )
    assert result["errors"] == {"base": "no_bridge"}

    await bridge.status()
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"name": " Corner store ", "site": SITE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Corner store"
    entry = result["result"]
    assert entry.unique_id == "concierge/store/store-042"
    assert dict(entry.data) == STORE_DATA
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await until(lambda: hass.states.get(ENTRY_EVENT) is not None)

    # The same bridge and prefix once only.
    again = await _store_form(hass)
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"], {"name": "Another name", "site": SITE, "topic_prefix": PREFIX}
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"
    # A store has no options and no carriers.
    assert not config_flow.ConciergeConfigFlow.async_supports_options_flow(entry)
    assert config_flow.ConciergeConfigFlow.async_get_supported_subentry_types(entry) == {}


async def test_store_reconfigure_renames_and_moves_the_prefix(
    hass: HomeAssistant,
    store: MockConfigEntry,
    bridge: Bridge,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(config_flow, "STORE_STATUS_WAIT", 2.0)
    other = MockConfigEntry(
        domain=DOMAIN,
        unique_id=f"taken/{SITE}",
        title="Taken",
        data=STORE_DATA | {"topic_prefix": "taken"},
    )
    other.add_to_hass(hass)  # not loaded: its prefix is taken all the same

    async def reconfigure(user_input: dict[str, Any]) -> dict[str, Any]:
        result = await store.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure_store"
        assert result["description_placeholders"]["site"] == SITE
        return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)

    result = await reconfigure({"name": "Corner store", "topic_prefix": "taken"})
    assert result["errors"] == {"topic_prefix": "store_exists"}
    result = await reconfigure({"name": "", "topic_prefix": "a//b"})
    assert result["errors"] == {"name": "empty_name", "topic_prefix": "invalid_topic_prefix"}
    result = await reconfigure({"name": "Corner store", "topic_prefix": "shops/berlin"})
    assert result["errors"] == {"base": "no_bridge"}
    assert result["description_placeholders"]["topic"] == f"shops/berlin/{SITE}/status"

    # A rename alone needs no answer from the bridge.
    result = await reconfigure({"name": "Corner shop", "topic_prefix": PREFIX})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert store.title == "Corner shop"
    assert store.data["name"] == "Corner shop"

    await bridge.publish((f"shops/berlin/{SITE}/status", status(), True))
    result = await reconfigure({"name": "Corner shop", "topic_prefix": "shops/berlin"})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert store.unique_id == f"shops/berlin/{SITE}"
    assert store.data["topic_prefix"] == "shops/berlin"
    await until(lambda: store.state is ConfigEntryState.LOADED and runtime(store).available)
    assert runtime(store).events_topic == f"shops/berlin/{SITE}/events"


async def test_store_reconfigure_to_a_new_prefix_needs_mqtt(
    hass: HomeAssistant, store: MockConfigEntry, mqtt_entry: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_unload(store.entry_id)
    await hass.config_entries.async_remove(mqtt_entry.entry_id)
    result = await store.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Corner store", "topic_prefix": "elsewhere"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_set_up"


# --- setting up -------------------------------------------------------------------------


async def test_store_without_mqtt_is_retried_later(hass: HomeAssistant) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id=f"{PREFIX}/{SITE}", data=STORE_DATA)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.reason is not None
    assert "MQTT integration is not set up" in entry.reason
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_damaged_store_storage_refuses_to_load(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    entry = MockConfigEntry(domain=DOMAIN, unique_id=f"{PREFIX}/{SITE}", data=STORE_DATA)
    entry.add_to_hass(hass)
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 4,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {"grants": [{}]},
    }
    assert not await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR


# --- the contract, on this side ---------------------------------------------------------


async def test_valid_store_examples_reach_the_entities(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge, access_events: list[dict[str, Any]]
) -> None:
    examples = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((EXAMPLES / "valid").glob("store-*.json"))
        # The shelves' and the checkout's: tests/components/test_store_shelf.py and
        # tests/components/test_store_checkout.py.
        if json.loads(path.read_text(encoding="utf-8"))["type"] in GATE_EVENT_TYPES
    }
    assert set(examples) == {
        "store-check-in",
        "store-gate-opened",
        "store-check-out",
        "store-occupancy-changed",
    }
    ordered = [examples[k] for k in ("store-check-in", "store-gate-opened", "store-check-out")]
    for example in ordered:
        await bridge.events(example)
        await until(lambda ex=example: bool(access_events) and access_events[-1]["id"] == ex["id"])
        # Fired on the bus exactly as received (the shared wire record).
        assert access_events[-1] == example
        gate = ENTRY_EVENT if example["portal"] == "entry_gate_1" else EXIT_EVENT
        shown = state(hass, gate)
        assert shown.attributes["event_type"] == example["type"]
        assert shown.attributes["event_id"] == example["id"]
        assert shown.attributes["visit_id"] == example["visit"]
        assert shown.attributes["outcome"] == "ok"
        assert shown.attributes["source"] == example["source"]
        assert shown.attributes["reason"] is None
        assert "party_size" not in shown.attributes  # the event's extras stay on the bus
    assert state(hass, ENTRY_VISIT).state == "on"
    assert state(hass, ENTRY_VISIT).attributes["visit_id"] == "trip-2025-07-01-0001"
    assert state(hass, EXIT_VISIT).state == "on"

    changed = examples["store-occupancy-changed"]
    await bridge.events(changed)
    await until(lambda: state(hass, OCCUPANCY).state == "11")
    assert state(hass, OCCUPANCY).attributes["capacity"] == 30
    assert state(hass, OCCUPANCY).attributes["state_class"] == "measurement"
    assert access_events[-1] == changed
    assert runtime(store).counters["accepted"] == 4
    verified = await call(hass, "verify_audit_log", config_entry_id=store.entry_id)
    assert verified["ok"] is True
    assert verified["count"] == 4


async def test_invalid_messages_change_nothing(
    hass: HomeAssistant,
    store: MockConfigEntry,
    bridge: Bridge,
    access_events: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.concierge")
    before = {e: state(hass, e) for e in (ENTRY_EVENT, STAFF_EVENT, ENTRY_VISIT, OCCUPANCY)}
    payloads: list[bytes] = []
    for path in sorted((EXAMPLES / "invalid").glob("*.json")):
        raw = path.read_bytes()
        payloads.append(raw)
        parsed = json.loads(raw)
        if isinstance(parsed, dict) and "site" in parsed:
            # The same mistake at this store (not dropped merely for naming another site).
            payloads.append(json.dumps(parsed | {"site": SITE}).encode())
    assert len(payloads) > 40
    other_site = json.loads((EXAMPLES / "valid" / "store-check-in.json").read_text())
    payloads += [
        b"",
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"[" * 100_000,
        json.dumps(other_site | {"site": "store-043"}).encode(),
    ]
    await bridge.events(*payloads)
    marker = await _marker(bridge, access_events)

    assert access_events == [marker]
    for entity_id, shown in before.items():
        assert state(hass, entity_id) == shown, entity_id
    counters = runtime(store).counters
    assert counters["accepted"] == 1
    # Every invalid example is refused for what is wrong with it, whatever its site.
    assert counters["invalid_event"] == len(payloads) - 2
    assert counters["other_site"] == 1
    assert counters["too_large"] == 1
    # Dropped messages are logged without their content.
    ours = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.concierge")
    )
    assert "Dropped a message on concierge/store/store-042/events (invalid_event" in ours
    for secret in ("4111111111111111", "someone@example.com", "slotNumber", "home"):
        assert secret not in ours

    # A bad status changes nothing either (the gates and the occupancy stay).
    await bridge.status({"v": 1, "site": SITE, "online": "yes", "gates": []})
    await bridge.status(status(site="store-043", gates=[], occupancy=29))
    await until(lambda: counters["other_site"] == 2)
    assert counters["invalid_status"] == 1
    assert state(hass, OCCUPANCY).state == "0"
    assert hass.states.get(STAFF_EVENT) is not None


async def test_a_duplicate_delivery_fires_once(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge, access_events: list[dict[str, Any]]
) -> None:
    changes: list[str] = []

    @callback
    def _changed(change: Event[EventStateChangedData]) -> None:
        changes.append(change.data["entity_id"])

    async_track_state_change_event(hass, [ENTRY_EVENT], _changed)
    check_in = event("check_in", "entry_gate_1", "trip-7", source="store_app")
    await bridge.events(check_in, check_in)
    await _marker(bridge, access_events)
    await bridge.events(check_in)  # after a broker outage, say
    await _marker(bridge, access_events)

    assert [e["id"] for e in access_events].count(check_in["id"]) == 1
    assert changes == [ENTRY_EVENT]
    assert runtime(store).counters["duplicate"] == 2


async def test_the_seen_ids_are_bounded(
    hass: HomeAssistant,
    mqtt_entry: MockConfigEntry,
    bridge: Bridge,
    access_events: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("custom_components.concierge.store_site.STORE_SEEN_IDS", 3)
    await bridge.status()
    entry = await _add_store(hass)
    await until(lambda: runtime(entry).available)
    first = event("door_opened", "entry_gate_1")
    others = [event("door_opened", "entry_gate_1") for _ in range(3)]
    await bridge.events(first, *others, first)
    await _marker(bridge, access_events)
    # Three newer ids pushed the first out of memory: its second delivery counts again.
    assert [e["id"] for e in access_events].count(first["id"]) == 2
    assert len(runtime(entry).seen) == 3


# --- gates and availability -------------------------------------------------------------


async def test_gates_become_devices_and_follow_the_status(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge
) -> None:
    devices = dr.async_get(hass)
    entities = er.async_get(hass)
    store_device = devices.async_get_device_by_identifier(
        store_device_id(store.entry_id), store.entry_id
    )
    assert store_device is not None
    assert store_device.name == "Corner store"
    assert store_device.model == "Store"

    def gate(gate_id: str) -> dr.DeviceEntry | None:
        return devices.async_get_device_by_identifier(
            gate_device_id(store.entry_id, gate_id), store.entry_id
        )

    entry_gate = gate("entry_gate_1")
    assert entry_gate is not None
    assert entry_gate.name == "Entry"
    assert entry_gate.model == "Store gate (entry)"
    assert entry_gate.via_device_id == store_device.id
    assert gate("back_door") is not None
    assert gate("back_door").model == "Store gate"  # type: ignore[union-attr]
    for (platform, key), entity_id in ENTITY_KEYS.items():
        assert entities.async_get_entity_id(platform, DOMAIN, f"{store.entry_id}_{key}") == (
            entity_id
        )
    assert state(hass, ENTRY_EVENT).attributes["event_types"] == [
        "check_in", "check_out", "gate_opened", "access_denied", "door_opened", "door_closed",
        "visit_started", "visit_completed", "visit_aborted", "safety_alert", "occupancy_changed",
    ]  # fmt: skip
    assert state(hass, ENTRY_VISIT).state == "off"
    assert state(hass, ENTRY_VISIT).attributes["device_class"] == "occupancy"

    # A gate the bridge adds later gets its device and entities; a renamed gate is renamed.
    added = [*GATES, {"id": "entry_gate_2", "name": "Side entry", "role": "entry"}]
    added[0] = {"id": "entry_gate_1", "name": "Main entry", "role": "entry"}
    await bridge.status(status(gates=added))
    await until(lambda: hass.states.get("event.side_entry_access") is not None)
    assert hass.states.get("binary_sensor.side_entry_visit_in_progress") is not None
    assert gate("entry_gate_2") is not None
    await until(lambda: gate("entry_gate_1").name == "Main entry")  # type: ignore[union-attr]

    # An offline bridge's list of gates removes none (it may be shutting down).
    await bridge.events(event("gate_opened", "back_door", "v1"))
    await until(lambda: state(hass, "binary_sensor.staff_door_visit_in_progress").state == "on")
    await bridge.status(status(online=False, gates=added[:1]))
    await until(lambda: state(hass, STAFF_EVENT).state == STATE_UNAVAILABLE)
    assert gate("back_door") is not None
    # A gate the bridge no longer has goes, with its entities (and its visit in progress).
    await bridge.status(status(gates=added[:2] + added[3:]))
    await until(lambda: gate("back_door") is None)
    assert hass.states.get(STAFF_EVENT) is None
    assert runtime(store).passages == {}
    assert (
        entities.async_get_entity_id("event", DOMAIN, f"{store.entry_id}_gate_back_door_access")
        is None
    )

    # ... and comes back with new entities when the bridge has it again.
    await bridge.status(status(gates=added))
    await until(lambda: hass.states.get(STAFF_EVENT) is not None)

    # The user may delete only the device of a gate the bridge does not have.
    old = devices.async_get_or_create(
        config_entry_id=store.entry_id, identifiers={gate_device_id(store.entry_id, "old_gate")}
    )
    assert await async_remove_config_entry_device(hass, store, old) is True
    assert await async_remove_config_entry_device(hass, store, gate("back_door")) is False  # type: ignore[arg-type]
    assert await async_remove_config_entry_device(hass, store, store_device) is False
    # The next status removes a stale gate device by itself.
    await bridge.status(status(gates=added, occupancy=3))
    await until(lambda: gate("old_gate") is None)


async def test_the_will_makes_the_store_unavailable_and_the_status_brings_it_back(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.concierge")
    watched = (ENTRY_EVENT, EXIT_EVENT, STAFF_EVENT, ENTRY_VISIT, EXIT_VISIT, OCCUPANCY)
    assert all(state(hass, e).state != STATE_UNAVAILABLE for e in watched)
    await bridge.status(WILL)
    await until(lambda: all(state(hass, e).state == STATE_UNAVAILABLE for e in watched))
    assert "Corner store is unavailable (bridge offline)" in caplog.text
    # The will names no gates: they all stay.
    assert len(runtime(store).gates) == 3
    await bridge.status(status(occupancy=4))
    await until(lambda: state(hass, OCCUPANCY).state == "4")
    assert all(state(hass, e).state != STATE_UNAVAILABLE for e in watched)
    assert "Corner store is available again" in caplog.text


async def test_a_lost_broker_makes_the_store_unavailable(
    hass: HomeAssistant,
    store: MockConfigEntry,
    mosquitto: Mosquitto,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.concierge")
    monkeypatch.setattr(mqtt_client, "RECONNECT_INTERVAL_SECONDS", 0.2)
    mosquitto.stop()
    await until(lambda: state(hass, OCCUPANCY).state == STATE_UNAVAILABLE, seconds=30)
    assert state(hass, ENTRY_EVENT).state == STATE_UNAVAILABLE
    assert "Corner store is unavailable (MQTT disconnected)" in caplog.text
    mosquitto.start()
    await until(lambda: state(hass, OCCUPANCY).state != STATE_UNAVAILABLE, seconds=30)
    assert state(hass, ENTRY_EVENT).state != STATE_UNAVAILABLE


async def test_visit_in_progress_follows_a_gate(
    hass: HomeAssistant,
    store: MockConfigEntry,
    bridge: Bridge,
    access_events: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Real time (MQTT's own timers keep running): a short timeout instead of 30 s.
    monkeypatch.setattr("custom_components.concierge.store_site.STORE_PASSAGE_TIMEOUT", 3)

    async def send(*events: dict[str, Any]) -> None:
        await bridge.events(*events)
        await until(
            lambda: access_events[-1:] != [] and access_events[-1]["id"] == events[-1]["id"]
        )

    await send(event("check_in", "entry_gate_1", "v1", source="store_app"))
    assert state(hass, ENTRY_VISIT).state == "on"
    assert state(hass, ENTRY_VISIT).attributes["visit_id"] == "v1"
    assert state(hass, OCCUPANCY).attributes["visits_at_gates"] == 1
    await send(event("door_closed", "entry_gate_1", "v2"))  # another visit's: stays
    assert state(hass, ENTRY_VISIT).state == "on"
    await send(event("door_closed", "entry_gate_1", "v1"))
    assert state(hass, ENTRY_VISIT).state == "off"
    assert state(hass, ENTRY_VISIT).attributes["visit_id"] is None

    # Refusals start nothing.
    await send(event("access_denied", "entry_gate_1", "v3", outcome="denied", reason="store_full"))
    assert state(hass, ENTRY_VISIT).state == "off"
    assert state(hass, ENTRY_EVENT).attributes["reason"] == "store_full"
    await send(event("check_in", "entry_gate_1", "v3", outcome="denied"))
    assert state(hass, ENTRY_VISIT).state == "off"

    # A gate that never reports its door closed: off after the timeout at the latest.
    await send(event("gate_opened", "exit_gate_1", "v4"))
    assert state(hass, EXIT_VISIT).state == "on"
    passage = runtime(store).passages["exit_gate_1"]
    assert passage.until - dt_util.utcnow() <= timedelta(seconds=3)
    await until(lambda: state(hass, EXIT_VISIT).state == "off")

    # A newer visit replaces the one before; its end turns the gate off.
    await send(
        event("check_out", "exit_gate_1", "v5", source="payment_card"),
        event("check_out", "exit_gate_1", "v6", source="payment_card"),
    )
    assert state(hass, EXIT_VISIT).attributes["visit_id"] == "v6"
    await send(event("visit_completed", "exit_gate_1", "v6"))
    assert state(hass, EXIT_VISIT).state == "off"
    # An event at a gate the bridge never named is still an access event.
    await send(event("gate_opened", "loading_dock", "v7"))
    assert runtime(store).passages.keys() == {"loading_dock"}


# --- what assumes a home ----------------------------------------------------------------


@pytest.mark.usefixtures("real_locks")
async def test_home_actions_refuse_a_store(
    hass: HomeAssistant,
    store: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    window = {"label": "Cleaner", "start": "2030-01-01T09:00:00", "end": "2030-01-01T10:00:00"}
    # Only the store is loaded: the actions say it is one, in words.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_grant", **window)
    assert err.value.translation_key == "store_site_not_supported"
    assert str(err.value).startswith(
        "Corner store is a store site: grants, visits and guest links belong to home sites"
    )
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_grant", config_entry_id=store.entry_id, **window)
    assert err.value.translation_key == "store_site_not_supported"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_grant", config_entry_id="nowhere", **window)
    assert err.value.translation_key == "unknown_site"

    # With a home as well, the home is the only site grants can go to.
    from .conftest import SITE_DATA  # noqa: PLC0415

    home = MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA)
    home.add_to_hass(hass)
    assert await hass.config_entries.async_setup(home.entry_id)
    await hass.async_block_till_done()
    grant = await call(hass, "create_grant", **window)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "start_visit", grant_id=grant["grant_id"], portal="Entry")
    assert err.value.translation_key == "store_site_not_supported"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "start_visit", grant_id=grant["grant_id"], portal="Nowhere")
    assert err.value.translation_key == "unknown_portal"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "revoke_guest_link", link_id="nothing")
    assert err.value.translation_key == "unknown_guest_link"
    # Two sites keep an audit chain now: which one must be said.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "verify_audit_log")
    assert err.value.translation_key == "site_required"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "verify_audit_log", config_entry_id="nowhere")
    assert err.value.translation_key == "unknown_site"
    assert (await call(hass, "verify_audit_log", config_entry_id=store.entry_id))["ok"] is True

    # The courier and guest endpoints do not know a store.
    client = await hass_client_no_auth()
    answer = await client.post(f"/api/concierge/{store.entry_id}/courier", json={"token": "x"})
    assert answer.status == 404
    answer = await client.get(f"/api/concierge/{store.entry_id}/guest")
    assert answer.status == 404
    # Assist answers from homes only.
    assert "Entry" not in async_answer(hass, Question.VISITORS, "en")

    # Platforms a store does not use add nothing.
    added: list[Any] = []
    for platform in (calendar_platform, image_platform, switch_platform):
        await platform.async_setup_entry(hass, store, lambda entities, *_: added.extend(entities))
    assert added == []


async def test_logbook_leaves_a_stores_events_to_its_gates(
    hass: HomeAssistant, store: MockConfigEntry
) -> None:
    """A gate's event entity is the logbook line of its event (no second, undescribed copy)."""
    described: dict[str, Callable[[Event], dict[str, str]]] = {}
    async_describe_events(
        hass, lambda _domain, kind, describe: described.setdefault(kind, describe)
    )
    assert "concierge_access_event" not in described


# --- unloading, diagnostics, the audit chain --------------------------------------------


async def test_unload_unsubscribes(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge, access_events: list[dict[str, Any]]
) -> None:
    store_site = runtime(store)
    # A witness on the same topic: when it hears an event, so would the store have.
    heard: list[str] = []
    unsubscribe = await mqtt.async_subscribe(
        hass, EVENTS_TOPIC, lambda message: heard.append(json.loads(message.payload)["id"]), qos=1
    )
    marker = await _marker(bridge, access_events)
    await until(lambda: marker["id"] in heard)

    assert await hass.config_entries.async_unload(store.entry_id)
    await hass.async_block_till_done()
    assert state(hass, ENTRY_EVENT).state == STATE_UNAVAILABLE
    audit_lines = store_site.audit.path.read_text(encoding="utf-8").splitlines()
    late = event("check_in", "entry_gate_1", "late-visit")
    await bridge.events(late)
    await until(lambda: late["id"] in heard)
    unsubscribe()

    assert access_events == [marker]
    assert store_site.counters["accepted"] == 1
    assert store_site.passages == {}
    assert state(hass, ENTRY_EVENT).state == STATE_UNAVAILABLE
    assert store_site.audit.path.read_text(encoding="utf-8").splitlines() == audit_lines


async def test_diagnostics_describe_the_store_without_payloads(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge, access_events: list[dict[str, Any]]
) -> None:
    check_in = json.loads((EXAMPLES / "valid" / "store-check-in.json").read_text())
    await bridge.events(check_in, check_in, b"{}")
    await _marker(bridge, access_events)
    diagnostics = await async_get_config_entry_diagnostics(hass, store)
    assert diagnostics["entry"] == {"title": "Corner store", "data": STORE_DATA}
    described = diagnostics["store"]
    assert described["bridge_site"] == SITE
    assert described["topic_prefix"] == PREFIX
    assert described["available"] is True
    assert described["mqtt_connected"] is True
    assert described["bridge_online"] is True
    assert [g["id"] for g in described["gates"]] == ["entry_gate_1", "exit_gate_1", "back_door"]
    assert described["gates"][0] == {"id": "entry_gate_1", "name": "Entry", "role": "entry"}
    assert described["occupancy"] == 0
    assert described["capacity"] == 30
    assert described["visits_at_gates"] == 1
    assert described["messages"] == {
        "accepted": 2, "duplicate": 1, "invalid_event": 1, "status": 1,
    }  # fmt: skip
    assert described["remembered_event_ids"] == 2
    assert described["last_event_at"] is not None
    assert diagnostics["audit"]["ok"] is True
    assert diagnostics["audit"]["count"] == 2
    text = json.dumps(diagnostics)
    for content in ("trip-2025-07-01-0001", "party_size", "store_app", check_in["id"]):
        assert content not in text


async def test_the_audit_chain_continues_after_a_reload(
    hass: HomeAssistant, store: MockConfigEntry, bridge: Bridge, access_events: list[dict[str, Any]]
) -> None:
    await bridge.events(
        event("check_in", "entry_gate_1", "v1"), event("gate_opened", "entry_gate_1", "v1")
    )
    await until(lambda: len(access_events) == 2)
    assert await hass.config_entries.async_reload(store.entry_id)
    await hass.async_block_till_done()
    await until(lambda: runtime(store).available)
    await _marker(bridge, access_events)
    verified = await call(hass, "verify_audit_log", config_entry_id=store.entry_id)
    assert verified == verified | {"ok": True, "count": 3}
    records = runtime(store).audit.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["event"]["type"] for r in records] == [
        "check_in", "gate_opened", "door_opened",
    ]  # fmt: skip


async def test_an_audit_write_that_fails_is_kept_retried_and_raised(
    hass: HomeAssistant,
    store: MockConfigEntry,
    bridge: Bridge,
    access_events: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    audit = runtime(store).audit
    path = audit.path
    path.unlink(missing_ok=True)
    path.mkdir(parents=True)  # the chain's file cannot be opened for writing now
    await _marker(bridge, access_events)
    await until(lambda: audit.failures == 1)
    assert "Could not write the audit log" in caplog.text
    assert state(hass, EXIT_EVENT).attributes["event_type"] == "door_opened"
    issue_id = f"audit_write_failed_{store.entry_id}"
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["pending"] == "1"
    path.rmdir()
    await until(lambda: audit.pending == 0)  # the retry (after a second) writes it
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    verified = await call(hass, "verify_audit_log", config_entry_id=store.entry_id)
    assert verified == verified | {"ok": True, "count": 1, "pending": 0}


async def test_a_store_is_unavailable_until_its_bridge_speaks(
    hass: HomeAssistant, mqtt_entry: MockConfigEntry, bridge: Bridge
) -> None:
    entry = await _add_store(hass)
    # No bridge has published a status: no gates, and the occupancy is unavailable.
    assert runtime(entry).gates == {}
    assert state(hass, OCCUPANCY).state == STATE_UNAVAILABLE
    assert runtime(entry).diagnostics()["bridge_online"] is None
    await bridge.status(status(occupancy=None, capacity=None))
    await until(lambda: state(hass, OCCUPANCY).state == STATE_UNKNOWN)
    assert state(hass, OCCUPANCY).attributes["capacity"] is None
