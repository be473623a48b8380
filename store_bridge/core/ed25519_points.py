"""Which 32-byte Ed25519 public keys may be trusted as a signer's key.

A key is a point of the curve (RFC 8032 §5.1.3). Verifiers accept any 32 bytes that decode,
and some that do not decode strictly: with a point of small order as the "public key" (the
identity, for one), a signature made by nobody verifies. So a key is refused when

- its y coordinate is not reduced (y ≥ p) or it names "-0" (x = 0 with the sign bit set):
  not the canonical encoding of a point;
- it is not a point on the curve;
- 8·P is the identity: one of the 8 points of small order (the torsion points);
- L·P is not the identity: a point outside the prime-order subgroup, which Ed25519 key
  generation never makes (its secret scalar is a multiple of 8).

Plain integer arithmetic on the twisted Edwards curve, in extended coordinates, after the
reference code in RFC 8032 §6. The same check is meant to serve the Home Assistant side later;
for now it lives in the bridge.
"""

from enum import StrEnum
from typing import Final

P: Final = 2**255 - 19
"""The field prime."""
L: Final = 2**252 + 27742317777372353535851937790883648493
"""The order of the prime-order subgroup (the base point's order)."""
D: Final = -121665 * pow(121666, -1, P) % P
"""The curve constant d."""
SQRT_M1: Final = pow(2, (P - 1) // 4, P)
"""A square root of -1 modulo p."""
KEY_LENGTH: Final = 32

type Point = tuple[int, int, int, int]
"""A point in extended homogeneous coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z."""


class PointProblem(StrEnum):
    """Why 32 bytes are not a public key to trust."""

    WRONG_LENGTH = "wrong_length"
    NON_CANONICAL = "non_canonical"
    NOT_ON_CURVE = "not_on_curve"
    SMALL_ORDER = "small_order"
    MIXED_ORDER = "mixed_order"


class PointRejectedError(ValueError):
    """32 bytes that decode to no point, or to one that is no signer's key."""

    def __init__(self, problem: PointProblem) -> None:
        """Carry the problem."""
        super().__init__(problem.value)
        self.problem = problem


IDENTITY: Final[Point] = (0, 1, 1, 0)


def decode(data: bytes) -> Point:
    """Decode a point strictly (RFC 8032 §5.1.3); raise `PointRejectedError` if it is none."""
    if len(data) != KEY_LENGTH:
        raise PointRejectedError(PointProblem.WRONG_LENGTH)
    number = int.from_bytes(data, "little")
    sign, y = number >> 255, number & ((1 << 255) - 1)
    if y >= P:
        raise PointRejectedError(PointProblem.NON_CANONICAL)
    u, v = (y * y - 1) % P, (D * y * y + 1) % P  # x² = u / v; v is never 0
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if (v * x * x - u) % P != 0:
        x = x * SQRT_M1 % P
        if (v * x * x - u) % P != 0:
            raise PointRejectedError(PointProblem.NOT_ON_CURVE)
    if x == 0 and sign:
        raise PointRejectedError(PointProblem.NON_CANONICAL)
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def encode(point: Point) -> bytes:
    """The canonical 32-byte encoding of a point."""
    x_p, y_p, z_p, _ = point
    z_inv = pow(z_p, -1, P)
    x, y = x_p * z_inv % P, y_p * z_inv % P
    return (y | (x & 1) << 255).to_bytes(KEY_LENGTH, "little")


def add(first: Point, second: Point) -> Point:
    """The sum of two points (complete: also doubles, also for points of small order)."""
    x1, y1, z1, t1 = first
    x2, y2, z2, t2 = second
    a, b = (y1 - x1) * (y2 - x2) % P, (y1 + x1) * (y2 + x2) % P
    c, d = 2 * t1 * t2 * D % P, 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def multiply(scalar: int, point: Point) -> Point:
    """The point added to itself `scalar` times (double and add; the points are public)."""
    result, addend = IDENTITY, point
    while scalar > 0:
        if scalar & 1:
            result = add(result, addend)
        addend = add(addend, addend)
        scalar >>= 1
    return result


def is_identity(point: Point) -> bool:
    """Whether a point is the neutral element (x = 0, y = 1)."""
    x, y, z, _ = point
    return x % P == 0 and (y - z) % P == 0


def check_public_key(data: bytes) -> None:
    """Accept 32 bytes only as a key Ed25519 key generation could have made.

    Raise `PointRejectedError` naming the first problem found.
    """
    point = decode(data)
    if is_identity(multiply(8, point)):
        raise PointRejectedError(PointProblem.SMALL_ORDER)
    if not is_identity(multiply(L, point)):
        raise PointRejectedError(PointProblem.MIXED_ORDER)
