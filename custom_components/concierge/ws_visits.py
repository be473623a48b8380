"""The Access panel's visit commands: the timeline, verifying the audit chain, an export.

Evidence is shown through Home Assistant's own media view (`/media/local/...`), at a
path signed for the asking user, valid for an hour; verify and export are the
`verify_audit_log` and `export_visit` actions' answers.
"""

from datetime import timedelta
from typing import Any

import probatio as vol
from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv

from .core.events import EvidenceRef
from .core.grant_view import Json, iso
from .core.visits import Visit
from .evidence_files import MEDIA_DIR
from .owner_visits import async_export_visit
from .ws_common import home, refusals_sent, schema

SITE = {vol.Required("site_id"): cv.string}
EVIDENCE_PREFIX = f"media-source://media_source/{MEDIA_DIR}/"
EVIDENCE_URL_LIFETIME = timedelta(hours=1)
DEFAULT_LIMIT = 50


def _evidence(hass: HomeAssistant, connection: ActiveConnection, ref: EvidenceRef) -> Json:
    url = None
    if ref.ref.startswith(EVIDENCE_PREFIX):
        path = f"/media/{MEDIA_DIR}/{ref.ref.removeprefix(EVIDENCE_PREFIX)}"
        url = async_sign_path(
            hass, path, EVIDENCE_URL_LIFETIME, refresh_token_id=connection.refresh_token_id
        )
    return {"ref": ref.ref, "url": url, "kind": ref.kind.value}


def visit_view(
    hass: HomeAssistant,
    connection: ActiveConnection,
    visit: Visit,
    label: str | None,
) -> Json:
    """A visit as the timeline shows it."""
    return {
        "visit_id": visit.id,
        "grant_id": visit.grant,
        "label": label,
        "portal": visit.portal,
        "source": visit.source.value,
        "started": iso(visit.started_at),
        "ended": iso(visit.ended_at),
        "outcome": visit.state.value,
        "reason": visit.abort_reason,
        "steps": [{"type": e.type.value, "at": iso(e.time)} for e in visit.timeline],
        "evidence": [_evidence(hass, connection, ref) for ref in visit.evidence],
    }


@websocket_command(
    schema(
        {
            vol.Required("type"): "concierge/visits/list",
            vol.Optional("limit", default=DEFAULT_LIMIT): vol.All(
                vol.Coerce(int), vol.Range(min=1, max=1000)
            ),
        }
        | SITE
    )
)
@require_admin
@async_response
@refusals_sent
async def ws_visits(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The site's visits, newest first."""
    site = home(hass, msg["site_id"])
    grants = site.site_data.grants
    visits = [
        visit_view(hass, connection, v, g.label if (g := grants.get(v.grant or "")) else None)
        for v in site.visits_list()[: msg["limit"]]
    ]
    connection.send_result(msg["id"], {"visits": visits})


@websocket_command(schema({vol.Required("type"): "concierge/audit/verify"} | SITE))
@require_admin
@async_response
@refusals_sent
async def ws_verify(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Check the site's audit chain."""
    result = await home(hass, msg["site_id"]).async_verify_audit()
    problem = None if result.problem is None else result.problem.value
    connection.send_result(
        msg["id"], {"ok": result.ok, "records": result.count, "problem": problem}
    )


@websocket_command(
    schema(
        {vol.Required("type"): "concierge/visits/export", vol.Required("visit_id"): cv.string}
        | SITE
    )
)
@require_admin
@async_response
@refusals_sent
async def ws_export(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """A visit's evidence bundle, as the `export_visit` action answers it."""
    site = home(hass, msg["site_id"])
    connection.send_result(msg["id"], {"bundle": await async_export_visit(site, msg["visit_id"])})


COMMANDS = (ws_visits, ws_verify, ws_export)
