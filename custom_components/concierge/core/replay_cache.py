"""The replay cache: courier token ids already used, refused if they come again.

A plain in-memory structure with time passed in; the shell (`gatekeeper.py`) owns it
and writes it to disk after each new record, before the door is asked to open, so that
replays stay refused across restarts and crashes.
"""

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

from . import _parse
from .courier_tokens import CourierClaims
from .deny import DenyReason, TokenRejected
from .token_checks import DEFAULT_LEEWAY_S, aware_utc

DEFAULT_REPLAY_ENTRIES: Final = 10_000

_DIGEST = re.compile(r"[0-9a-f]{64}")
_REPLAY_WHAT = "replay_cache"
_REPLAY_VERSION = 1


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class ReplayCache:
    """Token ids already used, each remembered until its expiry plus the leeway.

    Only the SHA-256 of each key (`replay_key`) is kept, never a raw id. The size is
    bounded: when the cache is full of live entries it refuses new ones with
    `TokenRejected(rate_limited)` instead of evicting one, because an evicted id
    could be replayed. Filling it takes `max_entries` validly signed, unexpired tokens,
    so only a misbehaving carrier can do it, and it drains as they expire. Each call
    prunes expired entries (linear in the size, which is bounded).

    The shell persists `to_dict()` so that replays stay refused across restarts.
    `used` asks without recording (e.g. before spending a rate limit on a replay).
    """

    __slots__ = ("_entries", "_leeway", "_max_entries")

    def __init__(
        self, *, max_entries: int = DEFAULT_REPLAY_ENTRIES, leeway_s: float = DEFAULT_LEEWAY_S
    ) -> None:
        """Create an empty cache (use the same leeway as `verify_courier_token`)."""
        if max_entries < 1 or leeway_s < 0:
            msg = "max_entries must be positive and leeway_s not negative"
            raise ValueError(msg)
        self._entries: dict[str, datetime] = {}
        self._max_entries = max_entries
        self._leeway = timedelta(seconds=leeway_s)

    def __len__(self) -> int:
        """The number of remembered token ids (expired ones included until pruned)."""
        return len(self._entries)

    def prune(self, now: datetime) -> int:
        """Forget entries whose expiry plus leeway lies before `now`; return how many."""
        cutoff = aware_utc(now, "now") - self._leeway
        stale = [digest for digest, expires in self._entries.items() if expires < cutoff]
        for digest in stale:
            del self._entries[digest]
        return len(stale)

    def seen(self, jti_key: str, expires: datetime, now: datetime) -> bool:
        """Record `jti_key` until `expires`; return whether it was already recorded.

        Raises `TokenRejected(rate_limited)` when the key is new and the cache is full.
        """
        expires = aware_utc(expires, "expires")
        self.prune(now)
        digest = _digest(jti_key)
        if digest in self._entries:
            return True
        if len(self._entries) >= self._max_entries:
            raise TokenRejected(DenyReason.RATE_LIMITED)
        self._entries[digest] = expires
        return False

    def update(self, other: ReplayCache) -> None:
        """Remember every token id `other` remembers too (the later expiry wins)."""
        for digest, expires in other._entries.items():
            if digest not in self._entries or self._entries[digest] < expires:
                self._entries[digest] = expires

    def used(self, claims: CourierClaims) -> bool:
        """Whether a verified token was recorded already (nothing is recorded here)."""
        return _digest(claims.replay_key) in self._entries

    def check(self, claims: CourierClaims, now: datetime) -> None:
        """Record a verified token; raise `TokenRejected(replayed)` if it was used before."""
        if self.seen(claims.replay_key, claims.expires, now):
            raise TokenRejected(DenyReason.REPLAYED)

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage: digests and expiries only."""
        return {
            "version": _REPLAY_VERSION,
            "entries": {digest: expires.isoformat() for digest, expires in self._entries.items()},
        }

    @classmethod
    def from_dict(
        cls,
        data: object,
        *,
        max_entries: int = DEFAULT_REPLAY_ENTRIES,
        leeway_s: float = DEFAULT_LEEWAY_S,
    ) -> ReplayCache:
        """Rebuild from `to_dict` output (all stored entries are kept, even past the bound)."""
        obj = _parse.as_mapping(data, _REPLAY_WHAT)
        if _parse.get_int(obj, "version", _REPLAY_WHAT) != _REPLAY_VERSION:
            raise _parse.fail(_REPLAY_WHAT, "version")
        entries = obj.get("entries")
        if not isinstance(entries, Mapping):
            raise _parse.fail(_REPLAY_WHAT, "entries")
        cache = cls(max_entries=max_entries, leeway_s=leeway_s)
        for digest, expires in entries.items():
            if not isinstance(digest, str) or _DIGEST.fullmatch(digest) is None:
                raise _parse.fail(_REPLAY_WHAT, "entries")
            cache._entries[digest] = _parse.parse_datetime(expires, _REPLAY_WHAT, "entries")
        return cache
