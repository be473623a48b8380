"""The courier endpoint under attack: every forged, stale or misused request is refused,
with the right reason in the audit chain, an answer that tells an attacker nothing, and
the door still locked and the alarm still armed.
"""

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .delivery_helpers import (
    ALARM,
    CAMERA,
    Carrier,
    add_site,
    courier_url,
    setup_house,
    site_data,
    site_options,
    unverified_claims,
    window,
)
from .helpers import at, call, move_to

NOW = at("2026-11-24 10:00")
INVALID = (401, "invalid_token")
COUNTED = {"alg_not_allowed", "bad_signature", "unknown_carrier", "unknown_key", "malformed",
           "missing_claim"}  # fmt: skip
"""Refused before a signature is proven (or possibly so): counted, one summary a minute."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        (
            _b64(json.dumps(header).encode()),
            _b64(json.dumps(payload).encode()),
            _b64(signature),
        )
    )


def _payload(site: str, **changes: Any) -> dict[str, Any]:
    start = int(NOW.timestamp())
    return {
        "iss": "parcelco", "aud": site, "sub": "delivery-0815", "jti": "attack-1",
        "nbf": start, "iat": start, "exp": start + 120,
    } | changes  # fmt: skip


type Attack = Callable[[Carrier, str], str]


def alg_none(_: Carrier, site: str) -> str:
    return _segments({"alg": "none", "typ": "JWT"}, _payload(site))


def alg_none_casing(_: Carrier, site: str) -> str:
    return _segments({"alg": "NoNe", "typ": "JWT"}, _payload(site))


def hmac_with_public_key(carrier: Carrier, site: str) -> str:
    # Algorithm confusion: HS256 "signed" with the carrier's public key as the secret.
    import hashlib  # noqa: PLC0415
    import hmac  # noqa: PLC0415

    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_payload(site)).encode())
    mac = hmac.new(carrier.public_pem.encode(), f"{header}.{body}".encode(), hashlib.sha256)
    return f"{header}.{body}.{_b64(mac.digest())}"


def rsa_attacker(_: Carrier, site: str) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_payload(site), key, algorithm="RS256")


def eddsa_claiming_es256(_: Carrier, site: str) -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    token = jwt.encode(_payload(site), key, algorithm="EdDSA")
    _, body, signature = token.split(".")
    return f"{_b64(json.dumps({'alg': 'ES256', 'typ': 'JWT'}).encode())}.{body}.{signature}"


def other_key_same_issuer(_: Carrier, site: str) -> str:
    return Carrier().token(site, now=NOW)


def tampered_payload(carrier: Carrier, site: str) -> str:
    header, _, signature = carrier.token(site, now=NOW).split(".")
    forged = _payload(site, exp=int(NOW.timestamp()) + 3600)
    return f"{header}.{_b64(json.dumps(forged).encode())}.{signature}"


def truncated_signature(carrier: Carrier, site: str) -> str:
    return carrier.token(site, now=NOW)[:-10]


def unknown_issuer(_: Carrier, site: str) -> str:
    return Carrier("evilco").token(site, now=NOW)


def unknown_kid(carrier: Carrier, site: str) -> str:
    return jwt.encode(_payload(site), carrier.key, algorithm="ES256", headers={"kid": "../../x"})


def wrong_audience(carrier: Carrier, _: str) -> str:
    return carrier.token("another-home", now=NOW)


def expired(carrier: Carrier, site: str) -> str:
    return carrier.token(site, now=NOW - timedelta(minutes=10))


def not_yet_valid(carrier: Carrier, site: str) -> str:
    return carrier.token(site, now=NOW + timedelta(minutes=10))


def lifetime_too_long(carrier: Carrier, site: str) -> str:
    return carrier.token(site, now=NOW, lifetime=24 * 3600)


def missing_jti(carrier: Carrier, site: str) -> str:
    return jwt.encode(
        {k: v for k, v in _payload(site).items() if k != "jti"}, carrier.key, algorithm="ES256"
    )


def garbage(_: Carrier, __: str) -> str:
    return "not-a-token"


def oversized(carrier: Carrier, site: str) -> str:
    # Longer than a token may be, in a body short enough to be read (8 KB).
    return carrier.token(site, now=NOW, pad="x" * 3500)


def address_mismatch(carrier: Carrier, site: str) -> str:
    return carrier.token(site, now=NOW, addr="1 Other Street, Elsewhere")


ATTACKS: list[tuple[Attack, tuple[int, str], str]] = [
    (alg_none, INVALID, "alg_not_allowed"),
    (alg_none_casing, INVALID, "alg_not_allowed"),
    (hmac_with_public_key, INVALID, "alg_not_allowed"),
    (rsa_attacker, INVALID, "alg_not_allowed"),
    (eddsa_claiming_es256, INVALID, "bad_signature"),
    (other_key_same_issuer, INVALID, "bad_signature"),
    (tampered_payload, INVALID, "bad_signature"),
    (truncated_signature, INVALID, "bad_signature"),
    (unknown_issuer, INVALID, "unknown_carrier"),
    (unknown_kid, INVALID, "unknown_key"),
    (garbage, INVALID, "malformed"),
    (oversized, INVALID, "malformed"),
    (wrong_audience, (403, "wrong_audience"), "wrong_audience"),
    (expired, (403, "expired"), "expired"),
    (not_yet_valid, (403, "not_yet_valid"), "not_yet_valid"),
    (lifetime_too_long, (403, "lifetime_too_long"), "lifetime_too_long"),
    (missing_jti, (403, "missing_claim"), "missing_claim"),
    (address_mismatch, (403, "address_mismatch"), "address_mismatch"),
]


@pytest.fixture
async def home(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Any, real_locks: None
) -> tuple[MockConfigEntry, Carrier]:
    await setup_house(hass, tmp_path)
    await move_to(hass, freezer, NOW)
    carrier = Carrier()
    entry = await add_site(
        hass,
        site_data("lock.front_door", "binary_sensor.front_door_contact", [CAMERA]),
        site_options(delivery_address="12 Main Street, Springfield"),
        carrier,
    )
    start, end = window(NOW)
    await call(hass, "create_grant", label="Parcel Co", kind="courier", start=start, end=end,
               remote_token=True)  # fmt: skip
    return entry, carrier


async def _post(client: Any, entry: MockConfigEntry, token: str) -> tuple[int, dict[str, Any]]:
    response = await client.post(courier_url(entry), json={"token": token})
    return response.status, await response.json()


@pytest.mark.parametrize(
    ("attack", "answer", "reason"), ATTACKS, ids=[a[0].__name__ for a in ATTACKS]
)
async def test_attack_is_refused_with_its_reason(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
    access_events: list[dict[str, Any]],
    attack: Attack,
    answer: tuple[int, str],
    reason: str,
) -> None:
    entry, carrier = home
    client = await hass_client_no_auth()
    status, body = await _post(client, entry, attack(carrier, entry.entry_id))
    assert (status, body.get("error")) == answer
    assert set(body) == {"status", "error"}  # nothing else is said
    await hass.async_block_till_done()
    if reason in COUNTED:  # recorded as the minute's summary of its reason
        assert not [e for e in access_events if e["type"] == "access_denied"]
        await move_to(hass, freezer, NOW + timedelta(seconds=61))
        await hass.async_block_till_done()
        assert access_events[-1]["data"]["refusals"] == 1
    else:  # a genuine attempt: recorded at once, on its own
        assert "refusals" not in access_events[-1]["data"]
    assert access_events[-1]["type"] == "access_denied"
    assert access_events[-1]["reason"] == reason
    assert access_events[-1]["source"] == "courier_token"
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"


async def test_replay_is_refused_also_after_a_restart(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
    access_events: list[dict[str, Any]],
) -> None:
    entry, carrier = home
    token = carrier.token(entry.entry_id, now=NOW, addr="12 main street,  springfield")
    client = await hass_client_no_auth()
    status, body = await _post(client, entry, token)
    assert status == 200, body
    await call(hass, "end_visit", visit_id=body["visit"])
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    status, body = await _post(client, entry, token)
    assert (status, body["error"]) == (403, "replayed")
    assert access_events[-1]["reason"] == "replayed"
    assert hass.states.get("lock.front_door").state == "locked"
    assert "jti" not in str(entry.runtime_data.site_data.replay)
    assert unverified_claims(token)["jti"] not in json.dumps(entry.runtime_data.site_data.replay)


async def test_outside_any_window(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, carrier = home
    client = await hass_client_no_auth()
    # The grant's window ends at 12:00; a token for 13:00 is outside it.
    later = at("2026-11-24 13:00")
    await move_to(hass, freezer, later)
    status, body = await _post(client, entry, carrier.token(entry.entry_id, now=later))
    assert (status, body["error"]) == (403, "outside_window")
    assert hass.states.get("lock.front_door").state == "locked"


async def test_revoked_grant(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, carrier = home
    client = await hass_client_no_auth()
    grant = next(iter(entry.runtime_data.data.grants))
    await call(hass, "revoke_grant", grant_id=grant)
    status, body = await _post(client, entry, carrier.token(entry.entry_id, now=NOW))
    assert (status, body["error"]) == (403, "grant_revoked")
    assert hass.states.get("lock.front_door").state == "locked"


async def test_used_up_grant(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, carrier = home
    grant = next(iter(entry.runtime_data.data.grants))
    await call(hass, "update_grant", grant_id=grant, max_uses=1)
    client = await hass_client_no_auth()
    status, body = await _post(client, entry, carrier.token(entry.entry_id, now=NOW))
    assert status == 200, body
    await call(hass, "end_visit", visit_id=body["visit"])
    status, body = await _post(client, entry, carrier.token(entry.entry_id, now=NOW))
    assert (status, body["error"]) == (403, "grant_used_up")


async def test_requests_are_rate_limited_per_client(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, _ = home
    client = await hass_client_no_auth()
    answers = [await _post(client, entry, "garbage") for _ in range(8)]
    assert [a[0] for a in answers[:5]] == [401] * 5
    assert answers[-1] == (429, {"status": "denied", "error": "rate_limited"})


async def test_no_token_at_all(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, carrier = home
    client = await hass_client_no_auth()
    response = await client.post(courier_url(entry), data=b"\x00not json")
    assert (response.status, (await response.json())["error"]) == INVALID
    # A bearer header works as well as a JSON body.
    token = carrier.token(entry.entry_id, now=NOW)
    response = await client.post(courier_url(entry), headers={"Authorization": f"Bearer {token}"})
    assert response.status == 200
    assert hass.states.get("lock.front_door").state == "unlocked"
