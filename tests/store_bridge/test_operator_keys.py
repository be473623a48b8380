"""The operator's public keys: only keys a signer could hold are taken.

An Ed25519 "public key" is 32 bytes that name a point of the curve. Some 32-byte values are
points of small order, or encode a point in a second, non-canonical way; with such a key,
the verifier (OpenSSL through `cryptography`, as PyJWT uses it) accepts a signature that
nobody made. The bridge refuses these keys when it loads them, with an error naming the
configuration key. The small-order encodings below are the well-known list (libsodium's
``has_small_order`` blacklist, with both sign bits); real keys come from `cryptography`'s
key generation and from RFC 8032's test vectors.
"""

import base64
import json
import re
import textwrap
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from store_bridge.cli import main
from store_bridge.config import ConfigError, load_config
from store_bridge.core.credentials import KEY_TYPES, OperatorKey, load_operator_key
from store_bridge.core.ed25519_points import (
    P,
    PointProblem,
    PointRejectedError,
    add,
    check_public_key,
    decode,
    encode,
)

from .test_cli import write_config

# The 8 points of small order, each in its canonical encoding.
SMALL_ORDER = {
    "identity (order 1)": "01" + "00" * 31,
    "y = -1 (order 2)": "ec" + "ff" * 30 + "7f",
    "y = 0 (order 4)": "00" * 32,
    "y = 0, x negative (order 4)": "00" * 31 + "80",
    "order 8, a": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "order 8, a, x negative": "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "order 8, b": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "order 8, b, x negative": "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
}
# Second encodings of small-order points: y + p for y = 0 and y = 1, and "-0" (x = 0 with
# the sign bit set) for y = 1 and y = -1.
NON_CANONICAL_SMALL_ORDER = {
    "y = p (is 0)": "ed" + "ff" * 30 + "7f",
    "y = p (is 0), sign set": "ed" + "ff" * 31,
    "y = p + 1 (the identity)": "ee" + "ff" * 30 + "7f",
    "y = p + 1, sign set": "ee" + "ff" * 31,
    "identity as -0": "01" + "00" * 30 + "80",
    "y = -1 as -0": "ec" + "ff" * 31,
}
# RFC 8032 section 7.1, tests 1, 2, 3 and 1024: the public keys.
RFC_8032_KEYS = [
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
]
BASE_POINT = "58" + "66" * 31
ISSUER, SITE = "corner-app", "store-042"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _ed25519_pem(raw: bytes) -> bytes:
    return ed25519.Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _generated() -> bytes:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _problem(raw: bytes) -> PointProblem | None:
    try:
        check_public_key(raw)
    except PointRejectedError as err:
        return err.problem
    return None


# --- the check itself ------------------------------------------------------------------


@pytest.mark.parametrize("encoded", SMALL_ORDER.values(), ids=SMALL_ORDER.keys())
def test_the_eight_points_of_small_order_are_refused(encoded: str) -> None:
    assert _problem(bytes.fromhex(encoded)) is PointProblem.SMALL_ORDER


@pytest.mark.parametrize(
    "encoded", NON_CANONICAL_SMALL_ORDER.values(), ids=NON_CANONICAL_SMALL_ORDER.keys()
)
def test_second_encodings_of_small_order_points_are_refused(encoded: str) -> None:
    assert _problem(bytes.fromhex(encoded)) is PointProblem.NON_CANONICAL


@pytest.mark.parametrize("sign", [0, 1])
@pytest.mark.parametrize("y", range(19))
def test_every_unreduced_y_is_refused(y: int, sign: int) -> None:
    """y + p still fits in 255 bits for y < 19: a second encoding of y, never accepted."""
    raw = (y + P | sign << 255).to_bytes(32, "little")
    assert _problem(raw) is PointProblem.NON_CANONICAL


def test_a_y_without_a_point_is_refused() -> None:
    """For y with (y² - 1) / (d y² + 1) not a square mod p there is no x (Euler's criterion)."""
    d = -121665 * pow(121666, -1, P) % P
    off_curve = [
        y
        for y in range(2, 60)
        if pow((y * y - 1) * pow(d * y * y + 1, -1, P) % P, (P - 1) // 2, P) == P - 1
    ]
    assert len(off_curve) > 10
    for y in off_curve:
        for sign in (0, 1):
            raw = (y | sign << 255).to_bytes(32, "little")
            assert _problem(raw) is PointProblem.NOT_ON_CURVE, y


def test_a_point_outside_the_prime_order_subgroup_is_refused() -> None:
    """A real key plus a point of order 8: still a point, but not one key generation makes."""
    real = _generated()
    for torsion in ("order 8, a", "y = 0 (order 4)", "y = -1 (order 2)"):
        mixed = encode(add(decode(real), decode(bytes.fromhex(SMALL_ORDER[torsion]))))
        assert mixed != real
        assert _problem(mixed) is PointProblem.MIXED_ORDER


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_a_key_of_another_length_is_refused(length: int) -> None:
    assert _problem(b"\x01" + bytes(length - 1) if length else b"") is PointProblem.WRONG_LENGTH


def test_real_keys_are_accepted() -> None:
    for encoded in [*RFC_8032_KEYS, BASE_POINT]:
        raw = bytes.fromhex(encoded)
        assert _problem(raw) is None, encoded
        assert encode(decode(raw)) == raw
    for _ in range(100):
        raw = _generated()
        assert _problem(raw) is None, raw.hex()
        assert encode(decode(raw)) == raw


# --- loading a key -----------------------------------------------------------------------


def test_a_small_order_key_would_let_anyone_in_so_it_is_not_taken() -> None:
    """The attack: with the identity as the operator's key, R = identity and S = 0 is a
    valid signature of any code. The verifier underneath accepts it; the bridge never gets
    that far, because it does not take the key."""
    identity = ed25519.Ed25519PublicKey.from_public_bytes(
        bytes.fromhex(SMALL_ORDER["identity (order 1)"])
    )
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": SITE, "sub": "acct-1", "jti": "j1", "iat": now, "exp": now + 30}
    header = _b64(json.dumps({"alg": "EdDSA", "kid": "k"}).encode())
    signature = bytes.fromhex(SMALL_ORDER["identity (order 1)"]) + bytes(32)  # R = O, S = 0
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{_b64(signature)}"
    assert jwt.decode(forged, identity, algorithms=["EdDSA"], audience=SITE)["sub"] == "acct-1"

    with pytest.raises(ValueError, match="small order: codes signed by nobody would pass"):
        OperatorKey("k", "EdDSA", identity)
    with pytest.raises(ValueError, match="small order"):
        load_operator_key(_ed25519_pem(bytes.fromhex(SMALL_ORDER["identity (order 1)"])), "k")


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        *[
            pytest.param(e, "this Ed25519 key is a point of small order", id=n)
            for n, e in SMALL_ORDER.items()
        ],
        *[
            pytest.param(e, "this Ed25519 key is not canonically encoded (RFC 8032)", id=n)
            for n, e in NON_CANONICAL_SMALL_ORDER.items()
        ],
        pytest.param(
            (2).to_bytes(32, "little").hex(), "this Ed25519 key is not a point on", id="off curve"
        ),
    ],
)
def test_an_untrusted_ed25519_key_file_is_refused(encoded: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        load_operator_key(_ed25519_pem(bytes.fromhex(encoded)), "k")


def test_a_real_ed25519_key_file_is_taken() -> None:
    for encoded in RFC_8032_KEYS:
        assert load_operator_key(_ed25519_pem(bytes.fromhex(encoded)), "k").alg == "EdDSA"


def _p256_pem(point: bytes) -> bytes:
    """A SubjectPublicKeyInfo for P-256 around any point bytes (valid or not)."""
    algorithm = bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")
    bits = b"\x00" + point
    body = algorithm + b"\x03" + bytes([len(bits)]) + bits
    der = b"\x30" + bytes([len(body)]) + body
    lines = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{lines}\n-----END PUBLIC KEY-----\n".encode()


def _p256_point() -> bytes:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )


def test_p256_points_that_cryptography_refuses_are_refused() -> None:
    point = _p256_point()
    assert load_operator_key(_p256_pem(point), "k").alg == "ES256"  # the control
    y = int.from_bytes(point[33:])
    p256 = 2**256 - 2**224 + 2**192 + 2**96 - 1
    bad = {
        "off the curve": point[:-1] + bytes([point[-1] ^ 1]),
        "the point at infinity": b"\x00",
        "all zeros": b"\x04" + bytes(64),
        "truncated": point[:40],
    }
    if y + p256 < 2**256:
        bad["y + p"] = point[:33] + (y + p256).to_bytes(32)
    for name, encoded in bad.items():
        with pytest.raises(ValueError, match=r"^a PEM public key that cannot be used") as info:
            load_operator_key(_p256_pem(encoded), "k")
        assert "its point is not on its curve" in str(info.value), name


def test_a_key_on_a_curve_cryptography_does_not_know_is_refused_as_a_key_type() -> None:
    """An unknown curve made `cryptography` raise UnsupportedAlgorithm: a crash at start."""
    point = _p256_point()
    algorithm = bytes.fromhex("301006072a8648ce3d020106052a03040506")  # curve 1.2.3.4.5.6
    bits = b"\x00" + point
    body = algorithm + b"\x03" + bytes([len(bits)]) + bits
    der = b"\x30" + bytes([len(body)]) + body
    pem = b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\n"
    with pytest.raises(ValueError, match=re.escape(KEY_TYPES)):
        load_operator_key(pem, "k")


def test_a_key_object_must_fit_its_algorithm() -> None:
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
    k1 = ec.generate_private_key(ec.SECP256K1()).public_key()
    for alg, key in (("ES256", ed), ("EdDSA", p256), ("ES256", k1), ("RS256", p256)):
        with pytest.raises(ValueError, match="only P-256"):
            OperatorKey("k", alg, key)
    assert OperatorKey("k", "ES256", p256).alg == "ES256"
    assert OperatorKey("k", "EdDSA", ed).alg == "EdDSA"


# --- what the operator reads -------------------------------------------------------------


def test_the_configuration_names_the_untrusted_key(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    good = (tmp_path / "app.pub.pem").read_bytes()
    (tmp_path / "app.pub.pem").write_bytes(_ed25519_pem(bytes.fromhex(SMALL_ORDER["order 8, b"])))
    (tmp_path / "old.pub.pem").write_bytes(good)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            'keys = { k1 = "app.pub.pem" }', 'keys = { old = "old.pub.pem", k1 = "app.pub.pem" }'
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        "checkin.keys.k1: this Ed25519 key is a point of small order:"
        " codes signed by nobody would pass; refused"
    )

    (tmp_path / "app.pub.pem").write_bytes(_p256_pem(b"\x04" + bytes(64)))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        "checkin.keys.k1: a PEM public key that cannot be used"
        " (damaged, or its point is not on its curve)"
    )


def test_serve_with_a_small_order_key_says_so_and_does_not_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path)
    (tmp_path / "app.pub.pem").write_bytes(
        _ed25519_pem(bytes.fromhex(SMALL_ORDER["identity (order 1)"]))
    )

    assert main(["serve", "--config", str(path)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "store-bridge: configuration error: checkin.keys.k1: this Ed25519 key is a point of"
        " small order: codes signed by nobody would pass; refused\n"
    )
    assert not (tmp_path / "store.sqlite3").exists()
