"""Ed25519 public keys with which anyone could sign: decoded as RFC 8032 does, refused."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.ed25519_points import P, PointProblem, ed25519_key_problem

from .token_helpers import SMALL_ORDER


def raw_public(private: ed25519.Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


@pytest.mark.parametrize("encoded", SMALL_ORDER)
def test_every_small_order_point_is_refused(encoded: str) -> None:
    assert ed25519_key_problem(bytes.fromhex(encoded)) is PointProblem.SMALL_ORDER


@pytest.mark.parametrize("offset", range(19))
def test_y_at_or_above_the_field_prime_is_not_canonical(offset: int) -> None:
    # p + 0 and p + 1 are the non-canonical spellings of two small-order points.
    encoded = (P + offset).to_bytes(32, "little")
    assert ed25519_key_problem(encoded) is PointProblem.NON_CANONICAL
    with_sign = (P + offset + (1 << 255)).to_bytes(32, "little")
    assert ed25519_key_problem(with_sign) is PointProblem.NON_CANONICAL


def test_negative_zero_x_is_not_canonical() -> None:
    # x = 0 (y = 1, the identity) with the sign bit set.
    assert ed25519_key_problem(bytes.fromhex("01" + "00" * 30 + "80")) is (
        PointProblem.NON_CANONICAL
    )


def test_a_y_without_a_point_is_not_on_the_curve() -> None:
    assert ed25519_key_problem((2).to_bytes(32, "little")) is PointProblem.NOT_ON_CURVE


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_only_32_bytes_are_a_key(length: int) -> None:
    assert ed25519_key_problem(b"\x05" * length) is PointProblem.WRONG_LENGTH


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=32, max_size=32))
def test_every_real_public_key_is_accepted(seed: bytes) -> None:
    public = raw_public(ed25519.Ed25519PrivateKey.from_private_bytes(seed))
    assert ed25519_key_problem(public) is None
