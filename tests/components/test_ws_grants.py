"""The Access panel's grant commands over Home Assistant's real WebSocket API.

What an owner at the panel would notice: grants made, changed and ended; a generated PIN
shown once and never again; warnings before a PIN is saved where it cannot work or is
already someone else's; refusals in words, with nothing changed; live updates of a
change made anywhere else (an action), and none after unsubscribing. Only admins.
"""

import json
from pathlib import Path
from typing import Any

import pytest
from homeassistant.const import MATCH_ALL
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MockHAClientWebSocket, WebSocketGenerator

from tests.waiting import until

from .helpers import call, entity_id, grant_state

GERMAN = json.loads(
    (Path(__file__).parents[2] / "custom_components/concierge/translations/de.json").read_text()
)["exceptions"]

WEEKLY = {"weekdays": ["mon", "wed"], "start_time": "09:00", "end_time": "12:00"}
"""A weekly window, as the panel's form sends it."""


async def send(ws: MockHAClientWebSocket, **msg: Any) -> dict[str, Any]:
    """Send a command; its answer (result or error)."""
    await ws.send_json_auto_id(msg)
    answer: dict[str, Any] = await ws.receive_json()
    assert answer["type"] == "result", answer
    return answer


async def ok(ws: MockHAClientWebSocket, **msg: Any) -> Any:
    answer = await send(ws, **msg)
    assert answer["success"], answer
    return answer["result"]


async def refused(ws: MockHAClientWebSocket, **msg: Any) -> dict[str, Any]:
    answer = await send(ws, **msg)
    assert not answer["success"], answer
    error: dict[str, Any] = answer["error"]
    return error


@pytest.fixture
async def ws(
    hass: HomeAssistant, site: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> MockHAClientWebSocket:
    return await hass_ws_client(hass)


async def listed(ws: MockHAClientWebSocket, site: MockConfigEntry) -> dict[str, dict[str, Any]]:
    grants = (await ok(ws, type="concierge/grants/list", site_id=site.entry_id))["grants"]
    return {g["grant_id"]: g for g in grants}


async def test_sites_name_the_doors_and_say_which_have_a_keypad(
    ws: MockHAClientWebSocket, site: MockConfigEntry
) -> None:
    sites = (await ok(ws, type="concierge/sites"))["sites"]
    assert sites == [
        {
            "site_id": site.entry_id,
            "name": "Home",
            "portals": [
                {"id": "front", "name": "Front door", "has_keypad": False,
                 "lock": "lock.front_door"},
                {"id": "back", "name": "Back door", "has_keypad": False,
                 "lock": "lock.back_door"},
            ],
            "carriers": [],
        }
    ]  # fmt: skip


async def test_a_weekly_grant_with_a_generated_pin_is_shown_once(
    hass: HomeAssistant, ws: MockHAClientWebSocket, site: MockConfigEntry
) -> None:
    made = await ok(
        ws, type="concierge/grants/create", site_id=site.entry_id, label="Cleaner",
        kind="cleaner", portals=["Front door"], generate_pin=True, **WEEKLY,
    )  # fmt: skip
    pin = made["pin"]
    assert pin.isdigit()
    assert len(pin) == 6
    # The front door's lock has no keypad: the PIN cannot be used there.
    assert [(w["code"], w["portal"]) for w in made["warnings"]] == [("no_keypad", "front")]
    assert "Front door" in made["warnings"][0]["message"]
    assert site.runtime_data.grant(made["grant_id"]).credentials.pin == pin

    grants = await listed(ws, site)
    shown = grants[made["grant_id"]]
    assert pin not in str(grants)  # never again
    assert shown["has_pin"] is True
    assert shown["codes"] == {"front": "no_keypad"}
    assert shown["window"] == {
        "kind": "weekly", "weekdays": ["mon", "wed"], "start_time": "09:00",
        "end_time": "12:00", "valid_from": None, "valid_until": None,
    }  # fmt: skip
    assert shown["state"] == grant_state(hass, site, made["grant_id"])
    assert shown["current_or_next"] is not None
    assert shown["current_or_next"]["start"].endswith("+00:00")
    # The grant's sensor exists like any other grant's.
    assert entity_id(hass, site, f"{made['grant_id']}_grant_state", "sensor")


async def test_a_pin_given_here_never_reaches_the_event_bus(
    hass: HomeAssistant, ws: MockHAClientWebSocket, site: MockConfigEntry
) -> None:
    seen: list[str] = []

    @callback
    def _any(event: Event) -> None:
        seen.append(f"{event.event_type} {event.data!r}")

    hass.bus.async_listen(MATCH_ALL, _any)
    made = await ok(
        ws, type="concierge/grants/create", site_id=site.entry_id, label="Sitter",
        portals=["front"], pin="480613", **WEEKLY,
    )  # fmt: skip
    await hass.async_block_till_done()
    assert site.runtime_data.grant(made["grant_id"]).credentials.pin == "480613"
    assert seen  # the grant's creation and its entities were on the bus
    assert not [e for e in seen if "480613" in e]
    # The same through the action puts it on the bus (call_service): what the panel avoids.
    await call(hass, "create_grant", label="Other", portals=["back"], pin="593027", **WEEKLY)
    assert [e for e in seen if "593027" in e]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"portals": ["cellar"], **WEEKLY}, "cellar"),
        ({"pin": "12", **WEEKLY}, "PIN"),
        ({"start": "2020-01-01 10:00", "end": "2020-01-01 12:00"}, "over"),
        ({"start": "2030-01-01 10:00", **WEEKLY}, "weekly"),
        ({}, "weekdays"),
    ],
)
async def test_bad_input_is_refused_in_words_and_changes_nothing(
    ws: MockHAClientWebSocket, site: MockConfigEntry, fields: dict[str, Any], words: str
) -> None:
    before = dict(site.runtime_data.site_data.grants)
    error = await refused(
        ws, type="concierge/grants/create", site_id=site.entry_id, label="X", **fields
    )
    assert error["code"] == "home_assistant_error"
    assert words.casefold() in error["message"].casefold(), error
    assert " " in error["message"]  # words, not a key
    assert site.runtime_data.site_data.grants == before


async def test_refusals_of_a_change_keep_the_grant_and_speak_the_language(
    hass: HomeAssistant, ws: MockHAClientWebSocket, site: MockConfigEntry
) -> None:
    made = await ok(
        ws, type="concierge/grants/create", site_id=site.entry_id, label="Cleaner",
        portals=["front"], pin="271828", **WEEKLY,
    )  # fmt: skip
    grant_id = made["grant_id"]
    before = dict(site.runtime_data.site_data.grants)
    other = await refused(
        ws, type="concierge/grants/create", site_id=site.entry_id, label="Twin",
        portals=["front"], pin="271828", **WEEKLY,
    )  # fmt: skip
    assert "Cleaner" in other["message"]
    assert other["translation_key"] == "pin_in_use"
    unknown = await refused(
        ws, type="concierge/grants/update", site_id=site.entry_id, grant_id="f" * 32, label="Y"
    )
    assert unknown["code"] == "not_found"
    nothing = await refused(
        ws, type="concierge/grants/update", site_id=site.entry_id, grant_id=grant_id
    )
    assert nothing["code"] == "home_assistant_error"
    no_site = await refused(ws, type="concierge/grants/list", site_id="nowhere")
    assert no_site["code"] == "not_found"
    malformed = await refused(ws, type="concierge/grants/create", site_id=site.entry_id)
    assert malformed["code"] == "invalid_format"  # no label
    assert site.runtime_data.site_data.grants == before

    hass.config.language = "de"
    german = await refused(
        ws, type="concierge/grants/create", site_id=site.entry_id, label="Z",
        portals=["keller"], **WEEKLY,
    )  # fmt: skip
    assert "keller" in german["message"]
    assert german["message"] == GERMAN["unknown_portal"]["message"].format(portal="keller")


async def test_check_warns_of_a_door_without_keypad_and_a_pin_in_use(
    ws: MockHAClientWebSocket, site: MockConfigEntry
) -> None:
    made = await ok(
        ws, type="concierge/grants/create", site_id=site.entry_id, label="Cleaner",
        portals=["front"], pin="314159", **WEEKLY,
    )  # fmt: skip
    check = {"type": "concierge/grants/check", "site_id": site.entry_id, "pin": "314159"}
    warnings = (await ok(ws, **check, portals=["front", "back"]))["warnings"]
    assert sorted((w["code"], w["portal"]) for w in warnings) == [
        ("no_keypad", "back"), ("no_keypad", "front"), ("pin_in_use", "front"),
    ]  # fmt: skip
    in_use = next(w for w in warnings if w["code"] == "pin_in_use")
    assert "Cleaner" in in_use["message"]
    # The grant's own PIN is not "in use" when that grant is the one being edited.
    own = (await ok(ws, **check, portals=["front"], grant_id=made["grant_id"]))["warnings"]
    assert [w["code"] for w in own] == ["no_keypad"]
    assert (await ok(ws, **check | {"pin": None}, portals=["front"]))["warnings"] == []
    bad = await refused(ws, **check | {"pin": "1"}, portals=["front"])
    assert "PIN" in bad["message"]


async def test_update_suspend_resume_revoke(
    hass: HomeAssistant, ws: MockHAClientWebSocket, site: MockConfigEntry
) -> None:
    made = await ok(
        ws, type="concierge/grants/create", site_id=site.entry_id, label="Cleaner",
        portals=["front"], **WEEKLY,
    )  # fmt: skip
    grant_id = made["grant_id"]
    ids = {"site_id": site.entry_id, "grant_id": grant_id}
    changed = await ok(
        ws, type="concierge/grants/update", **ids, label="Cleaning team", generate_pin=True
    )
    assert changed["pin"].isdigit()
    assert site.runtime_data.grant(grant_id).credentials.pin == changed["pin"]
    assert (await listed(ws, site))[grant_id]["label"] == "Cleaning team"
    assert await ok(ws, type="concierge/grants/suspend", **ids) is None
    assert (await listed(ws, site))[grant_id]["state"] == "suspended"
    assert grant_state(hass, site, grant_id) == "suspended"
    await ok(ws, type="concierge/grants/resume", **ids)
    assert (await listed(ws, site))[grant_id]["state"] != "suspended"
    await ok(ws, type="concierge/grants/revoke", **ids)
    assert (await listed(ws, site))[grant_id]["state"] == "revoked"
    again = await refused(ws, type="concierge/grants/resume", **ids)
    assert again["code"] == "home_assistant_error"


async def test_subscription_follows_an_action_and_stops_when_told(
    hass: HomeAssistant, ws: MockHAClientWebSocket, site: MockConfigEntry
) -> None:
    await call(hass, "create_grant", label="Before", portals=["front"], **WEEKLY)
    await ws.send_json_auto_id({"type": "concierge/grants/subscribe", "site_id": site.entry_id})
    result = await ws.receive_json()
    assert result["success"]
    assert result["result"] is None
    first = await ws.receive_json()
    assert first["type"] == "event"
    assert [g["label"] for g in first["event"]["grants"]] == ["Before"]
    subscription = first["id"]

    made = await call(hass, "create_grant", label="Window cleaner", portals=["back"], **WEEKLY)
    update = await ws.receive_json()
    assert update["id"] == subscription
    assert [g["label"] for g in update["event"]["grants"]] == ["Window cleaner"]
    await call(hass, "suspend_grant", grant_id=made["grant_id"])
    update = await ws.receive_json()
    assert [g["state"] for g in update["event"]["grants"]] == ["suspended"]

    coordinator = site.runtime_data
    listening = len(coordinator._listeners)
    await ok(ws, type="unsubscribe_events", subscription=subscription)
    assert len(coordinator._listeners) == listening - 1
    await call(hass, "resume_grant", grant_id=made["grant_id"])
    # The next message is the answer to the next command, not an update.
    assert (await send(ws, type="concierge/sites"))["success"]


async def test_subscription_ends_with_the_connection(
    hass: HomeAssistant, site: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> None:
    coordinator = site.runtime_data
    listening = len(coordinator._listeners)
    ws = await hass_ws_client(hass)
    await ws.send_json_auto_id({"type": "concierge/grants/subscribe", "site_id": site.entry_id})
    assert (await ws.receive_json())["success"]
    assert len(coordinator._listeners) == listening + 1
    await ws.close()
    await until(
        "the closed connection's subscription is gone",
        lambda: len(coordinator._listeners) == listening,
    )
    await call(hass, "create_grant", label="After", portals=["front"], **WEEKLY)


COMMANDS: list[dict[str, Any]] = [
    {"type": "concierge/sites"},
    {"type": "concierge/grants/list"},
    {"type": "concierge/grants/subscribe"},
    {"type": "concierge/grants/create", "label": "X", **WEEKLY},
    {"type": "concierge/grants/check", "portals": ["front"], "pin": "1234"},
    {"type": "concierge/grants/update", "grant_id": "g", "label": "Y"},
    {"type": "concierge/grants/suspend", "grant_id": "g"},
    {"type": "concierge/grants/resume", "grant_id": "g"},
    {"type": "concierge/grants/revoke", "grant_id": "g"},
    {"type": "concierge/guest_links/create", "grant_id": "g"},
    {"type": "concierge/guest_links/list", "grant_id": "g"},
    {"type": "concierge/guest_links/revoke", "link_id": "l"},
    {"type": "concierge/visits/list"},
    {"type": "concierge/visits/export", "visit_id": "v"},
    {"type": "concierge/audit/verify"},
    {"type": "concierge/carriers/list"},
    {"type": "concierge/tokens/check", "token": "abc"},
]


async def test_only_admins_may_use_the_panel_api(
    hass: HomeAssistant,
    site: MockConfigEntry,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    ws = await hass_ws_client(hass, hass_read_only_access_token)
    before = dict(site.runtime_data.site_data.grants)
    for command in COMMANDS:
        site_id = {} if command["type"] == "concierge/sites" else {"site_id": site.entry_id}
        error = await refused(ws, **command, **site_id)
        assert error["code"] == "unauthorized", command
    assert site.runtime_data.site_data.grants == before
