"""The Access panel's guest link, visit, audit and carrier commands, on a real house.

"Check a token" must be what the courier endpoint would answer, and nothing more: the
door stays shut, the token stays unused (it still opens the door afterwards), and the
audit chain does not grow.
"""

from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MockHAClientWebSocket,
    WebSocketGenerator,
)

from .delivery_helpers import (
    CAMERA,
    EXTERNAL_URL,
    Carrier,
    add_site,
    courier_url,
    guest_url,
    setup_house,
    site_data,
    site_options,
    window,
)
from .helpers import at, call, move_to
from .test_ws_grants import ok, refused

NOW = "2026-11-24 10:00"


@pytest.fixture
async def house(hass: HomeAssistant, tmp_path: Path, real_locks: None) -> None:
    await setup_house(hass, tmp_path)


@pytest.fixture
async def home(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, house: None, carrier: Carrier
) -> MockConfigEntry:
    await move_to(hass, freezer, at(NOW))
    return await add_site(
        hass,
        site_data("lock.front_door", "binary_sensor.front_door_contact", [CAMERA]),
        site_options(),
        carrier,
    )


@pytest.fixture
async def ws(
    hass: HomeAssistant, home: MockConfigEntry, hass_ws_client: WebSocketGenerator
) -> MockHAClientWebSocket:
    return await hass_ws_client(hass)


async def _grant(hass: HomeAssistant, label: str = "Parcel Co", **extra: Any) -> str:
    start, end = window(at(NOW))
    made = await call(hass, "create_grant", label=label, start=start, end=end, **extra)
    return str(made["grant_id"])


async def test_check_a_token_opens_nothing_and_uses_nothing(
    hass: HomeAssistant,
    ws: MockHAClientWebSocket,
    home: MockConfigEntry,
    carrier: Carrier,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    grant_id = await _grant(hass, kind="courier", remote_token=True)
    site = home.runtime_data
    token = carrier.token(home.entry_id, now=at(NOW))
    records, used = site.audit.count, site.gate.used_tokens
    check = {"type": "concierge/tokens/check", "site_id": home.entry_id}

    answer = await ok(ws, **check, token=token)
    assert answer["answer"] == {"status": 200, "error": None}
    assert answer["grant_id"] == grant_id
    assert "Front door" in answer["reason"]
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "locked"
    assert (site.audit.count, site.gate.used_tokens) == (records, used)
    forged = await ok(ws, **check, token=token[:-6] + "AAAAAA")
    assert forged["answer"] == {"status": 401, "error": "invalid_token"}
    assert "signature" in forged["reason"]
    assert site.audit.count == records  # a check is not a refused request either

    # The same token still opens the door at the real endpoint, once.
    client = await hass_client_no_auth()
    response = await client.post(courier_url(home), json={"token": token})
    assert response.status == 200, await response.text()
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "unlocked"
    replayed = await ok(ws, **check, token=token)
    assert replayed["answer"] == {"status": 403, "error": "replayed"}
    assert "used already" in replayed["reason"]


async def test_check_says_why_a_token_would_be_refused(
    hass: HomeAssistant, ws: MockHAClientWebSocket, home: MockConfigEntry, carrier: Carrier
) -> None:
    check = {"type": "concierge/tokens/check", "site_id": home.entry_id}
    token = carrier.token(home.entry_id, now=at(NOW))
    nothing = await ok(ws, **check, token=token)
    assert nothing["answer"] == {"status": 403, "error": "no_courier_grant"}
    assert nothing["grant_id"] is None
    grant_id = await _grant(hass, kind="courier", remote_token=True)
    await call(hass, "suspend_grant", grant_id=grant_id)
    suspended = await ok(ws, **check, token=token)
    assert suspended["answer"] == {"status": 403, "error": "grant_suspended"}
    assert "suspended" in suspended["reason"]


async def test_carriers_are_listed_with_their_keys(
    ws: MockHAClientWebSocket, home: MockConfigEntry, carrier: Carrier
) -> None:
    (listed,) = (await ok(ws, type="concierge/carriers/list", site_id=home.entry_id))["carriers"]
    assert listed["id"] == carrier.carrier_id
    assert listed["name"] == "Parcel Co"
    (key,) = listed["keys"]
    assert key["alg"] == "ES256"
    assert key["fingerprint"]
    assert "BEGIN PUBLIC KEY" not in str(listed)


async def test_guest_links_made_listed_and_revoked(
    hass: HomeAssistant,
    ws: MockHAClientWebSocket,
    home: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    grant_id = await _grant(hass, kind="guest", guest_link=True)
    ids = {"site_id": home.entry_id, "grant_id": grant_id}
    link = await ok(ws, type="concierge/guest_links/create", **ids)
    assert link["url"].startswith(f"{EXTERNAL_URL}{guest_url(home)}#")
    assert link["expires"].startswith("2026-11-24T")
    (listed,) = (await ok(ws, type="concierge/guest_links/list", **ids))["links"]
    assert listed["link_id"] == link["link_id"]
    assert listed["revoked"] is False
    assert link["url"].split("#")[1] not in str(listed)
    await ok(ws, type="concierge/guest_links/revoke", site_id=home.entry_id,
             link_id=link["link_id"])  # fmt: skip
    (listed,) = (await ok(ws, type="concierge/guest_links/list", **ids))["links"]
    assert listed["revoked"] is True
    client = await hass_client_no_auth()
    response = await client.post(guest_url(home), json={"token": link["url"].split("#")[1]})
    assert response.status == 403
    unknown = await refused(ws, type="concierge/guest_links/revoke", site_id=home.entry_id,
                            link_id="nope")  # fmt: skip
    assert unknown["code"] == "not_found"
    no_links = await _grant(hass, "Uncle Bo", kind="guest")
    not_allowed = await refused(ws, type="concierge/guest_links/create", site_id=home.entry_id,
                                grant_id=no_links)  # fmt: skip
    assert not_allowed["code"] == "home_assistant_error"
    assert " " in not_allowed["message"]


async def test_visits_timeline_evidence_verify_and_export(
    hass: HomeAssistant,
    ws: MockHAClientWebSocket,
    home: MockConfigEntry,
    carrier: Carrier,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    grant_id = await _grant(hass, kind="courier", remote_token=True)
    client = await hass_client_no_auth()
    response = await client.post(
        courier_url(home), json={"token": carrier.token(home.entry_id, now=at(NOW))}
    )
    visit_id = (await response.json())["visit"]
    await call(hass, "end_visit", visit_id=visit_id)

    (visit,) = (await ok(ws, type="concierge/visits/list", site_id=home.entry_id))["visits"]
    assert visit["visit_id"] == visit_id
    assert visit["grant_id"] == grant_id
    assert visit["label"] == "Parcel Co"
    assert visit["portal"] == "front"
    assert visit["ended"] is not None
    types = [s["type"] for s in visit["steps"]]
    assert types[:3] == ["access_requested", "alarm_disarmed", "access_granted"]
    snapshot = next(e for e in visit["evidence"] if e["kind"] == "snapshot")
    assert snapshot["url"].startswith(f"/media/local/concierge/{home.entry_id}/{visit_id}/")
    assert "authSig=" in snapshot["url"]

    verified = await ok(ws, type="concierge/audit/verify", site_id=home.entry_id)
    assert verified["ok"] is True
    assert verified["records"] == home.runtime_data.audit.count
    assert verified["problem"] is None
    exported = await ok(ws, type="concierge/visits/export", site_id=home.entry_id,
                        visit_id=visit_id)  # fmt: skip
    assert exported["bundle"] == await call(hass, "export_visit", visit_id=visit_id)
    missing = await refused(ws, type="concierge/visits/export", site_id=home.entry_id,
                            visit_id="f" * 32)  # fmt: skip
    assert missing["code"] == "not_found"
    zero = await refused(ws, type="concierge/visits/list", site_id=home.entry_id, limit=0)
    assert zero["code"] == "invalid_format"
