"""The guest page: its HTML, what it shows of a link, and the words of each answer.

The page is served without the token (it stays in the URL's fragment, which browsers never
send); its script posts the token in a JSON body, as for the open request, to the page's own
path with `?check` to learn the link: the door, when it works (in the home's time zone,
named) and, for a dead link, why; the button shows only for a live link. Words are English
or German, from the request's `Accept-Language` (`core/guest_page_texts.py`). A check
records nothing: only a tap is an attempt to enter.
"""

import json
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .core.deny import DenyReason, TokenRejected
from .core.guest_links import verify_guest_link
from .core.guest_page_texts import (
    LinkStatus,
    answer_text,
    link_status,
    page_language,
    page_texts,
    text,
    validity_text,
)
from .core.token_checks import DEFAULT_LEEWAY_S
from .core.windows import Interval

if TYPE_CHECKING:
    from .coordinator import ConciergeCoordinator

CHECK_QUERY = "check"
"""The query key of a request that only asks what the page should show of its link."""

HEADERS = {
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
}


def _language(request: web.Request) -> str:
    return page_language(request.headers.get("Accept-Language"))


def page_response(request: web.Request) -> web.Response:
    """The page, in the guest's language; it holds no token and no site data."""
    lang = _language(request)
    texts = json.dumps(page_texts(lang)).replace("<", "\\u003c")
    html = (
        GUEST_PAGE.replace("@LANG@", lang)
        .replace("@TITLE@", text(lang, "title"))
        .replace("@OPEN@", text(lang, "open"))
        .replace("@TEXTS@", texts)
    )
    return web.Response(text=html, content_type="text/html", headers=HEADERS)


def is_check(request: web.Request) -> bool:
    """Whether the request only asks what the page should show (`?check`)."""
    return CHECK_QUERY in request.query


def check_response(
    coordinator: ConciergeCoordinator, request: web.Request, token: str, now: datetime
) -> web.Response | DenyReason:
    """What the page shows of the link `token`, or why the token is refused outright.

    A token whose signature is good gets its door, validity and status whatever the time
    (a dead link is explained, not refused); anything else is the caller's to refuse.
    """
    data = coordinator.site_data
    if data.link_secret is None:
        return DenyReason.MALFORMED
    try:  # the signature and claims, whatever the time: the window is shown, not enforced
        claims = verify_guest_link(
            token, secret=bytes.fromhex(data.link_secret), site=coordinator.site_id,
            now=now, revoked=(), leeway_s=math.inf,
        )  # fmt: skip
    except TokenRejected as err:
        return err.reason
    link = data.guest_links.get(claims.link_id)
    grant = data.grants.get(claims.grant_id)
    window = Interval(claims.not_before, claims.expires)
    status = link_status(
        known=link is not None and not link.get("revoked"),
        grant_state=coordinator.state_of(grant.id) if grant is not None else None,
        window=window,
        now=now,
        leeway=timedelta(seconds=DEFAULT_LEEWAY_S),
    )
    portal = coordinator.site.portal(grant.portals[0]) if grant and grant.portals else None
    lang = _language(request)
    body = {
        "status": "ok",
        "link": status.value,
        "door": portal.name if portal is not None else "",
        "valid": validity_text(lang, window, now, coordinator.tz),
        "valid_from": window.start.isoformat(),
        "valid_until": window.end.isoformat(),
        "message": text(lang, status.value),
        "can_open": status is LinkStatus.LIVE,
    }
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def told(request: web.Request, response: web.Response) -> web.Response:
    """The open request's answer with what the page says of it (`message`), in its language."""
    if response.content_type != "application/json" or not isinstance(response.body, bytes):
        return response
    body: Any = json.loads(response.body)
    if not isinstance(body, dict) or "message" in body:
        return response
    body["message"] = answer_text(_language(request), body.get("error"))
    headers = {k: v for k, v in response.headers.items() if k in {"Cache-Control", "Retry-After"}}
    return web.json_response(body, status=response.status, headers=headers)


GUEST_PAGE = """<!doctype html>
<html lang="@LANG@"><head><meta charset="utf-8">
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
button[hidden]{display:none}
#door{font-size:1.4rem;font-weight:600;margin:0}
p{font-size:1.1rem}
#message{min-height:3rem}
</style></head>
<body><main>
<h1>@TITLE@</h1>
<p id="door"></p>
<p id="valid"></p>
<p id="message"></p>
<button id="open" type="button" hidden>@OPEN@</button>
</main>
<script>
const text = @TEXTS@;
const token = location.hash.slice(1);
const button = document.getElementById("open");
const message = document.getElementById("message");
const dead = ["link_revoked", "grant_revoked", "expired", "grant_used_up",
  "grant_suspended", "invalid_token"];
async function ask(path) {
  const answer = await fetch(path, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token})
  });
  return answer.json();
}
async function check() {
  if (!token) { message.textContent = text.invalid; return; }
  try {
    const link = await ask(location.pathname + "?check");
    document.getElementById("door").textContent = link.door || "";
    document.getElementById("valid").textContent = link.valid || "";
    message.textContent = link.message || "";
    button.hidden = !link.can_open;
  } catch (e) { message.textContent = text.failed; }
}
button.addEventListener("click", async () => {
  button.disabled = true;
  message.textContent = text.wait;
  try {
    const answer = await ask(location.pathname);
    message.textContent = answer.message || text.failed;
    button.hidden = dead.includes(answer.error);
  } catch (e) { message.textContent = text.failed; }
  button.disabled = false;
});
check();
</script></body></html>
"""
