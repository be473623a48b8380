"""The checkout's and the refund's backoff: exponential, capped, jittered per checkout."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: `base_s` · 2^(attempt-1), at most `cap_s`, jittered to 50-100 %."""

    base_s: float = 1.0
    cap_s: float = 60.0

    def delay(self, key: str, attempt: int) -> timedelta:
        """How long to wait before attempt `attempt` + 1 of `key`'s checkout."""
        raw = min(self.cap_s, self.base_s * 2 ** max(0, min(attempt - 1, 30)))
        digest = hashlib.sha256(f"{key}:{attempt}".encode()).digest()
        jitter = 0.5 + digest[0] / 510  # 0.5 … 1.0, the same for the same checkout and attempt
        return timedelta(seconds=raw * jitter)
