"""``STORE_BRIDGE_CRASH_AT`` (tests only): kill the process at a checkout's step boundary.

``<point>:<n>[,<point>:<n>…]`` kills the process with SIGKILL the n-th time it reaches that
point (``started``, ``before_<call>``, ``after_<call>`` with call one of create, confirm,
retrieve, capture, cancel, and ``persisted``), so a test can prove that a crash at any step
boundary charges nobody twice. It logs ``Crashing at <point>`` first (the test counts them).
"""

import logging
import os
import signal
from collections import Counter
from typing import Final

_LOGGER = logging.getLogger(__name__)

CRASH_ENV: Final = "STORE_BRIDGE_CRASH_AT"


class Crasher:
    """The test-only fault injection of ``STORE_BRIDGE_CRASH_AT``."""

    def __init__(self, spec: str | None) -> None:
        """Kill at the points of `spec` (None or empty: never)."""
        self._at: dict[str, int] = {}
        self._seen: Counter[str] = Counter()
        for part in (spec or "").split(","):
            point, _, count = part.strip().partition(":")
            if point:
                self._at[point] = int(count or "1")

    @classmethod
    def from_environment(cls) -> "Crasher":  # noqa: UP037 - the class is being defined
        """The crash points the environment names."""
        return cls(os.environ.get(CRASH_ENV))

    def point(self, name: str) -> None:
        """The process reached `name`: killed if this is the time it was told."""
        if not self._at:
            return
        self._seen[name] += 1
        if self._at.get(name) == self._seen[name]:
            _LOGGER.warning("Crashing at %s (%s, a test's fault injection)", name, CRASH_ENV)
            os.kill(os.getpid(), signal.SIGKILL)
