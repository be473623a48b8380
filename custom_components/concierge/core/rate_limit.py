"""Rate limiting: a token bucket per key (a remote address, a carrier), time passed in."""

from collections import OrderedDict
from datetime import datetime

from .token_checks import aware_utc


class RateLimiter:
    """A token bucket per key (a remote address, a carrier), with time passed in.

    Each key may make `capacity` requests at once, then one per `1 / refill_per_s`
    seconds (defaults: a burst of 5, then one per 10 s). At most `max_keys` buckets are
    kept: a new key that finds no room evicts the bucket used least recently (the one
    that has had the longest to refill), so a flood of new keys never locks a new,
    genuine key out. A key whose bucket was evicted starts again with a full one: with
    that many addresses a client has as many full buckets anyway.
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

    def allow(self, key: str, now: datetime) -> bool:
        """Take one token from `key`'s bucket; return whether there was one."""
        at = aware_utc(now, "now").timestamp()
        bucket = self._buckets.get(key)
        if bucket is None:
            while len(self._buckets) >= self._max_keys:
                self._buckets.popitem(last=False)  # the least recently used
            tokens, since = self._capacity, at
        else:
            tokens, since = self._level(bucket, at), max(bucket[1], at)
            self._buckets.move_to_end(key)
        allowed = tokens >= 1
        self._buckets[key] = (tokens - 1 if allowed else tokens, since)
        return allowed

    def refund(self, key: str) -> None:
        """Give back the token `allow` took from `key` (never beyond `capacity`).

        For a request that turned out not to count against this budget, e.g. a
        correctly signed courier token against the budget of unproven requests.
        """
        if (bucket := self._buckets.get(key)) is not None:
            tokens, since = bucket
            self._buckets[key] = (min(self._capacity, tokens + 1), since)
