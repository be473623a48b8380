"""Carriers as config subentries: added and changed through Home Assistant's flow manager."""

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.translation import async_get_translations
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.carriers import carriers_from_subentries
from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.carriers import Carrier, key_fingerprint
from custom_components.concierge.core.courier_tokens import verify_courier_token

from .conftest import SITE_DATA

type PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


def _public_pem(private: PrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _private_pem(private: PrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


ES256 = ec.generate_private_key(ec.SECP256R1())
EDDSA = ed25519.Ed25519PrivateKey.generate()
RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
P384 = ec.generate_private_key(ec.SECP384R1())


@pytest.fixture
def entry(hass: HomeAssistant) -> MockConfigEntry:
    """A site; carrier flows need the entry, not a loaded one."""
    site = MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA)
    site.add_to_hass(hass)
    return site


def _carrier(name: str, carrier_id: str, *pems: str) -> dict[str, Any]:
    return {"name": name, "carrier_id": carrier_id, "keys": "\n".join(pems)}


async def _add(hass: HomeAssistant, entry: MockConfigEntry, user_input: dict[str, Any]) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "carrier"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return await hass.config_entries.subentries.async_configure(result["flow_id"], user_input)


def _only_subentry(entry: MockConfigEntry) -> Any:
    (subentry,) = entry.subentries.values()
    return subentry


async def test_site_offers_carriers_that_can_be_changed(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    await _add(hass, entry, _carrier("Rapid", "rapid", _public_pem(ES256)))
    # What the frontend reads to offer "Add carrier" and a reconfigure button.
    assert entry.supported_subentry_types == {"carrier": {"supports_reconfigure": True}}


@pytest.mark.parametrize(("private", "alg"), [(ES256, "ES256"), (EDDSA, "EdDSA")])
async def test_add_carrier_with_one_key(
    hass: HomeAssistant, entry: MockConfigEntry, private: PrivateKey, alg: str
) -> None:
    result = await _add(
        hass, entry, _carrier("  Parcel Express ", " parcel-express ", _public_pem(private))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Parcel Express"
    subentry = _only_subentry(entry)
    assert subentry.subentry_type == "carrier"
    assert subentry.title == "Parcel Express"
    assert subentry.unique_id == "parcel-express"
    assert dict(subentry.data) == {
        "carrier_id": "parcel-express",
        "name": "Parcel Express",
        "keys": [
            {
                "kid": key_fingerprint(private.public_key()),
                "alg": alg,
                "public_key_pem": _public_pem(private),
            }
        ],
    }


async def test_add_carrier_with_two_keys_pasted_together(
    hass: HomeAssistant,
    entry: MockConfigEntry,
) -> None:
    # Pasted back to back, with stray blank lines and Windows line ends, the ES256 key twice.
    pasted = (
        "\r\n" + _public_pem(ES256).replace("\n", "\r\n") + _public_pem(EDDSA) + "\n\n"
        + _public_pem(ES256)
    )  # fmt: skip
    result = await _add(hass, entry, _carrier("Rapid", "rapid", pasted))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    keys = _only_subentry(entry).data["keys"]
    assert [k["alg"] for k in keys] == ["ES256", "EdDSA"]
    assert [k["public_key_pem"] for k in keys] == [_public_pem(ES256), _public_pem(EDDSA)]


BAD_KEYS_ERROR = {"keys": "invalid_public_key"}


@pytest.mark.parametrize(
    ("bad", "errors"),
    [
        (_carrier("Rapid", "rapid", _public_pem(RSA)), BAD_KEYS_ERROR),
        (_carrier("Rapid", "rapid", _public_pem(P384)), BAD_KEYS_ERROR),
        (_carrier("Rapid", "rapid", "not a key"), BAD_KEYS_ERROR),
        (_carrier("Rapid", "rapid", _public_pem(ES256), "trailing words"), BAD_KEYS_ERROR),
        (
            _carrier(
                "Rapid", "rapid", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
            ),
            BAD_KEYS_ERROR,
        ),
        (_carrier("Rapid", "rapid", " \n "), {"keys": "no_public_key"}),
        (
            _carrier("Rapid", "rapid", _public_pem(EDDSA), _private_pem(ES256)),
            {"keys": "private_key"},
        ),
        (
            _carrier(
                "Rapid",
                "rapid",
                *(_public_pem(ed25519.Ed25519PrivateKey.generate()) for _ in range(9)),
            ),
            {"keys": "too_many_keys"},
        ),
        (_carrier(" ", "rapid", _public_pem(ES256)), {"name": "empty_name"}),
        (_carrier("R" * 65, "rapid", _public_pem(ES256)), {"name": "name_too_long"}),
        (
            _carrier("Rapid", "https://rapid.example/", _public_pem(ES256)),
            {"carrier_id": "invalid_carrier_id"},
        ),
        (
            _carrier("", "-rapid", "junk"),
            {"name": "empty_name", "carrier_id": "invalid_carrier_id", **BAD_KEYS_ERROR},
        ),
    ],
    ids=[
        "rsa",
        "p384",
        "garbage",
        "trailing-garbage",
        "broken-pem",
        "empty",
        "private-key",
        "nine-keys",
        "blank-name",
        "long-name",
        "url-issuer",
        "all-wrong",
    ],
)
async def test_bad_carrier_is_rejected_and_flow_recovers(
    hass: HomeAssistant, entry: MockConfigEntry, bad: dict[str, Any], errors: dict[str, str]
) -> None:
    result = await _add(hass, entry, bad)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert not entry.subentries
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _carrier("Rapid", "rapid", _public_pem(EDDSA))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert _only_subentry(entry).data["keys"][0]["alg"] == "EdDSA"


IDENTITY_POINT = bytes.fromhex("01" + "00" * 31)
"""An Ed25519 "public key" of small order: a signature made by nobody verifies with it."""


def _raw_ed25519_pem(raw: bytes) -> str:
    return (
        ed25519.Ed25519PublicKey.from_public_bytes(raw)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize(
    "raw",
    [IDENTITY_POINT, ((1 << 255) - 19 + 1).to_bytes(32, "little")],
    ids=["small-order", "non-canonical"],
)
async def test_a_weak_ed25519_key_is_refused_with_its_own_message(
    hass: HomeAssistant, entry: MockConfigEntry, raw: bytes
) -> None:
    weak = _raw_ed25519_pem(raw)
    result = await _add(hass, entry, _carrier("Rapid", "rapid", _public_pem(ES256), weak))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"keys": "weak_public_key"}
    assert not entry.subentries
    # Nor can a key rotation bring one in.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _carrier("Rapid", "rapid", _public_pem(ES256))
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await _reconfigure(hass, entry, _only_subentry(entry).subentry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _carrier("Rapid", "rapid", weak)
    )
    assert result["errors"] == {"keys": "weak_public_key"}
    assert [k["alg"] for k in _only_subentry(entry).data["keys"]] == ["ES256"]
    # What the owner reads, in English and in German.
    key = "component.concierge.config_subentries.carrier.error.weak_public_key"
    english = await async_get_translations(hass, "en", "config_subentries", [DOMAIN])
    german = await async_get_translations(hass, "de", "config_subentries", [DOMAIN])
    assert "anyone could sign" in english[key]
    assert "jeder Token signieren" in german[key]


async def test_carrier_id_is_unique_per_site(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    result = await _add(hass, entry, _carrier("Rapid", "rapid", _public_pem(ES256)))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    result = await _add(hass, entry, _carrier("Rapid again", "rapid", _public_pem(ES256)))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"carrier_id": "carrier_exists"}
    # The same issuer at another site is another carrier.
    other = MockConfigEntry(domain=DOMAIN, unique_id="flat", title="Flat", data=SITE_DATA)
    other.add_to_hass(hass)
    result = await _add(hass, other, _carrier("Rapid", "rapid", _public_pem(ES256)))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert len(entry.subentries) == 1


async def _reconfigure(hass: HomeAssistant, entry: MockConfigEntry, subentry_id: str) -> Any:
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, "carrier"),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id},
    )


async def test_reconfigure_replaces_the_keys(
    hass: HomeAssistant,
    entry: MockConfigEntry,
) -> None:
    await _add(hass, entry, _carrier("Rapid", "rapid", _public_pem(ES256)))
    await _add(hass, entry, _carrier("Parcel Express", "parcel-express", _public_pem(EDDSA)))
    rapid = next(s for s in entry.subentries.values() if s.unique_id == "rapid")
    result = await _reconfigure(hass, entry, rapid.subentry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    shown = {str(k): k.description["suggested_value"] for k in result["data_schema"].schema}
    assert shown == _carrier("Rapid", "rapid", _public_pem(ES256))

    # Its own id is not "taken"; another carrier's is.
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _carrier("Rapid", "parcel-express", _public_pem(EDDSA))
    )
    assert result["errors"] == {"carrier_id": "carrier_exists"}
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _carrier("Rapid", "rapid", "")
    )
    assert result["errors"] == {"keys": "no_public_key"}

    rotated = ec.generate_private_key(ec.SECP256R1())
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], _carrier("Rapid Couriers", "rapid-couriers", _public_pem(rotated))
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    rapid = entry.subentries[rapid.subentry_id]
    assert rapid.title == "Rapid Couriers"
    assert rapid.unique_id == "rapid-couriers"
    assert [k["public_key_pem"] for k in rapid.data["keys"]] == [_public_pem(rotated)]
    assert set(carriers_from_subentries(entry.subentries.values())) == {
        "rapid-couriers",
        "parcel-express",
    }


def _courier_token(private: PrivateKey, alg: str, issuer: str, now: datetime) -> str:
    claims = {
        "iss": issuer,
        "aud": "home",
        "sub": "delivery-1",
        "jti": "token-1",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=2)).timestamp()),
    }
    return jwt.encode(claims, private, algorithm=alg)


async def test_carriers_from_subentries_verify_their_couriers_tokens(
    hass: HomeAssistant,
    entry: MockConfigEntry,
) -> None:
    assert carriers_from_subentries(entry.subentries.values()) == {}
    await _add(hass, entry, _carrier("Rapid", "rapid", _public_pem(ES256)))
    await _add(hass, entry, _carrier("Parcel Express", "parcel-express", _public_pem(EDDSA)))
    carriers = carriers_from_subentries(entry.subentries.values())
    assert set(carriers) == {"rapid", "parcel-express"}
    assert all(isinstance(c, Carrier) for c in carriers.values())
    assert carriers["rapid"].name == "Rapid"
    assert [k.alg for k in carriers["parcel-express"].keys] == ["EdDSA"]

    now = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
    for private, alg, issuer in ((ES256, "ES256", "rapid"), (EDDSA, "EdDSA", "parcel-express")):
        token = _courier_token(private, alg, issuer, now)
        claims = verify_courier_token(token, carriers=carriers, audience="home", now=now)
        assert (claims.carrier_id, claims.delivery_id) == (issuer, "delivery-1")


async def test_carriers_from_subentries_skips_a_broken_subentry(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    good = {
        "carrier_id": "rapid",
        "name": "Rapid",
        "keys": [{"kid": "k1", "alg": "ES256", "public_key_pem": _public_pem(ES256)}],
    }
    broken = {**good, "carrier_id": "broken", "keys": [{**good["keys"][0], "alg": "EdDSA"}]}
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="home",
        title="Home",
        data=SITE_DATA,
        subentries_data=[
            ConfigSubentryData(
                data=good, subentry_type="carrier", title="Rapid", unique_id="rapid"
            ),
            ConfigSubentryData(
                data=broken, subentry_type="carrier", title="Broken", unique_id="broken"
            ),
            ConfigSubentryData(data={}, subentry_type="other", title="Other", unique_id=None),
        ],
    )
    entry.add_to_hass(hass)
    with caplog.at_level(logging.WARNING):
        carriers = carriers_from_subentries(entry.subentries.values())
    assert set(carriers) == {"rapid"}
    assert "'Broken' is ignored" in caplog.text
    assert "invalid_public_key" in caplog.text
    assert "BEGIN PUBLIC KEY" not in caplog.text
