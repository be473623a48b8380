"""A real store bridge, a real Mosquitto, Home Assistant's real MQTT and Concierge's store site.

Nothing in between is played: the bridge (simulated turnstiles, SQLite outbox, publisher)
checks shoppers in and out, and Home Assistant shows it. This is the contract test across
both sides: what the bridge publishes is what the store site understands. Only the
operator's app backend (who signs the QR codes) is played by the test.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from store_bridge.bridge import Bridge, GateInfo, StoreSettings
from store_bridge.database import Database
from store_bridge.gates.base import GateRole
from store_bridge.gates.simulator import SimulatedGate
from store_bridge.outbox import BrokerConfig, Publisher
from tests.mosquitto import Mosquitto
from tests.store_bridge.conftest import ISSUER, Operator
from tests.waiting import until

from .test_store_site import (
    ENTRY_EVENT,
    ENTRY_VISIT,
    EXIT_EVENT,
    OCCUPANCY,
    PREFIX,
    SITE,
    _add_store,
    mqtt_entry,  # noqa: F401 - the fixture
    runtime,
    state,
)


@pytest.fixture
async def real_bridge(tmp_path: Path, mosquitto: Mosquitto) -> AsyncIterator[Bridge]:
    """The store bridge with two simulated turnstiles, publishing to the real broker."""
    operator = Operator()
    db = Database(tmp_path / "bridge.sqlite3")
    bridge = Bridge(
        StoreSettings(
            site=SITE, name="Corner store", capacity=2, issuer=ISSUER, keys=operator.keys
        ),
        db,
        {
            "entry_gate_1": GateInfo(
                SimulatedGate("entry_gate_1", GateRole.ENTRY, passage_seconds=0.05),
                "Entry",
                "simulated",
            ),
            "exit_gate_1": GateInfo(
                SimulatedGate("exit_gate_1", GateRole.EXIT, passage_seconds=0.05),
                "Exit",
                "simulated",
            ),
        },
    )
    bridge.publisher = Publisher(
        db,
        BrokerConfig(mosquitto.host, mosquitto.port, prefix=PREFIX),
        SITE,
        bridge.status,
        bridge.backlog,
    )
    bridge.operator = operator  # type: ignore[attr-defined]
    await bridge.start()
    yield bridge
    await bridge.stop()


@pytest.mark.usefixtures("mqtt_entry")
async def test_a_shopper_seen_from_home_assistant(hass: HomeAssistant, real_bridge: Bridge) -> None:
    seen: list[dict[str, Any]] = []

    @callback
    def _seen(fired: Event[dict[str, Any]]) -> None:
        seen.append(dict(fired.data))

    hass.bus.async_listen("concierge_access_event", _seen)
    visit_states: list[str] = []

    @callback
    def _visit_state(fired: Event[EventStateChangedData]) -> None:
        if (new := fired.data["new_state"]) is not None:
            visit_states.append(new.state)

    publisher = real_bridge.publisher
    assert publisher is not None
    await until(lambda: publisher.connected)
    entry = await _add_store(hass)
    await until(lambda: runtime(entry).available and hass.states.get(ENTRY_EVENT) is not None)
    async_track_state_change_event(hass, ENTRY_VISIT, _visit_state)
    assert state(hass, OCCUPANCY).state == "0"

    operator: Operator = real_bridge.operator  # type: ignore[attr-defined]
    came = await real_bridge.check_in_qr("entry_gate_1", operator.qr(party=2))
    assert came.opened
    await until(lambda: state(hass, OCCUPANCY).state == "2")
    assert state(hass, OCCUPANCY).attributes["capacity"] == 2
    await until(lambda: any(e["type"] == "door_closed" for e in seen))
    assert state(hass, ENTRY_EVENT).attributes["event_type"] in {
        "gate_opened",
        "door_opened",
        "door_closed",
    }
    assert [e["type"] for e in seen if e["portal"] == "entry_gate_1"] == [
        "check_in",
        "gate_opened",
        "door_opened",
        "door_closed",
    ]
    await until(lambda: visit_states[-1:] == ["off"])  # through the gate
    assert "on" in visit_states  # while the shopper was passing it

    refused = await real_bridge.check_in_card("entry_gate_1", "pm_one_too_many_123")
    assert refused.reason == "store_full"
    await until(lambda: any(e["type"] == "access_denied" for e in seen))
    denied = next(e for e in seen if e["type"] == "access_denied")
    assert (denied["reason"], denied["source"]) == ("store_full", "payment_card")

    left = await real_bridge.exit("exit_gate_1", track_id=came.track_id)
    assert left.opened
    await until(lambda: state(hass, OCCUPANCY).state == "0")
    await until(lambda: any(e["type"] == "check_out" for e in seen))
    assert state(hass, EXIT_EVENT).state != "unknown"
    visit_events = [e for e in seen if e["visit"] == came.visit_id]
    assert {"check_in", "check_out"} <= {e["type"] for e in visit_events}
    # Everything the bridge published reached Home Assistant, once: 5 events at the entry,
    # the refusal, 5 at the exit.
    await until(lambda: len(seen) == 11)
    assert len({e["id"] for e in seen}) == 11

    await real_bridge.stop()
    await until(lambda: not runtime(entry).available)
    real_bridge.start = _noop  # type: ignore[method-assign]
    real_bridge.stop = _noop  # type: ignore[method-assign]


async def _noop() -> None:
    """The bridge was stopped by the test itself."""
