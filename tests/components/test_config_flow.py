"""The config, reconfigure and options flows, as a user walks through them."""

from typing import Any

import pytest
from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN

pytestmark = pytest.mark.usefixtures("home_entities")

FRONT = {
    "name": "Front door",
    "lock": "lock.front_door",
    "door_sensor": "binary_sensor.front_door_contact",
    "cameras": ["camera.porch"],
    "add_another": False,
}


async def _start(hass: HomeAssistant, site: str = "Home") -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
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
        "alarm_panel": "alarm_control_panel.home",
        "notify": ["notify.mobile_app_owner"],
        "attack_threshold": 5,
    }
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("site", "error"),
    [("   ", "empty_name"), ("!!!", "empty_name"), ("home", "site_exists")],
)
async def test_bad_site_name_is_rejected(hass: HomeAssistant, site: str, error: str) -> None:
    MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data={}).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
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
    assert result["result"].options == {"alarm_panel": None, "notify": [], "attack_threshold": 5}


async def test_same_site_in_two_flows_aborts_the_second(hass: HomeAssistant) -> None:
    first = await _start(hass)
    second = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": config_entries.SOURCE_USER}
    )
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
