"""Stripe as the checkout's payment processor (`payments.Processor`), with the async client.

Payments are PaymentIntents. An app shopper's payment is created off-session for the
customer's saved card (its default payment method, else the first card saved: found at
check-in by `saved_method`, else looked up when the payment is created), NOT confirmed;
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

The secret key (`load_secret_key`), where it may travel (`check_api_base`) and the
library's logging held down (`quiet_stripe_logging`) are `stripe_setup.py`.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import quote

import aiohttp
import stripe

from .payments import (
    Accepted,
    Answer,
    Declined,
    ListedRefund,
    MethodAnswer,
    Misconfigured,
    PaymentState,
    RefundAnswer,
    SavedMethod,
    Unavailable,
    Unknown,
)
from .stripe_answers import REFUND_KEY, failed, listed_refund, refund_answer
from .stripe_setup import (
    ApiBaseError,
    SecretKey,
    SecretKeyError,
    check_api_base,
    load_secret_key,
    quiet_stripe_logging,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "ApiBaseError",
    "SecretKey",
    "SecretKeyError",
    "StripeProcessor",
    "check_api_base",
    "load_secret_key",
    "quiet_stripe_logging",
]

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
_INTENTS: Final = "/v1/payment_intents"

type _Data = dict[str, Any]


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

    async def saved_method(self, customer: str) -> MethodAnswer:
        """`customer`'s default payment method, else its first saved card (two reads at most).

        Asked in the background at check-in: a failure is logged at debug level only.
        """
        try:
            return SavedMethod(await self._saved_method(customer))
        except stripe.StripeError as err:
            answer = failed(err, mutating=False, quiet=True)
        return answer if isinstance(answer, Unavailable | Unknown) else Unknown(answer.code)

    async def create_payment(  # noqa: PLR0913 - one payment's parts
        self,
        *,
        customer: str,
        amount: int,
        currency: str,
        reference: str,
        idempotency_key: str,
        payment_method: str | None = None,
    ) -> Answer:
        """Create (not confirm) a payment of `customer`'s saved card, for `reference`.

        With `payment_method` (found at check-in) no lookup is made; else it is found now.
        """
        method = payment_method
        if method is None:
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
