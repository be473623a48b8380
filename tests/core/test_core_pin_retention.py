"""A grant keeps its PIN exactly while it may still use it; fingerprints need the site's key."""

import hashlib
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.concierge.core.fingerprints import (
    fingerprint,
    legacy_fingerprint,
    lock_key,
    rederive,
)
from custom_components.concierge.core.grants import (
    Credentials,
    Grant,
    GrantAction,
    GrantKind,
    GrantState,
    apply_action,
    grant_state,
    new_grant,
    without_pin,
)
from custom_components.concierge.core.windows import OneOffWindow, Schedule, WeeklyWindow

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2025, 6, 2, 8, tzinfo=UTC)
END = datetime(2025, 6, 2, 10, tzinfo=UTC)
DURING = START + timedelta(minutes=30)
PIN = "482913"
SITE_KEY = bytes(range(32))


def make(*, max_uses: int | None = None, schedule: Schedule | None = None) -> Grant:
    return new_grant(
        label="Cleaner",
        kind=GrantKind.CLEANER,
        portals=("front",),
        schedule=schedule or Schedule((OneOffWindow(START, END),)),
        now=START - timedelta(days=1),
        grant_id="g1",
        credentials=Credentials(pin=PIN, remote_token=True),
        max_uses=max_uses,
    )


def test_a_revoked_grant_comes_back_without_its_pin() -> None:
    revoked = apply_action(make(), GrantAction.REVOKE, DURING, TZ)
    assert grant_state(revoked, DURING, TZ) is GrantState.REVOKED
    assert revoked.credentials.pin is None
    assert PIN not in str(revoked.to_dict())
    assert revoked.credentials.remote_token is True  # only the PIN goes


def test_the_last_use_takes_the_pin_and_an_earlier_one_does_not() -> None:
    grant = make(max_uses=2)
    once = apply_action(grant, GrantAction.RECORD_USE, DURING, TZ)
    assert grant_state(once, DURING, TZ) is GrantState.ACTIVE
    assert once.credentials.pin == PIN
    twice = apply_action(once, GrantAction.RECORD_USE, DURING, TZ)
    assert grant_state(twice, DURING, TZ) is GrantState.USED_UP
    assert twice.credentials.pin is None


def test_a_suspended_grant_and_one_between_its_windows_keep_their_pin() -> None:
    suspended = apply_action(make(), GrantAction.SUSPEND, DURING, TZ)
    assert suspended.credentials.pin == PIN
    resumed = apply_action(suspended, GrantAction.RESUME, DURING, TZ)
    assert resumed.credentials.pin == PIN
    weekly = make(schedule=Schedule((WeeklyWindow(frozenset({0}), time(9), time(12)),)))
    between = START + timedelta(days=1)  # a Tuesday: the next window is on Monday
    assert grant_state(weekly, between, TZ) is GrantState.SCHEDULED
    used = apply_action(weekly, GrantAction.RECORD_USE, START + timedelta(hours=1), TZ)
    assert used.credentials.pin == PIN  # no use limit: it needs the PIN next week


def test_without_pin_keeps_everything_else() -> None:
    grant = make(max_uses=3)
    bare = without_pin(grant)
    assert bare.credentials.pin is None
    assert bare.to_dict() | {"credentials": None} == grant.to_dict() | {"credentials": None}
    assert without_pin(bare) is bare


def test_a_fingerprint_needs_the_lock_key() -> None:
    key = lock_key(SITE_KEY, "site", "lock.front_door")
    assert fingerprint(PIN, key) == fingerprint(PIN, key)
    assert fingerprint(PIN, key) != fingerprint("482914", key)
    # Another site key, another site, another lock: another fingerprint of the same PIN.
    assert fingerprint(PIN, key) != fingerprint(PIN, lock_key(b"x" * 32, "site", "lock.front_door"))
    assert fingerprint(PIN, key) != fingerprint(PIN, lock_key(SITE_KEY, "other", "lock.front_door"))
    assert fingerprint(PIN, key) != fingerprint(PIN, lock_key(SITE_KEY, "site", "lock.back_door"))
    # The unkeyed form storage 1.5 held is not it, nor a plain hash of the PIN.
    assert fingerprint(PIN, key) != legacy_fingerprint(PIN, "site", "lock.front_door")
    assert fingerprint(PIN, key) != hashlib.sha256(PIN.encode()).hexdigest()[:16]
    assert len(fingerprint(PIN, key)) == 16


def test_the_legacy_fingerprint_is_what_storage_1_5_held() -> None:
    expected = hashlib.sha256(b"site:lock.front_door:" + PIN.encode()).hexdigest()[:16]
    assert legacy_fingerprint(PIN, "site", "lock.front_door") == expected


@pytest.mark.parametrize(
    ("legacy", "pin", "key", "expected"),
    [
        ("match", PIN, "k", "keyed"),  # the grant's PIN: re-derived under the key
        ("match", "111111", "k", None),  # an older PIN of the grant: dropped
        ("match", None, "k", None),  # the grant is gone or has no PIN
        ("match", PIN, None, None),  # no key
        (None, PIN, "k", None),  # nothing to re-derive
    ],
)
def test_rederive(
    legacy: str | None, pin: str | None, key: str | None, expected: str | None
) -> None:
    stored = legacy_fingerprint(PIN, "site", "lock.a") if legacy == "match" else None
    result = rederive(stored, pin, site_id="site", lock="lock.a", key=key)
    assert result == (fingerprint(PIN, "k") if expected == "keyed" else None)
