"""Sending one message over SMTP: STARTTLS, a login, and an answer the caller can act on.

`smtplib` in a worker thread (`asyncio.to_thread`): one connection per message, which is
plenty for receipts on request. Each send answers one of:

- `Accepted`: the server took the message (its 250 after DATA): the caller erases the address.
- `Refused`: a permanent refusal (a 5xx for the recipient, the sender or the data): retrying
  will not help.
- `Unavailable`: nothing was accepted and trying later may work (no connection, a timeout, a
  4xx, the server hung up, STARTTLS or the login failed — a login that fails is the
  operator's to fix, not the shopper's, so it is retried rather than given up at once).
- `Unknown`: the whole message was sent (the end of DATA) but no answer came (a timeout, the
  server hung up): it may have been accepted. The caller may send it again only with the
  same Message-ID, so that a mail system can drop the duplicate (`receipts.py` does).

Once the server accepted the message, what happens while saying goodbye (QUIT) does not
change the answer.

Never in clear over the network: without STARTTLS (the server does not offer it) nothing is
sent, unless `starttls = false`, which `mail_config.py` allows only for a server on this
machine. Nothing here logs a recipient, a password or the message; the log says what kind of
failure it was.
"""

import asyncio
import logging
import smtplib
import ssl
from collections.abc import Buffer
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any, Final, Protocol

from .mail_config import MailSpec

_LOGGER = logging.getLogger(__name__)
PERMANENT: Final = 500


@dataclass(frozen=True, slots=True)
class Accepted:
    """The server accepted the message."""


@dataclass(frozen=True, slots=True)
class Refused:
    """The server refused it for good (5xx)."""

    code: int


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Nothing was accepted; try later."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """The message was sent but its answer lost: it may have been accepted."""

    reason: str


type SendResult = Accepted | Refused | Unavailable | Unknown


@dataclass(slots=True)
class _Progress:
    """How far one send got."""

    data_ended: bool = False
    """The message and its end (``.``) were written: only the answer is missing."""
    accepted: bool = False


class _Smtp(smtplib.SMTP):
    """`smtplib.SMTP` that notes when the message's end was written (`_Progress`)."""

    def __init__(self, progress: _Progress, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        self._progress = progress
        self._in_data = False
        super().__init__(*args, **kwargs)

    def data(self, msg: Buffer | str) -> tuple[int, bytes]:
        """DATA: the command, the message with its end, the answer."""
        self._in_data = True
        try:
            return super().data(msg)
        finally:
            self._in_data = False

    def send(self, s: Buffer | str) -> None:
        """Write to the server; within DATA, bytes are the message with its end."""
        super().send(s)
        if self._in_data and not isinstance(s, str):
            self._progress.data_ended = True


class Sender(Protocol):
    """What the receipts ask of a mail sender."""

    async def send(self, message: EmailMessage) -> SendResult:
        """Send one message (its To header names the recipient)."""
        ...


class Mailer:
    """Sends messages through the configured SMTP server."""

    def __init__(self, spec: MailSpec) -> None:
        """Keep the settings; TLS trusts the system's CAs and `spec.ca_file`."""
        self._spec = spec
        # EHLO names the sender's domain: smtplib's default asks DNS for this machine's name.
        self._helo = parseaddr(spec.sender)[1].rpartition("@")[2] or "localhost"
        self._tls = ssl.create_default_context(
            cafile=None if spec.ca_file is None else str(spec.ca_file)
        )

    async def send(self, message: EmailMessage) -> SendResult:
        """Send `message`; never raises for what the server or the network does."""
        return await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> SendResult:
        progress = _Progress()
        try:
            self._deliver(message, progress)
        except (OSError, smtplib.SMTPException) as err:
            if progress.accepted:  # only the goodbye failed
                return Accepted()
            if progress.data_ended and not isinstance(err, smtplib.SMTPResponseException):
                reason = f"no answer after the message was sent ({type(err).__name__})"
                _LOGGER.warning("Receipt may have been sent: %s", reason)
                return Unknown(reason)
            return self._failure(err)
        return Accepted()

    def _deliver(self, message: EmailMessage, progress: _Progress) -> None:
        """Send it, or raise (one recipient: refused, it raises SMTPRecipientsRefused)."""
        spec = self._spec
        with _Smtp(
            progress, spec.host, spec.port, local_hostname=self._helo, timeout=spec.timeout_s
        ) as smtp:
            smtp.ehlo()
            if spec.starttls:
                if not smtp.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("STARTTLS")
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if spec.username is not None and spec.password is not None:
                smtp.login(spec.username, spec.password)
            smtp.send_message(message)
            progress.accepted = True

    def _failure(self, err: OSError | smtplib.SMTPException) -> SendResult:
        """What an exception of `_deliver` means (its text may name the recipient: unused)."""
        if isinstance(err, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in err.recipients.values()]
            return self._answer(min(codes, default=0), "the recipient")
        if isinstance(err, smtplib.SMTPConnectError | smtplib.SMTPHeloError):
            reason = f"the mail server did not greet us ({err.smtp_code})"
        elif isinstance(err, smtplib.SMTPAuthenticationError):
            reason = f"the login was refused ({err.smtp_code})"
        elif isinstance(err, smtplib.SMTPResponseException):
            return self._answer(err.smtp_code, "the message")
        elif isinstance(err, smtplib.SMTPNotSupportedError):
            reason = "the mail server does not offer STARTTLS"
        elif isinstance(err, ssl.SSLError):
            reason = f"TLS failed ({err.reason or type(err).__name__})"
        else:
            reason = f"no answer from the mail server ({type(err).__name__})"
        return self._unavailable(reason)

    def _answer(self, code: int, what: str) -> SendResult:
        if code >= PERMANENT:
            _LOGGER.warning("Receipt not sent: the mail server refused %s (%d)", what, code)
            return Refused(code)
        return self._unavailable(f"the mail server refused {what} for now ({code})")

    @staticmethod
    def _unavailable(reason: str) -> Unavailable:
        _LOGGER.info("Receipt not sent yet: %s", reason)
        return Unavailable(reason)
