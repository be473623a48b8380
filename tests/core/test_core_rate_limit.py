"""The rate limiter: a token bucket per key."""

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.errors import InvalidCredentialError
from custom_components.concierge.core.rate_limit import RateLimiter

from .token_helpers import NOW


def test_rate_limiter_burst_then_refill() -> None:
    limiter = RateLimiter()
    assert [limiter.allow("10.0.0.1", NOW) for _ in range(6)] == [True] * 5 + [False]
    assert limiter.allow("10.0.0.1", NOW + timedelta(seconds=9)) is False
    assert limiter.allow("10.0.0.1", NOW + timedelta(seconds=10)) is True
    assert limiter.allow("10.0.0.1", NOW + timedelta(seconds=10)) is False
    later = NOW + timedelta(hours=1)  # refills to the burst, never beyond
    assert [limiter.allow("10.0.0.1", later) for _ in range(6)] == [True] * 5 + [False]
    assert limiter.allow("10.0.0.2", NOW) is True  # keys are independent


def test_rate_limiter_clock_going_back_does_not_refill() -> None:
    limiter = RateLimiter(capacity=1, refill_per_s=1)
    assert limiter.allow("k", NOW) is True
    assert limiter.allow("k", NOW - timedelta(seconds=30)) is False
    assert limiter.allow("k", NOW + timedelta(seconds=0.5)) is False
    assert limiter.allow("k", NOW + timedelta(seconds=1)) is True


def test_rate_limiter_bounds_keys_by_evicting_the_least_recently_used() -> None:
    limiter = RateLimiter(capacity=2, refill_per_s=0.1, max_keys=2)
    assert limiter.allow("a", NOW)
    assert limiter.allow("b", NOW + timedelta(seconds=1))
    assert limiter.allow("a", NOW + timedelta(seconds=2))  # "a" is the latest now
    assert limiter.allow("a", NOW + timedelta(seconds=2)) is False
    # A new key is let in: "b", used least recently, makes room.
    assert limiter.allow("c", NOW + timedelta(seconds=3))
    assert len(limiter) == 2
    assert limiter.allow("a", NOW + timedelta(seconds=3)) is False  # "a" keeps its limit


def test_a_flood_of_2000_addresses_does_not_lock_out_a_new_one() -> None:
    limiter = RateLimiter()  # 1,024 buckets
    for n in range(2000):
        source = f"198.51.{n // 256}.{n % 256}"
        assert [limiter.allow(source, NOW) for _ in range(6)] == [True] * 5 + [False]
    assert limiter.allow("203.0.113.7", NOW)  # a genuine courier from a new address
    assert len(limiter) == 1024


def test_refund_gives_back_one_request_never_beyond_the_burst() -> None:
    limiter = RateLimiter(capacity=2, refill_per_s=0.1)
    assert limiter.allow("k", NOW)
    assert limiter.allow("k", NOW)
    limiter.refund("k")
    assert limiter.allow("k", NOW)
    assert limiter.allow("k", NOW) is False
    for _ in range(5):
        limiter.refund("k")
    assert [limiter.allow("k", NOW) for _ in range(3)] == [True, True, False]
    limiter.refund("unknown")  # nothing to give back to
    assert len(limiter) == 1


@pytest.mark.parametrize(
    "settings_", [{"capacity": 0}, {"refill_per_s": 0}, {"refill_per_s": -1}, {"max_keys": 0}]
)
def test_rate_limiter_settings(settings_: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(**settings_)


def test_rate_limiter_naive_now() -> None:
    with pytest.raises(InvalidCredentialError):
        RateLimiter().allow("k", NOW.replace(tzinfo=None))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=600), min_size=1, max_size=60))
def test_rate_limiter_never_exceeds_burst_plus_refill(offsets: list[float]) -> None:
    limiter = RateLimiter(capacity=5, refill_per_s=0.1)
    times = sorted(offsets)
    allowed = [t for t in times if limiter.allow("k", NOW + timedelta(seconds=t))]
    if allowed:
        assert len(allowed) <= 5 + (allowed[-1] - allowed[0]) * 0.1 + 1e-9
