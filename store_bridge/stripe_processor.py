"""Stripe as the checkout's payment processor (`payments.Processor`), with the async client.

Payments are PaymentIntents. An app shopper's payment is created off-session for the
customer's saved card (its default payment method, else the first card saved), NOT confirmed;
`confirm_payment` moves the money. A card shopper's payment is the terminal's PaymentIntent,
authorised with manual capture: `capture_hold` takes at most the hold, `cancel_hold` releases
it. Every answer is one of `payments.Answer`; no Stripe exception leaves this module. What
each Stripe error and each refund status means is `stripe_answers.py`: `Declined` only for
the card's or customer's own refusal, `Misconfigured` for the store's mistakes (an unknown
customer, an amount Stripe refuses, an invalid parameter, a refused key), `Unknown` when
the request may have taken effect, `Unavailable` when nothing was sent. A refund is
`RefundDone` only once Stripe says ``succeeded``.

The library's own retries are off (``max_network_retries=0``): the checkout retries, after
looking. Idempotency keys are sent with every call that changes something.

Every call goes through the library's ``raw_request_async``: the same requests, encoding,
headers, errors (`stripe.StripeError`) and logging as its typed methods, but the answer is
read as plain JSON, without building the library's typed object tree for it (what this module
reads is the answer's data anyway). That tree is the library's most expensive part: for a
payment confirmed with its charge and payment method expanded it costs more CPU than the rest
of the call (``bench/bench_checkout.py``).

A payment's state (`retrieve`): requires_payment_method / requires_confirmation → CREATED
(FAILED when the processor reports the last attempt failed: a declined confirmation),
requires_capture → AUTHORISED, succeeded → CAPTURED, canceled → CANCELLED, processing (or a
status this module does not know) → PROCESSING, requires_action → FAILED (an off-session
payment has no customer to authenticate it). Card brand and last four digits come from the
latest charge's ``payment_method_details`` once captured, else from its payment method.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit

import aiohttp
import stripe
from stripe import _util as stripe_util

from .payments import (
    Accepted,
    Answer,
    Declined,
    ListedRefund,
    Misconfigured,
    PaymentState,
    RefundAnswer,
    Unavailable,
)
from .stripe_answers import REFUND_KEY, failed, listed_refund, refund_answer

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT: Final = 20.0
"""Seconds a request may take, connecting included."""
_STATES: Final = {
    "requires_payment_method": PaymentState.CREATED,
    "requires_confirmation": PaymentState.CREATED,
    "requires_action": PaymentState.FAILED,
    "requires_capture": PaymentState.AUTHORISED,
    "succeeded": PaymentState.CAPTURED,
    "canceled": PaymentState.CANCELLED,
    "processing": PaymentState.PROCESSING,
}
_CARD_KINDS: Final = ("card", "card_present", "interac_present")
_EXPAND: Final = ["latest_charge", "payment_method"]
_STRIPE_LOGGER: Final = "stripe"
_INTENTS: Final = "/v1/payment_intents"

type _Data = dict[str, Any]


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


class StripeProcessor:
    """`payments.Processor` for Stripe (PaymentIntents), one HTTP session for all calls."""

    def __init__(
        self, key: SecretKey, *, api_base: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Talk to Stripe (or to ``api_base``, e.g. a localstripe in tests) with ``key``.

        Raises `ApiBaseError` for an ``api_base`` the key must not travel to.
        """
        if api_base is not None:
            check_api_base(api_base)
        quiet_stripe_logging()
        self._api_base = api_base
        self._http = stripe.AIOHTTPClient(timeout=aiohttp.ClientTimeout(total=timeout))
        self._client = stripe.StripeClient(
            key.value,
            base_addresses={"api": api_base} if api_base else {},
            http_client=self._http,
            max_network_retries=0,
        )
        self._raw: Callable[..., Awaitable[Any]] = self._client.raw_request_async  # untyped

    def __repr__(self) -> str:
        """Where it talks to, never the key."""
        return f"StripeProcessor(api_base={self._api_base or 'stripe'!r})"

    async def create_payment(
        self, *, customer: str, amount: int, currency: str, reference: str, idempotency_key: str
    ) -> Answer:
        """Create (not confirm) a payment of `customer`'s saved card, for `reference`."""
        try:
            method = await self._saved_method(customer)
        except stripe.StripeError as err:
            return failed(err, mutating=False)
        if method is None:
            return Declined("no_payment_method")
        params: _Data = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer,
            "payment_method": method,
            "capture_method": "automatic",
            "metadata": {"checkout": reference},
        }
        try:
            intent = await self._call("post", _INTENTS, params, idempotency_key)
        except stripe.StripeError as err:
            return failed(err, mutating=True)
        return await self._accepted(intent)

    async def confirm_payment(self, payment: str, *, idempotency_key: str) -> Answer:
        """Confirm a created payment off-session (the money moves)."""
        params: _Data = {"off_session": True, "expand": _EXPAND}
        try:
            intent = await self._call("post", _intent(payment, "confirm"), params, idempotency_key)
        except stripe.StripeError as err:
            return failed(err, mutating=True, payment=payment, acts_on_payment=True)
        return await self._accepted(intent)

    async def retrieve(self, payment: str) -> Answer:
        """What Stripe says the payment is now."""
        params: _Data = {"expand": _EXPAND}
        try:
            intent = await self._call("get", _intent(payment), params)
        except stripe.StripeError as err:
            return failed(err, mutating=False, payment=payment)
        return await self._accepted(intent)

    async def capture_hold(self, payment: str, *, amount: int, idempotency_key: str) -> Answer:
        """Capture `amount` (at most the hold) of an authorised payment."""
        params: _Data = {"amount_to_capture": amount, "expand": _EXPAND}
        try:
            intent = await self._call("post", _intent(payment, "capture"), params, idempotency_key)
        except stripe.StripeError as err:
            return failed(err, mutating=True, payment=payment, acts_on_payment=True)
        return await self._accepted(intent)

    async def cancel_hold(self, payment: str, *, idempotency_key: str) -> Answer:
        """Release an authorised hold."""
        try:
            intent = await self._call("post", _intent(payment, "cancel"), {}, idempotency_key)
        except stripe.StripeError as err:
            return failed(err, mutating=True, payment=payment, acts_on_payment=True)
        return await self._accepted(intent)

    async def refund(self, payment: str, *, amount: int, idempotency_key: str) -> RefundAnswer:
        """Refund `amount` of a captured payment; done only once Stripe says it succeeded."""
        params: _Data = {
            "payment_intent": payment,
            "amount": amount,
            "metadata": {REFUND_KEY: idempotency_key},  # found again by `list_refunds`
        }
        try:
            refund = await self._call("post", "/v1/refunds", params, idempotency_key)
        except stripe.StripeError as err:
            return failed(err, mutating=True, payment=payment, acts_on_payment=True, refund=True)
        return refund_answer(refund, payment)

    async def list_refunds(self, payment: str) -> list[ListedRefund] | Unavailable:
        """Every refund of `payment` (``GET /v1/refunds?payment_intent=``), newest first."""
        found: dict[str, ListedRefund] = {}
        params: _Data = {"payment_intent": payment, "limit": 100}
        while True:
            try:
                page = await self._call("get", "/v1/refunds", params)
            except stripe.StripeError as err:
                answer = failed(err, mutating=False, payment=payment)
                return answer if isinstance(answer, Unavailable) else Misconfigured("list_refused")
            rows = [row for row in page.get("data") or [] if isinstance(row, dict)]
            for item in filter(None, map(listed_refund, rows)):
                found.setdefault(item.refund, item)
            last = rows[-1].get("id") if rows else None
            if not page.get("has_more") or not isinstance(last, str):
                return list(found.values())
            if last == params.get("starting_after"):  # a page that does not move on
                return list(found.values())
            params = {**params, "starting_after": last}

    async def retrieve_refund(self, refund: str) -> RefundAnswer:
        """What Stripe says a refund is now."""
        try:
            data = await self._call("get", f"/v1/refunds/{quote(refund, safe='')}", {})
        except stripe.StripeError as err:
            return failed(err, mutating=False)
        payment = data.get("payment_intent")
        return refund_answer(data, payment if isinstance(payment, str) else None)

    async def close(self) -> None:
        """Close the HTTP session."""
        close: Callable[[], Awaitable[None]] = self._http.close_async  # untyped in stripe
        await close()

    # --- helpers -----------------------------------------------------------------------

    async def _call(
        self, method: str, path: str, params: _Data, idempotency_key: str | None = None
    ) -> _Data:
        """One request through the library; its answer as plain data (`stripe.StripeError`)."""
        options = {} if idempotency_key is None else {"idempotency_key": idempotency_key}
        response = await self._raw(method, path, **params, **options)
        data = response.data
        return data if isinstance(data, dict) else {}

    async def _saved_method(self, customer: str) -> str | None:
        """The customer's default payment method, else its first saved card."""
        found = await self._call("get", f"/v1/customers/{quote(customer, safe='')}", {})
        settings = found.get("invoice_settings") or {}
        default = settings.get("default_payment_method")
        if isinstance(default, str) and default:
            return default
        params: _Data = {"customer": customer, "type": "card", "limit": 1}
        methods = await self._call("get", "/v1/payment_methods", params)
        return next((str(m["id"]) for m in methods.get("data") or [] if m.get("id")), None)

    async def _accepted(self, data: _Data) -> Accepted:
        status = str(data.get("status"))
        state = _STATES.get(status, PaymentState.PROCESSING)
        if state is PaymentState.CREATED and data.get("last_payment_error"):
            state = PaymentState.FAILED
        charge = data.get("latest_charge")
        charge = charge if isinstance(charge, dict) else {}
        brand, last4 = None, None
        if state is PaymentState.CAPTURED:
            brand, last4 = await self._card(charge, data.get("payment_method"))
        return Accepted(
            str(data["id"]),
            state,
            amount=_amount(state, data, charge),
            card_brand=brand,
            card_last4=last4,
            card_fingerprint=_fingerprint(charge, data.get("payment_method")),
        )

    async def _card(self, charge: dict[str, Any], method: object) -> tuple[str | None, str | None]:
        """Brand and last four digits as Stripe reports them (None if it does not say).

        From the charge's ``payment_method_details`` (Stripe), else from the payment method
        expanded in the answer (localstripe reports no details), else it is looked up.
        """
        for details in (charge.get("payment_method_details"), method):
            found = _card_of(details) if isinstance(details, dict) else None
            if found is not None:
                return found
        method = method if isinstance(method, str) else charge.get("payment_method")
        if not isinstance(method, str):
            return None, None
        try:
            fetched = await self._call("get", f"/v1/payment_methods/{quote(method, safe='')}", {})
        except stripe.StripeError:
            # The payment stands; only the receipt's card line is missing.
            _LOGGER.info("Stripe did not say which card paid; the receipt shows none")
            return None, None
        return _card_of(fetched) or (None, None)


def _intent(payment: str, action: str | None = None) -> str:
    """A payment intent's path (and an action's on it)."""
    path = f"{_INTENTS}/{quote(payment, safe='')}"
    return path if action is None else f"{path}/{action}"


def _fingerprint(charge: dict[str, Any], method: object) -> str | None:
    """The card's fingerprint, if Stripe reports it.

    From the charge's ``payment_method_details`` (Stripe; a card present at a terminal too),
    else from the expanded payment method's card (localstripe).
    """
    for details in (charge.get("payment_method_details"), method):
        if not isinstance(details, dict):
            continue
        for kind in _CARD_KINDS:
            card = details.get(kind)
            found = card.get("fingerprint") if isinstance(card, dict) else None
            if isinstance(found, str) and found:
                return found
    return None


def _card_of(details: dict[str, Any]) -> tuple[str, str] | None:
    for kind in _CARD_KINDS:
        card = details.get(kind)
        if isinstance(card, dict) and card.get("last4"):
            return str(card.get("brand") or "unknown"), str(card["last4"])
    return None


def _amount(state: PaymentState, intent: dict[str, Any], charge: dict[str, Any]) -> int:
    """The captured amount, the amount held, or what the payment is for (minor units)."""
    if state is PaymentState.CAPTURED:
        for value in (intent.get("amount_received"), charge.get("amount_captured")):
            if isinstance(value, int):
                return value
        # localstripe: a partial capture is the charge's amount less a refund of the rest.
        if isinstance(charge.get("amount"), int):
            return int(charge["amount"]) - int(charge.get("amount_refunded") or 0)
    if state is PaymentState.AUTHORISED and isinstance(intent.get("amount_capturable"), int):
        return int(intent["amount_capturable"])
    if state in {PaymentState.CANCELLED, PaymentState.FAILED}:
        return 0
    return int(intent.get("amount") or 0)
