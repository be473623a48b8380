"""A courier grant may name its carriers: another carrier's genuine token is refused."""

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.const import DOMAIN

from .delivery_helpers import (
    CAMERA,
    Carrier,
    courier_url,
    setup_house,
    site_data,
    site_options,
    window,
)
from .helpers import at, call, entity_id, move_to

NOW = at("2026-11-24 10:00")
FRONT = "lock.front_door"


def _named(carrier: Carrier, name: str) -> ConfigSubentryData:
    sub = carrier.subentry()
    return ConfigSubentryData(
        data={**sub["data"], "name": name}, subentry_type="carrier", title=name,
        unique_id=carrier.carrier_id,
    )  # fmt: skip


@pytest.fixture
async def two_carriers(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Any, real_locks: None
) -> tuple[MockConfigEntry, Carrier, Carrier]:
    """A home that knows Parcel Co and Fast Post."""
    await setup_house(hass, tmp_path)
    await move_to(hass, freezer, NOW)
    await hass.config.async_set_time_zone("Europe/Berlin")
    parcelco, fastpost = Carrier("parcelco"), Carrier("fastpost")
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="home", title="Home",
        data=site_data(FRONT, "binary_sensor.front_door_contact", [CAMERA]),
        options=site_options(),
        subentries_data=[_named(parcelco, "Parcel Co"), _named(fastpost, "Fast Post")],
    )  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry, parcelco, fastpost


async def _courier_grant(hass: HomeAssistant, **extra: Any) -> str:
    start, end = window(NOW)
    response = await call(hass, "create_grant", label="Parcels", kind="courier", start=start,
                          end=end, remote_token=True, **extra)  # fmt: skip
    return str(response["grant_id"])


async def _post(client: Any, entry: MockConfigEntry, token: str) -> tuple[int, dict[str, Any]]:
    response = await client.post(courier_url(entry), json={"token": token})
    return response.status, await response.json()


def _attributes(hass: HomeAssistant, entry: MockConfigEntry, grant_id: str) -> dict[str, Any]:
    state = hass.states.get(entity_id(hass, entry, f"{grant_id}_grant_state", "sensor"))
    assert state is not None
    return dict(state.attributes)


async def test_another_carriers_genuine_token_is_refused_also_after_a_restart(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    two_carriers: tuple[MockConfigEntry, Carrier, Carrier],
    access_events: list[dict[str, Any]],
) -> None:
    entry, parcelco, fastpost = two_carriers
    grant_id = await _courier_grant(hass, carriers=["parcelco"])
    assert _attributes(hass, entry, grant_id)["carriers"] == ["parcelco"]
    client = await hass_client_no_auth()
    answer = await _post(client, entry, fastpost.token(entry.entry_id, now=NOW))
    assert answer == (403, {"status": "denied", "error": "wrong_carrier"})
    await hass.async_block_till_done()
    denied = access_events[-1]  # a genuine attempt: its own record, at once
    assert (denied["type"], denied["reason"], denied["source"]) == (
        "access_denied", "wrong_carrier", "courier_token",
    )  # fmt: skip
    assert hass.states.get(FRONT).state == "locked"

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    answer = await _post(client, entry, fastpost.token(entry.entry_id, now=NOW))
    assert answer == (403, {"status": "denied", "error": "wrong_carrier"})
    status, body = await _post(client, entry, parcelco.token(entry.entry_id, now=NOW))
    assert status == 200, body
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "unlocked"


async def test_a_grant_naming_no_carrier_admits_any_of_the_sites(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    two_carriers: tuple[MockConfigEntry, Carrier, Carrier],
) -> None:
    entry, _, fastpost = two_carriers
    grant_id = await _courier_grant(hass)
    assert _attributes(hass, entry, grant_id)["carriers"] == []
    client = await hass_client_no_auth()
    status, body = await _post(client, entry, fastpost.token(entry.entry_id, now=NOW))
    assert status == 200, body


async def test_carriers_are_named_by_name_and_can_be_changed(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    two_carriers: tuple[MockConfigEntry, Carrier, Carrier],
) -> None:
    entry, parcelco, fastpost = two_carriers
    grant_id = await _courier_grant(hass, carriers=["fast post", "fastpost"])
    assert _attributes(hass, entry, grant_id)["carriers"] == ["fastpost"]
    client = await hass_client_no_auth()
    token = parcelco.token(entry.entry_id, now=NOW)
    assert await _post(client, entry, token) == (
        403,
        {"status": "denied", "error": "wrong_carrier"},
    )
    await call(hass, "update_grant", grant_id=grant_id, carriers=[])  # any carrier again
    await hass.async_block_till_done()
    assert _attributes(hass, entry, grant_id)["carriers"] == []
    status, body = await _post(client, entry, parcelco.token(entry.entry_id, now=NOW))
    assert status == 200, body
    assert fastpost.carrier_id not in str(body)


async def test_an_unknown_carrier_is_refused_and_changes_nothing(
    hass: HomeAssistant, two_carriers: tuple[MockConfigEntry, Carrier, Carrier]
) -> None:
    entry, _, _ = two_carriers
    with pytest.raises(ServiceValidationError) as err:
        await _courier_grant(hass, carriers=["parcelco", "evilco"])
    assert err.value.translation_key == "unknown_carrier"
    assert err.value.translation_placeholders == {"carrier": "evilco"}
    assert str(err.value).startswith('This site has no carrier "evilco"')
    assert entry.runtime_data.site_data.grants == {}
    grant_id = await _courier_grant(hass, carriers=["parcelco"])
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "update_grant", grant_id=grant_id, carriers=["evilco"], label="Changed")
    assert err.value.translation_key == "unknown_carrier"
    grant = entry.runtime_data.site_data.grants[grant_id]
    assert (grant.carriers, grant.label) == (("parcelco",), "Parcels")
