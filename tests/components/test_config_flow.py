"""The config, reconfigure and options flows, as a user walks through them."""

import json
from typing import Any

import probatio
import pytest
from homeassistant import config_entries
from homeassistant.components.alarm_control_panel import AlarmControlPanelEntityFeature
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData, section
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN

pytestmark = pytest.mark.usefixtures("home_entities")

DEFAULT_OPTIONS = {
    "alarm_panel": None,
    "alarm_code": None,
    "fallback_arm_mode": "armed_home",
    "notify": [],
    "attack_threshold": 5,
    "door_open_timeout": 120,
    "door_held_open": 300,
    "lock_timeout": 30,
    "alarm_timeout": 90,
    "pets_home_entity": None,
    "delivery_address": None,
}

FRONT = {
    "name": "Front door",
    "lock": "lock.front_door",
    "door_sensor": "binary_sensor.front_door_contact",
    "cameras": ["camera.porch"],
    "add_another": False,
}


async def _home_form(hass: HomeAssistant) -> dict[str, Any]:
    """Start the flow and choose "Home" in its first step's menu."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == ["home", "store"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "home"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "home"
    return result


async def _start(hass: HomeAssistant, site: str = "Home") -> dict[str, Any]:
    result = await _home_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"site_name": site})
    assert result["step_id"] == "portal"
    return result


async def test_full_flow_creates_site_with_two_portals(hass: HomeAssistant) -> None:
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**FRONT, "add_another": True}
    )
    assert result["step_id"] == "portal"
    assert result["description_placeholders"] == {"count": "1"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Back door", "lock": "lock.back_door", "add_another": False}
    )
    assert result["step_id"] == "extras"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"alarm_panel": "alarm_control_panel.home", "notify": ["notify.mobile_app_owner"]},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Home"
    entry = result["result"]
    assert entry.unique_id == "home"
    portals = entry.data["portals"]
    assert [p["name"] for p in portals] == ["Front door", "Back door"]
    assert portals[0]["cameras"] == ["camera.porch"]
    assert portals[1]["door_sensor"] is None
    assert len({p["id"] for p in portals}) == 2
    assert entry.options == {
        **DEFAULT_OPTIONS,
        "alarm_panel": "alarm_control_panel.home",
        "notify": ["notify.mobile_app_owner"],
    }
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("site", "error"),
    [("   ", "empty_name"), ("!!!", "empty_name"), ("home", "site_exists")],
)
async def test_bad_site_name_is_rejected(hass: HomeAssistant, site: str, error: str) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data={}).add_to_hass(hass)
    result = await _home_form(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {"site_name": site})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"site_name": error}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"site_name": "Holiday flat"}
    )
    assert result["step_id"] == "portal"


@pytest.mark.parametrize(
    ("portal", "errors"),
    [
        ({**FRONT, "lock": "lock.nowhere"}, {"lock": "entity_not_found"}),
        ({**FRONT, "door_sensor": "binary_sensor.gone"}, {"door_sensor": "entity_not_found"}),
        ({**FRONT, "cameras": ["camera.porch", "camera.gone"]}, {"cameras": "entity_not_found"}),
        ({**FRONT, "name": "  "}, {"name": "empty_name"}),
    ],
)
async def test_bad_portal_is_rejected_and_flow_recovers(
    hass: HomeAssistant, portal: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], portal)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "portal"
    assert result["errors"] == errors
    assert result["description_placeholders"] == {"count": "0"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], FRONT)
    assert result["step_id"] == "extras"


@pytest.mark.parametrize(
    "portal",
    [
        {**FRONT, "lock": "switch.kettle"},
        {**FRONT, "door_sensor": "lock.back_door"},
        {**FRONT, "cameras": ["lock.back_door"]},
    ],
)
async def test_entity_of_wrong_kind_is_refused(hass: HomeAssistant, portal: dict[str, Any]) -> None:
    result = await _start(hass)
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(result["flow_id"], portal)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], FRONT)
    assert result["step_id"] == "extras"


async def test_second_portal_cannot_reuse_name_or_lock(hass: HomeAssistant) -> None:
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**FRONT, "add_another": True}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "front DOOR", "lock": "lock.front_door"}
    )
    assert result["errors"] == {"name": "duplicate_portal", "lock": "lock_in_use"}


@pytest.mark.parametrize(
    ("extras", "errors"),
    [
        ({"alarm_panel": "alarm_control_panel.gone"}, {"alarm_panel": "entity_not_found"}),
        ({"notify": ["light.kitchen"]}, {"notify": "wrong_domain"}),
        ({"notify": ["notify.nobody"]}, {"notify": "notify_not_found"}),
    ],
)
async def test_bad_extras_are_rejected(
    hass: HomeAssistant, extras: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], FRONT)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], extras)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert not hass.config_entries.async_entries(DOMAIN)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].options == DEFAULT_OPTIONS


async def test_same_site_in_two_flows_aborts_the_second(hass: HomeAssistant) -> None:
    first = await _start(hass)
    second = await _home_form(hass)
    await hass.config_entries.flow.async_configure(first["flow_id"], FRONT)
    result = await hass.config_entries.flow.async_configure(
        second["flow_id"], {"site_name": "Home"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_in_progress"


async def _configured(hass: HomeAssistant) -> config_entries.ConfigEntry:
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**FRONT, "add_another": True}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Back door", "lock": "lock.back_door"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    entry: config_entries.ConfigEntry = result["result"]
    return entry


async def _reconfigure(hass: HomeAssistant, entry: config_entries.ConfigEntry) -> Any:
    return await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": config_entries.SOURCE_RECONFIGURE, "entry_id": entry.entry_id},
    )


async def test_reconfigure_renames_and_drops_a_portal(hass: HomeAssistant) -> None:
    entry = await _configured(hass)
    front_id = entry.data["portals"][0]["id"]
    result = await _reconfigure(hass, entry)
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"site_name": "Town house", "keep_portals": [front_id], "add_another": False},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.title == "Town house"
    assert entry.unique_id == "town_house"
    assert [p["id"] for p in entry.data["portals"]] == [front_id]
    assert entry.state is ConfigEntryState.LOADED


async def test_reconfigure_adds_a_portal_keeping_ids(hass: HomeAssistant) -> None:
    hass.states.async_set("lock.garage", "locked")
    entry = await _configured(hass)
    ids = [p["id"] for p in entry.data["portals"]]
    result = await _reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"site_name": "Home", "keep_portals": ids, "add_another": True}
    )
    assert result["step_id"] == "portal"
    # The kept portals still count: their names and locks cannot be reused.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Back door", "lock": "lock.front_door"}
    )
    assert result["errors"] == {"name": "duplicate_portal", "lock": "lock_in_use"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Garage", "lock": "lock.garage"}
    )
    assert result["reason"] == "reconfigure_successful"
    assert [p["id"] for p in entry.data["portals"]][:2] == ids
    assert entry.data["portals"][2]["lock"] == "lock.garage"


async def test_reconfigure_rejects_no_portals_and_taken_names(hass: HomeAssistant) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id="cabin", title="Cabin", data={}).add_to_hass(hass)
    entry = await _configured(hass)
    before = dict(entry.data)
    result = await _reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"site_name": "Home", "keep_portals": [], "add_another": False}
    )
    assert result["errors"] == {"base": "no_portals"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"site_name": "cabin", "keep_portals": [], "add_another": True}
    )
    assert result["errors"] == {"site_name": "site_exists"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"site_name": " ", "add_another": True}
    )
    assert result["errors"] == {"site_name": "empty_name"}
    assert dict(entry.data) == before


async def test_options_flow_changes_alarm_and_notify(hass: HomeAssistant) -> None:
    entry = await _configured(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {"alarm_panel": "lock.front_door"}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"notify": ["notify.nobody"]}
    )
    assert result["errors"] == {"notify": "notify_not_found"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "alarm_panel": "alarm_control_panel.home",
            "notify": ["notify.mobile_app_owner"],
            "attack_threshold": 3,
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["alarm_panel"] == "alarm_control_panel.home"
    assert entry.runtime_data.site.attack_threshold == 3
    assert entry.runtime_data.site.alarm_panel == "alarm_control_panel.home"
    assert entry.runtime_data.site.notify == ("notify.mobile_app_owner",)


async def test_slot_range_must_not_run_backwards(hass: HomeAssistant) -> None:
    result = await _start(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**FRONT, "slot_first": 20, "slot_last": 12}
    )
    assert result["errors"] == {"slot_last": "slot_range"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**FRONT, "slot_first": 20, "slot_last": 29}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    portal = result["result"].data["portals"][0]
    assert (portal["slot_first"], portal["slot_last"]) == (20, 29)


# --- options: the alarm code, the fallback arm mode and the delivery section ---------------


@pytest.fixture
async def coded_panel(hass: HomeAssistant) -> str:
    """A real Home Assistant alarm panel (the manual platform) that wants the code 1234."""
    assert await async_setup_component(
        hass,
        "alarm_control_panel",
        {"alarm_control_panel": [{"platform": "manual", "name": "Coded", "code": "1234"}]},
    )
    await hass.async_block_till_done()
    assert hass.states.get("alarm_control_panel.coded").attributes["code_format"] == "number"
    return "alarm_control_panel.coded"


def _suggested(result: Any) -> dict[str, Any]:
    """The suggested values a form shows, sections nested by their key."""
    shown: dict[str, Any] = {}
    for key, value in result["data_schema"].schema.items():
        if isinstance(value, section):
            shown[str(key)] = {
                str(k): k.description["suggested_value"]
                for k in value.schema.schema
                if (k.description or {}).get("suggested_value") is not None
            }
        elif (key.description or {}).get("suggested_value") is not None:
            shown[str(key)] = key.description["suggested_value"]
    return shown


async def _at_extras(hass: HomeAssistant) -> Any:
    result = await _start(hass)
    return await hass.config_entries.flow.async_configure(result["flow_id"], FRONT)


async def test_panel_with_a_code_needs_the_code(hass: HomeAssistant, coded_panel: str) -> None:
    result = await _at_extras(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"alarm_panel": coded_panel}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"alarm_code": "alarm_code_required"}
    # A code typed in is not sent back with the form, even when another field is wrong.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"alarm_panel": coded_panel, "alarm_code": "4321", "notify": ["notify.nobody"]},
    )
    assert result["errors"] == {"notify": "notify_not_found"}
    assert "alarm_code" not in _suggested(result)
    assert _suggested(result)["alarm_panel"] == coded_panel
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"alarm_panel": coded_panel, "alarm_code": " 1234 "}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.options["alarm_code"] == "1234"
    assert entry.runtime_data.site.alarm_code == "1234"
    assert "1234" not in repr(entry.runtime_data.site)


async def test_panel_without_a_code_needs_none(hass: HomeAssistant) -> None:
    result = await _at_extras(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"alarm_panel": "alarm_control_panel.home"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].options["alarm_code"] is None


async def test_panel_known_only_to_the_registry_is_not_checked(hass: HomeAssistant) -> None:
    """A panel whose integration has not loaded yet cannot say whether it wants a code."""
    er.async_get(hass).async_get_or_create(
        "alarm_control_panel", "other", "panel-1", suggested_object_id="garage"
    )
    result = await _at_extras(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"alarm_panel": "alarm_control_panel.garage"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].options["alarm_panel"] == "alarm_control_panel.garage"


async def test_fallback_mode_must_be_one_the_panel_supports(hass: HomeAssistant) -> None:
    hass.states.async_set(
        "alarm_control_panel.basic",
        "disarmed",
        {"supported_features": AlarmControlPanelEntityFeature.ARM_HOME},
    )
    result = await _at_extras(hass)
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {"fallback_arm_mode": "disarmed"}
        )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"alarm_panel": "alarm_control_panel.basic", "fallback_arm_mode": "armed_night"},
    )
    assert result["errors"] == {"fallback_arm_mode": "arm_mode_unsupported"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"alarm_panel": "alarm_control_panel.basic", "fallback_arm_mode": "armed_home"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].options["fallback_arm_mode"] == "armed_home"


DELIVERY = {
    "door_open_timeout": 60,
    "door_held_open": 600,
    "lock_timeout": 20,
    "alarm_timeout": 45,
    "pets_home_entity": "input_boolean.pets_home",
    "delivery_address": "  Hauptstraße 1\n10115 Berlin  ",
}


async def test_delivery_section_is_stored_flat(hass: HomeAssistant) -> None:
    hass.states.async_set("input_boolean.pets_home", "on")
    result = await _at_extras(hass)
    schema_keys = [str(key) for key in result["data_schema"].schema]
    assert schema_keys.index("alarm_code") == schema_keys.index("alarm_panel") + 1
    delivery = result["data_schema"].schema["delivery"]
    assert isinstance(delivery, section)
    assert delivery.options["collapsed"] is True
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"fallback_arm_mode": "armed_away", "delivery": DELIVERY}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.options == {
        **DEFAULT_OPTIONS,
        **DELIVERY,
        "fallback_arm_mode": "armed_away",
        "delivery_address": "Hauptstraße 1\n10115 Berlin",
    }
    site = entry.runtime_data.site
    assert (site.door_open_timeout, site.door_held_open) == (60, 600)
    assert (site.lock_timeout, site.alarm_timeout) == (20, 45)
    assert site.pets_home_entity == "input_boolean.pets_home"
    assert site.fallback_arm_mode == "armed_away"


@pytest.mark.parametrize(
    "delivery",
    [
        {"door_open_timeout": 5},
        {"door_open_timeout": 1801},
        {"door_held_open": 29},
        {"lock_timeout": 301},
        {"alarm_timeout": 4},
        {"pets_home_entity": "lock.front_door"},
    ],
)
async def test_delivery_values_out_of_range_are_refused(
    hass: HomeAssistant, delivery: dict[str, Any]
) -> None:
    result = await _at_extras(hass)
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(result["flow_id"], {"delivery": delivery})


async def test_missing_pets_entity_is_rejected(hass: HomeAssistant) -> None:
    result = await _at_extras(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"delivery": {"pets_home_entity": "binary_sensor.pets_gone"}}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"delivery": "pets_entity_not_found"}
    assert _suggested(result)["delivery"]["pets_home_entity"] == "binary_sensor.pets_gone"
    hass.states.async_set("binary_sensor.pets_gone", "off")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"delivery": {"pets_home_entity": "binary_sensor.pets_gone"}}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def _configured_with_code(hass: HomeAssistant, panel: str) -> config_entries.ConfigEntry:
    result = await _at_extras(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"alarm_panel": panel, "alarm_code": "1234", "delivery": {"lock_timeout": 25}},
    )
    await hass.async_block_till_done()
    entry: config_entries.ConfigEntry = result["result"]
    assert entry.options["alarm_code"] == "1234"
    return entry


async def test_options_keep_the_stored_code_and_never_show_it(
    hass: HomeAssistant, coded_panel: str
) -> None:
    entry = await _configured_with_code(hass, coded_panel)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    shown = _suggested(result)
    assert "alarm_code" not in shown
    # Nothing the browser receives holds the code.
    sent = json.dumps(
        probatio.to_field_list(result["data_schema"], custom_serializer=cv.custom_serializer)
    )
    assert "alarm_code" in sent
    assert "1234" not in sent
    assert shown["alarm_panel"] == coded_panel
    assert shown["delivery"]["lock_timeout"] == 25
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"alarm_panel": coded_panel, "attack_threshold": 3, "delivery": {"lock_timeout": 40}},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["alarm_code"] == "1234"
    assert entry.options["lock_timeout"] == 40
    assert entry.runtime_data.site.alarm_code == "1234"
    assert entry.runtime_data.site.lock_timeout == 40

    # A new code replaces the stored one.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"alarm_panel": coded_panel, "alarm_code": "9999"}
    )
    await hass.async_block_till_done()
    assert entry.options["alarm_code"] == "9999"


async def test_options_drop_the_code_with_its_panel(hass: HomeAssistant, coded_panel: str) -> None:
    entry = await _configured_with_code(hass, coded_panel)
    # Another panel that wants a code: the stored one belonged to the old panel.
    hass.states.async_set("alarm_control_panel.shed", "armed_away", {"code_format": "number"})
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"alarm_panel": "alarm_control_panel.shed"}
    )
    assert result["errors"] == {"alarm_code": "alarm_code_required"}
    assert "alarm_code" not in _suggested(result)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"alarm_panel": "alarm_control_panel.home"}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["alarm_code"] is None

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"alarm_code": "1234"}
    )
    await hass.async_block_till_done()
    assert entry.options["alarm_panel"] is None
    assert entry.options["alarm_code"] is None


async def test_options_reject_a_missing_pets_entity(hass: HomeAssistant) -> None:
    entry = await _configured(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"delivery": {"pets_home_entity": "device_tracker.rex"}}
    )
    assert result["errors"] == {"delivery": "pets_entity_not_found"}
    hass.states.async_set("device_tracker.rex", "home")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"delivery": {"pets_home_entity": "device_tracker.rex"}}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options["pets_home_entity"] == "device_tracker.rex"


# --- the options form as the browser shows it ------------------------------------------
# Home Assistant's frontend fills a form in before the user sees it (computeInitialHaFormData
# in its ha-form) and refuses to send it with a required field empty ("Not all required
# fields are filled in", step-flow-form's _submitStep). These follow the frontend's rules.


def _browser_fields(result: Any) -> list[dict[str, Any]]:
    """The form as Home Assistant sends it to the browser."""
    fields: list[dict[str, Any]] = probatio.to_field_list(
        result["data_schema"], custom_serializer=cv.custom_serializer
    )
    return json.loads(json.dumps(fields))


def _browser_fills_in(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """What each field shows when the form opens: suggested value, else default, else empty."""
    data: dict[str, Any] = {}
    for field in fields:
        suggested = (field.get("description") or {}).get("suggested_value")
        if suggested is not None:
            data[field["name"]] = suggested
        elif "default" in field:
            data[field["name"]] = field["default"]
        elif field.get("type") == "expandable":
            inner = _browser_fills_in(field["schema"])
            if field.get("required") or inner:
                data[field["name"]] = inner
    return data


def _browser_lets_submit(fields: list[dict[str, Any]], data: dict[str, Any]) -> bool:
    """Whether every required field (sections included) holds a value."""
    for field in fields:
        value = data.get(field["name"])
        if field.get("required") and value in ("", None):
            return False
        inside = field.get("type") == "expandable" and (field.get("required") or value is not None)
        if inside and not _browser_lets_submit(field["schema"], value or {}):
            return False
    return True


async def _submit_as_the_browser(hass: HomeAssistant, result: Any) -> Any:
    """Open the form and press Submit without touching a field."""
    fields = _browser_fields(result)
    shown = _browser_fills_in(fields)
    assert _browser_lets_submit(fields, shown), f"a required field shows empty: {shown}"
    sent = {key: value for key, value in shown.items() if value not in (None, "")}
    return await hass.config_entries.options.async_configure(result["flow_id"], sent)


async def test_options_open_filled_in_and_save_unchanged(
    hass: HomeAssistant, coded_panel: str
) -> None:
    hass.states.async_set("input_boolean.pets_home", "off")
    entry = await _configured_with_code(hass, coded_panel)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "alarm_panel": coded_panel,
            "fallback_arm_mode": "armed_away",
            "notify": ["notify.mobile_app_owner"],
            "attack_threshold": 7,
            "delivery": DELIVERY,
        },
    )
    await hass.async_block_till_done()
    stored = dict(entry.options)
    assert stored["door_open_timeout"] == 60
    assert stored["alarm_code"] == "1234"

    result = await hass.config_entries.options.async_init(entry.entry_id)
    shown = _browser_fills_in(_browser_fields(result))
    assert shown["delivery"]["door_open_timeout"] == 60
    assert shown["delivery"]["door_held_open"] == 600
    assert shown["delivery"]["pets_home_entity"] == "input_boolean.pets_home"
    assert shown["notify"] == ["notify.mobile_app_owner"]
    assert "alarm_code" not in shown
    result = await _submit_as_the_browser(hass, result)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert dict(entry.options) == stored


async def test_options_with_the_default_timings_save_unchanged(hass: HomeAssistant) -> None:
    """The timings a new home starts with (120/300/30/90) show and are kept."""
    entry = await _configured(hass)
    assert dict(entry.options) == DEFAULT_OPTIONS
    result = await hass.config_entries.options.async_init(entry.entry_id)
    shown = _browser_fills_in(_browser_fields(result))
    assert shown["delivery"] == {
        "door_open_timeout": 120,
        "door_held_open": 300,
        "lock_timeout": 30,
        "alarm_timeout": 90,
    }
    result = await _submit_as_the_browser(hass, result)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert {key: entry.options[key] for key in DEFAULT_OPTIONS} == DEFAULT_OPTIONS


async def test_setup_extras_can_be_submitted_as_shown(hass: HomeAssistant) -> None:
    result = await _at_extras(hass)
    fields = _browser_fields(result)
    shown = _browser_fills_in(fields)
    assert _browser_lets_submit(fields, shown), shown
    result = await hass.config_entries.flow.async_configure(result["flow_id"], shown)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].options == DEFAULT_OPTIONS


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"notify": ["light.kitchen"]}, {"notify": "wrong_domain"}),
        ({"alarm_panel": "alarm_control_panel.gone"}, {"alarm_panel": "entity_not_found"}),
        (
            {"alarm_panel": "alarm_control_panel.basic", "fallback_arm_mode": "armed_night"},
            {"fallback_arm_mode": "arm_mode_unsupported"},
        ),
    ],
)
async def test_options_refuse_what_the_setup_refuses(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    hass.states.async_set(
        "alarm_control_panel.basic",
        "disarmed",
        {"supported_features": AlarmControlPanelEntityFeature.ARM_HOME},
    )
    entry = await _configured(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], changes)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert dict(entry.options) == DEFAULT_OPTIONS
    # What was entered is shown again, to be corrected.
    shown = _browser_fills_in(_browser_fields(result))
    assert {key: shown.get(key) for key in changes} == changes
