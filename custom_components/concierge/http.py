"""Courier entry and guest links over HTTP, served by Home Assistant without a login.

The token is the credential. Answers leak nothing useful to an attacker: every problem
found before the signature is known to be good (malformed, wrong algorithm, unknown
carrier or key, bad signature) gets the same `401 invalid_token`; a correctly signed
token that is refused gets `403` with its reason code, which the carrier's system needs
(expired, outside the window, another carrier's grant, pets at home...).

A refusal of a correctly signed token is a genuine attempt: its own access-denied event.
A refusal of a request not proven genuine (the `401`s, the per-client `429`, a `413`) is
only counted, and recorded as one summary per reason and interval (`Gatekeeper`,
`core/refusal_tally.py`): junk from anyone cannot grow the audit log by a record each.

A body is read only up to `MAX_BODY` bytes as received (chunked or compressed alike):
a longer one gets `413 body_too_large`. The per-client budget (`Gatekeeper`) counts
requests not proven genuine; a courier token's record is on disk before the door opens.
"""

import json
import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from . import guest_page
from .const import DOMAIN
from .core.deny import DenyReason, TokenRejected
from .core.events import AccessEventType, Outcome, Source
from .core.guest_links import verify_guest_link
from .core.refusal_tally import RefusalSummary, is_counted
from .courier_check import courier_grant, refusal_status, verified_claims
from .gatekeeper import COURIER_URL, GUEST_URL, RecordSummary
from .visit_admission import AccessDenied

if TYPE_CHECKING:
    from .coordinator import ConciergeCoordinator
    from .site_runtime import ConciergeConfigEntry

_LOGGER = logging.getLogger(__name__)

MAX_BODY = 8192


def _answer(status: HTTPStatus, error: str | None = None, **extra: str) -> web.Response:
    body: dict[str, str] = {"status": "ok" if error is None else "denied", **extra}
    if error is not None:
        body["error"] = error
    headers = {"Cache-Control": "no-store"}
    if status is HTTPStatus.TOO_MANY_REQUESTS:
        headers["Retry-After"] = "10"
    return web.json_response(body, status=status, headers=headers)


def _site(hass: HomeAssistant, site: str) -> ConciergeCoordinator | None:
    """The loaded home site `site`; None for a store (no doors to open from here) or none."""
    entry: ConciergeConfigEntry | None = hass.config_entries.async_get_entry(site)
    if entry is None or entry.domain != DOMAIN or entry.state is not ConfigEntryState.LOADED:
        return None
    return entry.runtime_data.home


class BodyTooLargeError(Exception):
    """The request body is longer than `MAX_BODY` bytes (as read, whatever its headers say)."""


async def _read_body(request: web.Request) -> bytes:
    """The body as received (chunks joined, a `Content-Encoding` undone), at most `MAX_BODY`.

    Counts the bytes actually read, never trusting `Content-Length`: a chunked body or a
    small gzip body that inflates to megabytes is stopped at `MAX_BODY` + 1 bytes.
    """
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise BodyTooLargeError
    body = bytearray()
    while chunk := await request.content.read(MAX_BODY + 1 - len(body)):
        body += chunk
        if len(body) > MAX_BODY:
            raise BodyTooLargeError
    return bytes(body)


async def _token(request: web.Request) -> str | None:
    """The token from `Authorization: Bearer` or a JSON body `{"token": ...}`.

    Raises `BodyTooLargeError` for a body longer than `MAX_BODY` bytes.
    """
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ").strip() or None
    try:
        body: Any = json.loads(await _read_body(request))
    except ValueError:  # not JSON
        return None
    token = body.get("token") if isinstance(body, dict) else None
    return token if isinstance(token, str) and token else None


async def _request_token(
    coordinator: ConciergeCoordinator, request: web.Request, source: Source
) -> str | web.Response:
    """The request's token, or the refusal of a request without one (or too big to read)."""
    try:
        token = await _token(request)
    except BodyTooLargeError:
        return await _refuse(coordinator, request, DenyReason.BODY_TOO_LARGE, source)
    if token is None:
        return await _refuse(coordinator, request, DenyReason.MALFORMED, source)
    return token


def _recorder(coordinator: ConciergeCoordinator) -> RecordSummary:
    """Records a summary of counted refusals as one access-denied event (counts, no token)."""

    async def record(summary: RefusalSummary) -> None:
        await coordinator.async_emit(
            AccessEventType.ACCESS_DENIED, Outcome.DENIED, source=summary.source,
            reason=summary.reason.value, data=summary.data(),
        )  # fmt: skip
        coordinator.save_and_publish()

    return record


async def _refuse(
    coordinator: ConciergeCoordinator,
    request: web.Request,
    reason: DenyReason,
    source: Source,
    *,
    signature_proven: bool = False,
) -> web.Response:
    """Refuse: count an unproven request's refusal, record a genuine attempt's; answer."""
    if is_counted(reason, signature_proven=signature_proven):
        await coordinator.gate.async_count_refusal(
            reason, source, _client(request), coordinator.now(), _recorder(coordinator)
        )
    else:
        await coordinator.async_emit(
            AccessEventType.ACCESS_DENIED, Outcome.DENIED, source=source, reason=reason.value
        )
        coordinator.save_and_publish()
    return _answer(*refusal_status(reason))


async def _open(coordinator: ConciergeCoordinator, grant_id: str, source: Source) -> web.Response:
    """Run the visit flow for a verified request."""
    grant = coordinator.site_data.grants[grant_id]
    portal = coordinator.site.portal(grant.portals[0])
    if portal is None:
        return _answer(HTTPStatus.SERVICE_UNAVAILABLE, "portal_missing")
    try:
        visit = await coordinator.flow.async_request(grant, portal, source)
    except AccessDenied as err:
        return _answer(HTTPStatus.FORBIDDEN, err.reason.value)
    except HomeAssistantError:
        return _answer(HTTPStatus.BAD_GATEWAY, "unlock_failed")
    return _answer(HTTPStatus.OK, visit=visit.id)


def _client(request: web.Request) -> str:
    """Whom the per-client rate limit counts: the remote address."""
    return request.remote or "unknown"


class CourierView(HomeAssistantView):
    """`POST /api/concierge/<site>/courier`: a carrier's signed request to enter."""

    url = COURIER_URL
    name = "api:concierge:courier"
    requires_auth = False

    async def post(  # noqa: PLR0911 - one answer per refusal
        self, request: web.Request, site: str
    ) -> web.Response:
        """Verify the token, then run the visit flow."""
        hass = request.app[KEY_HASS]
        if (coordinator := _site(hass, site)) is None:
            return _answer(HTTPStatus.NOT_FOUND, "unknown_site")
        now = coordinator.now()  # site time: never goes backwards
        source = Source.COURIER_TOKEN
        gate, client = coordinator.gate, _client(request)
        if not gate.admit_client(client, now):
            return await _refuse(coordinator, request, DenyReason.RATE_LIMITED, source)
        if isinstance(token := await _request_token(coordinator, request, source), web.Response):
            return token
        try:
            claims = verified_claims(coordinator, token, now)
        except TokenRejected as err:  # counted if it may come before the signature is proven
            return await _refuse(coordinator, request, err.reason, source)
        try:
            # Recorded as used, and on disk, before anything can open the door.
            await gate.async_admit_courier(claims, client, now)
        except TokenRejected as err:  # replayed, or rate_limited (carrier, full cache)
            return await _refuse(coordinator, request, err.reason, source, signature_proven=True)
        found = courier_grant(
            coordinator, claims.carrier_id, (claims.not_before, claims.expires), now
        )
        if isinstance(found, DenyReason):
            return await _refuse(coordinator, request, found, source, signature_proven=True)
        return await _open(coordinator, found, source)


class GuestView(HomeAssistantView):
    """`GET` the guest page; `POST` its "Open the door" with the link's token."""

    url = GUEST_URL
    name = "api:concierge:guest"
    requires_auth = False

    async def get(self, request: web.Request, site: str) -> web.Response:
        """The page. The token stays in the URL's fragment, which browsers never send."""
        hass = request.app[KEY_HASS]
        if _site(hass, site) is None:
            return web.Response(status=HTTPStatus.NOT_FOUND, text="Not found")
        return guest_page.page_response(request)

    async def post(self, request: web.Request, site: str) -> web.Response:
        """Open the door, or (`?check`) say what the page shows; the answer says it in words."""
        return guest_page.told(request, await self._post(request, site))

    async def _post(  # noqa: PLR0911 - one answer per refusal
        self, request: web.Request, site: str
    ) -> web.Response:
        """Open the door for a valid, unrevoked link inside its grant's window."""
        hass = request.app[KEY_HASS]
        if (coordinator := _site(hass, site)) is None:
            return _answer(HTTPStatus.NOT_FOUND, "unknown_site")
        now = coordinator.now()  # site time: never goes backwards
        source = Source.GUEST_LINK
        if not coordinator.gate.admit_client(_client(request), now):
            return await _refuse(coordinator, request, DenyReason.RATE_LIMITED, source)
        if isinstance(token := await _request_token(coordinator, request, source), web.Response):
            return token
        if guest_page.is_check(request):
            look = guest_page.check_response(coordinator, request, token, now)
            if isinstance(look, DenyReason):
                return await _refuse(coordinator, request, look, source)
            return look
        if coordinator.site_data.link_secret is None:
            return await _refuse(coordinator, request, DenyReason.MALFORMED, source)
        links = coordinator.site_data.guest_links
        try:
            claims = verify_guest_link(
                token,
                secret=bytes.fromhex(coordinator.site_data.link_secret),
                site=coordinator.site_id,
                now=now,
                revoked={k for k, v in links.items() if v.get("revoked")},
            )
        except TokenRejected as err:  # counted if it may come before the signature is proven
            return await _refuse(coordinator, request, err.reason, source)
        grant = coordinator.site_data.grants.get(claims.grant_id)
        if grant is None or claims.link_id not in links:
            return await _refuse(
                coordinator, request, DenyReason.LINK_REVOKED, source, signature_proven=True
            )
        return await _open(coordinator, grant.id, source)


def async_register_views(hass: HomeAssistant) -> None:
    """Serve the courier endpoint and the guest page (once, for every site)."""
    hass.http.register_view(CourierView())
    hass.http.register_view(GuestView())
