"""The Stripe adapter's setup: its secret key, where the key may travel, and quiet logging.

The secret key is read from a file (`load_secret_key`) and never appears in a message,
a log line or a ``repr``; it travels in clear text to nobody: an ``api_base`` other than
https is refused unless it is this machine (127.0.0.1, ::1, localhost; localstripe in
tests).

The ``stripe`` library logs every request's parameters (``customer=cus_…``) and every
answer's body (a customer's e-mail address and name, a card's last four digits) at debug
and info level, to the ``stripe`` logger and, when ``stripe.log`` or the ``STRIPE_LOG``
environment variable say ``debug`` or ``info``, straight to stderr. The adapter pins the
``stripe`` logger and its children at WARNING (a level set later does not undo it: a filter
drops the rest) and turns the library's console logging off whatever those two say, so
``store-bridge -v`` shows no personal data.
"""

import ipaddress
import logging
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from stripe import _util as stripe_util

_LOGGER = logging.getLogger(__name__)

_STRIPE_LOGGER: Final = "stripe"


class SecretKeyError(ValueError):
    """The secret key file cannot be used; the message names the file, never its content."""


class ApiBaseError(ValueError):
    """The ``api_base`` setting cannot be used; the message names the setting only."""


@dataclass(frozen=True, slots=True)
class SecretKey:
    """A Stripe secret key. Its ``repr`` and ``str`` never show it."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        """Never the key."""
        return "SecretKey(***)"


def load_secret_key(path: Path) -> SecretKey:
    """Read a Stripe secret key (``sk_…`` or a restricted ``rk_…``) from a file.

    A missing, unreadable or empty file, or one holding something else (a publishable key,
    more than one word), is refused with a `SecretKeyError` naming the file only. A file
    others may read is used, with a warning.
    """
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise SecretKeyError(f"the secret key file {path} does not exist") from None
    except OSError as err:
        raise SecretKeyError(f"cannot read the secret key file {path} ({err.strerror})") from None
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise SecretKeyError(f"the secret key file {path} is not UTF-8 text") from None
    if not text:
        raise SecretKeyError(f"the secret key file {path} is empty")
    if len(text.split()) != 1 or not text.startswith(("sk_", "rk_")):
        raise SecretKeyError(
            f"the secret key file {path} must hold one Stripe secret key (sk_… or rk_…)"
        )
    if mode & stat.S_IROTH:
        _LOGGER.warning("The secret key file %s can be read by every user: chmod 600 it", path)
    return SecretKey(text)


def check_api_base(api_base: str) -> str:
    """``api_base`` if the key may travel there: https, or plain http to this machine only.

    This machine: ``localhost`` or a loopback address (127.0.0.1 …, ::1), as the
    configuration's own check (`payments_config.py`) has it.
    """
    try:
        parts = urlsplit(api_base)
        scheme, host = parts.scheme, parts.hostname
    except ValueError:
        scheme, host = "", None
    if scheme not in {"http", "https"} or not host:
        raise ApiBaseError("payments.api_base: not an http:// or https:// address")
    if scheme == "http" and not _loopback(host):
        raise ApiBaseError(
            "payments.api_base: plain http:// is allowed only to this machine "
            "(127.0.0.1, ::1, localhost); use https:// for any other host"
        )
    return api_base


def _loopback(host: str) -> bool:
    if host == "localhost":  # urlsplit's hostname is lower case
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _BelowWarning(logging.Filter):
    """Drops the ``stripe`` library's debug and info records (personal data)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


def _no_console_log() -> None:
    """The library's console logging, whatever ``stripe.log`` and ``STRIPE_LOG`` say: none."""
    return


def quiet_stripe_logging() -> None:
    """Keep the ``stripe`` library from logging requests and answers (see the docstring)."""
    stripe_util._console_log_level = _no_console_log  # noqa: SLF001 - the library's only switch
    names = [_STRIPE_LOGGER]
    names += [n for n in logging.root.manager.loggerDict if n.startswith(f"{_STRIPE_LOGGER}.")]
    for name in names:
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        if not any(isinstance(f, _BelowWarning) for f in logger.filters):
            logger.addFilter(_BelowWarning())
