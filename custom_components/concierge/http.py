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
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .const import DOMAIN
from .core.courier_tokens import verify_courier_token
from .core.deny import DenyReason, TokenRejected
from .core.events import AccessEventType, Outcome, Source
from .core.grant_carriers import admits_carrier
from .core.grants import GrantState
from .core.guest_links import verify_guest_link
from .core.refusal_tally import RefusalSummary, is_counted
from .core.schedule_times import current_interval
from .gatekeeper import COURIER_URL, GUEST_URL, RecordSummary
from .visit_admission import AccessDenied

if TYPE_CHECKING:
    from .coordinator import ConciergeCoordinator
    from .site_runtime import ConciergeConfigEntry

_LOGGER = logging.getLogger(__name__)

MAX_BODY = 8192
LEEWAY = timedelta(seconds=30)

UNVERIFIED: frozenset[DenyReason] = frozenset(
    {
        DenyReason.MALFORMED,
        DenyReason.ALG_NOT_ALLOWED,
        DenyReason.UNKNOWN_CARRIER,
        DenyReason.UNKNOWN_KEY,
        DenyReason.BAD_SIGNATURE,
    }
)
"""Refusals before the signature is proven: all answered alike, as `invalid_token`."""


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
    if reason in UNVERIFIED:
        return _answer(HTTPStatus.UNAUTHORIZED, "invalid_token")
    if reason is DenyReason.RATE_LIMITED:
        return _answer(HTTPStatus.TOO_MANY_REQUESTS, reason.value)
    if reason is DenyReason.BODY_TOO_LARGE:
        return _answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, reason.value)
    return _answer(HTTPStatus.FORBIDDEN, reason.value)


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
            claims = verify_courier_token(
                token,
                carriers=coordinator.carriers,
                audience=coordinator.site_id,
                now=now,
                expected_address=coordinator.site.delivery_address,
            )
        except TokenRejected as err:  # counted if it may come before the signature is proven
            return await _refuse(coordinator, request, err.reason, source)
        try:
            # Recorded as used, and on disk, before anything can open the door.
            await gate.async_admit_courier(claims, client, now)
        except TokenRejected as err:  # replayed, or rate_limited (carrier, full cache)
            return await _refuse(coordinator, request, err.reason, source, signature_proven=True)
        found = _courier_grant(
            coordinator, claims.carrier_id, (claims.not_before, claims.expires), now
        )
        if isinstance(found, DenyReason):
            return await _refuse(coordinator, request, found, source, signature_proven=True)
        return await _open(coordinator, found, source)


def _courier_grant(
    coordinator: ConciergeCoordinator,
    carrier_id: str,
    valid: tuple[datetime, datetime],
    now: datetime,
) -> str | DenyReason:
    """The active courier grant of the token's carrier whose window holds it, or why none does.

    `valid` is the token's (not before, expires); a grant naming carriers admits only theirs.
    """
    not_before, expires = valid
    courier = [g for g in coordinator.site_data.grants.values() if g.credentials.remote_token]
    if not courier:
        return DenyReason.NO_COURIER_GRANT
    courier = [g for g in courier if admits_carrier(g.carriers, carrier_id)]
    if not courier:
        return DenyReason.WRONG_CARRIER
    states = {g.id: coordinator.state_of(g.id) for g in courier}
    for grant in sorted(courier, key=lambda g: g.created_at):
        if states[grant.id] is not GrantState.ACTIVE:
            continue
        window = current_interval(grant.schedule, coordinator.tz, now)
        if window is None:
            continue
        if not_before >= window.start - LEEWAY and expires <= window.end + LEEWAY:
            return grant.id
    blocked = {
        GrantState.REVOKED: DenyReason.GRANT_REVOKED,
        GrantState.USED_UP: DenyReason.GRANT_USED_UP,
        GrantState.SUSPENDED: DenyReason.GRANT_SUSPENDED,
    }
    for state, reason in blocked.items():
        if any(s is state for s in states.values()) and not any(
            s is GrantState.ACTIVE for s in states.values()
        ):
            return reason
    return DenyReason.OUTSIDE_WINDOW


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
        return web.Response(
            text=GUEST_PAGE,
            content_type="text/html",
            headers={
                "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer",
                # Home Assistant sets its own X-Frame-Options (SAMEORIGIN) over this one;
                # frame-ancestors 'none' keeps the page out of every frame all the same.
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": (
                    "default-src 'none'; script-src 'unsafe-inline'; "
                    "style-src 'unsafe-inline'; connect-src 'self'; form-action 'none'; "
                    "frame-ancestors 'none'"
                ),
            },
        )

    async def post(  # noqa: PLR0911 - one answer per refusal
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


GUEST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Concierge</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;min-height:100vh;display:flex;
align-items:center;justify-content:center;background:#f4f5f7;color:#1c1c1c}
main{max-width:22rem;padding:2rem;text-align:center}
button{font-size:1.3rem;padding:1rem 2rem;border:0;border-radius:.8rem;
background:#03a9f4;color:#fff;width:100%}
button:disabled{background:#9e9e9e}
p{font-size:1.1rem;min-height:3rem}
</style></head>
<body><main>
<h1 id="title">Welcome</h1>
<p id="message"></p>
<button id="open" type="button">Open the door</button>
</main>
<script>
const de = (navigator.language || "").toLowerCase().startsWith("de");
const text = de ? {
  title: "Willkommen", open: "T\\u00fcr \\u00f6ffnen", wait: "Einen Moment\\u2026",
  ok: "Die T\\u00fcr ist offen. Bitte schlie\\u00dfen Sie sie hinter sich.",
  no: "Die T\\u00fcr kann gerade nicht ge\\u00f6ffnet werden.",
  nolink: "Dieser Link ist ung\\u00fcltig."
} : {
  title: "Welcome", open: "Open the door", wait: "One moment\\u2026",
  ok: "The door is open. Please close it behind you.",
  no: "The door cannot be opened right now.", nolink: "This link is not valid."
};
const token = location.hash.slice(1);
const button = document.getElementById("open");
const message = document.getElementById("message");
document.getElementById("title").textContent = text.title;
button.textContent = text.open;
if (!token) { button.disabled = true; message.textContent = text.nolink; }
button.addEventListener("click", async () => {
  button.disabled = true;
  message.textContent = text.wait;
  try {
    const answer = await fetch(location.pathname, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({token})
    });
    message.textContent = answer.ok ? text.ok : text.no;
  } catch (e) { message.textContent = text.no; }
  button.disabled = false;
});
</script></body></html>
"""
