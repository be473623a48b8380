"""Carriers: the delivery companies allowed to sign courier tokens, and their public keys.

A carrier signs its tokens with its own private key, ES256 on P-256 or EdDSA on
Ed25519; the site knows its public keys (`Carrier`, `CarrierKey`). Each key verifies
one algorithm only, the one its type fixes, so a token never chooses it.
`parse_public_key` builds a key from pasted PEM text. Bad input raises
`InvalidCredentialError` (`invalid_public_key`, `invalid_key_id`, `invalid_carrier`);
an Ed25519 key that is a small-order or non-canonical point (with which a signature
made by nobody would verify) raises `weak_public_key`, whether it is pasted or read
back from storage (see `ed25519_points`).
"""

import hashlib
import re
from dataclasses import dataclass, field
from typing import Final, Literal, cast

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from . import _parse
from .ed25519_points import ed25519_key_problem
from .errors import InvalidCredentialError
from .ids import is_identifier

MAX_KEYS_PER_CARRIER: Final = 8
MAX_PEM_LENGTH: Final = 4096
CARRIER_NAME_MAX_LENGTH: Final = 64

type CarrierAlg = Literal["ES256", "EdDSA"]
type PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

_KID = re.compile(r"[\x21-\x7e]{1,128}")


def _bad_key() -> InvalidCredentialError:
    return InvalidCredentialError(translation_key="invalid_public_key")


def _load_public_key(pem: object) -> tuple[CarrierAlg, PublicKey]:
    """Load a PEM public key; only EC P-256 (ES256) and sound Ed25519 (EdDSA) keys."""
    if not isinstance(pem, str) or len(pem) > MAX_PEM_LENGTH:
        raise _bad_key()
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except ValueError, UnsupportedAlgorithm:
        raise _bad_key() from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        if ed25519_key_problem(raw) is not None:
            raise InvalidCredentialError(translation_key="weak_public_key")
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
    for ES256 or an Ed25519 key for EdDSA (key `invalid_public_key` otherwise), and an
    Ed25519 key must be a canonical point of large order (key `weak_public_key`).
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
