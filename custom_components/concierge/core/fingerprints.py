"""Fingerprints of PINs: recognising which code a slot holds without keeping the code.

A slot's known state records a fingerprint of the code Concierge wrote there, so that a
changed PIN is noticed, and a lock that reports a code back (a clear it confirmed but did
not do) is recognised as reporting our code. The fingerprint is keyed: HMAC-SHA256 of the
PIN (16 hex digits) under the lock's key (`lock_key`), which is derived from the site's
secret fingerprint key. That key is kept in a file of its own, never next to the
fingerprints, so the site's stored data alone does not let anyone test the 10^4 to 10^8
possible PINs against a fingerprint.

Storage before 1.6 held an unkeyed SHA-256 of `<site>:<lock>:<pin>` instead
(`legacy_fingerprint`), which anyone with the file could reverse in about a second. The
storage migration re-derives such a fingerprint from its grant's PIN when it still
matches (`rederive`) and drops it otherwise.
"""

import hashlib
import hmac

FINGERPRINT_LENGTH = 16
"""Hex digits kept of a fingerprint."""


def lock_key(site_key: bytes, site_id: str, lock: str) -> str:
    """The key of one lock's fingerprints (hex): secret, derived, never stored."""
    return hmac.new(site_key, f"{site_id}:{lock}".encode(), hashlib.sha256).hexdigest()


def fingerprint(pin: str, key: str) -> str:
    """A keyed one-way fingerprint of a PIN (`key`: the lock's, from `lock_key`)."""
    digest = hmac.new(key.encode(), pin.encode(), hashlib.sha256).hexdigest()
    return digest[:FINGERPRINT_LENGTH]


def legacy_fingerprint(pin: str, site_id: str, lock: str) -> str:
    """The unkeyed fingerprint storage before 1.6 held (only to migrate it)."""
    return hashlib.sha256(f"{site_id}:{lock}:{pin}".encode()).hexdigest()[:FINGERPRINT_LENGTH]


def rederive(
    legacy: str | None, pin: str | None, *, site_id: str, lock: str, key: str | None
) -> str | None:
    """The keyed fingerprint for a stored legacy one, or None when it cannot be made.

    Only a legacy fingerprint that is the one of `pin` (its grant's PIN) is re-derived,
    under `key` (the lock's); any other (an older PIN, a grant no longer kept, no key)
    is dropped: the slot then only lacks a way to recognise that old code.
    """
    if legacy is None or pin is None or key is None:
        return None
    if not hmac.compare_digest(legacy, legacy_fingerprint(pin, site_id, lock)):
        return None
    return fingerprint(pin, key)
