"""Courier tokens: compact JWS tokens a carrier signs to open a door for a delivery.

`verify_courier_token` checks one against the site's carriers (see `carriers`) and an
injected `now`, and returns `CourierClaims`. The algorithm is fixed by the key, never
chosen by the token: the token must say ES256 or EdDSA and match its key's type.
Anything else (`none`, HS* on a courier key, RS*) is `alg_not_allowed`, before any
key is used. Once the algorithm is one of those two, a token naming a carrier or key
the site does not have (or a key of the other type) is checked against a decoy key of
that algorithm before it is refused, so that it costs the same signature check as a
bad signature with a registered key: how long a refusal takes does not tell whether a
carrier or key id is registered. (A token without `kid` is checked against each of its
carrier's keys of that algorithm, so its time still grows with their number.) Every
rejection raises `TokenRejected`; replays are the `ReplayCache`'s to refuse.
"""

import unicodedata
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from .carriers import Carrier, CarrierAlg, CarrierKey, PublicKey
from .deny import DenyReason, TokenRejected
from .token_checks import DEFAULT_LEEWAY_S, aware_utc, decode, read_header, validity

MAX_CLAIM_LENGTH: Final = 128
"""The longest accepted `sub` (delivery id) and `jti`."""
MAX_ADDRESS_LENGTH: Final = 512
DEFAULT_MAX_LIFETIME_S: Final = 300

COURIER_ALGS: Final[tuple[CarrierAlg, ...]] = ("ES256", "EdDSA")

_COURIER_CLAIMS: Final = ("exp", "aud", "iss", "sub", "jti")


def replay_key(carrier_id: str, jti: str) -> str:
    """Return the replay-cache key of a courier token: `"{carrier_id}:{jti}"`."""
    return f"{carrier_id}:{jti}"


@dataclass(frozen=True, slots=True)
class CourierClaims:
    """What a verified courier token says: who, which delivery, which token, when."""

    carrier_id: str
    delivery_id: str
    jti: str
    not_before: datetime
    expires: datetime

    @property
    def replay_key(self) -> str:
        """The key under which `ReplayCache` remembers this token."""
        return replay_key(self.carrier_id, self.jti)


def normalize_address(address: str) -> str:
    """Normalise an address for comparison: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", address).casefold().split())


def _short_string(payload: Mapping[str, Any], name: str) -> str:
    """Read a required, non-empty, printable string claim of at most 128 characters."""
    value = payload.get(name)
    if value is None or value == "":
        raise TokenRejected(DenyReason.MISSING_CLAIM)
    if not isinstance(value, str) or len(value) > MAX_CLAIM_LENGTH or not value.isprintable():
        raise TokenRejected(DenyReason.MALFORMED)
    return value


def _issuer(token: str) -> str:
    """The token's `iss`, read without verification."""
    try:
        unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenRejected(DenyReason.MALFORMED) from None
    issuer = unverified.get("iss")
    if issuer is None:
        raise TokenRejected(DenyReason.MISSING_CLAIM)
    if not isinstance(issuer, str):
        raise TokenRejected(DenyReason.MALFORMED)
    return issuer


def _candidate_keys(
    carrier: Carrier, header: Mapping[str, Any], alg: str
) -> list[CarrierKey] | DenyReason:
    """The keys to try (the one named by `kid`, else every key of the header alg), or why none."""
    if "kid" in header:
        key = carrier.key_by_kid(header["kid"])
        if key is None:
            return DenyReason.UNKNOWN_KEY
        if key.alg != alg:
            return DenyReason.ALG_NOT_ALLOWED
        return [key]
    keys = [key for key in carrier.keys if key.alg == alg]
    return keys or DenyReason.ALG_NOT_ALLOWED


@cache
def _decoy_key(alg: CarrierAlg) -> PublicKey:
    """A public key of `alg` whose private half was thrown away: nothing verifies with it."""
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate().public_key()
    return ec.generate_private_key(ec.SECP256R1()).public_key()


def _refused_after_decoy(
    token: str, alg: CarrierAlg, reason: DenyReason, audience: str, issuer: str
) -> TokenRejected:
    """Check the signature against a decoy key, as for a known key, then refuse with `reason`."""
    with suppress(TokenRejected):
        decode(token, _decoy_key(alg), alg, audience=audience, issuer=issuer,
               require=_COURIER_CLAIMS)  # fmt: skip
    return TokenRejected(reason)


def _verify_with_any(
    token: str, keys: Sequence[CarrierKey], *, audience: str, issuer: str
) -> dict[str, Any]:
    """Verify with the first key whose signature matches; other rejections stop at once."""
    for key in keys:
        try:
            payload = decode(
                token, key.key, key.alg, audience=audience, issuer=issuer, require=_COURIER_CLAIMS
            )
        except TokenRejected as rejected:
            if rejected.reason is not DenyReason.BAD_SIGNATURE:
                raise
        else:
            return payload
    raise TokenRejected(DenyReason.BAD_SIGNATURE)


def _check_address(payload: Mapping[str, Any], expected_address: str | None) -> None:
    address = payload.get("addr")
    if address is None:
        return
    if not isinstance(address, str) or len(address) > MAX_ADDRESS_LENGTH:
        raise TokenRejected(DenyReason.MALFORMED)
    if expected_address is not None and normalize_address(address) != normalize_address(
        expected_address
    ):
        raise TokenRejected(DenyReason.ADDRESS_MISMATCH)


def verify_courier_token(  # noqa: PLR0913 - each setting is independent and keyword-only
    token: str,
    *,
    carriers: Mapping[str, Carrier],
    audience: str,
    now: datetime,
    leeway_s: float = DEFAULT_LEEWAY_S,
    max_lifetime_s: float = DEFAULT_MAX_LIFETIME_S,
    expected_address: str | None = None,
) -> CourierClaims:
    """Verify a courier token and return its claims, or raise `TokenRejected`.

    `carriers` maps carrier ids (JWT issuers) to carriers; `audience` is this site's
    audience string; `now` must be aware. Required claims: `iss`, `aud`, `sub` (the
    delivery id), `jti`, `exp`, and `nbf` or `iat`; the lifetime (`exp` minus the later
    of `nbf`/`iat`) may be at most `max_lifetime_s`. An `addr` claim, when present and
    `expected_address` is given, must match it (see `normalize_address`); a token
    without `addr` is not bound to an address.

    This does not check replays: pass the claims to `ReplayCache.check`.
    """
    now = aware_utc(now, "now")
    header = read_header(token)
    alg = header.get("alg")
    if alg not in COURIER_ALGS:
        raise TokenRejected(DenyReason.ALG_NOT_ALLOWED)
    issuer = _issuer(token)
    if (carrier := carriers.get(issuer)) is None:
        raise _refused_after_decoy(token, alg, DenyReason.UNKNOWN_CARRIER, audience, issuer)
    if isinstance(keys := _candidate_keys(carrier, header, alg), DenyReason):
        raise _refused_after_decoy(token, alg, keys, audience, issuer)
    payload = _verify_with_any(token, keys, audience=audience, issuer=carrier.carrier_id)
    delivery_id = _short_string(payload, "sub")
    jti = _short_string(payload, "jti")
    not_before, expires = validity(payload, now, leeway_s=leeway_s, max_lifetime_s=max_lifetime_s)
    _check_address(payload, expected_address)
    return CourierClaims(
        carrier_id=carrier.carrier_id,
        delivery_id=delivery_id,
        jti=jti,
        not_before=not_before,
        expires=expires,
    )
