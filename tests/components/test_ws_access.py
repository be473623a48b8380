"""The Access panel's guest link, visit, audit and carrier commands, on a real house.

"Check a token" must be what the courier endpoint would answer, and nothing more: the
door stays shut, the token stays unused (it still opens the door afterwards), and the
audit chain does not grow.
"""

import uuid
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentry
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


# Carriers added and their keys rotated from the panel: the subentry flow's own checks,
# stored as the flow stores them, so that its tokens open the door at once.

IDENTITY_POINT = bytes.fromhex("01" + "00" * 31)
"""An Ed25519 "public key" of small order: a signature made by nobody verifies with it."""


def _ed25519() -> tuple[ed25519.Ed25519PrivateKey, str]:
    private = ed25519.Ed25519PrivateKey.generate()
    return private, _pem(private.public_key())


def _pem(public: ed25519.Ed25519PublicKey) -> str:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return public.public_bytes(serialization.Encoding.PEM, spki).decode()


def _eddsa_token(
    private: ed25519.Ed25519PrivateKey, issuer: str, kid: str, home: MockConfigEntry
) -> str:
    start = int(at(NOW).timestamp())
    claims = {"iss": issuer, "aud": home.entry_id, "sub": "d-1", "jti": uuid.uuid4().hex,
              "nbf": start, "iat": start, "exp": start + 120}  # fmt: skip
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid})


async def _answer(ws: MockHAClientWebSocket, home: MockConfigEntry, token: str) -> Any:
    check = await ok(ws, type="concierge/tokens/check", site_id=home.entry_id, token=token)
    return check["answer"]


def _stored(home: MockConfigEntry) -> dict[str, Any]:
    return {s.unique_id: (s.title, dict(s.data)) for s in home.subentries.values()}


async def test_a_carrier_added_in_the_panel_is_the_flows_and_its_tokens_open(
    hass: HomeAssistant, ws: MockHAClientWebSocket, home: MockConfigEntry
) -> None:
    await _grant(hass, kind="courier", remote_token=True)
    private, public = _ed25519()
    add = {"type": "concierge/carriers/add", "site_id": home.entry_id}
    added = await ok(ws, **add, name=" Rapid Post ", carrier_id="rapid", public_key=public,
                     kid="rapid-2026")  # fmt: skip
    assert added["carrier"]["name"] == "Rapid Post"
    assert [(k["kid"], k["alg"]) for k in added["carrier"]["keys"]] == [("rapid-2026", "EdDSA")]
    # The same carrier the subentry flow makes: a subentry the flow can change.
    subentry = next(s for s in home.subentries.values() if s.unique_id == "rapid")
    assert (subentry.subentry_type, subentry.title) == ("carrier", "Rapid Post")
    assert subentry.data["keys"][0]["kid"] == "rapid-2026"
    listed = (await ok(ws, type="concierge/carriers/list", site_id=home.entry_id))["carriers"]
    assert sorted(c["name"] for c in listed) == ["Parcel Co", "Rapid Post"]
    (site,) = (await ok(ws, type="concierge/sites"))["sites"]
    assert {"id": "rapid", "name": "Rapid Post"} in site["carriers"]
    # Its couriers' tokens are checked against the new key at once.
    token = _eddsa_token(private, "rapid", "rapid-2026", home)
    assert await _answer(ws, home, token) == {"status": 200, "error": None}
    # Without a key id the key's fingerprint names it, as in the flow.
    _, other = _ed25519()
    named = await ok(ws, **add, name="Other", carrier_id="other", public_key=other)
    assert named["carrier"]["keys"][0]["kid"] == named["carrier"]["keys"][0]["fingerprint"]


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"public_key": "weak"}, "anyone could sign"),
        ({"public_key": "private"}, "This is a private key"),
        ({"public_key": "not a key"}, "not a PEM public key"),
        ({"public_key": "two"}, "Paste one public key"),
        ({"carrier_id": "parcelco"}, "already has this ID"),
        ({"carrier_id": "no spaces please"}, "Use up to 64 letters"),
        ({"name": "  "}, "Enter a name"),
        ({"kid": "has space"}, "1 to 128 visible ASCII characters"),
    ],
    ids=["weak", "private", "garbage", "two-keys", "taken-id", "bad-id", "no-name", "bad-kid"],
)
async def test_a_carrier_the_flow_would_refuse_is_refused_and_nothing_stored(
    ws: MockHAClientWebSocket, home: MockConfigEntry, fields: dict[str, str], words: str
) -> None:
    private, public = _ed25519()
    pems = {
        "weak": _pem(ed25519.Ed25519PublicKey.from_public_bytes(IDENTITY_POINT)),
        "private": private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "two": public + _ed25519()[1],
    }
    before = _stored(home)
    msg = {"name": "Rapid", "carrier_id": "rapid", "public_key": public, "kid": "k1"} | fields
    msg["public_key"] = pems.get(msg["public_key"], msg["public_key"])
    error = await refused(ws, type="concierge/carriers/add", site_id=home.entry_id, **msg)
    assert words in error["message"]
    assert _stored(home) == before


async def test_rotate_a_carriers_key_then_retire_the_old_one(
    hass: HomeAssistant, ws: MockHAClientWebSocket, home: MockConfigEntry, carrier: Carrier
) -> None:
    await _grant(hass, kind="courier", remote_token=True)
    ids = {"site_id": home.entry_id, "carrier_id": carrier.carrier_id}
    (old,) = (await ok(ws, type="concierge/carriers/list", site_id=home.entry_id))["carriers"]
    old_kid = old["keys"][0]["kid"]
    private, public = _ed25519()
    rotated = await ok(ws, type="concierge/carriers/rotate_key", **ids, public_key=public,
                       kid="2027")  # fmt: skip
    assert [k["kid"] for k in rotated["carrier"]["keys"]] == [old_kid, "2027"]
    # During the rotation both keys open.
    new_token = _eddsa_token(private, carrier.carrier_id, "2027", home)
    assert await _answer(ws, home, new_token) == {"status": 200, "error": None}
    old_token = carrier.token(home.entry_id, now=at(NOW))
    assert await _answer(ws, home, old_token) == {"status": 200, "error": None}
    # The same key id twice is refused, and nothing changes.
    before = _stored(home)
    twice = await refused(ws, type="concierge/carriers/rotate_key", **ids, public_key=public,
                          kid="2027")  # fmt: skip
    assert 'already has a key with the ID "2027"' in twice["message"]
    assert _stored(home) == before
    # Then the old key is retired: its tokens no longer open.
    retired = await ok(ws, type="concierge/carriers/retire_key", **ids, kid=old_kid)
    assert [k["kid"] for k in retired["carrier"]["keys"]] == ["2027"]
    assert (await _answer(ws, home, carrier.token(home.entry_id, now=at(NOW))))["status"] == 401
    assert await _answer(ws, home, _eddsa_token(private, carrier.carrier_id, "2027", home)) == {
        "status": 200,
        "error": None,
    }
    last = await refused(ws, type="concierge/carriers/retire_key", **ids, kid="2027")
    assert "last key of Parcel Co" in last["message"]
    # A new key and the old one retired in one step.
    _, newer = _ed25519()
    swapped = await ok(ws, type="concierge/carriers/rotate_key", **ids, public_key=newer,
                       kid="2028", retire_kid="2027")  # fmt: skip
    assert [k["kid"] for k in swapped["carrier"]["keys"]] == ["2028"]
    assert [k["kid"] for k in _stored(home)[carrier.carrier_id][1]["keys"]] == ["2028"]


async def test_key_changes_refused_with_a_clear_message_change_nothing(
    hass: HomeAssistant, ws: MockHAClientWebSocket, home: MockConfigEntry, carrier: Carrier
) -> None:
    ids = {"site_id": home.entry_id, "carrier_id": carrier.carrier_id}
    _, public = _ed25519()
    before = _stored(home)
    weak = _pem(ed25519.Ed25519PublicKey.from_public_bytes(IDENTITY_POINT))
    refusals = [
        ({"type": "concierge/carriers/rotate_key", **ids, "public_key": weak}, "anyone could"),
        (
            {
                "type": "concierge/carriers/rotate_key",
                **ids,
                "public_key": public,
                "retire_kid": "nope",
            },
            'has no key with the ID "nope"',
        ),
        ({"type": "concierge/carriers/retire_key", **ids, "kid": "nope"}, "has no key"),
        (
            {
                "type": "concierge/carriers/rotate_key",
                "site_id": home.entry_id,
                "carrier_id": "ghost",
                "public_key": public,
            },
            'no carrier "ghost"',
        ),
    ]
    for msg, words in refusals:
        error = await refused(ws, **msg)
        assert words in error["message"], msg
    assert _stored(home) == before
    # Eight keys at most, as in the flow.
    for n in range(7):
        await ok(ws, type="concierge/carriers/rotate_key", **ids, public_key=_ed25519()[1],
                 kid=f"k{n}")  # fmt: skip
    full = await refused(ws, type="concierge/carriers/rotate_key", **ids,
                         public_key=_ed25519()[1])  # fmt: skip
    assert "at most 8 keys" in full["message"]
    # A carrier edited by hand into something invalid is changed in its own form only.
    hass.config_entries.async_add_subentry(
        home,
        ConfigSubentry(data=MappingProxyType({"carrier_id": "broken", "name": "Broken",
                       "keys": []}), subentry_type="carrier", title="Broken", unique_id="broken"),
    )  # fmt: skip
    broken = await refused(ws, type="concierge/carriers/rotate_key", site_id=home.entry_id,
                           carrier_id="broken", public_key=public)  # fmt: skip
    assert "The carrier is not valid" in broken["message"]
    # In German, the subentry form's own words.
    await hass.config.async_update(language="de")
    german = await refused(ws, type="concierge/carriers/rotate_key", **ids, public_key=weak)
    assert "jeder Token signieren" in german["message"]


async def test_only_admins_change_carriers(
    hass: HomeAssistant,
    home: MockConfigEntry,
    carrier: Carrier,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    ws = await hass_ws_client(hass, hass_read_only_access_token)
    ids = {"site_id": home.entry_id, "carrier_id": carrier.carrier_id}
    before = _stored(home)
    _, public = _ed25519()
    for msg in (
        {
            "type": "concierge/carriers/add",
            "site_id": home.entry_id,
            "name": "R",
            "carrier_id": "r",
            "public_key": public,
        },
        {"type": "concierge/carriers/rotate_key", **ids, "public_key": public},
        {"type": "concierge/carriers/retire_key", **ids, "kid": "x"},
    ):
        assert (await refused(ws, **msg))["code"] == "unauthorized"
    assert _stored(home) == before
