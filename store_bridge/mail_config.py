"""The `[mail]` table: how receipts are sent and how long anything about them is kept.

Example (`store.toml`, next to the rest of `config.py`'s example)::

    [mail]                        # leave out: no receipts (the API answers 404 no_receipts)
    host = "smtp.example.com"
    port = 587
    from = "Corner store <receipts@example.com>"
    username = "receipts@example.com"   # optional; then password_file is required
    password_file = "smtp-password"
    starttls = true               # false only for a mail server on this machine (127.0.0.1)
    ca_file = "smtp-ca.pem"       # optional: trust this CA too (a private mail server)
    timeout_s = 30
    language = "en"               # a receipt's language when the shopper's is unknown: en | de
    timezone = "Europe/Berlin"    # the time on receipts (default UTC)
    address_retention_days = 0    # 0: an address is erased the moment the server accepts
    max_attempts = 8              # sends tried before giving up (the address erased anyway)
    retry_base_s = 30             # the first retry's delay, doubled each time …
    retry_max_s = 3600            # … up to this
    code_ttl_h = 24               # a receipt code shown at the exit is valid this long
    page_url = "https://store.example.com"  # optional: the base of the receipt page's link

Relative paths are relative to the configuration file. The password is read from its file and
never shown. Every problem is a `MailConfigError` naming the key (``mail.port: ...``);
`config.py` reports it as its `ConfigError`.
"""

import ipaddress
from dataclasses import dataclass, field
from datetime import tzinfo
from email.headerregistry import Address
from email.policy import SMTP
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .core.email_address import address_problem
from .core.receipt import Language

KEYS: Final = frozenset({
    "host", "port", "from", "username", "password_file", "starttls", "ca_file", "timeout_s",
    "language", "timezone", "address_retention_days", "max_attempts", "retry_base_s",
    "retry_max_s", "code_ttl_h", "page_url",
})  # fmt: skip
LOCAL_HOSTS: Final = frozenset({"localhost"})


class MailConfigError(ValueError):
    """A `[mail]` key cannot be used."""


@dataclass(frozen=True, slots=True)
class MailSpec:
    """The `[mail]` table, checked."""

    host: str
    port: int
    sender: str
    """The From header as given (``Name <address>`` or an address)."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    ca_file: Path | None = None
    timeout_s: float = 30.0
    language: Language = Language.EN
    timezone: tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    address_retention_days: int = 0
    max_attempts: int = 8
    retry_base_s: float = 30.0
    retry_max_s: float = 3600.0
    code_ttl_h: int = 24
    page_url: str | None = None


def _where(key: str) -> str:
    return f"mail.{key}"


def _text(table: dict[str, Any], key: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise MailConfigError(f"{_where(key)}: must be a non-empty text")
    return value.strip()


def _number(table: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MailConfigError(f"{_where(key)}: must be a whole number from {low} to {high}")
    return value


def _seconds(table: dict[str, Any], key: str, default: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= high:
        raise MailConfigError(f"{_where(key)}: must be a number of seconds above 0, at most {high}")
    return float(value)


def _sender(table: dict[str, Any]) -> str:
    text = _text(table, "from")
    addresses: tuple[Address, ...] = SMTP.header_factory("from", text).addresses
    if (
        not text.isprintable()
        or len(addresses) != 1
        or address_problem(addresses[0].addr_spec) is not None
    ):
        raise MailConfigError(f"{_where('from')}: must be one address (or 'Name <address>')")
    return text


def _local(host: str) -> bool:
    if host in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _password(table: dict[str, Any], base: Path) -> str | None:
    if "password_file" not in table:
        if "username" in table:
            raise MailConfigError(f"{_where('password_file')}: is required with a username")
        return None
    path = base / _text(table, "password_file")
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise MailConfigError(
            f"{_where('password_file')}: cannot read {path} ({err.strerror})"
        ) from None
    except UnicodeDecodeError:
        raise MailConfigError(f"{_where('password_file')}: {path} is not UTF-8 text") from None
    if not value:
        raise MailConfigError(f"{_where('password_file')}: {path} is empty")
    return value


def _zone(table: dict[str, Any]) -> tzinfo:
    name = _text(table, "timezone", "UTC")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError, ValueError:
        raise MailConfigError(
            f"{_where('timezone')}: unknown time zone {name!r} (use e.g. 'Europe/Berlin')"
        ) from None


def _page_url(table: dict[str, Any]) -> str | None:
    if "page_url" not in table:
        return None
    url = _text(table, "page_url").rstrip("/")
    if not url.startswith(("https://", "http://")):
        raise MailConfigError(f"{_where('page_url')}: must start with https:// (or http://)")
    return url


def parse_mail(table: object, base: Path = Path()) -> MailSpec:
    """Check the `[mail]` table; `base` resolves relative paths."""
    if not isinstance(table, dict):
        raise MailConfigError("mail: must be a table")
    if unknown := set(table) - KEYS:
        raise MailConfigError(f"mail: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    host = _text(table, "host")
    starttls = table.get("starttls", True)
    if not isinstance(starttls, bool):
        raise MailConfigError(f"{_where('starttls')}: must be true or false")
    if not starttls and not _local(host):
        raise MailConfigError(
            f"{_where('starttls')}: may be false only for a mail server on this machine"
        )
    language = _text(table, "language", Language.EN.value)
    if language not in {lang.value for lang in Language}:
        raise MailConfigError(f"{_where('language')}: must be one of en, de")
    ca_file = None
    if "ca_file" in table:
        ca_file = base / _text(table, "ca_file")
        if not ca_file.is_file():
            raise MailConfigError(f"{_where('ca_file')}: {ca_file} is not a file")
    retry_base = _seconds(table, "retry_base_s", 30.0, 86_400.0)
    retry_max = _seconds(table, "retry_max_s", 3600.0, 86_400.0)
    if retry_max < retry_base:
        raise MailConfigError(f"{_where('retry_max_s')}: must be at least mail.retry_base_s")
    return MailSpec(
        host=host,
        port=_number(table, "port", 587, 1, 65535),
        sender=_sender(table),
        username=_text(table, "username") if "username" in table else None,
        password=_password(table, base),
        starttls=starttls,
        ca_file=ca_file,
        timeout_s=_seconds(table, "timeout_s", 30.0, 300.0),
        language=Language(language),
        timezone=_zone(table),
        address_retention_days=_number(table, "address_retention_days", 0, 0, 30),
        max_attempts=_number(table, "max_attempts", 8, 1, 100),
        retry_base_s=retry_base,
        retry_max_s=retry_max,
        code_ttl_h=_number(table, "code_ttl_h", 24, 1, 168),
        page_url=_page_url(table),
    )
