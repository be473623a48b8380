"""Stripe as the checkout's payment processor (`payments.Processor`), with the async client.

Payments are PaymentIntents. An app shopper's payment is created off-session for the
customer's saved card (its default payment method, else the first card saved), NOT confirmed;
`confirm_payment` moves the money. A card shopper's payment is the terminal's PaymentIntent,
authorised with manual capture: `capture_hold` takes at most the hold, `cancel_hold` releases
it. Every answer is one of `payments.Answer`; no Stripe exception leaves this module:

- `stripe.CardError` → `Declined` (Stripe's code, ``card_declined`` …).
- Nothing was sent (the connection could not be made, or timed out while connecting), rate
  limited (429), authentication or permission refused (the operator's key: retrying later,
  once it is fixed, is right; the shopper is not to blame), a 503 → `Unavailable`.
- The request may have been sent: the connection dropped, a timeout, any other 5xx →
  `Unknown` for the calls that change something, `Unavailable` for `retrieve` (a read
  changes nothing).
- An invalid request: Stripe's ``payment_intent_unexpected_state``, or a refusal without a
  code (localstripe gives none), → `Unknown` for the calls acting on an existing payment (a
  confirmation or capture that may have happened already: look before anything else); any
  other code → `Declined` (retrying the same request will not help).

The library's own retries are off (``max_network_retries=0``): the checkout retries, after
looking. Idempotency keys are sent with every call that changes something.

A payment's state (`retrieve`): requires_payment_method / requires_confirmation → CREATED
(FAILED when the processor reports the last attempt failed: a declined confirmation),
requires_capture → AUTHORISED, succeeded → CAPTURED, canceled → CANCELLED, processing (or a
status this module does not know) → PROCESSING, requires_action → FAILED (an off-session
payment has no customer to authenticate it). Card brand and last four digits come from the
latest charge's ``payment_method_details`` once captured, else from its payment method.

The secret key is read from a file (`load_secret_key`) and never appears in a message,
a log line or a ``repr``.
"""

import logging
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final

import aiohttp
import stripe

from .payments import (
    Accepted,
    Answer,
    Declined,
    PaymentState,
    RefundAnswer,
    RefundDone,
    Unavailable,
    Unknown,
)

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
_LOOK_FIRST: Final = "payment_intent_unexpected_state"
_EXPAND: Final = ["latest_charge", "payment_method"]


class SecretKeyError(ValueError):
    """The secret key file cannot be used; the message names the file, never its content."""


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


class StripeProcessor:
    """`payments.Processor` for Stripe (PaymentIntents), one HTTP session for all calls."""

    def __init__(
        self, key: SecretKey, *, api_base: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Talk to Stripe (or to ``api_base``, e.g. a localstripe in tests) with ``key``."""
        self._api_base = api_base
        self._http = stripe.AIOHTTPClient(timeout=aiohttp.ClientTimeout(total=timeout))
        self._client = stripe.StripeClient(
            key.value,
            base_addresses={"api": api_base} if api_base else {},
            http_client=self._http,
            max_network_retries=0,
        )
        self._intents = self._client.v1.payment_intents

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
            return _failed(err, mutating=False)
        if method is None:
            return Declined("no_payment_method")
        params: Any = {
            "amount": amount,
            "currency": currency.lower(),
            "customer": customer,
            "payment_method": method,
            "capture_method": "automatic",
            "metadata": {"checkout": reference},
        }
        try:
            intent = await self._intents.create_async(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as err:
            return _failed(err, mutating=True)
        return await self._accepted(intent)

    async def confirm_payment(self, payment: str, *, idempotency_key: str) -> Answer:
        """Confirm a created payment off-session (the money moves)."""
        params: Any = {"off_session": True, "expand": _EXPAND}
        try:
            intent = await self._intents.confirm_async(
                payment, params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as err:
            return _failed(err, mutating=True, payment=payment, acts_on_payment=True)
        return await self._accepted(intent)

    async def retrieve(self, payment: str) -> Answer:
        """What Stripe says the payment is now."""
        params: Any = {"expand": _EXPAND}
        try:
            intent = await self._intents.retrieve_async(payment, params)
        except stripe.StripeError as err:
            return _failed(err, mutating=False, payment=payment)
        return await self._accepted(intent)

    async def capture_hold(self, payment: str, *, amount: int, idempotency_key: str) -> Answer:
        """Capture `amount` (at most the hold) of an authorised payment."""
        params: Any = {"amount_to_capture": amount, "expand": _EXPAND}
        try:
            intent = await self._intents.capture_async(
                payment, params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as err:
            return _failed(err, mutating=True, payment=payment, acts_on_payment=True)
        return await self._accepted(intent)

    async def cancel_hold(self, payment: str, *, idempotency_key: str) -> Answer:
        """Release an authorised hold."""
        try:
            intent = await self._intents.cancel_async(
                payment, None, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as err:
            return _failed(err, mutating=True, payment=payment, acts_on_payment=True)
        return await self._accepted(intent)

    async def refund(self, payment: str, *, amount: int, idempotency_key: str) -> RefundAnswer:
        """Refund `amount` of a captured payment."""
        params: Any = {"payment_intent": payment, "amount": amount}
        try:
            refund = await self._client.v1.refunds.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as err:
            return _failed(err, mutating=True, payment=payment, acts_on_payment=True)
        return RefundDone(str(refund.id), int(refund.to_dict().get("amount") or amount))

    async def close(self) -> None:
        """Close the HTTP session."""
        close: Callable[[], Awaitable[None]] = self._http.close_async  # untyped in stripe
        await close()

    # --- helpers -----------------------------------------------------------------------

    async def _saved_method(self, customer: str) -> str | None:
        """The customer's default payment method, else its first saved card."""
        found = await self._client.v1.customers.retrieve_async(customer)
        settings = found.to_dict().get("invoice_settings") or {}
        default = settings.get("default_payment_method")
        if isinstance(default, str) and default:
            return default
        params: Any = {"customer": customer, "type": "card", "limit": 1}
        methods = await self._client.v1.payment_methods.list_async(params)
        return next((str(method.id) for method in methods.data), None)

    async def _accepted(self, intent: stripe.PaymentIntent) -> Accepted:
        data = intent.to_dict()
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
            fetched = await self._client.v1.payment_methods.retrieve_async(method)
        except stripe.StripeError:
            # The payment stands; only the receipt's card line is missing.
            _LOGGER.info("Stripe did not say which card paid; the receipt shows none")
            return None, None
        return _card_of(fetched.to_dict()) or (None, None)


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


def _failed(
    err: stripe.StripeError,
    *,
    mutating: bool,
    payment: str | None = None,
    acts_on_payment: bool = False,
) -> Declined | Unavailable | Unknown:
    """What a Stripe error means for the caller (see the module's docstring)."""
    answer = _classify(err, mutating=mutating, payment=payment, acts_on_payment=acts_on_payment)
    _LOGGER.warning(
        "Stripe: %s (%s)", type(answer).__name__.lower(), getattr(answer, "reason", None) or "-"
    )
    return answer


def _classify(
    err: stripe.StripeError, *, mutating: bool, payment: str | None, acts_on_payment: bool
) -> Declined | Unavailable | Unknown:
    if isinstance(err, stripe.CardError):
        return Declined(err.code or "card_declined", payment)
    if isinstance(err, stripe.APIConnectionError):
        return _connection_failed(err, mutating=mutating, payment=payment)
    if isinstance(err, stripe.InvalidRequestError):
        if acts_on_payment and err.code in {None, _LOOK_FIRST}:
            return Unknown(err.code or "refused without a code", payment)
        return Declined(err.code or "invalid_request", payment)
    return _server_said(err, mutating=mutating, payment=payment)


def _server_said(
    err: stripe.StripeError, *, mutating: bool, payment: str | None
) -> Unavailable | Unknown:
    """Rate limited, the key refused, or a server error."""
    if isinstance(err, stripe.RateLimitError):
        return Unavailable("rate limited")
    if isinstance(err, stripe.AuthenticationError | stripe.PermissionError):
        return Unavailable("key refused")
    status = err.http_status or 0
    reason = f"processor error {status}"
    if not mutating or status == HTTPStatus.SERVICE_UNAVAILABLE:
        return Unavailable(reason)
    return Unknown(reason, payment)


def _connection_failed(
    err: stripe.APIConnectionError, *, mutating: bool, payment: str | None
) -> Unavailable | Unknown:
    """Nothing sent (no connection) → Unavailable; else Unknown if it may have changed something."""
    cause = err.__cause__
    if isinstance(cause, aiohttp.ConnectionTimeoutError | aiohttp.ClientConnectorError):
        return Unavailable("unreachable")
    reason = "timeout" if isinstance(cause, TimeoutError) else "connection lost"
    return Unknown(reason, payment) if mutating else Unavailable(reason)
