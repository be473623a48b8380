"""The receipts' HTTP routes: the API for the app's backend and the exit, and the receipt page.

- ``POST /v1/visits/{visit}/receipt`` ``{"email": "...", "language": "en" | "de"}`` (the API
  token): the app's backend asks for a shopper's receipt → 202 queued (sent as soon as the
  visit's checkout is done: a request may come before it is) / 400 ``invalid_address``
  (nothing stored; ``problem`` says why: ``empty``, ``too_long``, ``line_break``,
  ``not_an_address``) / 404 ``unknown_visit``.
- ``POST /v1/visits/{visit}/receipt-code`` ``{}`` (the API token): the exit's display asks
  for a one-time receipt code for a card shopper who leaves → 201
  ``{"code", "url", "expires"}``; the display shows the URL as a QR / 404 ``unknown_visit``.
- ``GET /r/{code}``: the receipt page (English or German by ``Accept-Language``): a form
  asking for the address → 200; a code already used → 410; unknown or expired → 404.
- ``POST /r/{code}`` (the page's form): → 200 thank-you page; a bad address → 400, the form
  again with the reason; a code used or expired → 410; a form from elsewhere → 403.

CSRF: the form carries a token stored with its code (only the page shows it), and a POST
whose ``Origin`` (or ``Sec-Fetch-Site``) says it came from another site is refused. The
pages allow no scripts, no framing and no referrer (the code is in the URL), and are not
cached. No address is logged or put into an answer.
"""

import hmac
import json
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web

from .core.email_address import AddressProblem
from .core.receipt import Language
from .core.receipt_page import PageKind, language_of, page
from .receipt_store import Redeemed
from .receipts import InvalidAddressError, OpenCode, Receipts, UnknownVisitError
from .storage import StorageUnavailable

RECEIPTS_KEY: Final = web.AppKey("receipts", Receipts)
RECEIPT_TOKEN_KEY: Final = web.AppKey("receipt_api_token", str)
ID_MAX: Final = 64
CODE_MAX: Final = 64
PAGE_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
_CODE_STATUS: Final = {Redeemed.USED: 410, Redeemed.EXPIRED: 404, Redeemed.UNKNOWN: 404}


def _error(status: int, code: str, message: str, **extra: str) -> web.Response:
    return web.json_response({"error": code, "message": message, **extra}, status=status)


class _RefusedError(Exception):
    """A request the API refuses; carries the answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.response = _error(status, code, message)


def _authorized(request: web.Request) -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    expected = request.app[RECEIPT_TOKEN_KEY].encode()
    sent = token.encode("utf-8", "surrogatepass")  # as sent (aiohttp keeps odd bytes so)
    if scheme.lower() != "bearer" or not hmac.compare_digest(sent, expected):
        raise _RefusedError(
            401, "unauthorized", "a valid 'Authorization: Bearer <api token>' header is required"
        )


async def _json(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    _authorized(request)
    if request.content_type != "application/json":
        raise _RefusedError(
            415, "not_json", "send a JSON object with Content-Type: application/json"
        )
    try:
        body = json.loads(await request.read() or b"{}")
    except web.HTTPRequestEntityTooLarge:
        raise _RefusedError(413, "too_large", "the body is too large") from None
    except ValueError:
        raise _RefusedError(400, "bad_json", "the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise _RefusedError(400, "bad_request", "the body must be a JSON object")
    if unknown := set(body) - allowed:
        names = ", ".join(sorted(unknown))
        raise _RefusedError(400, "bad_request", f"unknown field(s): {names}")
    return body


def _visit(request: web.Request) -> str:
    visit = request.match_info["visit"]
    if not 0 < len(visit) <= ID_MAX:
        raise _RefusedError(404, "unknown_visit", "no visit with this id")
    return visit


def _language(body: dict[str, Any]) -> Language | None:
    language = body.get("language")
    if language is None:
        return None
    if language not in {lang.value for lang in Language}:
        raise _RefusedError(400, "bad_request", "'language' must be 'en' or 'de'")
    return Language(language)


async def request_receipt(request: web.Request) -> web.Response:
    """``POST /v1/visits/{visit}/receipt``: queue a receipt for an address."""
    try:
        body = await _json(request, frozenset({"email", "language"}))
        visit = _visit(request)
        await request.app[RECEIPTS_KEY].request(visit, body.get("email"), _language(body))
    except _RefusedError as err:
        return err.response
    except InvalidAddressError as err:
        return _error(
            400, "invalid_address", "'email' must be one e-mail address", problem=err.problem
        )
    except UnknownVisitError:
        return _error(404, "unknown_visit", "no visit with this id")
    except StorageUnavailable:
        return _error(503, "storage_unavailable", "the database cannot be written right now")
    return web.json_response({"visit": visit, "receipt": "queued"}, status=202)


async def receipt_code(request: web.Request) -> web.Response:
    """``POST /v1/visits/{visit}/receipt-code``: a one-time code for the exit's QR."""
    try:
        await _json(request, frozenset())
        issued = await request.app[RECEIPTS_KEY].issue_code(_visit(request))
    except _RefusedError as err:
        return err.response
    except UnknownVisitError:
        return _error(404, "unknown_visit", "no visit with this id")
    except StorageUnavailable:
        return _error(503, "storage_unavailable", "the database cannot be written right now")
    expires = issued.expires.isoformat(timespec="seconds").replace("+00:00", "Z")
    return web.json_response(
        {"code": issued.code, "url": issued.url, "expires": expires}, status=201
    )


def _page(
    kind: PageKind,
    language: Language,
    status: int = 200,
    *,
    token: str = "",
    problem: AddressProblem | None = None,
) -> web.Response:
    return web.Response(
        text=page(kind, language, token=token, problem=problem),
        status=status,
        content_type="text/html",
        headers=PAGE_HEADERS,
    )


def _code(request: web.Request) -> str:
    code = request.match_info["code"]
    return code if len(code) <= CODE_MAX else ""


async def receipt_page(request: web.Request) -> web.Response:
    """``GET /r/{code}``: the form, or why the code cannot be used."""
    language = language_of(request.headers.get("Accept-Language", ""))
    receipts = request.app[RECEIPTS_KEY]
    try:
        found = await receipts.open_code(_code(request))
    except StorageUnavailable:
        return web.Response(status=503, text="try again in a minute", headers=PAGE_HEADERS)
    if isinstance(found, OpenCode):
        return _page(PageKind.FORM, language, token=found.form_token)
    kind = PageKind.USED if found is Redeemed.USED else PageKind.INVALID
    return _page(kind, language, _CODE_STATUS[found])


def _same_origin(request: web.Request) -> bool:
    """Whether the browser says the form was sent from this site (or says nothing)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc == request.host


async def send_form(request: web.Request) -> web.Response:
    """``POST /r/{code}``: the page's form sent."""
    form = await request.post()
    lang = form.get("lang")
    language = (
        Language(lang)
        if isinstance(lang, str) and lang in {x.value for x in Language}
        else language_of(request.headers.get("Accept-Language", ""))
    )
    token = form.get("token")
    if not _same_origin(request) or not isinstance(token, str):
        return _page(PageKind.STALE_FORM, language, 403)
    receipts = request.app[RECEIPTS_KEY]
    try:
        answer = await receipts.redeem(_code(request), token, form.get("email"), language)
    except InvalidAddressError as err:
        return _bad_address(await receipts.open_code(_code(request)), err.problem, language)
    except StorageUnavailable:
        return web.Response(status=503, text="try again in a minute", headers=PAGE_HEADERS)
    if answer is Redeemed.QUEUED:
        return _page(PageKind.THANKS, language)
    if answer is Redeemed.WRONG_FORM:
        return _page(PageKind.STALE_FORM, language, 403)
    kind = PageKind.USED if answer is Redeemed.USED else PageKind.INVALID
    return _page(kind, language, 410)


def _bad_address(
    found: OpenCode | Redeemed, problem: AddressProblem, language: Language
) -> web.Response:
    if isinstance(found, OpenCode):
        return _page(PageKind.FORM, language, 400, token=found.form_token, problem=problem)
    kind = PageKind.USED if found is Redeemed.USED else PageKind.INVALID
    return _page(kind, language, 410)


def add_routes(app: web.Application, receipts: Receipts, api_token: str) -> None:
    """Add the receipts' routes to the bridge's application."""
    app[RECEIPTS_KEY] = receipts
    app[RECEIPT_TOKEN_KEY] = api_token
    app.router.add_post("/v1/visits/{visit}/receipt", request_receipt)
    app.router.add_post("/v1/visits/{visit}/receipt-code", receipt_code)
    app.router.add_get("/r/{code}", receipt_page)
    app.router.add_post("/r/{code}", send_form)
