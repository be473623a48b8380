"""The checks every signed token passes, courier token or guest link alike.

A token is a compact JWS (three canonical base64url segments, at most
`MAX_TOKEN_LENGTH` characters). Its header is not trusted: it only names the algorithm
and the key to check against, and the caller has already fixed the algorithm by the key.
`decode` checks the signature, `aud`, `iss` and the required claims with PyJWT.

Time is always injected. PyJWT's own expiry checks use the real clock, so they are
off and `exp`/`nbf`/`iat` are checked by `validity` against `now`, with a leeway.
Every rejection raises `TokenRejected` (see `deny`).
"""

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import jwt
from jwt.types import Options

from .carriers import PublicKey
from .deny import DenyReason, TokenRejected
from .errors import InvalidCredentialError

MAX_TOKEN_LENGTH: Final = 4096
"""Longer tokens are rejected as `malformed` before they are parsed."""
DEFAULT_LEEWAY_S: Final = 30

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_MAX_NUMERIC_DATE: Final = 253_402_300_799  # 9999-12-31T23:59:59Z


def aware_utc(value: datetime, name: str) -> datetime:
    """Return `value` in UTC; a naive datetime is an error (key `naive_datetime`)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidCredentialError(translation_key="naive_datetime", placeholders={"field": name})
    return value.astimezone(UTC)


def _is_canonical_segment(segment: str) -> bool:
    """Whether `segment` is unpadded base64url that re-encodes to itself.

    Unused low bits in the last character would otherwise let one signature be
    written several ways.
    """
    if _SEGMENT.fullmatch(segment) is None or len(segment) % 4 == 1:
        return False
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") == segment


def read_header(token: object) -> dict[str, Any]:
    """Check the compact form (size, three canonical segments) and return the header.

    The header is not trusted: it only names the algorithm and key to check against.
    `crit` and `b64` (RFC 7797 unencoded payloads) are refused outright.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise TokenRejected(DenyReason.MALFORMED)
    segments = token.split(".")
    if len(segments) != 3 or not all(_is_canonical_segment(s) for s in segments):  # noqa: PLR2004 - JWS compact form
        raise TokenRejected(DenyReason.MALFORMED)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRejected(DenyReason.MALFORMED) from None
    if "crit" in header or "b64" in header:
        raise TokenRejected(DenyReason.MALFORMED)
    return header


_PYJWT_REASONS: Final[tuple[tuple[type[jwt.PyJWTError], DenyReason], ...]] = (
    (jwt.InvalidSignatureError, DenyReason.BAD_SIGNATURE),
    (jwt.ExpiredSignatureError, DenyReason.EXPIRED),
    (jwt.ImmatureSignatureError, DenyReason.NOT_YET_VALID),
    (jwt.InvalidAudienceError, DenyReason.WRONG_AUDIENCE),
    (jwt.MissingRequiredClaimError, DenyReason.MISSING_CLAIM),
    (jwt.InvalidAlgorithmError, DenyReason.ALG_NOT_ALLOWED),
)
"""PyJWT errors and their reasons (first match wins); any other error is `malformed`."""


def reason_for(error: jwt.PyJWTError) -> DenyReason:
    """Map a PyJWT exception to a `DenyReason` (`malformed` if none fits)."""
    return next(
        (reason for kind, reason in _PYJWT_REASONS if isinstance(error, kind)),
        DenyReason.MALFORMED,
    )


def decode(  # noqa: PLR0913 - the key, its algorithm and the expected claims
    token: str,
    key: PublicKey | bytes,
    alg: str,
    *,
    audience: str,
    issuer: str,
    require: Sequence[str],
) -> dict[str, Any]:
    """Verify the signature with `key` and `alg` only, plus `aud`, `iss` and claim types.

    `exp`, `nbf` and `iat` are checked by `validity` against the injected time.
    """
    options: Options = {
        "verify_signature": True,
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": True,
        "verify_iss": True,
        "verify_sub": True,
        "verify_jti": True,
        "require": list(require),
        "enforce_minimum_key_length": True,
    }
    try:
        payload: dict[str, Any] = jwt.decode(
            token, key=key, algorithms=[alg], audience=audience, issuer=issuer, options=options
        )
    except jwt.PyJWTError as error:
        raise TokenRejected(reason_for(error)) from None
    return payload


def _numeric_date(payload: Mapping[str, Any], name: str) -> float | None:
    """Read an optional NumericDate (seconds since the epoch, finite, up to year 9999)."""
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(DenyReason.MALFORMED)
    if not 0 <= value <= _MAX_NUMERIC_DATE:  # also refuses NaN and infinities
        raise TokenRejected(DenyReason.MALFORMED)
    return float(value)


def validity(
    payload: Mapping[str, Any],
    now: datetime,
    *,
    leeway_s: float,
    max_lifetime_s: float | None,
) -> tuple[datetime, datetime]:
    """Check `exp` and `nbf`/`iat` against `now` and return (not_before, expires).

    The token is valid from the later of `nbf` and `iat`; it needs at least one of
    them. Checked in this order: shape, lifetime, expiry, not-yet-valid.
    """
    expires = _numeric_date(payload, "exp")
    nbf, iat = _numeric_date(payload, "nbf"), _numeric_date(payload, "iat")
    starts = [t for t in (nbf, iat) if t is not None]
    if expires is None or not starts:
        raise TokenRejected(DenyReason.MISSING_CLAIM)
    not_before = max(starts)
    if expires <= not_before:
        raise TokenRejected(DenyReason.MALFORMED)
    if max_lifetime_s is not None and expires - not_before > max_lifetime_s:
        raise TokenRejected(DenyReason.LIFETIME_TOO_LONG)
    at = now.timestamp()
    if expires <= at - leeway_s:
        raise TokenRejected(DenyReason.EXPIRED)
    if not_before > at + leeway_s:
        raise TokenRejected(DenyReason.NOT_YET_VALID)
    return datetime.fromtimestamp(not_before, UTC), datetime.fromtimestamp(expires, UTC)
