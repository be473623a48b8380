"""The `[payments]` table: the processor, its secret key's file, and when a cart is charged.

See `config.py`'s example. A store charges through Stripe; the embedded fake processor
(`fake_processor.py`, which charges nobody) is refused unless the table says ``demo = true``.
``api_base`` (tests) is https://, or plain http:// only to this machine's loopback address:
the secret key must never travel in clear text. Every problem is a `PaymentsConfigError`
naming the key; `config.py` reports it as its `ConfigError`.
"""

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit


class PaymentsConfigError(ValueError):
    """A `[payments]` key cannot be used."""


@dataclass(frozen=True, slots=True)
class PaymentsSpec:
    """The `[payments]` table: the processor and when a cart is charged."""

    processor: str
    secret_key_file: Path | None
    api_base: str | None
    settle_s: float
    review_deadline_s: float
    concurrency: int
    demo: bool = False
    """A demonstration store (the only kind that may use the fake processor)."""


def _str(table: dict[str, Any], key: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise PaymentsConfigError(f"payments.{key}: must be a non-empty text")
    return value


def _int(table: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PaymentsConfigError(f"payments.{key}: must be a whole number from {low} to {high}")
    return value


PROCESSORS: Final = frozenset({"stripe", "fake"})
LOOPBACK_NAMES: Final = frozenset({"localhost"})


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _api_base(table: dict[str, Any]) -> str | None:
    if "api_base" not in table:
        return None
    api_base = _str(table, "api_base")
    parts = urlsplit(api_base)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PaymentsConfigError("payments.api_base: an http:// or https:// address is required")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise PaymentsConfigError(
            "payments.api_base: plain http:// only to this machine (127.0.0.1, ::1, "
            "localhost); use https:// (the secret key must not travel in clear text)"
        )
    return api_base


def _seconds(table: dict[str, Any], key: str, default: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high:
        raise PaymentsConfigError(f"payments.{key}: must be a number of seconds from 0 to {high:g}")
    return float(value)


def parse_payments(table: object, base: Path = Path()) -> PaymentsSpec:
    """Check the `[payments]` table; `base` resolves the key file's path."""
    if not isinstance(table, dict):
        raise PaymentsConfigError("payments: must be a table")
    known = {
        "processor",
        "secret_key_file",
        "api_base",
        "settle_s",
        "review_deadline_s",
        "concurrency",
        "demo",
    }
    if unknown := set(table) - known:
        raise PaymentsConfigError(f"payments: unknown key(s) {', '.join(sorted(unknown))}")
    processor = table.get("processor", "stripe")
    if processor not in PROCESSORS:
        raise PaymentsConfigError('payments.processor: must be "stripe" or "fake"')
    demo = table.get("demo", False)
    if not isinstance(demo, bool):
        raise PaymentsConfigError("payments.demo: must be true or false")
    if processor == "fake" and not demo:
        raise PaymentsConfigError(
            'payments.processor: "fake" charges nobody (the demo\'s embedded processor); '
            'a real store uses "stripe" (set demo = true only for a demonstration store)'
        )
    key_file = None
    if "secret_key_file" in table:
        key_file = base / _str(table, "secret_key_file")
    elif processor == "stripe":
        raise PaymentsConfigError("payments.secret_key_file: is required for Stripe")
    api_base = _api_base(table)
    settle = _seconds(table, "settle_s", 5.0, 3600.0)
    deadline = _seconds(table, "review_deadline_s", 600.0, 7 * 86400.0)
    if deadline < settle:
        raise PaymentsConfigError("payments.review_deadline_s: must not be shorter than settle_s")
    return PaymentsSpec(
        processor=processor,
        secret_key_file=key_file,
        api_base=api_base,
        settle_s=settle,
        review_deadline_s=deadline,
        concurrency=_int(table, "concurrency", 8, 1, 256),
        demo=demo,
    )
