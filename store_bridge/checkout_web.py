"""The checkout's HTTP API (operator, with the API token like every write endpoint).

- ``GET /v1/visits/{visit}/checkout``: where a visit's checkout stands (phase, amounts,
  currency, reason; never a reference) → 200 / 404.
- ``POST /v1/visits/{visit}/refund`` ``{"amount": n}`` (minor units) or
  ``{"items": [{"sku": "...", "quantity": n}, …]}`` (at the cart's prices): refunds the
  visit's captured payment, once (one refund per visit, `core/refund.py`; items at the
  lines the checkout charged) → 200 done / 202 not known yet: still to be sent (the
  processor is unreachable; retried), pending at the processor or its answer lost
  (``uncertain``: the bridge looks it up until the processor says; it is never sent twice) /
  409 refused (``reason``: ``nothing_captured``, ``already_refunded``, ``amount_too_large``,
  ``not_in_cart``) / 502 the processor declined it, or an uncertain refund the bridge cannot
  look up (look it up in the processor's dashboard).
- ``POST /v1/visits/{visit}/refund/settle`` ``{"outcome": "refunded"|"not_refunded"}``: the
  operator looked an ``uncertain`` refund up in the processor's dashboard and closes it,
  stored durably before the answer: ``refunded`` → ``done`` (counted in the day's refunds and
  announced by ``refund_issued``, as any refund done), ``not_refunded`` → ``failed`` (nothing
  refunded: a new refund may be asked for) → 200 with the refund / 404 no refund for the
  visit / 409 ``not_uncertain`` with the refund as it stands (the processor answered first,
  or it is still to be sent: its answer stands) / 400 a bad body.
- ``POST /v1/visits/{visit}/checkout/retry`` ``{}``: the operator fixed what the processor
  said was wrong with the store's setup (``store_misconfigured``): the visit's blocked
  checkout goes on → 200 with where it stands / 404 no checkout / 409 ``not_blocked`` (not
  blocked, or already going on: a second retry at once) / 409 ``not_retryable`` (blocked for
  good: no customer, mixed currencies, a hold not capturable; see `core/checkout.py`).
- ``POST /v1/accounts/settle`` ``{"account": "<reference>"}``: an operator settled what an
  account owed after a declined payment; its check-ins are admitted again → 200 with what it
  owed, by currency.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import checkout_store
from .checkout_remote import CheckoutRemote, CheckoutUnavailable
from .checkout_runner import CheckoutRunner
from .core.checkout import Checkout, Phase
from .core.refund import (
    Refund,
    RefundPhase,
    RefundRefused,
    Settlement,
    items_amount,
    pending,
)
from .storage import StorageUnavailable
from .web import BRIDGE_KEY, ID_MAX, BadRequestError, _authorized, _body, _guarded, _text

MAX_ITEMS = 100

type Handler = Callable[[web.Request], Awaitable[web.Response]]


def _runner(request: web.Request) -> CheckoutRunner | CheckoutRemote:
    bridge = request.app[BRIDGE_KEY]
    runner = bridge.checkout or bridge.checkout_remote
    if runner is None:
        raise BadRequestError(404, "no_checkout", "this store has no [payments] configured")
    return runner


def _available(handler: Handler) -> Handler:
    """`serve`'s checkout process down (`checkout_remote.py`): 503, never a guess."""

    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except CheckoutUnavailable:
            return web.json_response(
                {
                    "error": "checkout_unavailable",
                    "message": "the checkout process is not running; try again shortly",
                },
                status=503,
            )

    return wrapped


def _visit(request: web.Request) -> str:
    visit = request.match_info["visit"]
    if len(visit) > ID_MAX:
        raise BadRequestError(404, "unknown_visit", "no checkout for this visit")
    return visit


def _items(raw: object) -> list[tuple[str, int]]:
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_ITEMS:
        raise BadRequestError(400, "bad_request", f"'items' must be a list of 1-{MAX_ITEMS}")
    items: list[tuple[str, int]] = []
    for item in raw:
        sku = item.get("sku") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if (
            not isinstance(sku, str)
            or not 0 < len(sku) <= ID_MAX
            or isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or quantity <= 0
        ):
            raise BadRequestError(
                400, "bad_request", "each item is {'sku': text, 'quantity': whole number > 0}"
            )
        items.append((sku, quantity))
    return items


@_guarded
@_available
async def checkout_state(request: web.Request) -> web.Response:
    """``GET /v1/visits/{visit}/checkout``."""
    _authorized(request)
    runner = _runner(request)
    try:
        found = await runner.find(_visit(request))
    except StorageUnavailable:
        return web.json_response(
            {"error": "storage_unavailable", "message": "the database cannot be read"}, status=503
        )
    if found is None:
        raise BadRequestError(404, "unknown_visit", "no checkout for this visit")
    return web.json_response(_state(found))


@_guarded
@_available
async def refund(request: web.Request) -> web.Response:
    """``POST /v1/visits/{visit}/refund``."""
    body = await _body(request, frozenset({"amount", "items"}))
    runner = _runner(request)
    visit = _visit(request)
    if ("amount" in body) == ("items" in body):
        raise BadRequestError(400, "bad_request", "send exactly one of 'amount' or 'items'")
    try:
        if "items" in body:
            lines = await request.app[BRIDGE_KEY].db.call(
                lambda store: checkout_store.charged_lines(store.db, visit)
            )
            amount = items_amount(lines or (), _items(body["items"]))
        else:
            amount = body["amount"]
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise BadRequestError(400, "bad_request", "'amount' must be a whole number > 0")
        done = await runner.refund(visit, amount)
    except RefundRefused as err:
        return web.json_response(
            {"error": "refund_refused", "reason": str(err), "message": "no refund was made"},
            status=409,
        )
    status = 200 if done.phase is RefundPhase.DONE else 202 if pending(done) else 502
    return web.json_response(_refund_state(done), status=status)


def _refund_state(refund: Refund) -> dict[str, Any]:
    """A refund as the API shows it (never a reference)."""
    return {
        "visit": refund.visit,
        "phase": refund.phase.value,
        "amount": refund.amount,
        "currency": refund.currency,
        "reason": refund.reason,
    }


@_guarded
@_available
async def settle_refund(request: web.Request) -> web.Response:
    """``POST /v1/visits/{visit}/refund/settle``."""
    body = await _body(request, frozenset({"outcome"}))
    runner = _runner(request)
    visit = _visit(request)
    outcomes = {item.value: item for item in Settlement}
    outcome = outcomes.get(body["outcome"]) if isinstance(body.get("outcome"), str) else None
    if outcome is None:
        raise BadRequestError(400, "bad_request", "'outcome' must be 'refunded' or 'not_refunded'")
    found, settled = await runner.settle_refund(visit, outcome)
    if found is None:
        raise BadRequestError(404, "unknown_refund", "no refund for this visit")
    if not settled:
        message = "only an uncertain refund can be settled; this one stands as it is"
        return web.json_response(
            {"error": "not_uncertain", "message": message, **_refund_state(found)}, status=409
        )
    return web.json_response(_refund_state(found))


def _state(found: Checkout) -> dict[str, Any]:
    return {
        "visit": found.visit,
        "phase": found.phase.value,
        "total": found.total,
        "captured": found.captured,
        "outstanding": found.outstanding,
        "currency": found.currency,
        "reason": found.reason,
        "attempts": found.attempts,
    }


@_guarded
@_available
async def retry(request: web.Request) -> web.Response:
    """``POST /v1/visits/{visit}/checkout/retry``."""
    await _body(request, frozenset())
    runner = _runner(request)
    found, retried = await runner.retry(_visit(request))
    if found is None:
        raise BadRequestError(404, "unknown_visit", "no checkout for this visit")
    if retried:  # going on (again)
        return web.json_response(_state(found))
    if found.phase is Phase.BLOCKED:  # blocked for good: asking again cannot help
        error, message = "not_retryable", "asking the processor again cannot help"
    else:
        error, message = "not_blocked", "this checkout is not waiting for the store's setup"
    return web.json_response({"error": error, "message": message, **_state(found)}, status=409)


@_guarded
@_available
async def settle(request: web.Request) -> web.Response:
    """``POST /v1/accounts/settle``."""
    body = await _body(request, frozenset({"account"}))
    runner = _runner(request)
    account = _text(body, "account", 128)
    if account is None:
        raise BadRequestError(400, "bad_request", "send 'account'")
    owed = await runner.settle(account)
    return web.json_response({"settled": owed})


def add_routes(app: web.Application) -> None:
    """The checkout's routes."""
    app.router.add_get("/v1/visits/{visit}/checkout", checkout_state)
    app.router.add_post("/v1/visits/{visit}/refund", refund)
    app.router.add_post("/v1/visits/{visit}/refund/settle", settle_refund)
    app.router.add_post("/v1/visits/{visit}/checkout/retry", retry)
    app.router.add_post("/v1/accounts/settle", settle)
