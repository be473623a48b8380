"""The Access panel's grant commands: sites, list and follow, create, check, change, end.

They take the fields of the `create_grant` and `update_grant` actions (`grant_fields.py`)
and go through the same grant keeper, so what an action refuses they refuse, with the
same translated message. A PIN given here is never on the event bus (an action's data
is, in `call_service`); one generated here is answered once and never again.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from weakref import WeakKeyDictionary

import probatio as vol
from homeassistant.components.websocket_api.connection import ActiveConnection
from homeassistant.components.websocket_api.const import WebSocketCommandHandler
from homeassistant.components.websocket_api.decorators import (
    async_response,
    require_admin,
    websocket_command,
)
from homeassistant.components.websocket_api.messages import event_message
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .coordinator import ConciergeCoordinator
from .core.grant_view import Json, NextWindows, grant_view
from .core.grants import Credentials, Grant, GrantAction, GrantKind, new_grant
from .core.ids import new_id
from .core.pin_generator import generate_pin
from .core.windows import OneOffWindow, Schedule
from .grant_fields import GRANT_FIELDS, grant_changes, new_grant_settings, resolve_portals
from .service_errors import not_valid
from .site_runtime import home_sites
from .ws_common import home, refusals_sent, schema, warning

SITE = {vol.Required("site_id"): cv.string}
GRANT = SITE | {vol.Required("grant_id"): cv.string}
EDIT = {vol.Optional("generate_pin", default=False): cv.boolean}
NOT_FIELDS = frozenset({"type", "id", "site_id", "grant_id", "generate_pin"})


def keypad_portals(site: ConciergeCoordinator) -> frozenset[str]:
    """The doors whose lock has a keypad Concierge programs."""
    return frozenset(site.keypad.doors) if site.keypad is not None else frozenset()


_WINDOWS: WeakKeyDictionary[ConciergeCoordinator, NextWindows] = WeakKeyDictionary()
"""Each site's grants' next windows, kept between lists (`core.grant_view.NextWindows`)."""


def views(site: ConciergeCoordinator, grant_ids: Iterable[str] | None = None) -> list[Json]:
    """The panel's view of the site's grants as last published (or of `grant_ids`)."""
    grants, states = site.feed.grants, site.feed.states
    codes = site.keypad.status if site.keypad is not None else {}
    keypads, tz, now = keypad_portals(site), site.tz, site.now()
    if (windows := _WINDOWS.get(site)) is None:
        windows = _WINDOWS[site] = NextWindows()
    windows.keep_only(grants)
    ids = grants if grant_ids is None else [g for g in grant_ids if g in grants]
    return [
        grant_view(grants[g], states[g], codes=codes.get(g, {}), keypad_portals=keypads,
                   tz=tz, now=now, windows=windows)
        for g in ids
    ]  # fmt: skip


@websocket_command(schema({vol.Required("type"): "concierge/sites"}))
@require_admin
@callback
def ws_sites(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """The home sites, their doors (with or without a keypad) and carriers."""
    sites = []
    for site in home_sites(hass):
        keypads = keypad_portals(site)
        portals = [
            {"id": p.portal_id, "name": p.name, "has_keypad": p.portal_id in keypads,
             "lock": p.lock or None}
            for p in site.site.portals
        ]  # fmt: skip
        carriers = [{"id": c.carrier_id, "name": c.name} for c in site.carriers.values()]
        sites.append(
            {
                "site_id": site.site_id,
                "name": site.site.name,
                "portals": portals,
                "carriers": carriers,
            }
        )
    connection.send_result(msg["id"], {"sites": sites})


@websocket_command(schema({vol.Required("type"): "concierge/grants/list"} | SITE))
@require_admin
@async_response
@refusals_sent
async def ws_list(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Every grant of the site."""
    connection.send_result(msg["id"], {"grants": views(home(hass, msg["site_id"]))})


@websocket_command(schema({vol.Required("type"): "concierge/grants/subscribe"} | SITE))
@require_admin
@async_response
@refusals_sent
async def ws_subscribe(
    hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
) -> None:
    """Follow the site's grants: first all of them, then those that change or go."""
    site = home(hass, msg["site_id"])
    msg_id = msg["id"]

    @callback
    def _changed() -> None:
        if not (changed := site.changed_grants):
            return
        removed = sorted(g for g in changed if g not in site.feed.grants)
        update = {"grants": views(site, changed), "removed": removed}
        connection.send_message(event_message(msg_id, update))

    connection.subscriptions[msg_id] = site.async_add_listener(_changed)
    connection.send_result(msg_id)
    connection.send_message(event_message(msg_id, {"grants": views(site), "removed": []}))


def _fields(msg: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in msg.items() if k not in NOT_FIELDS}


def _new_pin(site: ConciergeCoordinator, msg: dict[str, Any]) -> str | None:
    """A generated PIN when asked for one (none another grant of the site holds)."""
    if not msg["generate_pin"]:
        return None
    taken = {g.credentials.pin for g in site.site_data.grants.values() if g.credentials.pin}
    return generate_pin(taken)


async def _no_keypad(
    hass: HomeAssistant, site: ConciergeCoordinator, portals: tuple[str, ...]
) -> list[dict[str, str]]:
    """A warning per door whose lock has no keypad (a PIN cannot be used there)."""
    keypads = keypad_portals(site)
    return [
        await warning(hass, "no_keypad", p, "pin_no_keypad", {"portal": site.portal(p).name})
        for p in portals
        if p not in keypads
    ]


async def _saved(
    hass: HomeAssistant, site: ConciergeCoordinator, grant_id: str, pin: str | None
) -> Json:
    grant = site.grant(grant_id)
    warnings = await _no_keypad(hass, site, grant.portals) if grant.credentials.pin else []
    return {"grant_id": grant_id, "pin": pin, "warnings": warnings}


@websocket_command(
    schema(
        {vol.Required("type"): "concierge/grants/create", vol.Required("label"): cv.string}
        | SITE
        | {k: v for k, v in GRANT_FIELDS.items() if str(k) != "label"}
        | EDIT
    )
)
@require_admin
@async_response
@refusals_sent
async def ws_create(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Create a grant, as `create_grant` does; a generated PIN is answered once."""
    site = home(hass, msg["site_id"])
    fields = _fields(msg)
    if (pin := _new_pin(site, msg)) is not None:
        fields["pin"] = pin
    grant = await site.async_create_grant(**new_grant_settings(site, fields))
    connection.send_result(msg["id"], await _saved(hass, site, grant.id, pin))


@websocket_command(
    schema({vol.Required("type"): "concierge/grants/update"} | GRANT | GRANT_FIELDS | EDIT)
)
@require_admin
@async_response
@refusals_sent
async def ws_update(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """Change a grant, as `update_grant` does; a generated PIN is answered once."""
    site = home(hass, msg["site_id"])
    grant_id = site.grant(msg["grant_id"]).id
    fields = _fields(msg)
    if (pin := _new_pin(site, msg)) is not None:
        fields["pin"] = pin
    if not (changes := grant_changes(site, grant_id, fields)):
        raise not_valid("nothing_to_update")
    await site.async_grant_action(grant_id, GrantAction.UPDATE, **changes)
    connection.send_result(msg["id"], await _saved(hass, site, grant_id, pin))


@websocket_command(
    schema(
        {
            vol.Required("type"): "concierge/grants/check",
            vol.Optional("grant_id"): cv.string,
            vol.Required("portals"): vol.All(cv.ensure_list, [cv.string]),
            vol.Optional("pin"): vol.Any(None, cv.string),
        }
        | SITE
    )
)
@require_admin
@async_response
@refusals_sent
async def ws_check(hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]) -> None:
    """What to confirm before saving a PIN: doors without a keypad, a PIN in use there."""
    site = home(hass, msg["site_id"])
    grant_id = site.grant(msg["grant_id"]).id if msg.get("grant_id") else new_id()
    portals = resolve_portals(site, msg["portals"])
    warnings: list[dict[str, str]] = []
    if pin := msg.get("pin"):
        credentials = Credentials(pin=pin)  # a PIN that is not 4 to 10 digits is refused
        warnings += await _no_keypad(hass, site, portals)
        now = site.now()
        window = Schedule((OneOffWindow(now, now + timedelta(hours=1)),))
        for portal in portals:
            candidate = _candidate(grant_id, portal, window, credentials, now)
            try:
                site.grants.check_pin(candidate)  # the rule create and update apply
            except ServiceValidationError as err:
                placeholders = {k: str(v) for k, v in (err.translation_placeholders or {}).items()}
                warnings.append(
                    await warning(hass, "pin_in_use", portal, "pin_in_use", placeholders)
                )
    connection.send_result(msg["id"], {"warnings": warnings})


def _candidate(
    grant_id: str, portal: str, window: Schedule, credentials: Credentials, now: datetime
) -> Grant:
    """A grant with the PIN at one door, as the PIN rule sees it (only id, doors, PIN count)."""
    return new_grant(
        label="check", kind=GrantKind.OTHER, portals=(portal,), schedule=window, now=now,
        credentials=credentials, grant_id=grant_id,
    )  # fmt: skip


def _action(action: GrantAction, name: str) -> WebSocketCommandHandler:
    @websocket_command(schema({vol.Required("type"): f"concierge/grants/{name}"} | GRANT))
    @require_admin
    @async_response
    @refusals_sent
    async def _handle(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        site = home(hass, msg["site_id"])
        await site.async_grant_action(site.grant(msg["grant_id"]).id, action)
        connection.send_result(msg["id"])

    return _handle


COMMANDS = (
    ws_sites,
    ws_list,
    ws_subscribe,
    ws_create,
    ws_update,
    ws_check,
    _action(GrantAction.SUSPEND, "suspend"),
    _action(GrantAction.RESUME, "resume"),
    _action(GrantAction.REVOKE, "revoke"),
)
