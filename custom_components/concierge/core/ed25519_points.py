"""Ed25519 public keys that would let anyone sign: refused before a carrier can use them.

A public key is a point on edwards25519, encoded as 32 bytes (RFC 8032 §5.1.2: `y`
little-endian, the top bit is the sign of `x`). OpenSSL loads any 32 bytes and its
verification does not refuse a point of small order, so with such a key a signature
made by nobody verifies (e.g. the identity point with R = identity, S = 0).
`ed25519_key_problem` decodes the point as RFC 8032 §5.1.3 does and names what is
wrong with it: a non-canonical encoding, a point not on the curve, or a point of small
order (8·P is the identity). Plain integer arithmetic; the key is public, so timing
does not matter.
"""

from enum import StrEnum
from typing import Final

P: Final = 2**255 - 19
"""The field prime of Curve25519."""
D: Final = (-121665 * pow(121666, P - 2, P)) % P
"""The curve constant d of edwards25519."""
_SQRT_M1: Final = pow(2, (P - 1) // 4, P)
KEY_BYTES: Final = 32


class PointProblem(StrEnum):
    """Why an encoded Ed25519 public key is refused."""

    WRONG_LENGTH = "wrong_length"
    NON_CANONICAL = "non_canonical"
    NOT_ON_CURVE = "not_on_curve"
    SMALL_ORDER = "small_order"


type _Extended = tuple[int, int, int, int]


def _decode(encoded: bytes) -> tuple[int, int] | PointProblem:
    """The affine point (x, y) an encoding names, or why it names none (RFC 8032 §5.1.3)."""
    if len(encoded) != KEY_BYTES:
        return PointProblem.WRONG_LENGTH
    value = int.from_bytes(encoded, "little")
    sign = value >> 255
    y = value & ((1 << 255) - 1)
    if y >= P:
        return PointProblem.NON_CANONICAL
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = (u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P)) % P
    check = (v * x * x) % P
    if check == (-u) % P != u:
        x = (x * _SQRT_M1) % P
    elif check != u:
        return PointProblem.NOT_ON_CURVE
    if x == 0 and sign == 1:
        return PointProblem.NON_CANONICAL  # "negative zero"
    if x & 1 != sign:
        x = P - x
    return x, y


def _double(point: _Extended) -> _Extended:
    """2·P in extended coordinates (RFC 8032 §5.1.4, doubling)."""
    x1, y1, z1, _ = point
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = (a + b) % P
    e = (h - (x1 + y1) * (x1 + y1)) % P
    g = (a - b) % P
    f = (c + g) % P
    return e * f % P, g * h % P, f * g % P, e * h % P


def _is_identity(point: _Extended) -> bool:
    x, y, z, _ = point
    return x % P == 0 and (y - z) % P == 0


def ed25519_key_problem(encoded: bytes) -> PointProblem | None:
    """What makes a raw 32-byte Ed25519 public key unusable; None for a sound key.

    Refused: any length but 32, `y` ≥ p or `x` = 0 with the sign bit set (non-canonical),
    no `x` for that `y` (not on the curve), and 8·P = identity (small order: one of the
    eight points any signature could be made to verify against).
    """
    decoded = _decode(encoded)
    if isinstance(decoded, PointProblem):
        return decoded
    x, y = decoded
    point: _Extended = (x, y, 1, x * y % P)
    for _ in range(3):
        point = _double(point)
    if _is_identity(point):
        return PointProblem.SMALL_ORDER
    return None
