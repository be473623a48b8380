"""Keys, carriers and token makers shared by the token tests.

Keys are generated here with cryptography; `forge` builds tokens by hand so the
library under test never gets a say in how an attacker builds them.
"""

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from custom_components.concierge.core.carriers import Carrier, parse_public_key
from custom_components.concierge.core.courier_tokens import CourierClaims, verify_courier_token
from custom_components.concierge.core.deny import DenyReason, TokenRejected
from custom_components.concierge.core.guest_links import (
    GuestClaims,
    sign_guest_link,
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

MUTATIONS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.= +/"
"""Characters a property test swaps into a valid token."""

SMALL_ORDER = [
    "0100000000000000000000000000000000000000000000000000000000000000",  # identity (order 1)
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
    "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
    "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
]
"""The eight points of order dividing 8, in canonical encoding (RFC 8032 §5.1.2)."""

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
