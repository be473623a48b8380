"""The replay cache: used courier token ids, kept and persisted."""

import hashlib
import json
from datetime import timedelta

import pytest

from custom_components.concierge.core.deny import DenyReason, TokenRejected
from custom_components.concierge.core.errors import InvalidCredentialError, StoredDataError
from custom_components.concierge.core.replay_cache import ReplayCache

from .token_helpers import JTI, NOW, token, verify


def test_replay_cache_records_and_prunes() -> None:
    cache = ReplayCache(leeway_s=30)
    expires = NOW + timedelta(minutes=2)
    assert cache.seen("dhl:a", expires, NOW) is False
    assert cache.seen("dhl:a", expires, NOW) is True
    assert cache.seen("dhl:b", NOW + timedelta(minutes=10), NOW) is False
    assert len(cache) == 2
    # Kept through expiry plus leeway (the verifier's leeway still accepts the token).
    assert cache.seen("dhl:a", expires, expires + timedelta(seconds=30)) is True
    assert cache.prune(expires + timedelta(seconds=31)) == 1
    assert len(cache) == 1
    assert cache.prune(expires + timedelta(seconds=31)) == 0


def test_replay_cache_refuses_when_full_instead_of_evicting() -> None:
    cache = ReplayCache(max_entries=2)
    cache.seen("dhl:a", NOW + timedelta(minutes=1), NOW)
    cache.seen("dhl:b", NOW + timedelta(minutes=5), NOW)
    with pytest.raises(TokenRejected) as info:
        cache.seen("dhl:c", NOW + timedelta(minutes=1), NOW)
    assert info.value.reason is DenyReason.RATE_LIMITED
    assert cache.seen("dhl:a", NOW + timedelta(minutes=1), NOW) is True  # still remembered
    later = NOW + timedelta(minutes=2)  # "a" has expired (plus leeway): room again
    assert cache.seen("dhl:c", NOW + timedelta(minutes=3), later) is False


def test_replay_cache_persists_digests_only() -> None:
    cache = ReplayCache()
    claims_ = verify(token())
    cache.check(claims_, NOW)
    data = json.loads(json.dumps(cache.to_dict()))
    text = json.dumps(data)
    assert JTI not in text
    assert "dhl" not in text
    assert data == {
        "version": 1,
        "entries": {hashlib.sha256(f"dhl:{JTI}".encode()).hexdigest(): claims_.expires.isoformat()},
    }
    restored = ReplayCache.from_dict(data)  # after a restart
    assert restored.to_dict() == cache.to_dict()
    with pytest.raises(TokenRejected) as info:
        restored.check(verify(token()), NOW + timedelta(seconds=1))
    assert info.value.reason is DenyReason.REPLAYED


def test_replay_cache_keeps_stored_entries_beyond_a_smaller_bound() -> None:
    cache = ReplayCache()
    for n in range(3):
        cache.seen(f"dhl:{n}", NOW + timedelta(minutes=1), NOW)
    small = ReplayCache.from_dict(cache.to_dict(), max_entries=2)
    assert len(small) == 3
    with pytest.raises(TokenRejected):
        small.seen("dhl:new", NOW + timedelta(minutes=1), NOW)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"entries": {}},
        {"version": 2, "entries": {}},
        {"version": 1},
        {"version": 1, "entries": []},
        {"version": 1, "entries": {"dhl:raw-jti": NOW.isoformat()}},
        {"version": 1, "entries": {"A" * 64: NOW.isoformat()}},
        {"version": 1, "entries": {"a" * 64: "yesterday"}},
        {"version": 1, "entries": {"a" * 64: "2025-06-02T08:00:00"}},
        {"version": 1, "entries": {"a" * 64: 1_700_000_000}},
    ],
)
def test_replay_cache_from_bad_storage(data: object) -> None:
    with pytest.raises(StoredDataError):
        ReplayCache.from_dict(data)


def test_replay_cache_settings_and_naive_times() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        ReplayCache(max_entries=0)
    with pytest.raises(ValueError, match="leeway_s"):
        ReplayCache(leeway_s=-1)
    cache = ReplayCache()
    with pytest.raises(InvalidCredentialError):
        cache.seen("k", NOW.replace(tzinfo=None), NOW)
    with pytest.raises(InvalidCredentialError):
        cache.seen("k", NOW, NOW.replace(tzinfo=None))
    assert len(cache) == 0


def test_replay_cache_accepts_any_key_text() -> None:
    cache = ReplayCache()
    assert cache.seen("dhl:\ud800", NOW, NOW) is False
    assert cache.seen("dhl:\ud800", NOW, NOW) is True


def test_replay_cache_used_asks_without_recording() -> None:
    cache = ReplayCache()
    claims_ = verify(token())
    assert cache.used(claims_) is False
    assert cache.used(claims_) is False  # asking twice records nothing
    assert len(cache) == 0
    cache.check(claims_, NOW)
    assert cache.used(claims_) is True


def test_replay_cache_update_keeps_both_and_the_later_expiry() -> None:
    cache = ReplayCache()
    cache.seen("dhl:a", NOW + timedelta(minutes=1), NOW)
    other = ReplayCache()
    other.seen("dhl:a", NOW + timedelta(minutes=4), NOW)
    other.seen("dhl:b", NOW + timedelta(minutes=2), NOW)
    cache.update(other)
    assert len(cache) == 2
    assert cache.seen("dhl:b", NOW + timedelta(minutes=2), NOW) is True
    # "a" is kept until the later of its two expiries (plus the leeway).
    assert cache.prune(NOW + timedelta(minutes=3)) == 1  # "b" is gone, "a" stays
    assert cache.seen("dhl:a", NOW + timedelta(minutes=4), NOW + timedelta(minutes=3)) is True
