"""Carriers and their public keys: parsing, validation, storage."""

import hashlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from custom_components.concierge.core.carriers import (
    MAX_KEYS_PER_CARRIER,
    Carrier,
    CarrierKey,
    key_fingerprint,
    parse_public_key,
)
from custom_components.concierge.core.ed25519_points import P
from custom_components.concierge.core.errors import InvalidCredentialError, StoredDataError

from .token_helpers import (
    ATTACKER_RSA,
    CARRIER,
    EC_KEY,
    EC_PRIV,
    ED_KEY,
    ED_PRIV,
    P384_PRIV,
    SMALL_ORDER,
    SUB,
    public_pem,
    token,
    verify,
)


def test_parse_public_key_picks_alg_and_default_kid() -> None:
    ec_key = parse_public_key(public_pem(EC_PRIV))
    ed_key = parse_public_key(public_pem(ED_PRIV))
    assert (ec_key.alg, ed_key.alg) == ("ES256", "EdDSA")
    der = EC_PRIV.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert ec_key.kid == hashlib.sha256(der).hexdigest()[:16] == key_fingerprint(ec_key.key)
    assert len(ed_key.kid) == 16


def test_pem_is_stored_canonically_and_key_not_in_repr() -> None:
    pem = public_pem(ED_PRIV)
    key = parse_public_key(f"\n  {pem}\n\n", kid="k")
    assert key.public_key_pem == pem
    assert "key=" not in repr(key).replace("public_key_pem=", "")
    assert key == parse_public_key(pem, kid="k")


def private_pem(private: Any) -> str:
    return str(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")
    )


@pytest.mark.parametrize(
    "pem",
    [
        public_pem(ATTACKER_RSA),  # RSA is not accepted
        public_pem(P384_PRIV),  # only P-256
        private_pem(EC_PRIV),  # a private key is not a public key
        "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
        "",
        "ключ",
        "A" * 5000,
        None,
        b"bytes are not text",
    ],
    ids=[
        "rsa", "p384", "private-key", "not-base64", "empty", "cyrillic", "long", "none", "bytes",
    ],
)  # fmt: skip
def test_parse_public_key_refuses_other_keys(pem: Any) -> None:
    with pytest.raises(InvalidCredentialError) as info:
        parse_public_key(pem)
    assert info.value.translation_key == "invalid_public_key"
    assert "PRIVATE" not in str(info.value)


def test_carrier_key_alg_must_match_key_type() -> None:
    with pytest.raises(InvalidCredentialError) as info:
        CarrierKey(kid="k", alg="ES256", public_key_pem=public_pem(ED_PRIV))
    assert info.value.translation_key == "invalid_public_key"


@pytest.mark.parametrize("kid", ["", "has space", "x" * 129, "tab\t", "é", None, 7])
def test_carrier_key_id_rules(kid: Any) -> None:
    with pytest.raises(InvalidCredentialError) as info:
        CarrierKey(kid=kid, alg="EdDSA", public_key_pem=public_pem(ED_PRIV))
    assert info.value.translation_key == "invalid_key_id"


def test_carrier_validation_and_normalisation() -> None:
    assert Carrier(carrier_id="dhl", name="  DHL  ", keys=(EC_KEY,)).name == "DHL"
    assert CARRIER.key_by_kid("ed-1") is ED_KEY
    assert CARRIER.key_by_kid("nope") is None


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"carrier_id": "bad id"}, "carrier_id"),
        ({"carrier_id": ""}, "carrier_id"),
        ({"name": "   "}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"keys": ()}, "keys"),
        ({"keys": [EC_KEY]}, "keys"),
        ({"keys": ("pem",)}, "keys"),
        ({"keys": tuple(parse_public_key(public_pem(EC_PRIV), kid=f"k{i}") for i in range(9))},
         "keys"),
        ({"keys": (EC_KEY, parse_public_key(public_pem(ED_PRIV), kid="ec-1"))}, "kid"),
    ],
)  # fmt: skip
def test_carrier_refuses(values: dict[str, Any], problem: str) -> None:
    arguments: dict[str, Any] = {"carrier_id": "dhl", "name": "DHL", "keys": (EC_KEY,)}
    arguments.update(values)
    with pytest.raises(InvalidCredentialError) as info:
        Carrier(**arguments)
    assert info.value.translation_key == "invalid_carrier"
    assert info.value.placeholders == {"field": problem}


def test_carrier_key_limit_is_eight() -> None:
    keys = tuple(
        parse_public_key(public_pem(EC_PRIV), kid=f"k{i}") for i in range(MAX_KEYS_PER_CARRIER)
    )
    assert len(Carrier(carrier_id="dhl", name="DHL", keys=keys).keys) == MAX_KEYS_PER_CARRIER


def test_carrier_storage_round_trip() -> None:
    data = json.loads(json.dumps(CARRIER.to_dict()))
    assert data["keys"][1] == {
        "kid": "ed-1",
        "alg": "EdDSA",
        "public_key_pem": ED_KEY.public_key_pem,
    }
    restored = Carrier.from_dict(data)
    assert restored == CARRIER
    assert verify(token(), carriers={"dhl": restored}).delivery_id == SUB


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"carrier_id": "dhl", "name": "DHL"},
        {"carrier_id": "dhl", "name": "DHL", "keys": [{"kid": "k", "alg": "ES256"}]},
        {"carrier_id": 1, "name": "DHL", "keys": []},
        {"carrier_id": "dhl", "name": "DHL", "keys": ["pem"]},
    ],
)
def test_carrier_from_bad_storage(data: object) -> None:
    with pytest.raises(StoredDataError):
        Carrier.from_dict(data)


def test_carrier_from_storage_with_a_bad_key_is_a_credential_error() -> None:
    data = CARRIER.to_dict()
    data["keys"] = [{"kid": "k", "alg": "RS256", "public_key_pem": ED_KEY.public_key_pem}]
    with pytest.raises(InvalidCredentialError):
        Carrier.from_dict(data)


def ed25519_pem(raw: bytes) -> str:
    """A PEM public key holding any 32 bytes (OpenSSL loads them without a check)."""
    key = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


IDENTITY = bytes.fromhex("01" + "00" * 31)
WEAK_KEYS = [
    *(bytes.fromhex(h) for h in SMALL_ORDER),
    (P + 1).to_bytes(32, "little"),  # the identity, spelled with y = p + 1
    (P + 3).to_bytes(32, "little"),
    bytes.fromhex("01" + "00" * 30 + "80"),  # the identity with a "negative zero" x
]


def test_with_a_small_order_key_a_signature_made_by_nobody_verifies() -> None:
    """Why weak keys are refused: OpenSSL accepts R = identity, S = 0 for the identity."""
    key = ed25519.Ed25519PublicKey.from_public_bytes(IDENTITY)
    key.verify(IDENTITY + bytes(32), b"any message at all")  # raises if it did not verify


@pytest.mark.parametrize("raw", WEAK_KEYS, ids=lambda raw: raw.hex()[:8] + raw.hex()[-2:])
def test_small_order_and_non_canonical_ed25519_keys_are_refused(raw: bytes) -> None:
    with pytest.raises(InvalidCredentialError) as info:
        parse_public_key(ed25519_pem(raw))
    assert info.value.translation_key == "weak_public_key"
    with pytest.raises(InvalidCredentialError) as info:
        CarrierKey(kid="k", alg="EdDSA", public_key_pem=ed25519_pem(raw))
    assert info.value.translation_key == "weak_public_key"


def test_a_stored_small_order_key_is_refused_when_loaded() -> None:
    # Stored by an earlier version, which accepted it: the carrier does not load.
    data = CARRIER.to_dict()
    data["keys"] = [{"kid": "ed-1", "alg": "EdDSA", "public_key_pem": ed25519_pem(IDENTITY)}]
    with pytest.raises(InvalidCredentialError) as info:
        Carrier.from_dict(json.loads(json.dumps(data)))
    assert info.value.translation_key == "weak_public_key"
