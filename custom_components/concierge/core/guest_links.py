"""Guest links: HS256 tokens the site signs with its own secret and checks itself.

`sign_guest_link` makes one for a grant; `verify_guest_link` checks one against an
injected `now` and returns `GuestClaims`. The algorithm must be exactly HS256. A link
is reusable within its validity; the visit flow limits uses and concurrent visits.
Every rejection raises `TokenRejected`.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

import jwt

from .deny import DenyReason, TokenRejected
from .errors import InvalidCredentialError
from .ids import is_identifier
from .token_checks import DEFAULT_LEEWAY_S, aware_utc, decode, read_header, validity

GUEST_LINK_ISSUER: Final = "concierge"
GUEST_LINK_ALG: Final = "HS256"
MIN_SECRET_BYTES: Final = 32
"""A guest-link secret must have at least this many bytes (RFC 7518 §3.2 for HS256)."""

_GUEST_CLAIMS: Final = ("exp", "nbf", "aud", "iss", "sub", "jti")


@dataclass(frozen=True, slots=True)
class GuestClaims:
    """What a verified guest link says: which grant, which link, when."""

    grant_id: str
    link_id: str
    not_before: datetime
    expires: datetime


def _bad_link(problem: str) -> InvalidCredentialError:
    return InvalidCredentialError(
        translation_key="invalid_guest_link", placeholders={"field": problem}
    )


def _check_secret(secret: object) -> bytes:
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise _bad_link("secret")
    return secret


def sign_guest_link(  # noqa: PLR0913 - each part of the link is independent and keyword-only
    *,
    secret: bytes,
    site: str,
    grant_id: str,
    link_id: str,
    not_before: datetime,
    expires: datetime,
) -> str:
    """Sign a guest link: a compact HS256 JWT with the site's secret.

    Claims: `iss` = `GUEST_LINK_ISSUER`, `aud` = site, `sub` = grant id, `jti` = link
    id, `nbf` and `exp` (whole seconds, rounded down). Raises `InvalidCredentialError`
    (`invalid_guest_link`: secret shorter than `MIN_SECRET_BYTES`, an id that is not an
    identifier, or an empty validity; `naive_datetime`).
    """
    key = _check_secret(secret)
    for name, value in (("site", site), ("grant_id", grant_id), ("link_id", link_id)):
        if not is_identifier(value):
            raise _bad_link(name)
    start = int(aware_utc(not_before, "not_before").timestamp())
    end = int(aware_utc(expires, "expires").timestamp())
    if end <= start:
        raise _bad_link("expires")
    payload = {
        "iss": GUEST_LINK_ISSUER,
        "aud": site,
        "sub": grant_id,
        "jti": link_id,
        "nbf": start,
        "exp": end,
    }
    return jwt.encode(payload, key, algorithm=GUEST_LINK_ALG)


def _identifier_claim(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not is_identifier(value):
        raise TokenRejected(DenyReason.MALFORMED)
    return cast("str", value)


def verify_guest_link(  # noqa: PLR0913 - each setting is independent and keyword-only
    token: str,
    *,
    secret: bytes,
    site: str,
    now: datetime,
    revoked: Collection[str],
    leeway_s: float = DEFAULT_LEEWAY_S,
) -> GuestClaims:
    """Verify a guest link for `site` at `now`, or raise `TokenRejected`.

    The algorithm must be exactly HS256. `revoked` holds revoked link ids
    (`link_revoked`). A link is reusable while valid; it says nothing about the
    grant's state or window, which the visit flow checks.
    """
    now = aware_utc(now, "now")
    key = _check_secret(secret)
    header = read_header(token)
    if header.get("alg") != GUEST_LINK_ALG:
        raise TokenRejected(DenyReason.ALG_NOT_ALLOWED)
    payload = decode(
        token, key, GUEST_LINK_ALG, audience=site, issuer=GUEST_LINK_ISSUER, require=_GUEST_CLAIMS
    )
    grant_id = _identifier_claim(payload, "sub")
    link_id = _identifier_claim(payload, "jti")
    if link_id in revoked:
        raise TokenRejected(DenyReason.LINK_REVOKED)
    not_before, expires = validity(payload, now, leeway_s=leeway_s, max_lifetime_s=None)
    return GuestClaims(grant_id=grant_id, link_id=link_id, not_before=not_before, expires=expires)
