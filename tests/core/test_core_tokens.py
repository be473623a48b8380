"""Tests for courier tokens, guest links, the replay cache and the rate limiter.

Keys are generated here with cryptography; the attack tests forge tokens by hand so the
library under test never gets a say in how an attacker builds them.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.errors import (
    TRANSLATION_KEYS,
    ConciergeError,
    InvalidCredentialError,
    StoredDataError,
)
from custom_components.concierge.core.ids import is_snake_case
from custom_components.concierge.core.tokens import (
    MAX_KEYS_PER_CARRIER,
    MAX_TOKEN_LENGTH,
    Carrier,
    CarrierKey,
    CourierClaims,
    DenyReason,
    GuestClaims,
    RateLimiter,
    ReplayCache,
    TokenRejected,
    key_fingerprint,
    normalize_address,
    parse_public_key,
    reason_for,
    replay_key,
    sign_guest_link,
    verify_courier_token,
    verify_guest_link,
)

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
T = int(NOW.timestamp())
AUD = "site-1"
SUB = "delivery-4711"
JTI = "tok-8f3a2c"

EC_PRIV = ec.generate_private_key(ec.SECP256R1())
EC2_PRIV = ec.generate_private_key(ec.SECP256R1())
ED_PRIV = ed25519.Ed25519PrivateKey.generate()
OTHER_PRIV = ec.generate_private_key(ec.SECP256R1())
ATTACKER_EC = ec.generate_private_key(ec.SECP256R1())
ATTACKER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
P384_PRIV = ec.generate_private_key(ec.SECP384R1())

SECRET = b"s" * 32
OTHER_SECRET = b"o" * 32


def public_pem(private: Any) -> str:
    return str(
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


EC_KEY = parse_public_key(public_pem(EC_PRIV), kid="ec-1")
EC2_KEY = parse_public_key(public_pem(EC2_PRIV), kid="ec-2")
ED_KEY = parse_public_key(public_pem(ED_PRIV), kid="ed-1")
CARRIER = Carrier(carrier_id="dhl", name="DHL", keys=(EC_KEY, ED_KEY))
OTHER = Carrier(carrier_id="ups", name="UPS", keys=(parse_public_key(public_pem(OTHER_PRIV)),))
CARRIERS = {c.carrier_id: c for c in (CARRIER, OTHER)}


# --- helpers -------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid courier claims; an override of None removes the claim."""
    payload: dict[str, Any] = {
        "iss": "dhl",
        "aud": AUD,
        "sub": SUB,
        "jti": JTI,
        "iat": T - 10,
        "nbf": T - 10,
        "exp": T + 120,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def token(
    payload: dict[str, Any] | None = None,
    *,
    key: Any = EC_PRIV,
    alg: str = "ES256",
    kid: str | None = "ec-1",
) -> str:
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(payload or claims(), key, algorithm=alg, headers=headers)


def es256_signer(private: ec.EllipticCurvePrivateKey) -> Callable[[bytes], bytes]:
    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    return sign


def forge(
    header: dict[str, Any],
    payload: dict[str, Any] | None = None,
    sign: Callable[[bytes], bytes] | None = None,
    *,
    raw_payload: bytes | None = None,
) -> str:
    """Build a compact JWS by hand, signing with `sign` (or with no signature at all)."""
    body = raw_payload if raw_payload is not None else json.dumps(payload or claims()).encode()
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(body)}"
    signature = sign(signing_input.encode()) if sign is not None else b""
    return f"{signing_input}.{b64(signature)}"


def verify(tok: str, **kwargs: Any) -> CourierClaims:
    options: dict[str, Any] = {"carriers": CARRIERS, "audience": AUD, "now": NOW}
    options.update(kwargs)
    return verify_courier_token(tok, **options)


def assert_safe(error: TokenRejected, tok: object, *secrets: str) -> None:
    """The rejection names only its reason: no token, no claim value, no chained cause."""
    for text in (str(error), repr(error), *map(str, error.args)):
        if isinstance(tok, str) and len(tok) > 8:
            assert tok not in text
        for secret in (SUB, JTI, *secrets):
            assert secret not in text
    assert str(error) == f"token rejected: {error.reason.value}"
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def rejected(tok: Any, reason: DenyReason, **kwargs: Any) -> None:
    with pytest.raises(TokenRejected) as info:
        verify(tok, **kwargs)
    assert info.value.reason is reason
    assert_safe(info.value, tok)


def guest(**overrides: Any) -> str:
    values: dict[str, Any] = {
        "secret": SECRET,
        "site": AUD,
        "grant_id": "grant-1",
        "link_id": "link-1",
        "not_before": NOW - timedelta(hours=1),
        "expires": NOW + timedelta(hours=1),
    }
    values.update(overrides)
    return sign_guest_link(**values)


def verify_guest(tok: str, **kwargs: Any) -> GuestClaims:
    options: dict[str, Any] = {"secret": SECRET, "site": AUD, "now": NOW, "revoked": ()}
    options.update(kwargs)
    return verify_guest_link(tok, **options)


def guest_rejected(tok: Any, reason: DenyReason, **kwargs: Any) -> None:
    with pytest.raises(TokenRejected) as info:
        verify_guest(tok, **kwargs)
    assert info.value.reason is reason
    assert_safe(info.value, tok, "grant-1", "link-1")


# --- the reason vocabulary ----------------------------------------------------------------


def test_deny_reasons_are_snake_case_and_complete() -> None:
    assert all(is_snake_case(reason.value) for reason in DenyReason)
    assert {
        "malformed", "alg_not_allowed", "unknown_carrier", "unknown_key", "bad_signature",
        "wrong_audience", "expired", "not_yet_valid", "lifetime_too_long", "missing_claim",
        "replayed", "address_mismatch", "outside_window", "grant_revoked", "grant_used_up",
        "grant_suspended", "no_courier_grant", "pets_home", "camera_unavailable",
        "alarm_not_disarmed", "rate_limited", "link_revoked", "portal_busy", "interrupted",
    } == {reason.value for reason in DenyReason}  # fmt: skip


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (jwt.InvalidSignatureError(), DenyReason.BAD_SIGNATURE),
        (jwt.ExpiredSignatureError(), DenyReason.EXPIRED),
        (jwt.ImmatureSignatureError(), DenyReason.NOT_YET_VALID),
        (jwt.InvalidAudienceError(), DenyReason.WRONG_AUDIENCE),
        (jwt.MissingRequiredClaimError("jti"), DenyReason.MISSING_CLAIM),
        (jwt.InvalidAlgorithmError(), DenyReason.ALG_NOT_ALLOWED),
        (jwt.DecodeError(), DenyReason.MALFORMED),
        (jwt.InvalidIssuerError(), DenyReason.MALFORMED),
        (jwt.PyJWTError(), DenyReason.MALFORMED),
    ],
)
def test_pyjwt_errors_map_to_reasons(error: jwt.PyJWTError, reason: DenyReason) -> None:
    assert reason_for(error) is reason


def test_rejection_message_and_pickling_shape() -> None:
    error = TokenRejected(DenyReason.EXPIRED)
    assert str(error) == "token rejected: expired"
    assert error.args == (DenyReason.EXPIRED,)


def test_new_error_class_and_keys() -> None:
    assert issubclass(InvalidCredentialError, ConciergeError)
    assert {
        "invalid_public_key", "invalid_key_id", "invalid_carrier", "invalid_guest_link",
    } <= TRANSLATION_KEYS  # fmt: skip


# --- carriers and keys --------------------------------------------------------------------


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


# --- happy paths ---------------------------------------------------------------------------


def test_es256_token_with_kid() -> None:
    result = verify(token())
    assert result == CourierClaims(
        carrier_id="dhl",
        delivery_id=SUB,
        jti=JTI,
        not_before=datetime.fromtimestamp(T - 10, UTC),
        expires=datetime.fromtimestamp(T + 120, UTC),
    )
    assert result.not_before.tzinfo is UTC
    assert result.replay_key == replay_key("dhl", JTI) == f"dhl:{JTI}"


def test_eddsa_token_with_kid() -> None:
    assert verify(token(key=ED_PRIV, alg="EdDSA", kid="ed-1")).jti == JTI


def test_eddsa_and_es256_without_kid_use_the_keys_of_that_alg() -> None:
    assert verify(token(key=ED_PRIV, alg="EdDSA", kid=None)).carrier_id == "dhl"
    assert verify(token(kid=None)).carrier_id == "dhl"


def test_key_rotation_selects_by_kid_or_tries_each_key() -> None:
    rotating = {"dhl": Carrier(carrier_id="dhl", name="DHL", keys=(EC_KEY, EC2_KEY))}
    assert verify(token(kid="ec-1"), carriers=rotating).jti == JTI
    assert verify(token(key=EC2_PRIV, kid="ec-2"), carriers=rotating).jti == JTI
    # Without kid, the second key verifies after the first one's signature fails.
    assert verify(token(key=EC2_PRIV, kid=None), carriers=rotating).jti == JTI
    # A key that verifies but whose claims fail stops the search with that reason.
    expired = token(claims(nbf=T - 200, iat=None, exp=T - 100), kid=None)
    rejected(expired, DenyReason.EXPIRED, carriers=rotating)
    # The retired key no longer verifies once it is removed.
    rotated = {"dhl": Carrier(carrier_id="dhl", name="DHL", keys=(EC2_KEY,))}
    rejected(token(kid="ec-1"), DenyReason.UNKNOWN_KEY, carriers=rotated)
    rejected(token(kid=None), DenyReason.BAD_SIGNATURE, carriers=rotated)


def test_not_before_is_the_later_of_nbf_and_iat() -> None:
    both = verify(token(claims(iat=T - 5, nbf=T - 50)))
    assert both.not_before == datetime.fromtimestamp(T - 5, UTC)
    only_iat = verify(token(claims(nbf=None, iat=T - 7)))
    assert only_iat.not_before == datetime.fromtimestamp(T - 7, UTC)
    only_nbf = verify(token(claims(iat=None, nbf=T - 8.5)))
    assert only_nbf.not_before == datetime.fromtimestamp(T - 8.5, UTC)


def test_leeway_applies_both_ways() -> None:
    verify(token(claims(nbf=T - 200, iat=None, exp=T - 29)))
    verify(token(claims(nbf=T + 29, iat=None, exp=T + 200)))
    rejected(token(claims(nbf=T - 200, iat=None, exp=T - 5)), DenyReason.EXPIRED, leeway_s=0)
    rejected(token(claims(nbf=T - 200, iat=None, exp=T - 30)), DenyReason.EXPIRED)


def test_lifetime_limit_is_inclusive_and_configurable() -> None:
    verify(token(claims(nbf=T, iat=None, exp=T + 300)))
    verify(token(claims(nbf=T, iat=None, exp=T + 600)), max_lifetime_s=600)


def test_now_in_another_time_zone_is_the_same_instant() -> None:
    verify(token(), now=NOW.astimezone(timezone(timedelta(hours=2))))


def test_naive_now_is_an_error() -> None:
    with pytest.raises(InvalidCredentialError) as info:
        verify(token(), now=NOW.replace(tzinfo=None))
    assert info.value.translation_key == "naive_datetime"


def test_address_binding() -> None:
    bound = token(claims(addr="Hauptstraße 1,  10115   Berlin"))
    verify(bound, expected_address="HAUPTSTRASSE 1, 10115 berlin")
    verify(bound, expected_address="hauptstraße 1, 10115 berlin")
    verify(bound)  # no expectation: accepted
    verify(token(), expected_address="Hauptstraße 1")  # token not bound: accepted
    rejected(bound, DenyReason.ADDRESS_MISMATCH, expected_address="Hauptstraße 2, 10115 Berlin")
    rejected(token(claims(addr=["Hauptstraße 1"])), DenyReason.MALFORMED)
    rejected(token(claims(addr="x" * 513)), DenyReason.MALFORMED)


def test_normalize_address() -> None:
    assert normalize_address("  \uff2dain\tSt.\n 5 ") == "main st. 5"


# --- the adversarial suite -----------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_attack_unsigned_alg_none(alg: str) -> None:
    rejected(forge({"alg": alg, "typ": "JWT"}), DenyReason.ALG_NOT_ALLOWED)
    rejected(
        forge({"alg": alg, "kid": "ec-1"}, sign=lambda _: b"x" * 64), DenyReason.ALG_NOT_ALLOWED
    )


def test_attack_missing_alg() -> None:
    rejected(forge({"kid": "ec-1"}, sign=es256_signer(EC_PRIV)), DenyReason.ALG_NOT_ALLOWED)


@pytest.mark.parametrize("kid", ["ec-1", None])
def test_attack_hs256_with_the_public_key_as_hmac_secret(kid: str | None) -> None:
    """The classic confusion: an HMAC over the token keyed with the carrier's public PEM."""
    header = {"alg": "HS256", **({"kid": kid} if kid else {})}
    secret = EC_KEY.public_key_pem.encode()
    tok = forge(header, sign=lambda data: hmac.digest(secret, data, "sha256"))
    rejected(tok, DenyReason.ALG_NOT_ALLOWED)


def test_attack_rs256_with_an_attacker_rsa_key() -> None:
    rejected(token(key=ATTACKER_RSA, alg="RS256"), DenyReason.ALG_NOT_ALLOWED)
    rejected(token(key=ATTACKER_RSA, alg="PS256", kid=None), DenyReason.ALG_NOT_ALLOWED)


@pytest.mark.parametrize("alg", ["ES384", "ES512", "ES256K", "eddsa", "Ed25519", "es256", ""])
def test_attack_other_algorithms(alg: str) -> None:
    rejected(
        forge({"alg": alg, "kid": "ec-1"}, sign=es256_signer(EC_PRIV)), DenyReason.ALG_NOT_ALLOWED
    )


def test_attack_eddsa_signature_under_an_es256_header() -> None:
    sign = ED_PRIV.sign
    # The header names the Ed25519 key but claims ES256: key and alg disagree.
    rejected(forge({"alg": "ES256", "kid": "ed-1"}, sign=sign), DenyReason.ALG_NOT_ALLOWED)
    # Without kid it is checked as ES256 against the EC key, and fails.
    rejected(forge({"alg": "ES256"}, sign=sign), DenyReason.BAD_SIGNATURE)
    # The reverse: an EdDSA header naming the EC key.
    rejected(token(key=ED_PRIV, alg="EdDSA", kid="ec-1"), DenyReason.ALG_NOT_ALLOWED)


def test_attack_alg_the_carrier_has_no_key_for() -> None:
    only_ec = {"dhl": Carrier(carrier_id="dhl", name="DHL", keys=(EC_KEY,))}
    rejected(
        token(key=ED_PRIV, alg="EdDSA", kid=None), DenyReason.ALG_NOT_ALLOWED, carriers=only_ec
    )


def test_attack_signed_by_another_carriers_key() -> None:
    rejected(token(key=OTHER_PRIV), DenyReason.BAD_SIGNATURE)
    rejected(token(key=OTHER_PRIV, kid=None), DenyReason.BAD_SIGNATURE)
    rejected(token(key=ATTACKER_EC, kid=None), DenyReason.BAD_SIGNATURE)


def test_attack_embedded_jwk_jku_and_x5u_are_ignored() -> None:
    attacker_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ATTACKER_EC.public_key()))
    header = {
        "alg": "ES256",
        "jwk": attacker_jwk,
        "jku": "https://evil.example/jwks.json",
        "x5u": "https://evil.example/cert.pem",
    }
    rejected(forge(header, sign=es256_signer(ATTACKER_EC)), DenyReason.BAD_SIGNATURE)


def test_attack_tampered_payload_keeps_old_signature() -> None:
    header_segment, _, signature = token().split(".")
    for change in ({"sub": "delivery-9999"}, {"exp": T + 100_000}, {"jti": "tok-other"}):
        forged_payload = b64(json.dumps(claims(**change), separators=(",", ":")).encode())
        rejected(f"{header_segment}.{forged_payload}.{signature}", DenyReason.BAD_SIGNATURE)


def test_attack_tampered_header_keeps_old_signature() -> None:
    _, payload, signature = token().split(".")
    header = b64(json.dumps({"alg": "ES256", "kid": "ec-1", "typ": "JWT", "x": 1}).encode())
    rejected(f"{header}.{payload}.{signature}", DenyReason.BAD_SIGNATURE)


def test_attack_truncated_or_empty_signature() -> None:
    header, payload, signature = token().split(".")
    short = b64(unb64(signature)[:32])
    rejected(f"{header}.{payload}.{short}", DenyReason.BAD_SIGNATURE)
    rejected(f"{header}.{payload}.", DenyReason.BAD_SIGNATURE)
    rejected(f"{header}.{payload}", DenyReason.MALFORMED)


def test_attack_non_canonical_signature_encoding() -> None:
    """Unused bits in the last base64 character would give one signature two spellings."""
    header, payload, signature = token().split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(signature[-1]) ^ 1]
    variant = signature[:-1] + last
    assert unb64(variant) == unb64(signature)
    rejected(f"{header}.{payload}.{variant}", DenyReason.MALFORMED)
    rejected(f"{header}.{payload}.{signature}==", DenyReason.MALFORMED)


def test_attack_unknown_or_missing_issuer() -> None:
    rejected(token(claims(iss="evil-carrier")), DenyReason.UNKNOWN_CARRIER)
    rejected(token(claims(iss="")), DenyReason.UNKNOWN_CARRIER)
    rejected(token(claims(iss=None)), DenyReason.MISSING_CLAIM)
    sign = es256_signer(EC_PRIV)
    rejected(
        forge({"alg": "ES256", "kid": "ec-1"}, claims(iss=["dhl"]), sign), DenyReason.MALFORMED
    )
    rejected(forge({"alg": "ES256", "kid": "ec-1"}, claims(iss=7), sign), DenyReason.MALFORMED)


def test_attack_issuer_of_another_carrier() -> None:
    """A DHL-signed token claiming to be from UPS is checked against UPS's key."""
    rejected(token(claims(iss="ups")), DenyReason.UNKNOWN_KEY)
    rejected(token(claims(iss="ups"), kid=None), DenyReason.BAD_SIGNATURE)


@pytest.mark.parametrize(
    "kid",
    ["ec-9", "../../../../etc/passwd", "/dev/zero", "ec-1\u0000", "' OR 1=1 --", "k" * 2500],
)
def test_attack_unknown_or_hostile_kid(kid: str) -> None:
    rejected(token(kid=kid), DenyReason.UNKNOWN_KEY)


def test_attack_kid_that_is_not_a_string_or_too_big() -> None:
    rejected(forge({"alg": "ES256", "kid": 1}, sign=es256_signer(EC_PRIV)), DenyReason.MALFORMED)
    rejected(
        forge({"alg": "ES256", "kid": ["ec-1"]}, sign=es256_signer(EC_PRIV)), DenyReason.MALFORMED
    )
    rejected(token(kid="k" * MAX_TOKEN_LENGTH), DenyReason.MALFORMED)


def test_attack_critical_and_unencoded_payload_headers() -> None:
    sign = es256_signer(EC_PRIV)
    rejected(
        forge({"alg": "ES256", "kid": "ec-1", "crit": ["exp"], "exp": 1}, sign=sign),
        DenyReason.MALFORMED,
    )
    rejected(
        forge({"alg": "ES256", "kid": "ec-1", "b64": False, "crit": ["b64"]}, sign=sign),
        DenyReason.MALFORMED,
    )
    rejected(forge({"alg": "ES256", "kid": "ec-1", "b64": True}, sign=sign), DenyReason.MALFORMED)


def test_attack_wrong_audience() -> None:
    rejected(token(claims(aud="site-2")), DenyReason.WRONG_AUDIENCE)
    rejected(token(claims(aud=["site-2", "site-3"])), DenyReason.WRONG_AUDIENCE)
    rejected(token(claims(aud=7)), DenyReason.WRONG_AUDIENCE)
    rejected(token(claims(aud=None)), DenyReason.MISSING_CLAIM)
    verify(token(claims(aud=["site-2", AUD])))


def test_attack_expired() -> None:
    rejected(token(claims(nbf=T - 250, iat=None, exp=T - 31)), DenyReason.EXPIRED)


def test_attack_not_yet_valid() -> None:
    rejected(token(claims(nbf=T + 31, iat=None, exp=T + 200)), DenyReason.NOT_YET_VALID)
    rejected(token(claims(nbf=None, iat=T + 60, exp=T + 200)), DenyReason.NOT_YET_VALID)


def test_attack_lifetime_too_long() -> None:
    rejected(token(claims(nbf=T, iat=None, exp=T + 301)), DenyReason.LIFETIME_TOO_LONG)
    rejected(token(claims(nbf=T, iat=None, exp=T + 86_400 * 365)), DenyReason.LIFETIME_TOO_LONG)


@pytest.mark.parametrize("claim", ["jti", "sub", "exp"])
def test_attack_missing_claim(claim: str) -> None:
    rejected(token(claims(**{claim: None})), DenyReason.MISSING_CLAIM)


def test_attack_missing_start() -> None:
    rejected(token(claims(nbf=None, iat=None)), DenyReason.MISSING_CLAIM)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"jti": ""}, DenyReason.MISSING_CLAIM),
        ({"sub": ""}, DenyReason.MISSING_CLAIM),
        ({"jti": "j" * 129}, DenyReason.MALFORMED),
        ({"sub": "s" * 129}, DenyReason.MALFORMED),
        ({"jti": 12345}, DenyReason.MALFORMED),
        ({"sub": {"id": 1}}, DenyReason.MALFORMED),
        ({"sub": "line\nbreak"}, DenyReason.MALFORMED),
        ({"jti": "bell\u0007"}, DenyReason.MALFORMED),
        ({"exp": "tomorrow"}, DenyReason.MALFORMED),
        ({"exp": True}, DenyReason.MALFORMED),
        ({"exp": float("nan")}, DenyReason.MALFORMED),
        ({"exp": float("inf")}, DenyReason.MALFORMED),
        ({"nbf": -1}, DenyReason.MALFORMED),
        ({"nbf": 10**30}, DenyReason.MALFORMED),
        ({"iat": None, "nbf": T, "exp": T}, DenyReason.MALFORMED),
        ({"iat": None, "nbf": T + 10, "exp": T}, DenyReason.MALFORMED),
    ],
)
def test_attack_bad_claim_values(changes: dict[str, Any], reason: DenyReason) -> None:
    rejected(token(claims(**changes)), reason)


def test_attack_replay_of_the_same_jti() -> None:
    cache = ReplayCache()
    first = verify(token())
    cache.check(first, NOW)
    again = verify(token())  # a valid token, presented a second time
    with pytest.raises(TokenRejected) as info:
        cache.check(again, NOW + timedelta(seconds=5))
    assert info.value.reason is DenyReason.REPLAYED
    assert_safe(info.value, token())
    # The same jti from another carrier is another token.
    ups = verify(token(claims(iss="ups"), key=OTHER_PRIV, kid=None))
    cache.check(ups, NOW)


def test_attack_oversized_token() -> None:
    padded = token(claims(pad="p" * MAX_TOKEN_LENGTH))
    assert len(padded) > MAX_TOKEN_LENGTH
    rejected(padded, DenyReason.MALFORMED)
    rejected("a" * 1_000_000, DenyReason.MALFORMED)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "..",
        "...",
        "abc",
        "a.b",
        "a.b.c.d",
        "Bearer " + "x.y.z",
        "ey.ey.ey",
        "éé.éé.éé",
        "eyJhbGciOiJFUzI1NiJ9.%%%.AAAA",
        "eyJhbGciOiJFUzI1NiJ9.e30.A",
        f"{b64(b'not json')}.e30.AAAA",
        f"{b64(b'[1,2]')}.e30.AAAA",
        f"{b64(b'"ES256"')}.e30.AAAA",
        None,
        b"eyJ.eyJ.sig",
        12,
    ],
)
def test_attack_garbage_and_non_jwt_input(garbage: Any) -> None:
    rejected(garbage, DenyReason.MALFORMED)


def test_attack_payload_that_is_not_a_json_object() -> None:
    sign = es256_signer(EC_PRIV)
    rejected(
        forge({"alg": "ES256", "kid": "ec-1"}, sign=sign, raw_payload=b"[1]"), DenyReason.MALFORMED
    )
    rejected(
        forge({"alg": "ES256", "kid": "ec-1"}, sign=sign, raw_payload=b"\xff\xfe"),
        DenyReason.MALFORMED,
    )


def test_attack_guest_link_used_as_courier_token() -> None:
    rejected(guest(), DenyReason.ALG_NOT_ALLOWED)


def test_attack_courier_token_used_as_guest_link() -> None:
    guest_rejected(token(), DenyReason.ALG_NOT_ALLOWED)
    guest_rejected(token(key=ED_PRIV, alg="EdDSA", kid="ed-1"), DenyReason.ALG_NOT_ALLOWED)


# --- guest links ---------------------------------------------------------------------------


def test_guest_link_round_trip_and_reuse() -> None:
    link = guest()
    expected = GuestClaims(
        grant_id="grant-1",
        link_id="link-1",
        not_before=NOW - timedelta(hours=1),
        expires=NOW + timedelta(hours=1),
    )
    assert verify_guest(link) == expected
    assert verify_guest(link, now=NOW + timedelta(minutes=30)) == expected  # reusable
    header = json.loads(unb64(link.split(".")[0]))
    assert header["alg"] == "HS256"
    body = json.loads(unb64(link.split(".")[1]))
    assert body == {
        "iss": "concierge",
        "aud": AUD,
        "sub": "grant-1",
        "jti": "link-1",
        "nbf": T - 3600,
        "exp": T + 3600,
    }


def test_guest_link_long_validity_is_fine() -> None:
    link = guest(expires=NOW + timedelta(days=14))
    assert verify_guest(link).expires == NOW + timedelta(days=14)


def test_guest_link_for_another_site() -> None:
    guest_rejected(guest(site="site-2"), DenyReason.WRONG_AUDIENCE)
    guest_rejected(guest(secret=OTHER_SECRET), DenyReason.BAD_SIGNATURE)


def test_guest_link_revoked() -> None:
    guest_rejected(guest(), DenyReason.LINK_REVOKED, revoked={"link-1", "link-7"})
    verify_guest(guest(), revoked=frozenset({"link-7"}))


def test_guest_link_outside_its_validity() -> None:
    guest_rejected(guest(), DenyReason.EXPIRED, now=NOW + timedelta(hours=1, seconds=30))
    guest_rejected(guest(), DenyReason.NOT_YET_VALID, now=NOW - timedelta(hours=1, seconds=31))
    verify_guest(guest(), now=NOW + timedelta(hours=1, seconds=29))


@pytest.mark.parametrize("alg", ["none", "HS384", "HS512", "hs256"])
def test_guest_link_other_algorithms(alg: str) -> None:
    body = json.loads(unb64(guest().split(".")[1]))
    tok = forge({"alg": alg}, body, sign=lambda data: hmac.digest(SECRET, data, "sha512"))
    guest_rejected(tok, DenyReason.ALG_NOT_ALLOWED)


def test_guest_link_hand_made_with_the_secret_still_needs_every_rule() -> None:
    """Defence in depth: even a link signed with the secret must have the right shape."""
    body = json.loads(unb64(guest().split(".")[1]))

    def signed(**changes: Any) -> str:
        payload = {k: v for k, v in {**body, **changes}.items() if v is not None}
        return jwt.encode(payload, SECRET, algorithm="HS256")

    guest_rejected(signed(iss="dhl"), DenyReason.MALFORMED)
    guest_rejected(signed(sub="not an id"), DenyReason.MALFORMED)
    guest_rejected(signed(jti=42), DenyReason.MALFORMED)
    guest_rejected(signed(nbf=None), DenyReason.MISSING_CLAIM)
    guest_rejected(signed(exp=None), DenyReason.MISSING_CLAIM)
    guest_rejected(signed(aud=None), DenyReason.MISSING_CLAIM)


def test_guest_link_tampered() -> None:
    header, _, signature = guest().split(".")
    body = json.loads(unb64(guest().split(".")[1]))
    body["sub"] = "grant-2"
    guest_rejected(
        f"{header}.{b64(json.dumps(body).encode())}.{signature}", DenyReason.BAD_SIGNATURE
    )
    guest_rejected("x" * 5000, DenyReason.MALFORMED)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"secret": b"short"}, "secret"),
        ({"secret": "s" * 32}, "secret"),
        ({"site": "bad site"}, "site"),
        ({"grant_id": ""}, "grant_id"),
        ({"link_id": "x" * 65}, "link_id"),
        ({"expires": NOW - timedelta(hours=1)}, "expires"),
        ({"expires": NOW - timedelta(hours=2)}, "expires"),
    ],
)
def test_sign_guest_link_refuses(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidCredentialError) as info:
        guest(**changes)
    assert info.value.translation_key == "invalid_guest_link"
    assert info.value.placeholders == {"field": problem}


def test_guest_link_naive_datetimes() -> None:
    with pytest.raises(InvalidCredentialError) as info:
        guest(not_before=datetime(2025, 6, 2, 7))  # noqa: DTZ001 - the point of the test
    assert info.value.placeholders == {"field": "not_before"}
    with pytest.raises(InvalidCredentialError):
        verify_guest(guest(), now=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidCredentialError):
        verify_guest(guest(), secret=b"short")


# --- replay cache --------------------------------------------------------------------------


def test_replay_cache_records_and_prunes() -> None:
    cache = ReplayCache(leeway_s=30)
    expires = NOW + timedelta(minutes=2)
    assert cache.seen("dhl:a", expires, NOW) is False
    assert cache.seen("dhl:a", expires, NOW) is True
    assert cache.seen("dhl:b", NOW + timedelta(minutes=10), NOW) is False
    assert len(cache) == 2
    # Kept through expiry plus leeway (the verifier's leeway still accepts the token).
    assert cache.seen("dhl:a", expires, expires + timedelta(seconds=30)) is True
    assert cache.prune(expires + timedelta(seconds=31)) == 1
    assert len(cache) == 1
    assert cache.prune(expires + timedelta(seconds=31)) == 0


def test_replay_cache_refuses_when_full_instead_of_evicting() -> None:
    cache = ReplayCache(max_entries=2)
    cache.seen("dhl:a", NOW + timedelta(minutes=1), NOW)
    cache.seen("dhl:b", NOW + timedelta(minutes=5), NOW)
    with pytest.raises(TokenRejected) as info:
        cache.seen("dhl:c", NOW + timedelta(minutes=1), NOW)
    assert info.value.reason is DenyReason.RATE_LIMITED
    assert cache.seen("dhl:a", NOW + timedelta(minutes=1), NOW) is True  # still remembered
    later = NOW + timedelta(minutes=2)  # "a" has expired (plus leeway): room again
    assert cache.seen("dhl:c", NOW + timedelta(minutes=3), later) is False


def test_replay_cache_persists_digests_only() -> None:
    cache = ReplayCache()
    claims_ = verify(token())
    cache.check(claims_, NOW)
    data = json.loads(json.dumps(cache.to_dict()))
    text = json.dumps(data)
    assert JTI not in text
    assert "dhl" not in text
    assert data == {
        "version": 1,
        "entries": {hashlib.sha256(f"dhl:{JTI}".encode()).hexdigest(): claims_.expires.isoformat()},
    }
    restored = ReplayCache.from_dict(data)  # after a restart
    assert restored.to_dict() == cache.to_dict()
    with pytest.raises(TokenRejected) as info:
        restored.check(verify(token()), NOW + timedelta(seconds=1))
    assert info.value.reason is DenyReason.REPLAYED


def test_replay_cache_keeps_stored_entries_beyond_a_smaller_bound() -> None:
    cache = ReplayCache()
    for n in range(3):
        cache.seen(f"dhl:{n}", NOW + timedelta(minutes=1), NOW)
    small = ReplayCache.from_dict(cache.to_dict(), max_entries=2)
    assert len(small) == 3
    with pytest.raises(TokenRejected):
        small.seen("dhl:new", NOW + timedelta(minutes=1), NOW)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"entries": {}},
        {"version": 2, "entries": {}},
        {"version": 1},
        {"version": 1, "entries": []},
        {"version": 1, "entries": {"dhl:raw-jti": NOW.isoformat()}},
        {"version": 1, "entries": {"A" * 64: NOW.isoformat()}},
        {"version": 1, "entries": {"a" * 64: "yesterday"}},
        {"version": 1, "entries": {"a" * 64: "2025-06-02T08:00:00"}},
        {"version": 1, "entries": {"a" * 64: 1_700_000_000}},
    ],
)
def test_replay_cache_from_bad_storage(data: object) -> None:
    with pytest.raises(StoredDataError):
        ReplayCache.from_dict(data)


def test_replay_cache_settings_and_naive_times() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        ReplayCache(max_entries=0)
    with pytest.raises(ValueError, match="leeway_s"):
        ReplayCache(leeway_s=-1)
    cache = ReplayCache()
    with pytest.raises(InvalidCredentialError):
        cache.seen("k", NOW.replace(tzinfo=None), NOW)
    with pytest.raises(InvalidCredentialError):
        cache.seen("k", NOW, NOW.replace(tzinfo=None))
    assert len(cache) == 0


def test_replay_cache_accepts_any_key_text() -> None:
    cache = ReplayCache()
    assert cache.seen("dhl:\ud800", NOW, NOW) is False
    assert cache.seen("dhl:\ud800", NOW, NOW) is True


# --- rate limiter --------------------------------------------------------------------------


def test_rate_limiter_burst_then_refill() -> None:
    limiter = RateLimiter()
    assert [limiter.allow("10.0.0.1", NOW) for _ in range(6)] == [True] * 5 + [False]
    assert limiter.allow("10.0.0.1", NOW + timedelta(seconds=9)) is False
    assert limiter.allow("10.0.0.1", NOW + timedelta(seconds=10)) is True
    assert limiter.allow("10.0.0.1", NOW + timedelta(seconds=10)) is False
    later = NOW + timedelta(hours=1)  # refills to the burst, never beyond
    assert [limiter.allow("10.0.0.1", later) for _ in range(6)] == [True] * 5 + [False]
    assert limiter.allow("10.0.0.2", NOW) is True  # keys are independent


def test_rate_limiter_clock_going_back_does_not_refill() -> None:
    limiter = RateLimiter(capacity=1, refill_per_s=1)
    assert limiter.allow("k", NOW) is True
    assert limiter.allow("k", NOW - timedelta(seconds=30)) is False
    assert limiter.allow("k", NOW + timedelta(seconds=0.5)) is False
    assert limiter.allow("k", NOW + timedelta(seconds=1)) is True


def test_rate_limiter_bounds_keys_and_drops_only_full_buckets() -> None:
    limiter = RateLimiter(capacity=2, refill_per_s=0.1, max_keys=2)
    assert limiter.allow("a", NOW)
    assert limiter.allow("b", NOW + timedelta(seconds=5))
    assert limiter.allow("c", NOW + timedelta(seconds=6)) is False  # no bucket is full
    assert len(limiter) == 2
    # After 10 s "a" has refilled completely and is dropped to make room; "b" is not.
    assert limiter.allow("c", NOW + timedelta(seconds=10))
    assert len(limiter) == 2
    assert limiter.allow("b", NOW + timedelta(seconds=10))
    assert limiter.allow("b", NOW + timedelta(seconds=10)) is False


@pytest.mark.parametrize(
    "settings_", [{"capacity": 0}, {"refill_per_s": 0}, {"refill_per_s": -1}, {"max_keys": 0}]
)
def test_rate_limiter_settings(settings_: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(**settings_)


def test_rate_limiter_naive_now() -> None:
    with pytest.raises(InvalidCredentialError):
        RateLimiter().allow("k", NOW.replace(tzinfo=None))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=600), min_size=1, max_size=60))
def test_rate_limiter_never_exceeds_burst_plus_refill(offsets: list[float]) -> None:
    limiter = RateLimiter(capacity=5, refill_per_s=0.1)
    times = sorted(offsets)
    allowed = [t for t in times if limiter.allow("k", NOW + timedelta(seconds=t))]
    if allowed:
        assert len(allowed) <= 5 + (allowed[-1] - allowed[0]) * 0.1 + 1e-9


# --- properties ----------------------------------------------------------------------------

VALID_ES256 = token()
VALID_EDDSA = token(key=ED_PRIV, alg="EdDSA", kid="ed-1")
VALID_GUEST = guest()
MUTATIONS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.= +/"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([VALID_ES256, VALID_EDDSA]),
    st.integers(min_value=0),
    st.sampled_from(MUTATIONS),
)
def test_any_single_character_change_is_rejected(valid: str, position: int, char: str) -> None:
    index = position % len(valid)
    if valid[index] == char:
        return
    changed = valid[:index] + char + valid[index + 1 :]
    with pytest.raises(TokenRejected) as info:
        verify(changed)
    assert_safe(info.value, changed)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.sampled_from(MUTATIONS))
def test_any_single_character_change_of_a_guest_link_is_rejected(position: int, char: str) -> None:
    index = position % len(VALID_GUEST)
    if VALID_GUEST[index] == char:
        return
    changed = VALID_GUEST[:index] + char + VALID_GUEST[index + 1 :]
    with pytest.raises(TokenRejected):
        verify_guest(changed)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.text(alphabet=MUTATIONS, max_size=300)))
def test_arbitrary_text_only_ever_raises_token_rejected(text: str) -> None:
    with pytest.raises(TokenRejected):
        verify(text)
    with pytest.raises(TokenRejected):
        verify_guest(text)


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["iss", "aud", "sub", "jti", "nbf", "iat", "exp", "addr", "x"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=True),
            st.text(max_size=20),
            st.lists(st.text(max_size=5), max_size=2),
        ),
    )
)
def test_signed_arbitrary_claims_only_ever_raise_token_rejected(body: dict[str, Any]) -> None:
    """Even a correctly signed token with hostile claims yields a reason, never a crash."""
    try:
        result = verify(forge({"alg": "ES256", "kid": "ec-1"}, body, es256_signer(EC_PRIV)))
    except TokenRejected as error:
        assert_safe(error, "")
    else:
        assert result.carrier_id == "dhl"
