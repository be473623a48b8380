"""Courier token refusals: an unknown carrier takes as long as a bad signature.

Run: .venv/bin/python -m pytest bench/bench_token_refusals.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

An attacker who can tell "no such carrier" from "wrong signature" by the time the answer
takes learns which carriers (and key ids) a home has registered, although both answers
are the same `401 invalid_token`. This measures `verify_courier_token` alone (the core,
no HTTP) on forged tokens of each kind, ES256 and EdDSA, interleaved round by round. The
baseline, in the same run, is a token with a registered carrier and key and a bad
signature; each ratio is another refusal's time over it (1.0: indistinguishable).
Only the refusal reasons are asserted; times are reported, never asserted.
"""

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from custom_components.concierge.core.carriers import Carrier, parse_public_key
from custom_components.concierge.core.courier_tokens import verify_courier_token
from custom_components.concierge.core.deny import DenyReason, TokenRejected

ROUNDS = 3000
WARMUP = 200
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
T = int(NOW.timestamp())


def _pem(private: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


EC_HOME = ec.generate_private_key(ec.SECP256R1())
ED_HOME = ed25519.Ed25519PrivateKey.generate()
EC_ATTACKER = ec.generate_private_key(ec.SECP256R1())
ED_ATTACKER = ed25519.Ed25519PrivateKey.generate()
CARRIERS = {
    "parcelco": Carrier(
        carrier_id="parcelco",
        name="Parcel Co",
        keys=(
            parse_public_key(_pem(EC_HOME), kid="ec-1"),
            parse_public_key(_pem(ED_HOME), kid="ed-1"),
        ),
    )
}


def _forged(alg: str, issuer: str, kid: str) -> str:
    """A token signed by the attacker's key, claiming `issuer` and `kid`."""
    key = EC_ATTACKER if alg == "ES256" else ED_ATTACKER
    claims = {"iss": issuer, "aud": "home", "sub": "d-1", "jti": "j-1", "iat": T, "exp": T + 60}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


def _refusal(token: str, reason: DenyReason) -> Callable[[], float]:
    def run() -> float:
        refused: DenyReason | None = None  # stays None if the token were accepted
        start = time.perf_counter()
        try:
            verify_courier_token(token, carriers=CARRIERS, audience="home", now=NOW)
        except TokenRejected as rejected:
            refused = rejected.reason
        elapsed = time.perf_counter() - start
        assert refused is reason
        return elapsed

    return run


def test_bench_token_refusals() -> None:
    """Time each refusal ROUNDS times, interleaved; print p50 and the ratio to the baseline."""
    kinds: dict[str, tuple[str, Callable[[], float]]] = {}
    for alg, kid in (("ES256", "ec-1"), ("EdDSA", "ed-1")):
        kinds[f"{alg} bad signature (baseline)"] = (
            alg,
            _refusal(_forged(alg, "parcelco", kid), DenyReason.BAD_SIGNATURE),
        )
        kinds[f"{alg} unknown carrier"] = (
            alg,
            _refusal(_forged(alg, "evilco", kid), DenyReason.UNKNOWN_CARRIER),
        )
        kinds[f"{alg} unknown key id"] = (
            alg, _refusal(_forged(alg, "parcelco", "nope"), DenyReason.UNKNOWN_KEY))  # fmt: skip
    samples: dict[str, list[float]] = {name: [] for name in kinds}
    names = list(kinds)
    for n in range(WARMUP + ROUNDS):
        shift = n % len(names)
        for name in names[shift:] + names[:shift]:
            elapsed = kinds[name][1]()
            if n >= WARMUP:
                samples[name].append(elapsed)
    print()
    print(f"verify_courier_token on a forged token, {ROUNDS} each (µs)")
    print(f"{'':36} {'p50':>8} {'ratio':>7}")
    for name in names:
        alg = kinds[name][0]
        base = statistics.median(samples[f"{alg} bad signature (baseline)"])
        p50 = statistics.median(samples[name])
        print(f"{name:36} {p50 * 1e6:8.1f} {p50 / base:7.2f}")
