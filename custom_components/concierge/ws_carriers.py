"""The Access panel's carrier commands: the site's carriers and their keys; checking a token.

`tokens/check` answers what the courier endpoint would answer a token now, and why,
without opening anything, recording the token or charging a rate limit
(`courier_check.courier_decision`, the endpoint's own checks).
"""

from typing import Any

import probatio as vol
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv

from .core.carriers import key_fingerprint
from .courier_check import courier_decision
from .ws_common import home, refusals_sent, schema, translate

SITE = {vol.Required("site_id"): cv.string}
MAX_TOKEN_LENGTH = 8192


@websocket_command(schema({vol.Required("type"): "concierge/carriers/list"} | SITE))
@require_admin
@async_response
@refusals_sent
async def ws_carriers(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """The site's carriers and their public keys (ids, algorithms, fingerprints)."""
    site = home(hass, msg["site_id"])
    carriers = [
        {
            "id": carrier.carrier_id,
            "name": carrier.name,
            "keys": [
                {"kid": key.kid, "alg": str(key.alg), "fingerprint": key_fingerprint(key.key)}
                for key in carrier.keys
            ],
        }
        for carrier in site.carriers.values()
    ]
    connection.send_result(msg["id"], {"carriers": carriers})


@websocket_command(
    schema(
        {
            vol.Required("type"): "concierge/tokens/check",
            vol.Required("token"): vol.All(cv.string, vol.Length(min=1, max=MAX_TOKEN_LENGTH)),
            vol.Optional("portal"): cv.string,
        }
        | SITE
    )
)
@require_admin
@async_response
@refusals_sent
async def ws_check_token(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """What the courier endpoint would answer the token now, and why; nothing happens."""
    site = home(hass, msg["site_id"])
    decision = courier_decision(site, msg["token"].strip(), site.now())
    if decision.reason is not None:
        key = f"token_check_{decision.reason.value}"
    else:
        key = "token_check_ok" if decision.error is None else "token_check_portal_missing"
    portal = site.site.portal(decision.portal) if decision.portal else None
    reason = await translate(hass, key, {"portal": portal.name if portal else ""})
    connection.send_result(
        msg["id"],
        {
            "answer": {"status": int(decision.status), "error": decision.error},
            "reason": reason,
            "grant_id": decision.grant_id,
            "portal": decision.portal,
        },
    )


COMMANDS = (ws_carriers, ws_check_token)
