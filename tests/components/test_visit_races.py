"""Two requests racing for the last use of a grant: one visit, and nothing left half-done.

Real pieces: Home Assistant's `manual` alarm panel (code required) and template locks on
input_booleans. Both requests pass the grant check before either has counted its use;
the one that loses must not leave its door unlocked or the alarm disarmed.
"""

import asyncio
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component

from tests.keypad_helpers import local_time

from .conftest import _bolt
from .delivery_helpers import ALARM, add_site, site_options
from .helpers import call


def _mode(option: str, *, slow: bool = False) -> list[dict[str, Any]]:
    """Set the panel's mode; a slow panel takes a moment (as a cloud panel does)."""
    step = {
        "action": "input_select.select_option",
        "target": {"entity_id": "input_select.house_mode"},
        "data": {"option": option},
    }
    return [{"delay": {"milliseconds": 300}}, step] if slow else [step]


@pytest.fixture
async def two_doors(hass: HomeAssistant) -> None:
    """Two working template locks and a template alarm panel that disarms slowly."""
    bolts = {f"{name}_bolt": {"initial": True} for name in ("front_door", "side_door")}
    await async_setup_component(hass, "input_boolean", {"input_boolean": bolts})
    modes = ["disarmed", "armed_home", "armed_away"]
    await async_setup_component(
        hass,
        "input_select",
        {"input_select": {"house_mode": {"options": modes, "initial": "armed_away"}}},
    )
    locks = [
        _bolt(name, [{"action": "input_boolean.turn_off",
                      "target": {"entity_id": f"input_boolean.{name}_bolt"}}])
        for name in ("front_door", "side_door")
    ]  # fmt: skip
    panel = {
        "name": "House",
        "state": "{{ states('input_select.house_mode') }}",
        "code_arm_required": False,
        "code_format": "no_code",
        "disarm": _mode("disarmed", slow=True),
        "arm_home": _mode("armed_home"),
        "arm_away": _mode("armed_away"),
    }
    await async_setup_component(
        hass, "template", {"template": [{"lock": locks, "alarm_control_panel": [panel]}]}
    )
    await hass.async_block_till_done()
    assert hass.states.get(ALARM).state == "armed_away"


async def test_two_doors_racing_for_the_last_use_leave_nothing_half_done(
    hass: HomeAssistant, two_doors: None, access_events: list[dict[str, Any]]
) -> None:
    portals = [
        {
            "id": p,
            "name": p.capitalize(),
            "lock": f"lock.{p}_door",
            "door_sensor": None,
            "cameras": [],
        }
        for p in ("front", "side")
    ]
    options = site_options(alarm_code="", pets_home_entity=None)
    await add_site(hass, {"site_name": "Home", "portals": portals}, options)
    grant = (
        await call(
            hass, "create_grant", label="Sitter", kind="sitter", portals=["front", "side"],
            start=local_time(-60), end=local_time(3600), max_uses=1,
        )
    )["grant_id"]  # fmt: skip

    results = await asyncio.gather(
        call(hass, "start_visit", grant_id=grant, portal="front"),
        call(hass, "start_visit", grant_id=grant, portal="side"),
        return_exceptions=True,
    )
    await hass.async_block_till_done()

    admitted = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(admitted) == 1, results
    assert len(refused) == 1
    assert isinstance(refused[0], ServiceValidationError)
    winner = admitted[0]["visit_id"]
    door_of = {e["visit"]: e["portal"] for e in access_events if e["visit"]}
    loser_door = "side" if door_of[winner] == "front" else "front"
    # The winner is inside; the loser's door is locked and its visit ended, recorded.
    assert hass.states.get(f"lock.{door_of[winner]}_door").state == "unlocked"
    assert hass.states.get(f"lock.{loser_door}_door").state == "locked"
    ended = [e for e in access_events if e["type"] in {"visit_aborted", "access_denied"}]
    assert [(e["portal"], e["reason"]) for e in ended] == [(loser_door, "grant_used_up")]
    # Both had disarmed (the slow panel was still armed when each asked): a true race.
    loser = [e["type"] for e in access_events if e["visit"] == ended[0]["visit"]]
    assert loser == ["access_requested", "alarm_disarmed", "access_denied"]
    assert home_grant_uses(hass, grant) == 1
    # The alarm stays disarmed for the winner's visit only; ending it re-arms.
    assert hass.states.get(ALARM).state == "disarmed"
    await call(hass, "end_visit", visit_id=winner)
    assert hass.states.get(ALARM).state == "armed_away"


async def test_overlapping_visits_keep_the_alarm_disarmed_until_the_last_one_ends(
    hass: HomeAssistant, two_doors: None, access_events: list[dict[str, Any]]
) -> None:
    portals = [
        {"id": p, "name": p.capitalize(), "lock": f"lock.{p}_door", "door_sensor": None,
         "cameras": []}
        for p in ("front", "side")
    ]  # fmt: skip
    options = site_options(alarm_code="", pets_home_entity=None)
    await add_site(hass, {"site_name": "Home", "portals": portals}, options)
    window = {"start": local_time(-60), "end": local_time(3600)}
    courier = (await call(hass, "create_grant", label="Courier", kind="courier",
                          portals=["front"], **window))["grant_id"]  # fmt: skip
    cleaner = (await call(hass, "create_grant", label="Cleaner", kind="cleaner",
                          portals=["side"], **window))["grant_id"]  # fmt: skip
    first = (await call(hass, "start_visit", grant_id=courier, portal="front"))["visit_id"]
    second = (await call(hass, "start_visit", grant_id=cleaner, portal="side"))["visit_id"]
    assert hass.states.get(ALARM).state == "disarmed"

    # The courier leaves first: the cleaner is still inside, so the alarm stays off.
    await call(hass, "end_visit", visit_id=first)
    assert hass.states.get(ALARM).state == "disarmed"
    assert hass.states.get("lock.front_door").state == "locked"
    # The cleaner leaves: the alarm goes back to the mode it was in before the first visit.
    await call(hass, "end_visit", visit_id=second)
    assert hass.states.get(ALARM).state == "armed_away"
    rearmed = [e for e in access_events if e["type"] == "alarm_rearmed"]
    assert [(e["visit"], e["data"]["mode"]) for e in rearmed] == [(second, "armed_away")]


async def test_a_restart_during_overlapping_visits_re_arms_once_both_are_closed(
    hass: HomeAssistant, two_doors: None, access_events: list[dict[str, Any]]
) -> None:
    portals = [
        {"id": p, "name": p.capitalize(), "lock": f"lock.{p}_door", "door_sensor": None,
         "cameras": []}
        for p in ("front", "side")
    ]  # fmt: skip
    options = site_options(alarm_code="", pets_home_entity=None)
    entry = await add_site(hass, {"site_name": "Home", "portals": portals}, options)
    window = {"start": local_time(-60), "end": local_time(3600)}
    courier = (await call(hass, "create_grant", label="Courier", kind="courier",
                          portals=["front"], **window))["grant_id"]  # fmt: skip
    cleaner = (await call(hass, "create_grant", label="Cleaner", kind="cleaner",
                          portals=["side"], **window))["grant_id"]  # fmt: skip
    await call(hass, "start_visit", grant_id=courier, portal="front")
    await call(hass, "start_visit", grant_id=cleaner, portal="side")
    assert hass.states.get(ALARM).state == "disarmed"

    # Home Assistant stops with both visitors inside, and starts again.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    aborted = [e for e in access_events if e["type"] == "visit_aborted"]
    assert sorted(e["portal"] for e in aborted) == ["front", "side"]
    assert {e["reason"] for e in aborted} == {"interrupted"}
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get("lock.side_door").state == "locked"
    # The first visit closed kept the alarm off for the other; the last one restored it.
    assert hass.states.get(ALARM).state == "armed_away"
    rearmed = [e for e in access_events if e["type"] == "alarm_rearmed"]
    assert [e["data"]["mode"] for e in rearmed] == ["armed_away"]


def home_grant_uses(hass: HomeAssistant, grant_id: str) -> int:
    """How many uses the grant's state sensor shows."""
    sensor = next(
        s for s in hass.states.async_all("sensor") if s.attributes.get("grant_id") == grant_id
    )
    return int(sensor.attributes["uses"])
