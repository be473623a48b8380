"""What a Stripe error, or a Stripe refund, means for the checkout (`payments` answers).

Plain functions over the ``stripe`` library's exceptions and a refund's data; the adapter
(`stripe_processor.py`) makes the calls. An error:

- `stripe.CardError` (HTTP 402, ``card_error``) → `Declined` with Stripe's code: the card's
  own refusal (``card_declined``, ``expired_card``, ``insufficient_funds``,
  ``incorrect_cvc``, ``authentication_required`` — an off-session payment has nobody to
  authenticate it —, ``processing_error`` — the attempt failed at the card's side and the
  payment is left without a payment method, so sending the same confirmation again cannot
  succeed: the shopper settles it). The shopper owes the amount.
- An invalid request (``invalid_request_error``):
  - ``payment_intent_unexpected_state``, ``charge_already_captured``,
    ``charge_already_refunded``, or a refusal without a code (localstripe gives none), on a
    call acting on an existing payment → `Unknown`: it may have happened already (a lost
    answer, a retry): look before anything else.
  - the customer's own state, with the same meaning as a card error
    (``authentication_required``, ``payment_intent_authentication_failure``) → `Declined`;
    ``no_payment_method`` (the customer has no saved card) is answered by the adapter
    itself, without a request, also as `Declined`: only the shopper can add a card.
  - any other code is the store's mistake → `Misconfigured`: an unknown customer, payment
    method, payment or refund (``resource_missing``, also a 404 without a code),
    ``amount_too_small`` (below Stripe's minimum charge), ``amount_too_large`` (more than
    the hold or than is left to refund), ``parameter_invalid_*``, ``parameter_missing``,
    ``parameter_unknown``, an unsupported currency, a live/test key mismatch. The shopper
    is not to blame; the same request will be refused again until the operator acts.
- The key refused: 401 (``api_key_invalid``, or Stripe's ``api_key_expired``) and 403 (a
  restricted key without the permission, ``api_key_not_permitted``) → `Misconfigured`.
- Nothing was sent (the connection could not be made, or timed out while connecting),
  rate limited (429), a 503 → `Unavailable`; but a 503 (or any 5xx) answering a refund →
  `Unknown`: a refund sent twice cannot be taken back, so the payment's refunds are looked up
  (`list_refunds`) before it is sent again.
- An idempotency key reused with other parameters (``idempotency_error``, 400) →
  `Misconfigured`: the bridge's own mistake, refused again at every retry, so it blocks the
  checkout and alerts the operator once, never owed (nothing was made) and never retried
  in silence; the same key's first request still under way (409) → `Unknown` (look or ask
  again after a backoff: it ends soon).
- The request may have been sent: the connection dropped, a timeout, any other error
  status (5xx) → `Unknown` for the calls that change something, `Unavailable` for a read
  (a read changes nothing).

A refund (``status``): ``succeeded`` → `RefundDone` with the amount Stripe reports (a
refund whose amount it does not report is `Unknown`: look again); ``pending``,
``requires_action`` (or a status this module does not know) → `Unknown` with the refund's
reference (look again later, `retrieve_refund`); ``failed``, ``canceled`` → `Declined`
with Stripe's ``failure_reason`` (else the status). A listed refund (`listed_refund`) the
same way: done, pending or failed, with the idempotency key the adapter stored in its
metadata (``bridge_key``).
"""

import logging
from http import HTTPStatus
from typing import Any, Final

import aiohttp
import stripe

from .payments import (
    Declined,
    ListedRefund,
    Misconfigured,
    RefundAnswer,
    RefundDone,
    RefundStatus,
    Unavailable,
    Unknown,
)

_LOGGER = logging.getLogger(__name__)

_LOOK_FIRST: Final = frozenset(
    {"payment_intent_unexpected_state", "charge_already_captured", "charge_already_refunded"}
)
_SHOPPER_CODES: Final = frozenset(
    {"authentication_required", "payment_intent_authentication_failure"}
)
_REFUND_ENDED: Final = frozenset({"failed", "canceled"})
REFUND_KEY: Final = "bridge_key"
"""The refund's metadata key for the idempotency key it was sent with (`ListedRefund.key`)."""

type Failure = Declined | Misconfigured | Unavailable | Unknown


def failed(  # noqa: PLR0913 - one error and what the call was
    err: stripe.StripeError,
    *,
    mutating: bool,
    payment: str | None = None,
    acts_on_payment: bool = False,
    refund: bool = False,
    quiet: bool = False,
) -> Failure:
    """What a Stripe error means for the caller (see the module's docstring); logged.

    `refund`: the call sent a refund (a server error is `Unknown` then, 503 included).
    `quiet`: logged at debug level only (a lookup in the background, tried again later).
    """
    answer = _classify(err, mutating=mutating, payment=payment, acts_on_payment=acts_on_payment)
    server_error = (err.http_status or 0) >= HTTPStatus.INTERNAL_SERVER_ERROR
    if refund and server_error and type(answer) is Unavailable:  # it may have been made
        answer = Unknown(answer.reason, payment)
    said = answer.code if isinstance(answer, Declined) else answer.reason
    level = logging.DEBUG if quiet else logging.WARNING
    _LOGGER.log(level, "Stripe: %s (%s)", type(answer).__name__.lower(), said)
    return answer


def refund_answer(data: dict[str, Any], payment: str | None = None) -> RefundAnswer:
    """What a refund's status says (see the module's docstring)."""
    refund = str(data.get("id"))
    status = data.get("status")
    amount = data.get("amount")
    if status == "succeeded":
        if isinstance(amount, int) and not isinstance(amount, bool):
            return RefundDone(refund, amount)
        return Unknown("refund amount not reported", payment, refund)
    if status in _REFUND_ENDED:
        return Declined(str(data.get("failure_reason") or status), payment)
    return Unknown(f"refund {status or 'without a status'}", payment, refund)


def listed_refund(data: dict[str, Any]) -> ListedRefund | None:
    """One refund of a list (None without an id): its status and the bridge's key, if any."""
    refund = data.get("id")
    if not isinstance(refund, str):
        return None
    amount = data.get("amount")
    status = data.get("status")
    if status == "succeeded":
        kind = RefundStatus.DONE
    elif status in _REFUND_ENDED:
        kind = RefundStatus.FAILED
    else:
        kind = RefundStatus.PENDING
    metadata = data.get("metadata")
    key = metadata.get(REFUND_KEY) if isinstance(metadata, dict) else None
    return ListedRefund(
        refund,
        amount if isinstance(amount, int) and not isinstance(amount, bool) else 0,
        kind,
        key if isinstance(key, str) else None,
    )


def _classify(
    err: stripe.StripeError, *, mutating: bool, payment: str | None, acts_on_payment: bool
) -> Failure:
    if isinstance(err, stripe.CardError):
        return Declined(err.code or "card_declined", payment)
    if isinstance(err, stripe.APIConnectionError):
        return _connection_failed(err, mutating=mutating, payment=payment)
    if isinstance(err, stripe.InvalidRequestError):
        return _invalid_request(err, payment=payment, acts_on_payment=acts_on_payment)
    if isinstance(err, stripe.AuthenticationError):
        return Misconfigured(_code(err) or "api_key_invalid", payment)
    if isinstance(err, stripe.PermissionError):
        return Misconfigured(_code(err) or "api_key_not_permitted", payment)
    return _server_said(err, mutating=mutating, payment=payment)


def _code(err: stripe.StripeError) -> str | None:
    """Stripe's code for an error (the library passes it on only for some kinds)."""
    return err.code or (err.error.code if err.error is not None else None)


def _invalid_request(
    err: stripe.InvalidRequestError, *, payment: str | None, acts_on_payment: bool
) -> Declined | Misconfigured | Unknown:
    """Look first, the shopper's own refusal, or the store's mistake."""
    code = err.code
    if code is None and err.http_status == HTTPStatus.NOT_FOUND:
        code = "resource_missing"
    if acts_on_payment and (code is None or code in _LOOK_FIRST):
        return Unknown(code or "refused without a code", payment)
    if code in _SHOPPER_CODES:
        return Declined(code, payment)
    return Misconfigured(code or "invalid_request", payment)


def _server_said(
    err: stripe.StripeError, *, mutating: bool, payment: str | None
) -> Misconfigured | Unavailable | Unknown:
    """Rate limited, a key reused with other parameters, or a server error."""
    if isinstance(err, stripe.IdempotencyError) and err.http_status != HTTPStatus.CONFLICT:
        return Misconfigured("idempotency_error", payment)
    if isinstance(err, stripe.RateLimitError):
        return Unavailable("rate limited")
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
