"""Courier tokens: the happy paths, the adversarial suite and properties.

The attack tests forge tokens by hand (see `token_helpers.forge`) so the library under
test never gets a say in how an attacker builds them.
"""

import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.carriers import Carrier
from custom_components.concierge.core.courier_tokens import (
    CourierClaims,
    normalize_address,
    replay_key,
)
from custom_components.concierge.core.deny import DenyReason, TokenRejected
from custom_components.concierge.core.errors import InvalidCredentialError
from custom_components.concierge.core.replay_cache import ReplayCache
from custom_components.concierge.core.token_checks import MAX_TOKEN_LENGTH

from .token_helpers import (
    ATTACKER_EC,
    ATTACKER_RSA,
    AUD,
    EC2_KEY,
    EC2_PRIV,
    EC_KEY,
    EC_PRIV,
    ED_KEY,
    ED_PRIV,
    JTI,
    MUTATIONS,
    NOW,
    OTHER_PRIV,
    SUB,
    T,
    assert_safe,
    b64,
    claims,
    es256_signer,
    forge,
    guest,
    guest_rejected,
    rejected,
    token,
    unb64,
    verify,
    verify_guest,
)


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


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def test_leeway_applies_both_ways() -> None:
    # Accepted within 30 s of leeway, with the window the token states (not widened).
    assert verify(token(claims(nbf=T - 200, iat=None, exp=T - 29))).expires == _at(T - 29)
    assert verify(token(claims(nbf=T + 29, iat=None, exp=T + 200))).not_before == _at(T + 29)
    rejected(token(claims(nbf=T - 200, iat=None, exp=T - 5)), DenyReason.EXPIRED, leeway_s=0)
    rejected(token(claims(nbf=T - 200, iat=None, exp=T - 30)), DenyReason.EXPIRED)


def test_lifetime_limit_is_inclusive_and_configurable() -> None:
    assert verify(token(claims(nbf=T, iat=None, exp=T + 300))).expires == _at(T + 300)
    rejected(token(claims(nbf=T, iat=None, exp=T + 301)), DenyReason.LIFETIME_TOO_LONG)
    longer = verify(token(claims(nbf=T, iat=None, exp=T + 600)), max_lifetime_s=600)
    assert longer.expires == _at(T + 600)


def test_now_in_another_time_zone_is_the_same_instant() -> None:
    elsewhere = verify(token(), now=NOW.astimezone(timezone(timedelta(hours=2))))
    assert elsewhere == verify(token())
    # The same instant: a token expired in UTC is expired at UTC+2 too.
    expired = token(claims(nbf=T - 200, iat=None, exp=T - 60))
    rejected(expired, DenyReason.EXPIRED, now=NOW.astimezone(timezone(timedelta(hours=2))))


def test_naive_now_is_an_error() -> None:
    with pytest.raises(InvalidCredentialError) as info:
        verify(token(), now=NOW.replace(tzinfo=None))
    assert info.value.translation_key == "naive_datetime"


def test_address_binding() -> None:
    bound = token(claims(addr="Hauptstraße 1,  10115   Berlin"))
    for address in ("HAUPTSTRASSE 1, 10115 berlin", "hauptstraße 1, 10115 berlin", None):
        # the same address however written; no expectation: accepted
        assert verify(bound, expected_address=address).delivery_id == SUB
    # A token not bound to an address is accepted wherever it is used.
    assert verify(token(), expected_address="Hauptstraße 1").delivery_id == SUB
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


# --- properties ----------------------------------------------------------------------------

VALID_ES256 = token()
VALID_EDDSA = token(key=ED_PRIV, alg="EdDSA", kid="ed-1")


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


# --- an unknown carrier costs the same signature check as a known one ------------------


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every signature check PyJWT hands to cryptography, by algorithm family."""
    checks: list[str] = []
    for family in (jwt.algorithms.ECAlgorithm, jwt.algorithms.OKPAlgorithm):
        original = family.verify

        def counted(self: Any, msg: bytes, key: Any, sig: bytes, _orig: Any = original) -> bool:
            checks.append(type(self).__name__)
            return bool(_orig(self, msg, key, sig))

        monkeypatch.setattr(family, "verify", counted)
    return checks


ED_ATTACKER = ed25519.Ed25519PrivateKey.generate()
ONLY_ONE_KEY_EACH = {
    "dhl": Carrier(carrier_id="dhl", name="DHL", keys=(EC_KEY,)),
    "gls": Carrier(carrier_id="gls", name="GLS", keys=(ED_KEY,)),
}


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: token(key=ATTACKER_EC), DenyReason.BAD_SIGNATURE),
        (lambda: token(claims(iss="evil-carrier"), key=ATTACKER_EC), DenyReason.UNKNOWN_CARRIER),
        (lambda: token(key=ATTACKER_EC, kid="ec-9"), DenyReason.UNKNOWN_KEY),
        (lambda: token(claims(iss="gls"), key=ATTACKER_EC, kid=None), DenyReason.ALG_NOT_ALLOWED),
        (lambda: token(claims(iss="gls"), key=ATTACKER_EC, kid="ed-1"), DenyReason.ALG_NOT_ALLOWED),
        (lambda: token(claims(iss="gls"), key=ED_ATTACKER, alg="EdDSA", kid="ed-1"),
         DenyReason.BAD_SIGNATURE),
        (lambda: token(claims(iss="evil"), key=ED_ATTACKER, alg="EdDSA", kid="ed-1"),
         DenyReason.UNKNOWN_CARRIER),
        (lambda: token(claims(iss="gls"), key=ED_ATTACKER, alg="EdDSA", kid="ed-9"),
         DenyReason.UNKNOWN_KEY),
    ],
    ids=[
        "es256-bad-signature", "es256-unknown-issuer", "es256-unknown-kid",
        "es256-carrier-without-es256-key", "es256-kid-of-an-eddsa-key",
        "eddsa-bad-signature", "eddsa-unknown-issuer", "eddsa-unknown-kid",
    ],
)  # fmt: skip
def test_every_refusal_after_the_algorithm_checks_one_signature(
    signature_checks: list[str], make: Any, reason: DenyReason
) -> None:
    """An unknown issuer or key is not refused before a signature check: no timing oracle."""
    tok = make()
    expected = "OKPAlgorithm" if jwt.get_unverified_header(tok)["alg"] == "EdDSA" else "ECAlgorithm"
    rejected(tok, reason, carriers=ONLY_ONE_KEY_EACH)
    assert signature_checks == [expected]
