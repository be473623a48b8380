"""The bridge's HTTP API and status page (aiohttp).

Write endpoints need ``Authorization: Bearer <api token>`` (the kiosk, the reader
controller or the card-terminal integration holds it). Bodies are JSON objects of at most
16 KiB. Every bad request gets a JSON error ``{"error": <code>, "message": <text>}`` and
changes nothing.

- ``POST /v1/gates/{gate}/check-in`` ``{"qr": "<app QR text>"}`` or
  ``{"card_token": "<processor token>"}`` → 200 opened / 403 refused (``reason``) /
  502 the gate could not be commanded.
- ``POST /v1/gates/{gate}/exit`` ``{}``, ``{"visit": id}`` or ``{"track": id}`` → 200
  (the exit opens for everyone) / 502.
- ``POST /v1/gates/{gate}/signal`` ``{"kind": "opened" | "closed"}``: a controller without
  its own channel reports its door contact.
- ``POST /v1/terminals/{terminal}/tap`` ``{"card_token": ...}``: a card terminal's
  integration reports a tap; it checks in at the terminal's gate (answers as check-in).
- ``GET /v1/visits/{visit}/cart``: a session's virtual cart (lines with the shelf changes
  behind them, total, picks held, whether a track is bound) → 200 / 404 (`cart_views.py`).
- ``GET /v1/reviews``: the picks waiting for an operator, with their candidate sessions.
- ``POST /v1/reviews/{review}`` ``{"visit": id}`` (the pick is that session's) or
  ``{"visit": null}`` (nobody's) → 200 once stored / 404 unknown review / 409 not a candidate,
  or that visit's checkout has started.
  These three need the API token as well.
- ``GET /v1/status``: occupancy, gates and their states, counters, refusals in the last hour,
  the last events (type, gate, reason, time), broker and outbox state, shelves, and with a
  checkout its counts, sales today and receipts (`checkout_status.py`; JSON).
- ``GET /``: the same as a page for the store's owner that refreshes itself (`status_page.py`).
"""

import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web

from . import words
from .bridge import Bridge, Decision, UnknownGateError
from .cart_views import cart_json, review_json, shelves
from .carts import Carts, CheckoutStarted
from .gates.base import GateSignal, SignalKind
from .receipt_web import add_routes as add_receipt_routes
from .receipts import Receipts
from .status_page import GateRow, Outbox, PageData, render
from .storage import StorageUnavailable
from .terminals import CardTap, UnknownTerminalError, WebhookTerminals
from .vocabulary import format_wire_time

MAX_BODY: Final = 16 * 1024
BRIDGE_KEY: Final = web.AppKey("bridge", Bridge)
TOKEN_KEY: Final = web.AppKey("api_token", str)
TERMINALS_KEY: Final = web.AppKey("terminals", WebhookTerminals)
ID_MAX: Final = 64


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


class BadRequestError(Exception):
    """A request the API refuses; carries the answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        """Keep the answer."""
        super().__init__(message)
        self.response = _error(status, code, message)


def _sent_bytes(text: str) -> bytes | None:
    """A header value's bytes as they came over the wire; None if it cannot have come so.

    aiohttp keeps bytes that are not UTF-8 as lone surrogates (``surrogateescape``).
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None


def _authorized(request: web.Request) -> None:
    expected = request.app[TOKEN_KEY]
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    sent = _sent_bytes(token)
    if (
        scheme.lower() != "bearer"
        or sent is None
        or not hmac.compare_digest(sent, expected.encode())
    ):
        raise BadRequestError(
            401, "unauthorized", "a valid 'Authorization: Bearer <api token>' header is required"
        )


async def _body(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    _authorized(request)
    if request.content_type != "application/json":
        raise BadRequestError(
            415, "not_json", "send a JSON object with Content-Type: application/json"
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise BadRequestError(
            413, "too_large", f"the body may be at most {MAX_BODY} bytes"
        ) from None
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        raise BadRequestError(400, "bad_json", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequestError(400, "bad_request", "the body must be a JSON object")
    if unknown := set(body) - allowed:
        names = ", ".join(sorted(map(str, unknown)))
        raise BadRequestError(400, "bad_request", f"unknown field(s): {names}")
    return body


def _gate_id(request: web.Request) -> str:
    gate = request.match_info["gate"]
    if gate not in request.app[BRIDGE_KEY].gates:
        raise BadRequestError(404, "unknown_gate", "no gate with this id")
    return gate


def _text(body: dict[str, Any], name: str, limit: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise BadRequestError(
            400, "bad_request", f"'{name}' must be a text of 1-{limit} characters"
        )
    return value


def _answer(decision: Decision) -> web.Response:
    status = 200 if decision.opened else 403 if decision.outcome.value == "denied" else 502
    return web.json_response(decision.to_json(), status=status)


def _guarded(handler: Any) -> Any:  # noqa: ANN401 - a decorator over aiohttp handlers
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)  # type: ignore[no-any-return]
        except BadRequestError as err:
            return err.response
        except UnknownGateError:
            return _error(404, "unknown_gate", "no gate with this id")
        except UnknownTerminalError:
            return _error(404, "unknown_terminal", "no card terminal with this id")

    return wrapped


@_guarded
async def check_in(request: web.Request) -> web.Response:
    """A credential presented at an entry gate."""
    body = await _body(request, frozenset({"qr", "card_token"}))
    gate = _gate_id(request)
    qr, card = _text(body, "qr", 4096), _text(body, "card_token", 256)
    if (qr is None) == (card is None):
        raise BadRequestError(400, "bad_request", "send exactly one of 'qr' or 'card_token'")
    bridge = request.app[BRIDGE_KEY]
    if qr is not None:
        return _answer(await bridge.check_in_qr(gate, qr))
    assert card is not None  # noqa: S101 - one of the two, checked above
    return _answer(await bridge.check_in_card(gate, card))


@_guarded
async def terminal_tap(request: web.Request) -> web.Response:
    """A card terminal's integration reports a tap (the processor's token for the card)."""
    body = await _body(request, frozenset({"card_token"}))
    terminals = request.app[TERMINALS_KEY]
    terminal = request.match_info["terminal"]
    if terminal not in terminals.gates:
        raise UnknownTerminalError(terminal)
    card = _text(body, "card_token", 256)
    if card is None:
        raise BadRequestError(400, "bad_request", "send 'card_token'")
    return _answer(await terminals.tap(CardTap(terminal, card)))


@_guarded
async def leave(request: web.Request) -> web.Response:
    """Someone at an exit gate (identified or not)."""
    body = await _body(request, frozenset({"visit", "track"}))
    gate = _gate_id(request)
    visit, track = _text(body, "visit", ID_MAX), _text(body, "track", ID_MAX)
    return _answer(await request.app[BRIDGE_KEY].exit(gate, visit_id=visit, track_id=track))


@_guarded
async def signal(request: web.Request) -> web.Response:
    """A controller reports its door contact."""
    body = await _body(request, frozenset({"kind"}))
    gate = _gate_id(request)
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in {SignalKind.OPENED.value, SignalKind.CLOSED.value}:
        raise BadRequestError(400, "bad_request", "'kind' must be 'opened' or 'closed'")
    request.app[BRIDGE_KEY].on_signal(GateSignal(gate, SignalKind(kind)))
    return web.json_response({"gate": gate, "kind": kind}, status=202)


def _carts(request: web.Request) -> Carts:
    _authorized(request)
    carts = request.app[BRIDGE_KEY].carts
    if carts is None:
        raise BadRequestError(404, "no_shelves", "this store has no shelf lanes configured")
    return carts


@_guarded
async def visit_cart(request: web.Request) -> web.Response:
    """``GET /v1/visits/{visit}/cart``: a session's cart as it stands."""
    carts = _carts(request)
    visit = request.match_info["visit"]
    try:
        cart = await carts.find(visit) if len(visit) <= ID_MAX else None
    except StorageUnavailable:
        return _error(503, "storage_unavailable", "the database cannot be read right now")
    if cart is None:
        return _error(404, "unknown_visit", "no cart for this visit")
    return web.json_response(cart_json(cart))


@_guarded
async def reviews(request: web.Request) -> web.Response:
    """``GET /v1/reviews``: the picks waiting for an operator."""
    return web.json_response({"reviews": [review_json(r) for r in _carts(request).reviews()]})


@_guarded
async def resolve_review(request: web.Request) -> web.Response:
    """``POST /v1/reviews/{review}``: an operator says whose pick it was (or nobody's)."""
    body = await _body(request, frozenset({"visit"}))
    carts = _carts(request)
    if "visit" not in body:
        raise BadRequestError(400, "bad_request", "send 'visit': a candidate's id, or null")
    visit = _text(body, "visit", ID_MAX)
    review = request.match_info["review"]
    try:
        await carts.resolve(review, visit)
    except KeyError:
        return _error(404, "unknown_review", "no review with this id is waiting")
    except ValueError:
        return _error(409, "not_a_candidate", "that visit could not have made this pick")
    except CheckoutStarted:
        return _error(409, "checkout_started", "that visit's cart is being charged already")
    return web.json_response({"review": review, "visit": visit})


async def _outbox(bridge: Bridge) -> tuple[int | None, datetime | None]:
    """Events not yet published (database and memory) and when the oldest was recorded."""
    try:
        waiting, oldest = await bridge.db.call(lambda store: store.outbox_state())
    except StorageUnavailable:
        return None, None
    times = [] if oldest is None else [datetime.fromtimestamp(oldest, UTC)]
    held = bridge.backlog.events()
    times += [datetime.fromisoformat(held[0]["time"])] if held else []
    return waiting + len(held), min(times, default=None)


async def status_json(request: web.Request) -> dict[str, Any]:
    """What the status endpoint and page show."""
    bridge = request.app[BRIDGE_KEY]
    publisher = bridge.publisher
    now = bridge.clock()
    waiting, oldest = await _outbox(bridge)
    activity = bridge.activity
    return {
        **bridge.status(),
        "inside_sessions": len(bridge.inside),
        "counters": dict(bridge.counters),
        "denials": dict(sorted(bridge.denials.items())),
        "refusals_last_hour": activity.refusals(now),
        "gate_states": {
            gate: {"state": state.state, "since": format_wire_time(state.since)}
            for gate, state in activity.gates.items()
        },
        "recent_events": [
            {
                "type": seen.type,
                "gate": seen.gate,
                "reason": seen.reason,
                "time": format_wire_time(seen.when),
            }
            for seen in activity.recent
        ],
        "broker": None
        if publisher is None
        else {"connected": publisher.connected, "published": publisher.published},
        "outbox_pending": None if publisher is None else waiting,
        "outbox": {
            "waiting": waiting,
            "oldest": None if oldest is None else format_wire_time(oldest),
        },
        "updated": format_wire_time(now),
    }


async def status(request: web.Request) -> web.Response:
    """``GET /v1/status``."""
    return web.json_response(await status_json(request))


async def page(request: web.Request) -> web.Response:
    """``GET /``: the status page (`status_page.py`), which reloads itself."""
    bridge = request.app[BRIDGE_KEY]
    now = bridge.clock()
    waiting, oldest = await _outbox(bridge)
    publisher = bridge.publisher
    link = "none" if publisher is None else "connected" if publisher.connected else "disconnected"
    activity = bridge.activity
    data = PageData(
        name=bridge.settings.name,
        occupancy=bridge.occupancy,
        capacity=bridge.settings.capacity,
        tally=words.tally(bridge.counters, bridge.occupancy, bridge.settings.capacity),
        gates=[
            GateRow(info.name, info.gate.role.value, activity.gates.get(gate))
            for gate, info in bridge.gates.items()
        ],
        outbox=Outbox(waiting, oldest, link),
        refusals=activity.refusals(now),
        recent=list(activity.recent),
        gate_names={gate: info.name for gate, info in bridge.gates.items()},
        started=activity.started,
        now=now,
        shelves=None if bridge.carts is None else shelves(bridge.carts),
        checkout=None if bridge.checkout_status is None else bridge.checkout_status.current,
    )
    return web.Response(text=render(data), content_type="text/html")


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:  # noqa: ANN401
    """Answer aiohttp's own refusals (unknown path, wrong method) with JSON errors too."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as err:
        if err.status < 400:  # noqa: PLR2004 - redirects stay as they are
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status, "bad_request")
        return _error(err.status, code, err.reason)
    return response


def make_app(
    bridge: Bridge,
    api_token: str,
    terminals: Mapping[str, str] | None = None,
    receipts: Receipts | None = None,
) -> web.Application:
    """The aiohttp application for a started bridge; `terminals` maps card terminals to gates."""
    app = web.Application(client_max_size=MAX_BODY, middlewares=[json_errors])
    app[BRIDGE_KEY] = bridge
    app[TOKEN_KEY] = api_token
    app[TERMINALS_KEY] = WebhookTerminals(bridge, terminals or {})
    app.router.add_post("/v1/gates/{gate}/check-in", check_in)
    app.router.add_post("/v1/gates/{gate}/exit", leave)
    app.router.add_post("/v1/gates/{gate}/signal", signal)
    app.router.add_post("/v1/terminals/{terminal}/tap", terminal_tap)
    app.router.add_get("/v1/visits/{visit}/cart", visit_cart)
    app.router.add_get("/v1/reviews", reviews)
    app.router.add_post("/v1/reviews/{review}", resolve_review)
    app.router.add_get("/v1/status", status)
    app.router.add_get("/", page)
    if receipts is not None:  # receipts on request (`receipt_web.py`)
        add_receipt_routes(app, receipts, api_token)
    from . import checkout_web  # noqa: PLC0415 - it builds on this module

    checkout_web.add_routes(app)  # the checkout's refunds and settlements
    return app
