"""Rate limiting: a token bucket per key (a remote address, a carrier), time passed in."""

from collections import OrderedDict
from datetime import datetime

from .token_checks import aware_utc


class RateLimiter:
    """A token bucket per key (a remote address, a carrier), with time passed in.

    Each key may make `capacity` requests at once, then one per `1 / refill_per_s`
    seconds (defaults: a burst of 5, then one per 10 s). At most `max_keys` buckets are
    kept: when a new key finds no room, every bucket that has refilled completely is
    dropped (it is the same as a fresh one). When none can be dropped the new key is
    refused, rather than evicting a bucket and so resetting the limit of a busy key.
    A naive `now` raises `InvalidCredentialError` (`naive_datetime`).
    """

    __slots__ = ("_buckets", "_capacity", "_max_keys", "_rate")

    def __init__(
        self, *, capacity: int = 5, refill_per_s: float = 0.1, max_keys: int = 1024
    ) -> None:
        """Create a limiter with no buckets."""
        if capacity < 1 or refill_per_s <= 0 or max_keys < 1:
            msg = "capacity, refill_per_s and max_keys must be positive"
            raise ValueError(msg)
        self._capacity = float(capacity)
        self._rate = refill_per_s
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        """The number of keys with a bucket."""
        return len(self._buckets)

    def _level(self, bucket: tuple[float, float], at: float) -> float:
        tokens, since = bucket
        return min(self._capacity, tokens + max(0.0, at - since) * self._rate)

    def _drop_full(self, at: float) -> None:
        full = [key for key, b in self._buckets.items() if self._level(b, at) >= self._capacity]
        for key in full:
            del self._buckets[key]

    def allow(self, key: str, now: datetime) -> bool:
        """Take one token from `key`'s bucket; return whether there was one."""
        at = aware_utc(now, "now").timestamp()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._drop_full(at)
            if len(self._buckets) >= self._max_keys:
                return False
            tokens, since = self._capacity, at
        else:
            tokens, since = self._level(bucket, at), max(bucket[1], at)
            self._buckets.move_to_end(key)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, since)
        return allowed
