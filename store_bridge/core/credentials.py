"""Check-in credentials: the store app's QR code and a payment card's token.

**App QR code.** The operator's app backend signs a short JWT for the shopper's phone
(ES256 on P-256 or EdDSA on Ed25519, the operator's private key; the bridge holds only
public keys). Claims: `iss` (the operator id), `aud` (this store's site id), `sub` (a
pseudonymous account reference the payment step will use; never shown in events), `jti`
(single use), `iat` and `exp` with `exp - iat` at most 60 s, optional `party` (how many
people come in on it, 1..`max_party`), optional `cus` (the shopper's customer at the payment
processor, a pseudonymous ``cus_…`` whose saved card checkout charges; never in events).
The algorithm is fixed by the key: a token that names another (``none``, HS256 with the
public key as secret, RS256) is refused before any key is used. Time is injected; PyJWT's
own clock checks are off.

**Payment card.** A card-terminal adapter hands over the payment processor's token for
the card (e.g. a payment-method id), never the card number. Anything that looks like a
card number (12-19 digits passing the Luhn check, however they are split and whatever
surrounds them, `core/card_numbers.py`) is refused and dropped on the spot; so is a QR
code whose `sub` is one.

**Operator keys** are checked when they are loaded: an Ed25519 key must be a canonically
encoded point of the prime-order subgroup (`core/ed25519_points.py`: a key of small order
would accept codes signed by nobody), a P-256 key a point on the curve (`cryptography`
refuses any other when it loads the key).

Every refusal raises `CredentialRejected` whose message is a reason code only.
"""

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from .card_numbers import looks_like_card_number
from .ed25519_points import PointProblem, PointRejectedError, check_public_key

MAX_QR_LIFETIME_S: Final = 60
LEEWAY_S: Final = 5
MAX_QR_LENGTH: Final = 2048
MAX_CLAIM_LENGTH: Final = 128
CARD_TOKEN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{7,127}")
CLAIM_TEXT: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
KEY_TYPES: Final = "only P-256 (ES256) and Ed25519 (EdDSA) public keys are accepted"
LATEST_TIME: Final = 253402300799
"""The last second of the year 9999: a later `iat` or `exp` is no time."""
UNTRUSTED_ED25519: Final = {
    PointProblem.WRONG_LENGTH: "is not 32 bytes long",
    PointProblem.NON_CANONICAL: "is not canonically encoded (RFC 8032)",
    PointProblem.NOT_ON_CURVE: "is not a point on the curve",
    PointProblem.SMALL_ORDER: "is a point of small order: codes signed by nobody would pass",
    PointProblem.MIXED_ORDER: (
        "is not in the prime-order subgroup (Ed25519 key generation never makes such a key)"
    ),
}


class Reason(StrEnum):
    """Why a credential was refused (goes into the access event)."""

    MALFORMED = "malformed"
    ALG_NOT_ALLOWED = "alg_not_allowed"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_ISSUER = "wrong_issuer"
    WRONG_STORE = "wrong_store"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    MISSING_CLAIM = "missing_claim"
    BAD_PARTY = "bad_party"
    REPLAYED = "replayed"
    CARD_NUMBER_REFUSED = "card_number_refused"
    BAD_CARD_TOKEN = "bad_card_token"  # noqa: S105 - a reason code


class CredentialRejected(Exception):  # noqa: N818 - named after the outcome
    """A credential was refused; `reason` says why (never the credential itself)."""

    def __init__(self, reason: Reason) -> None:
        """Carry the reason code only."""
        super().__init__(reason.value)
        self.reason = reason


type PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


@dataclass(frozen=True, slots=True)
class OperatorKey:
    """One of the operator's public keys, with the only algorithm it may verify."""

    kid: str
    alg: str
    key: PublicKey

    def __post_init__(self) -> None:
        """Refuse a key that fits no algorithm or that no signer could hold (ValueError)."""
        if self.alg == "EdDSA" and isinstance(self.key, ed25519.Ed25519PublicKey):
            raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            try:
                check_public_key(raw)
            except PointRejectedError as err:
                msg = f"this Ed25519 key {UNTRUSTED_ED25519[err.problem]}; refused"
                raise ValueError(msg) from None
        elif not (
            self.alg == "ES256"
            and isinstance(self.key, ec.EllipticCurvePublicKey)
            and isinstance(self.key.curve, ec.SECP256R1)
        ):  # a P-256 key object is a point on the curve: `cryptography` checks it on loading
            raise ValueError(KEY_TYPES)

    def __repr__(self) -> str:
        """Short form for logs."""
        return f"OperatorKey(kid={self.kid!r}, alg={self.alg!r})"


def load_operator_key(pem: str | bytes, kid: str) -> OperatorKey:
    """Parse a PEM public key (P-256 → ES256, Ed25519 → EdDSA); raise ValueError otherwise."""
    data = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except UnsupportedAlgorithm:
        raise ValueError(KEY_TYPES) from None
    except ValueError:
        if b"-----BEGIN PUBLIC KEY-----" in data:
            msg = "a PEM public key that cannot be used (damaged, or its point is not on its curve)"
        else:
            msg = "not a PEM public key"
        raise ValueError(msg) from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return OperatorKey(kid, "EdDSA", key)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return OperatorKey(kid, "ES256", key)
    raise ValueError(KEY_TYPES)


@dataclass(frozen=True, slots=True)
class QrCheckIn:
    """A verified app QR code."""

    jti: str
    account: str
    """The pseudonymous account reference (`sub`), kept for payment; never in events."""
    expires: datetime
    party: int
    customer: str | None = None
    """The payment processor's customer (`cus`), kept for checkout; never in events."""

    def __repr__(self) -> str:
        """No account reference in logs."""
        return f"QrCheckIn(party={self.party}, expires={self.expires.isoformat()})"


def replay_id(issuer: str, jti: str) -> str:
    """What the replay cache stores for a QR code: a digest, not the id itself."""
    return hashlib.sha256(f"{issuer}\x00{jti}".encode()).hexdigest()


def _header(token: str) -> Mapping[str, Any]:
    if len(token) > MAX_QR_LENGTH or token.count(".") != 2:  # noqa: PLR2004 - JWS compact form
        raise CredentialRejected(Reason.MALFORMED)
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise CredentialRejected(Reason.MALFORMED) from None


def _pick_key(header: Mapping[str, Any], keys: Mapping[str, OperatorKey]) -> OperatorKey:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in {"ES256", "EdDSA"}:
        raise CredentialRejected(Reason.ALG_NOT_ALLOWED)
    kid = header.get("kid")
    if isinstance(kid, str) and kid in keys:
        candidates = [keys[kid]]
    elif kid is None and len(keys) == 1:
        candidates = list(keys.values())
    else:
        raise CredentialRejected(Reason.UNKNOWN_KEY)
    if candidates[0].alg != alg:
        raise CredentialRejected(Reason.ALG_NOT_ALLOWED)
    return candidates[0]


def _claim_text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if value is None:
        raise CredentialRejected(Reason.MISSING_CLAIM)
    if not isinstance(value, str) or CLAIM_TEXT.fullmatch(value) is None:
        raise CredentialRejected(Reason.MALFORMED)
    return value


def _claim_time(payload: Mapping[str, Any], name: str) -> float:
    """A time claim: seconds since 1970 up to the year 9999 (JSON allows NaN, 1e400...)."""
    value = payload.get(name)
    if value is None:
        raise CredentialRejected(Reason.MISSING_CLAIM)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CredentialRejected(Reason.MALFORMED)
    if isinstance(value, float) and not math.isfinite(value):
        raise CredentialRejected(Reason.MALFORMED)
    if not 0 <= value <= LATEST_TIME:  # an int of any size compares without overflow
        raise CredentialRejected(Reason.MALFORMED)
    return float(value)


def _account(payload: Mapping[str, Any]) -> str:
    """The `sub` claim: a pseudonymous account reference, never a card number."""
    sub = payload.get("sub")
    if isinstance(sub, str) and looks_like_card_number(sub):
        raise CredentialRejected(Reason.CARD_NUMBER_REFUSED)
    return _claim_text(payload, "sub")


def _customer(payload: Mapping[str, Any]) -> str | None:
    """The optional `cus` claim: the processor's customer reference, never a card number."""
    cus = payload.get("cus")
    if cus is None:
        return None
    if isinstance(cus, str) and looks_like_card_number(cus):
        raise CredentialRejected(Reason.CARD_NUMBER_REFUSED)
    return _claim_text(payload, "cus")


def verify_qr(  # noqa: PLR0913 - keyword-only settings
    token: str,
    *,
    keys: Mapping[str, OperatorKey],
    issuer: str,
    site: str,
    now: datetime,
    max_party: int = 4,
) -> QrCheckIn:
    """Verify an app QR code for this store at `now`; raise `CredentialRejected`."""
    if not isinstance(token, str):
        raise CredentialRejected(Reason.MALFORMED)
    key = _pick_key(_header(token), keys)
    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[key.alg],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise CredentialRejected(Reason.BAD_SIGNATURE) from None
    except jwt.PyJWTError:
        raise CredentialRejected(Reason.MALFORMED) from None
    if _claim_text(payload, "iss") != issuer:
        raise CredentialRejected(Reason.WRONG_ISSUER)
    if payload.get("aud") != site:
        raise CredentialRejected(Reason.WRONG_STORE)
    issued, expires = _claim_time(payload, "iat"), _claim_time(payload, "exp")
    if expires - issued > MAX_QR_LIFETIME_S:
        raise CredentialRejected(Reason.LIFETIME_TOO_LONG)
    moment = now.timestamp()
    if moment > expires + LEEWAY_S:
        raise CredentialRejected(Reason.EXPIRED)
    if moment < issued - LEEWAY_S:
        raise CredentialRejected(Reason.NOT_YET_VALID)
    party = payload.get("party", 1)
    if isinstance(party, bool) or not isinstance(party, int) or not 1 <= party <= max_party:
        raise CredentialRejected(Reason.BAD_PARTY)
    return QrCheckIn(
        jti=_claim_text(payload, "jti"),
        account=_account(payload),
        expires=datetime.fromtimestamp(expires + LEEWAY_S, tz=now.tzinfo),
        party=party,
        customer=_customer(payload),
    )


def check_card_token(token: object) -> str:
    """Accept a payment processor's card token; refuse card numbers and junk."""
    if not isinstance(token, str):
        raise CredentialRejected(Reason.BAD_CARD_TOKEN)
    if looks_like_card_number(token):
        raise CredentialRejected(Reason.CARD_NUMBER_REFUSED)
    if len(token) > MAX_CLAIM_LENGTH or CARD_TOKEN.fullmatch(token) is None:
        raise CredentialRejected(Reason.BAD_CARD_TOKEN)
    return token
