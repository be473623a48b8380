"""The Access panel's guest link commands: make one, list a grant's, revoke one.

A link's URL (it holds the token) is answered once, when it is made; the list never has it.
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

from .service_errors import not_valid
from .ws_common import home, refusals_sent, schema

GRANT = {vol.Required("site_id"): cv.string, vol.Required("grant_id"): cv.string}


@websocket_command(schema({vol.Required("type"): "concierge/guest_links/create"} | GRANT))
@require_admin
@async_response
@refusals_sent
async def ws_create(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Sign a link for the grant's current or next window (as `create_guest_link`)."""
    site = home(hass, msg["site_id"])
    link = await site.async_create_guest_link(site.grant(msg["grant_id"]).id)
    connection.send_result(
        msg["id"],
        {
            "link_id": link["link_id"],
            "url": link["url"],
            "valid_from": link["valid_from"],
            "expires": link["valid_until"],
        },
    )


@websocket_command(schema({vol.Required("type"): "concierge/guest_links/list"} | GRANT))
@require_admin
@async_response
@refusals_sent
async def ws_list(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The grant's links (never their URL)."""
    site = home(hass, msg["site_id"])
    grant_id = site.grant(msg["grant_id"]).id
    links = [
        {"link_id": link_id, "created": link.get("created"), "expires": link.get("expires"),
         "revoked": bool(link.get("revoked"))}
        for link_id, link in site.site_data.guest_links.items()
        if link.get("grant") == grant_id
    ]  # fmt: skip
    connection.send_result(msg["id"], {"links": links})


@websocket_command(
    schema(
        {
            vol.Required("type"): "concierge/guest_links/revoke",
            vol.Required("site_id"): cv.string,
            vol.Required("link_id"): cv.string,
        }
    )
)
@require_admin
@async_response
@refusals_sent
async def ws_revoke(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Revoke a link: it opens nothing from now on."""
    site = home(hass, msg["site_id"])
    if msg["link_id"] not in site.site_data.guest_links:
        raise not_valid("unknown_guest_link", link=msg["link_id"])
    await site.async_revoke_guest_link(msg["link_id"])
    connection.send_result(msg["id"])


COMMANDS = (ws_create, ws_list, ws_revoke)
