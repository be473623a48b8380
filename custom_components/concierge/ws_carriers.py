"""The Access panel's carrier commands: the site's carriers and their keys; checking a token.

`tokens/check` answers what the courier endpoint would answer a token now, and why,
without opening anything, recording the token or charging a rate limit
(`courier_check.courier_decision`, the endpoint's own checks). `carriers/add`,
`carriers/rotate_key` and `carriers/retire_key` change the site's carriers through its
config subentries (`carrier_edits.py`); a field the subentry's form would refuse is
refused with the form's own words, and nothing is stored.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

import probatio as vol
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import ERR_INVALID_FORMAT
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import translation

from .carrier_edits import CarrierInputError, PastedKey, add_carrier, retire_key, rotate_key
from .const import DOMAIN
from .core.carriers import MAX_PEM_LENGTH, Carrier, key_fingerprint
from .courier_check import courier_decision
from .site_runtime import ConciergeConfigEntry
from .ws_common import Handler, home, refusals_sent, schema, translate

SITE = {vol.Required("site_id"): cv.string}
MAX_TOKEN_LENGTH = 8192
KEY_FIELDS = {
    vol.Required("public_key"): vol.All(cv.string, vol.Length(max=MAX_PEM_LENGTH)),
    vol.Optional("kid"): vol.All(cv.string, vol.Length(min=1, max=128)),
}


def carrier_view(carrier: Carrier) -> dict[str, Any]:
    """A carrier as the panel shows it: never a key itself, only its id and fingerprint."""
    return {
        "id": carrier.carrier_id,
        "name": carrier.name,
        "keys": [
            {"kid": key.kid, "alg": str(key.alg), "fingerprint": key_fingerprint(key.key)}
            for key in carrier.keys
        ],
    }


async def _form_error(hass: HomeAssistant, code: str) -> str:
    """The carrier subentry form's own message for error `code`, in the user's language."""
    localize = f"component.{DOMAIN}.config_subentries.carrier.error.{code}"
    message: str | None = None
    for language in dict.fromkeys((hass.config.language, "en")):
        texts = await translation.async_get_translations(
            hass, language, "config_subentries", {DOMAIN}
        )
        if message := texts.get(localize):
            break
    return message or code


type CarrierChange = Callable[[HomeAssistant, ConciergeConfigEntry, dict[str, Any]], Carrier]


def _carrier_changed(change: CarrierChange) -> Handler:
    """Answer the changed carrier; a field the subentry form refuses, as its message."""

    @wraps(change)
    async def _handle(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        site = home(hass, msg["site_id"])
        try:
            carrier = change(hass, site.config_entry, msg)
        except CarrierInputError as err:
            connection.send_error(
                msg["id"],
                ERR_INVALID_FORMAT,
                await _form_error(hass, err.code),
                translation_key=err.code,
                translation_domain=DOMAIN,
                translation_placeholders={"field": err.field},
            )
            return
        connection.send_result(msg["id"], {"carrier": carrier_view(carrier)})

    return _handle


@websocket_command(schema({vol.Required("type"): "concierge/carriers/list"} | SITE))
@require_admin
@async_response
@refusals_sent
async def ws_carriers(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """The site's carriers and their public keys (ids, algorithms, fingerprints)."""
    site = home(hass, msg["site_id"])
    carriers = [carrier_view(carrier) for carrier in site.carriers.values()]
    connection.send_result(msg["id"], {"carriers": carriers})


@websocket_command(
    schema(
        {
            vol.Required("type"): "concierge/carriers/add",
            vol.Required("name"): cv.string,
            vol.Required("carrier_id"): cv.string,
        }
        | KEY_FIELDS
        | SITE
    )
)
@require_admin
@async_response
@refusals_sent
@_carrier_changed
def ws_add_carrier(
    hass: HomeAssistant, entry: ConciergeConfigEntry, msg: dict[str, Any]
) -> Carrier:
    """Add a carrier: its name, the issuer its tokens carry, one public key (and its id)."""
    return add_carrier(
        hass,
        entry,
        name=msg["name"],
        carrier_id=msg["carrier_id"],
        key=PastedKey(msg["public_key"], msg.get("kid")),
    )


@websocket_command(
    schema(
        {
            vol.Required("type"): "concierge/carriers/rotate_key",
            vol.Required("carrier_id"): cv.string,
            vol.Optional("retire_kid"): cv.string,
        }
        | KEY_FIELDS
        | SITE
    )
)
@require_admin
@async_response
@refusals_sent
@_carrier_changed
def ws_rotate_key(hass: HomeAssistant, entry: ConciergeConfigEntry, msg: dict[str, Any]) -> Carrier:
    """Give a carrier a new key; retire an old one with it (`retire_kid`) or later."""
    return rotate_key(
        hass,
        entry,
        carrier_id=msg["carrier_id"],
        pasted=PastedKey(msg["public_key"], msg.get("kid")),
        retire=msg.get("retire_kid"),
    )


@websocket_command(
    schema(
        {
            vol.Required("type"): "concierge/carriers/retire_key",
            vol.Required("carrier_id"): cv.string,
            vol.Required("kid"): cv.string,
        }
        | SITE
    )
)
@require_admin
@async_response
@refusals_sent
@_carrier_changed
def ws_retire_key(hass: HomeAssistant, entry: ConciergeConfigEntry, msg: dict[str, Any]) -> Carrier:
    """Retire one of a carrier's keys (never its last one)."""
    return retire_key(hass, entry, carrier_id=msg["carrier_id"], kid=msg["kid"])


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


COMMANDS = (ws_carriers, ws_add_carrier, ws_rotate_key, ws_retire_key, ws_check_token)
