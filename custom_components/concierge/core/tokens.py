"""Courier tokens, guest links, replay protection and rate limiting.

Two kinds of signed token open doors remotely:

- **Courier tokens** are compact JWS tokens a carrier signs with its own private key
  (ES256 on P-256, or EdDSA on Ed25519). The site knows each carrier's public keys
  (`Carrier`, `CarrierKey`). `verify_courier_token` checks one against an injected
  `now` and returns `CourierClaims`.
- **Guest links** are HS256 tokens the site signs with its own secret
  (`sign_guest_link`) and checks itself (`verify_guest_link`). They are reusable within
  their validity; the visit flow limits uses and concurrent visits.

Every rejection raises `TokenRejected`, whose `reason` is a `DenyReason`. Its message
is the reason code only: never the token, never a claim value. The algorithm is fixed
by the key, never chosen by the token: a courier token must say ES256 or EdDSA and
match its key's type, a guest link must say HS256. Anything else (`none`, HS* on a
courier key, RS*, a key-type mismatch) is `alg_not_allowed`, before any key is used.

Time is always injected. PyJWT's own expiry checks use the real clock, so they are
off and `exp`/`nbf`/`iat` are checked here against `now`, with a leeway.

`ReplayCache` remembers used courier token ids until they expire (the shell persists
it), and `RateLimiter` is a token bucket per key (remote address, carrier). Both are
plain in-memory structures with time passed in.
"""

import base64
import hashlib
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Final, Literal, cast, override

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from jwt.types import Options

from . import _parse
from .errors import InvalidCredentialError
from .ids import is_identifier

MAX_TOKEN_LENGTH: Final = 4096
"""Longer tokens are rejected as `malformed` before they are parsed."""
MAX_CLAIM_LENGTH: Final = 128
"""The longest accepted `sub` (delivery id) and `jti`."""
MAX_ADDRESS_LENGTH: Final = 512
DEFAULT_LEEWAY_S: Final = 30
DEFAULT_MAX_LIFETIME_S: Final = 300
DEFAULT_REPLAY_ENTRIES: Final = 10_000
MAX_KEYS_PER_CARRIER: Final = 8
MAX_PEM_LENGTH: Final = 4096
CARRIER_NAME_MAX_LENGTH: Final = 64
GUEST_LINK_ISSUER: Final = "concierge"
GUEST_LINK_ALG: Final = "HS256"
MIN_SECRET_BYTES: Final = 32
"""A guest-link secret must have at least this many bytes (RFC 7518 §3.2 for HS256)."""

type CarrierAlg = Literal["ES256", "EdDSA"]
type PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

COURIER_ALGS: Final[tuple[CarrierAlg, ...]] = ("ES256", "EdDSA")

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_KID = re.compile(r"[\x21-\x7e]{1,128}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
_MAX_NUMERIC_DATE: Final = 253_402_300_799  # 9999-12-31T23:59:59Z
_COURIER_CLAIMS: Final = ("exp", "aud", "iss", "sub", "jti")
_GUEST_CLAIMS: Final = ("exp", "nbf", "aud", "iss", "sub", "jti")
_REPLAY_WHAT = "replay_cache"
_REPLAY_VERSION = 1


class DenyReason(StrEnum):
    """Why access was refused: the codes of access-denied events and HTTP answers.

    This module raises the token reasons (`malformed` to `replayed`, `rate_limited`,
    `link_revoked`); the visit flow uses the policy ones.
    """

    MALFORMED = "malformed"
    ALG_NOT_ALLOWED = "alg_not_allowed"
    UNKNOWN_CARRIER = "unknown_carrier"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    MISSING_CLAIM = "missing_claim"
    REPLAYED = "replayed"
    ADDRESS_MISMATCH = "address_mismatch"
    OUTSIDE_WINDOW = "outside_window"
    GRANT_REVOKED = "grant_revoked"
    GRANT_USED_UP = "grant_used_up"
    GRANT_SUSPENDED = "grant_suspended"
    NO_COURIER_GRANT = "no_courier_grant"
    PETS_HOME = "pets_home"
    CAMERA_UNAVAILABLE = "camera_unavailable"
    ALARM_NOT_DISARMED = "alarm_not_disarmed"
    RATE_LIMITED = "rate_limited"
    LINK_REVOKED = "link_revoked"
    PORTAL_BUSY = "portal_busy"
    INTERRUPTED = "interrupted"


class TokenRejected(Exception):  # noqa: N818 - it names the outcome, as the callers use it
    """A token (or a request carrying one) is refused; `reason` says why.

    The message is the reason code only, so it is safe to log: it never holds the
    token or a claim value. The PyJWT exception behind it is not chained either.
    """

    reason: DenyReason

    def __init__(self, reason: DenyReason) -> None:
        """Create the rejection for `reason`."""
        super().__init__(reason)
        self.reason = reason

    @override
    def __str__(self) -> str:
        """Return `token rejected: <reason>`."""
        return f"token rejected: {self.reason.value}"


def _reject(reason: DenyReason) -> TokenRejected:
    return TokenRejected(reason)


def _aware(value: datetime, name: str) -> datetime:
    """Return `value` in UTC; a naive datetime is an error (key `naive_datetime`)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidCredentialError(translation_key="naive_datetime", placeholders={"field": name})
    return value.astimezone(UTC)


# --- carriers and their keys ----------------------------------------------------------


def _bad_key() -> InvalidCredentialError:
    return InvalidCredentialError(translation_key="invalid_public_key")


def _load_public_key(pem: object) -> tuple[CarrierAlg, PublicKey]:
    """Load a PEM public key; only EC P-256 (ES256) and Ed25519 (EdDSA) are accepted."""
    if not isinstance(pem, str) or len(pem) > MAX_PEM_LENGTH:
        raise _bad_key()
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except ValueError, UnsupportedAlgorithm:
        raise _bad_key() from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA", key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256", key
    raise _bad_key()


def _pem(key: PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_fingerprint(key: PublicKey) -> str:
    """Return the default key id: the first 16 hex digits of SHA-256 over the DER SPKI."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CarrierKey:
    """One public key of a carrier.

    `kid` is the JWT `kid` header that selects it (1-128 visible ASCII characters),
    `alg` the only algorithm it verifies, and `public_key_pem` the key as a PEM
    SubjectPublicKeyInfo, stored in canonical form. The PEM must hold an EC P-256 key
    for ES256 or an Ed25519 key for EdDSA (key `invalid_public_key` otherwise).
    """

    kid: str
    alg: CarrierAlg
    public_key_pem: str
    key: PublicKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Check the key id, load the key and check it suits the algorithm."""
        kid: object = self.kid
        if not isinstance(kid, str) or _KID.fullmatch(kid) is None:
            raise InvalidCredentialError(translation_key="invalid_key_id")
        alg, key = _load_public_key(self.public_key_pem)
        if alg != self.alg:
            raise _bad_key()
        object.__setattr__(self, "public_key_pem", _pem(key))
        object.__setattr__(self, "key", key)

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage."""
        return {"kid": self.kid, "alg": self.alg, "public_key_pem": self.public_key_pem}

    @classmethod
    def from_dict(cls, data: object) -> CarrierKey:
        """Rebuild from `to_dict` output."""
        obj = _parse.as_mapping(data, "carrier_key")
        return cls(
            kid=_parse.get_str(obj, "kid", "carrier_key"),
            alg=cast("CarrierAlg", _parse.get_str(obj, "alg", "carrier_key")),
            public_key_pem=_parse.get_str(obj, "public_key_pem", "carrier_key"),
        )


def parse_public_key(pem: str, *, kid: str | None = None) -> CarrierKey:
    """Build a `CarrierKey` from a PEM public key, choosing `alg` from the key type.

    Without `kid`, the key id is `key_fingerprint` of the key. Raises
    `InvalidCredentialError` (`invalid_public_key`, `invalid_key_id`).
    """
    alg, key = _load_public_key(pem)
    return CarrierKey(kid=key_fingerprint(key) if kid is None else kid, alg=alg, public_key_pem=pem)


def _bad_carrier(problem: str) -> InvalidCredentialError:
    return InvalidCredentialError(
        translation_key="invalid_carrier", placeholders={"field": problem}
    )


@dataclass(frozen=True, slots=True)
class Carrier:
    """A delivery company allowed to sign courier tokens.

    `carrier_id` is the JWT issuer (`iss`) of its tokens and an identifier (see
    `ids.IDENTIFIER`); `keys` are 1 to `MAX_KEYS_PER_CARRIER` keys with distinct ids
    (several during a key rotation).
    """

    carrier_id: str
    name: str
    keys: tuple[CarrierKey, ...]

    def __post_init__(self) -> None:
        """Validate and normalise (name stripped)."""
        if not is_identifier(self.carrier_id):
            raise _bad_carrier("carrier_id")
        name: object = self.name
        if not isinstance(name, str) or not name.strip():
            raise _bad_carrier("name")
        if len(name.strip()) > CARRIER_NAME_MAX_LENGTH:
            raise _bad_carrier("name")
        object.__setattr__(self, "name", name.strip())
        keys: object = self.keys
        if (
            not isinstance(keys, tuple)
            or not 1 <= len(keys) <= MAX_KEYS_PER_CARRIER
            or not all(isinstance(key, CarrierKey) for key in keys)
        ):
            raise _bad_carrier("keys")
        if len({key.kid for key in self.keys}) != len(self.keys):
            raise _bad_carrier("kid")

    def key_by_kid(self, kid: str) -> CarrierKey | None:
        """Return the key with id `kid`, or None."""
        return next((key for key in self.keys if key.kid == kid), None)

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage."""
        return {
            "carrier_id": self.carrier_id,
            "name": self.name,
            "keys": [key.to_dict() for key in self.keys],
        }

    @classmethod
    def from_dict(cls, data: object) -> Carrier:
        """Rebuild from `to_dict` output."""
        obj = _parse.as_mapping(data, "carrier")
        return cls(
            carrier_id=_parse.get_str(obj, "carrier_id", "carrier"),
            name=_parse.get_str(obj, "name", "carrier"),
            keys=tuple(CarrierKey.from_dict(k) for k in _parse.get_list(obj, "keys", "carrier")),
        )


# --- shared token checks --------------------------------------------------------------


def _is_canonical_segment(segment: str) -> bool:
    """Whether `segment` is unpadded base64url that re-encodes to itself.

    Unused low bits in the last character would otherwise let one signature be
    written several ways.
    """
    if _SEGMENT.fullmatch(segment) is None or len(segment) % 4 == 1:
        return False
    raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") == segment


def _header(token: object) -> dict[str, Any]:
    """Check the compact form (size, three canonical segments) and return the header.

    The header is not trusted: it only names the algorithm and key to check against.
    `crit` and `b64` (RFC 7797 unencoded payloads) are refused outright.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise _reject(DenyReason.MALFORMED)
    segments = token.split(".")
    if len(segments) != 3 or not all(_is_canonical_segment(s) for s in segments):  # noqa: PLR2004 - JWS compact form
        raise _reject(DenyReason.MALFORMED)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise _reject(DenyReason.MALFORMED) from None
    if "crit" in header or "b64" in header:
        raise _reject(DenyReason.MALFORMED)
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


def _decode(  # noqa: PLR0913 - the key, its algorithm and the expected claims
    token: str,
    key: PublicKey | bytes,
    alg: str,
    *,
    audience: str,
    issuer: str,
    require: Sequence[str],
) -> dict[str, Any]:
    """Verify the signature with `key` and `alg` only, plus `aud`, `iss` and claim types.

    `exp`, `nbf` and `iat` are checked by `_validity` against the injected time.
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
        raise _reject(reason_for(error)) from None
    return payload


def _numeric_date(payload: Mapping[str, Any], name: str) -> float | None:
    """Read an optional NumericDate (seconds since the epoch, finite, up to year 9999)."""
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _reject(DenyReason.MALFORMED)
    if not 0 <= value <= _MAX_NUMERIC_DATE:  # also refuses NaN and infinities
        raise _reject(DenyReason.MALFORMED)
    return float(value)


def _validity(
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
        raise _reject(DenyReason.MISSING_CLAIM)
    not_before = max(starts)
    if expires <= not_before:
        raise _reject(DenyReason.MALFORMED)
    if max_lifetime_s is not None and expires - not_before > max_lifetime_s:
        raise _reject(DenyReason.LIFETIME_TOO_LONG)
    at = now.timestamp()
    if expires <= at - leeway_s:
        raise _reject(DenyReason.EXPIRED)
    if not_before > at + leeway_s:
        raise _reject(DenyReason.NOT_YET_VALID)
    return datetime.fromtimestamp(not_before, UTC), datetime.fromtimestamp(expires, UTC)


def _short_string(payload: Mapping[str, Any], name: str) -> str:
    """Read a required, non-empty, printable string claim of at most 128 characters."""
    value = payload.get(name)
    if value is None or value == "":
        raise _reject(DenyReason.MISSING_CLAIM)
    if not isinstance(value, str) or len(value) > MAX_CLAIM_LENGTH or not value.isprintable():
        raise _reject(DenyReason.MALFORMED)
    return value


# --- courier tokens -------------------------------------------------------------------


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


def _carrier_for(token: str, carriers: Mapping[str, Carrier]) -> Carrier:
    """Find the carrier named by the token's `iss`, read without verification."""
    try:
        unverified: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _reject(DenyReason.MALFORMED) from None
    issuer = unverified.get("iss")
    if issuer is None:
        raise _reject(DenyReason.MISSING_CLAIM)
    if not isinstance(issuer, str):
        raise _reject(DenyReason.MALFORMED)
    carrier = carriers.get(issuer)
    if carrier is None:
        raise _reject(DenyReason.UNKNOWN_CARRIER)
    return carrier


def _candidate_keys(carrier: Carrier, header: Mapping[str, Any], alg: str) -> list[CarrierKey]:
    """Return the keys to try: the one named by `kid`, else every key of the header alg."""
    if "kid" in header:
        key = carrier.key_by_kid(header["kid"])
        if key is None:
            raise _reject(DenyReason.UNKNOWN_KEY)
        if key.alg != alg:
            raise _reject(DenyReason.ALG_NOT_ALLOWED)
        return [key]
    keys = [key for key in carrier.keys if key.alg == alg]
    if not keys:
        raise _reject(DenyReason.ALG_NOT_ALLOWED)
    return keys


def _verify_with_any(
    token: str, keys: Sequence[CarrierKey], *, audience: str, issuer: str
) -> dict[str, Any]:
    """Verify with the first key whose signature matches; other rejections stop at once."""
    for key in keys:
        try:
            payload = _decode(
                token, key.key, key.alg, audience=audience, issuer=issuer, require=_COURIER_CLAIMS
            )
        except TokenRejected as rejected:
            if rejected.reason is not DenyReason.BAD_SIGNATURE:
                raise
        else:
            return payload
    raise _reject(DenyReason.BAD_SIGNATURE)


def _check_address(payload: Mapping[str, Any], expected_address: str | None) -> None:
    address = payload.get("addr")
    if address is None:
        return
    if not isinstance(address, str) or len(address) > MAX_ADDRESS_LENGTH:
        raise _reject(DenyReason.MALFORMED)
    if expected_address is not None and normalize_address(address) != normalize_address(
        expected_address
    ):
        raise _reject(DenyReason.ADDRESS_MISMATCH)


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
    now = _aware(now, "now")
    header = _header(token)
    alg = header.get("alg")
    if alg not in COURIER_ALGS:
        raise _reject(DenyReason.ALG_NOT_ALLOWED)
    carrier = _carrier_for(token, carriers)
    keys = _candidate_keys(carrier, header, alg)
    payload = _verify_with_any(token, keys, audience=audience, issuer=carrier.carrier_id)
    delivery_id = _short_string(payload, "sub")
    jti = _short_string(payload, "jti")
    not_before, expires = _validity(payload, now, leeway_s=leeway_s, max_lifetime_s=max_lifetime_s)
    _check_address(payload, expected_address)
    return CourierClaims(
        carrier_id=carrier.carrier_id,
        delivery_id=delivery_id,
        jti=jti,
        not_before=not_before,
        expires=expires,
    )


# --- guest links ----------------------------------------------------------------------


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
    start = int(_aware(not_before, "not_before").timestamp())
    end = int(_aware(expires, "expires").timestamp())
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
        raise _reject(DenyReason.MALFORMED)
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
    now = _aware(now, "now")
    key = _check_secret(secret)
    header = _header(token)
    if header.get("alg") != GUEST_LINK_ALG:
        raise _reject(DenyReason.ALG_NOT_ALLOWED)
    payload = _decode(
        token, key, GUEST_LINK_ALG, audience=site, issuer=GUEST_LINK_ISSUER, require=_GUEST_CLAIMS
    )
    grant_id = _identifier_claim(payload, "sub")
    link_id = _identifier_claim(payload, "jti")
    if link_id in revoked:
        raise _reject(DenyReason.LINK_REVOKED)
    not_before, expires = _validity(payload, now, leeway_s=leeway_s, max_lifetime_s=None)
    return GuestClaims(grant_id=grant_id, link_id=link_id, not_before=not_before, expires=expires)


# --- replay protection ----------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class ReplayCache:
    """Token ids already used, each remembered until its expiry plus the leeway.

    Only the SHA-256 of each key (`replay_key`) is kept, never a raw id. The size is
    bounded: when the cache is full of live entries it refuses new ones with
    `TokenRejected(rate_limited)` instead of evicting one, because an evicted id
    could be replayed. Filling it takes `max_entries` validly signed, unexpired tokens,
    so only a misbehaving carrier can do it, and it drains as they expire. Each call
    prunes expired entries (linear in the size, which is bounded).

    The shell persists `to_dict()` so that replays stay refused across restarts.
    """

    __slots__ = ("_entries", "_leeway", "_max_entries")

    def __init__(
        self, *, max_entries: int = DEFAULT_REPLAY_ENTRIES, leeway_s: float = DEFAULT_LEEWAY_S
    ) -> None:
        """Create an empty cache (use the same leeway as `verify_courier_token`)."""
        if max_entries < 1 or leeway_s < 0:
            msg = "max_entries must be positive and leeway_s not negative"
            raise ValueError(msg)
        self._entries: dict[str, datetime] = {}
        self._max_entries = max_entries
        self._leeway = timedelta(seconds=leeway_s)

    def __len__(self) -> int:
        """The number of remembered token ids (expired ones included until pruned)."""
        return len(self._entries)

    def prune(self, now: datetime) -> int:
        """Forget entries whose expiry plus leeway lies before `now`; return how many."""
        cutoff = _aware(now, "now") - self._leeway
        stale = [digest for digest, expires in self._entries.items() if expires < cutoff]
        for digest in stale:
            del self._entries[digest]
        return len(stale)

    def seen(self, jti_key: str, expires: datetime, now: datetime) -> bool:
        """Record `jti_key` until `expires`; return whether it was already recorded.

        Raises `TokenRejected(rate_limited)` when the key is new and the cache is full.
        """
        expires = _aware(expires, "expires")
        self.prune(now)
        digest = _digest(jti_key)
        if digest in self._entries:
            return True
        if len(self._entries) >= self._max_entries:
            raise _reject(DenyReason.RATE_LIMITED)
        self._entries[digest] = expires
        return False

    def check(self, claims: CourierClaims, now: datetime) -> None:
        """Record a verified token; raise `TokenRejected(replayed)` if it was used before."""
        if self.seen(claims.replay_key, claims.expires, now):
            raise _reject(DenyReason.REPLAYED)

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage: digests and expiries only."""
        return {
            "version": _REPLAY_VERSION,
            "entries": {digest: expires.isoformat() for digest, expires in self._entries.items()},
        }

    @classmethod
    def from_dict(
        cls,
        data: object,
        *,
        max_entries: int = DEFAULT_REPLAY_ENTRIES,
        leeway_s: float = DEFAULT_LEEWAY_S,
    ) -> ReplayCache:
        """Rebuild from `to_dict` output (all stored entries are kept, even past the bound)."""
        obj = _parse.as_mapping(data, _REPLAY_WHAT)
        if _parse.get_int(obj, "version", _REPLAY_WHAT) != _REPLAY_VERSION:
            raise _parse.fail(_REPLAY_WHAT, "version")
        entries = obj.get("entries")
        if not isinstance(entries, Mapping):
            raise _parse.fail(_REPLAY_WHAT, "entries")
        cache = cls(max_entries=max_entries, leeway_s=leeway_s)
        for digest, expires in entries.items():
            if not isinstance(digest, str) or _DIGEST.fullmatch(digest) is None:
                raise _parse.fail(_REPLAY_WHAT, "entries")
            cache._entries[digest] = _parse.parse_datetime(expires, _REPLAY_WHAT, "entries")
        return cache


# --- rate limiting --------------------------------------------------------------------


class RateLimiter:
    """A token bucket per key (a remote address, a carrier), with time passed in.

    Each key may make `capacity` requests at once, then one per `1 / refill_per_s`
    seconds (defaults: a burst of 5, then one per 10 s). At most `max_keys` buckets are
    kept: when a new key finds no room, every bucket that has refilled completely is
    dropped (it is the same as a fresh one). When none can be dropped the new key is
    refused, rather than evicting a bucket and so resetting the limit of a busy key.
    """

    __slots__ = ("_buckets", "_capacity", "_max_keys", "_rate")

    def __init__(
        self, *, capacity: int = 5, refill_per_s: float = 0.1, max_keys: int = 1024
    ) -> None:
        """Create a limiter with no buckets."""
        if capacity < 1 or refill_per_s <= 0 or max_keys < 1:
            msg = "capacity, refill_per_s and max_keys must be positive"
            raise ValueError(msg)
        self._capacity = float(capacity)
        self._rate = refill_per_s
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        """The number of keys with a bucket."""
        return len(self._buckets)

    def _level(self, bucket: tuple[float, float], at: float) -> float:
        tokens, since = bucket
        return min(self._capacity, tokens + max(0.0, at - since) * self._rate)

    def _drop_full(self, at: float) -> None:
        full = [key for key, b in self._buckets.items() if self._level(b, at) >= self._capacity]
        for key in full:
            del self._buckets[key]

    def allow(self, key: str, now: datetime) -> bool:
        """Take one token from `key`'s bucket; return whether there was one."""
        at = _aware(now, "now").timestamp()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._drop_full(at)
            if len(self._buckets) >= self._max_keys:
                return False
            tokens, since = self._capacity, at
        else:
            tokens, since = self._level(bucket, at), max(bucket[1], at)
            self._buckets.move_to_end(key)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, since)
        return allowed
