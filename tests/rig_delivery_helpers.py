"""What the Z-Wave and Zigbee delivery tests share: the house, the site, visits, waiting.

The house is the one of tests/components/delivery_helpers.py (Home Assistant's `manual`
alarm panel with a code, a `local_file` camera, a pets-at-home sensor); the lock is the
rig's. The rigs live in real time: nothing here moves a clock, everything polls.
"""

import hashlib
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN, EVENT_ACCESS
from custom_components.concierge.evidence_files import path_for_ref
from tests.components.delivery_helpers import (
    ALARM,
    CAMERA,
    Carrier,
    add_site,
    courier_url,
    setup_house,
    site_data,
    site_options,
)
from tests.keypad_helpers import local_time

DOOR = "binary_sensor.front_door_contact"
FAST = {"lock_timeout": 3, "alarm_timeout": 3}
"""Short verification timeouts: a lock that does not lock is known within 3 s."""


async def add_rig_site(
    hass: HomeAssistant, lock_entity_id: str, carrier: Carrier, **options: Any
) -> MockConfigEntry:
    """The front door is the rig's lock, with a door contact (closed) and the porch camera."""
    door(hass, "off")
    data = site_data(lock_entity_id, DOOR, [CAMERA])
    return await add_site(hass, data, site_options(**(FAST | options)), carrier)


def door(hass: HomeAssistant, state: str) -> None:
    """The door contact reports (it is the world's edge: the test sets it)."""
    hass.states.async_set(DOOR, state, {"device_class": "door"})


def state_of(hass: HomeAssistant, entity_id: str) -> str | None:
    """An entity's state, or None when it has none."""
    current = hass.states.get(entity_id)
    return None if current is None else current.state


async def courier_grant(hass: HomeAssistant) -> str:
    """A courier grant open from an hour ago for two hours, taking signed tokens."""
    response = await hass.services.async_call(
        DOMAIN,
        "create_grant",
        {
            "label": "Parcel Co",
            "kind": "courier",
            "start": local_time(-3600),
            "end": local_time(7200),
            "remote_token": True,
        },
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return str(response["grant_id"])


async def deliver(client: Any, entry: MockConfigEntry, carrier: Carrier) -> tuple[int, Any]:
    """The courier asks for entry with a freshly signed token."""
    token = carrier.token(entry.entry_id, now=dt_util.utcnow())
    response = await client.post(courier_url(entry), json={"token": token})
    return response.status, await response.json()


def timeline(events: list[dict[str, Any]], visit: str) -> list[str]:
    """The visit's access events in order, without the (timing-dependent) snapshots."""
    return [e["type"] for e in events if e["visit"] == visit and e["type"] != "evidence_captured"]


def ended(events: list[dict[str, Any]], visit: str) -> dict[str, Any] | None:
    """The visit's last event once it is completed or aborted."""
    for event in events:
        if event["visit"] == visit and event["type"] in {"visit_completed", "visit_aborted"}:
            return event
    return None


async def assert_evidence_verifies(hass: HomeAssistant, visit: str) -> None:
    """The visit's bundle verifies and every picture's file matches its hash in the chain."""
    bundle = await hass.services.async_call(
        DOMAIN, "export_visit", {"visit_id": visit}, blocking=True, return_response=True
    )
    assert bundle is not None
    assert bundle["verified"]["ok"] is True
    refs = [ev for r in bundle["records"] for ev in r["event"]["evidence"]]
    assert refs, "no picture in the visit's evidence"
    for ref in refs:
        path = path_for_ref(hass, ref["ref"])
        assert path is not None
        content = await hass.async_add_executor_job(path.read_bytes)
        assert hashlib.sha256(content).hexdigest() == ref["sha256"]


def capture_access_events(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every access event fired on the bus, in wire form and in firing order.

    The listener is a callback: it runs in the event loop as the event fires (a plain
    function would run in the executor and could append out of order).
    """
    seen: list[dict[str, Any]] = []

    @callback
    def _seen(event: Event[dict[str, Any]]) -> None:
        seen.append(dict(event.data))

    hass.bus.async_listen(EVENT_ACCESS, _seen)
    return seen


@pytest.fixture
async def house(hass: HomeAssistant, tmp_path: Path) -> None:
    """The alarm armed away (code required), the porch camera, pets away."""
    await setup_house(hass, tmp_path)


@pytest.fixture
def carrier() -> Carrier:
    """Parcel Co, with its key registered at the site."""
    return Carrier()


@pytest.fixture
def access_events(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every access event fired on the bus, in wire form, in firing order."""
    return capture_access_events(hass)


def assert_lock_failure_handled(
    hass: HomeAssistant,
    access_events: list[dict[str, Any]],
    visit: str,
    finished: dict[str, Any],
) -> None:
    """The lock did not lock: alert, the fallback mode armed, the visit aborted."""
    assert finished["type"] == "visit_aborted"
    assert finished["reason"] == "lock_failed"
    events = timeline(access_events, visit)
    assert events[-4:] == ["lock_failure", "safety_alert", "alarm_rearmed", "visit_aborted"]
    alert = next(e for e in access_events if e["visit"] == visit and e["type"] == "safety_alert")
    assert alert["reason"] == "lock_failed"
    rearmed = next(e for e in access_events if e["visit"] == visit and e["type"] == "alarm_rearmed")
    assert rearmed["data"] == {"mode": "armed_home"}
    # Never left disarmed: armed in the mode that does not rely on this door.
    state = hass.states.get(ALARM)
    assert state is not None
    assert state.state == "armed_home"
