"""Concierge's actions: manage grants, run visits, export evidence, verify the audit chain.

Grants and visits belong to home sites: an action aimed at a store site (its config
entry, or one of its gates as the portal) is refused with a translated message. A
store's audit chain can be verified like a home's.
"""

from collections.abc import Callable, Coroutine, Mapping
from typing import Any, cast

import probatio as vol
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .const import DOMAIN
from .coordinator import ConciergeCoordinator
from .core.errors import ConciergeError
from .core.events import Source
from .core.grants import GrantAction
from .grant_fields import (
    GRANT_FIELDS,
    grant_changes,
    new_grant_settings,
    not_a_home,
    resolve_portals,
)
from .owner_visits import async_end_visit, async_export_visit, async_start_visit
from .service_errors import validation_error
from .site_runtime import ConciergeSite, home_sites, loaded_sites

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_GRANT_ID = "grant_id"
ATTR_VISIT_ID = "visit_id"
ATTR_PORTAL = "portal"
ATTR_REASON = "reason"
ATTR_LINK_ID = "link_id"

CREATE_GRANT_SCHEMA = vol.Schema(
    {vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string, vol.Required("label"): cv.string}
    | {k: v for k, v in GRANT_FIELDS.items() if str(k) != "label"}
)
UPDATE_GRANT_SCHEMA = vol.Schema({vol.Required(ATTR_GRANT_ID): cv.string} | GRANT_FIELDS)
GRANT_ID_SCHEMA = vol.Schema({vol.Required(ATTR_GRANT_ID): cv.string})
START_VISIT_SCHEMA = vol.Schema(
    {vol.Required(ATTR_GRANT_ID): cv.string, vol.Required(ATTR_PORTAL): cv.string}
)
END_VISIT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_VISIT_ID): cv.string,
        vol.Optional(ATTR_REASON): vol.All(cv.string, vol.Match(r"^[a-z][a-z0-9_]{0,63}$")),
    }
)
VISIT_ID_SCHEMA = vol.Schema({vol.Required(ATTR_VISIT_ID): cv.string})
LINK_ID_SCHEMA = vol.Schema({vol.Required(ATTR_LINK_ID): cv.string})
SITE_SCHEMA = vol.Schema({vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string})


def _not_valid(key: str, **placeholders: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )


def _any_site(hass: HomeAssistant, data: Mapping[str, Any]) -> ConciergeSite:
    """Any site named by config_entry_id, or the only one (homes and stores keep a chain)."""
    sites = loaded_sites(hass)
    if (entry_id := data.get(ATTR_CONFIG_ENTRY_ID)) is not None:
        for site in sites:
            if site.site_id == entry_id:
                return site
        raise _not_valid("unknown_site", site=str(entry_id))
    if len(sites) != 1:
        raise _not_valid("site_required")
    return sites[0]


def _site(hass: HomeAssistant, data: Mapping[str, Any]) -> ConciergeCoordinator:
    """The home site named by config_entry_id, or the only one; a store is refused."""
    if data.get(ATTR_CONFIG_ENTRY_ID) is not None:
        site = _any_site(hass, data)
        if (home := site.home) is None:
            raise not_a_home(site)
        return home
    homes = home_sites(hass)
    if not homes and (sites := loaded_sites(hass)):
        raise not_a_home(sites[0])
    if len(homes) != 1:
        raise _not_valid("site_required")
    return homes[0]


def _site_of_grant(hass: HomeAssistant, grant_id: str) -> ConciergeCoordinator:
    for site in home_sites(hass):
        if grant_id in site.data.grants:
            return site
    raise _not_valid("unknown_grant", grant=grant_id)


def _site_of_visit(hass: HomeAssistant, visit_id: str) -> ConciergeCoordinator:
    for site in home_sites(hass):
        if any(v.id == visit_id for v in site.visits_list()):
            return site
    raise _not_valid("unknown_visit", visit=visit_id)


def _grant_response(site: ConciergeCoordinator, grant_id: str) -> ServiceResponse:
    return {"grant_id": grant_id, "state": site.state_of(grant_id).value}


async def _create_grant(call: ServiceCall) -> ServiceResponse:
    site = _site(call.hass, call.data)
    try:
        grant = await site.async_create_grant(**new_grant_settings(site, call.data))
    except ConciergeError as err:
        raise validation_error(err) from err
    return _grant_response(site, grant.id)


async def _update_grant(call: ServiceCall) -> ServiceResponse:
    grant_id = call.data[ATTR_GRANT_ID]
    site = _site_of_grant(call.hass, grant_id)
    try:
        changes = grant_changes(site, grant_id, call.data)
    except ConciergeError as err:
        raise validation_error(err) from err
    if not changes:
        raise _not_valid("nothing_to_update")
    await site.async_grant_action(grant_id, GrantAction.UPDATE, **changes)
    return _grant_response(site, grant_id)


def _grant_action(action: GrantAction) -> Handler:
    async def _handle(call: ServiceCall) -> ServiceResponse:
        grant_id = call.data[ATTR_GRANT_ID]
        site = _site_of_grant(call.hass, grant_id)
        await site.async_grant_action(grant_id, action)
        return _grant_response(site, grant_id)

    return _handle


async def _start_visit(call: ServiceCall) -> ServiceResponse:
    grant_id = call.data[ATTR_GRANT_ID]
    site = _site_of_grant(call.hass, grant_id)
    (portal,) = resolve_portals(site, [call.data[ATTR_PORTAL]])
    visit = await async_start_visit(site, grant_id, portal, Source.REMOTE)
    return {"visit_id": visit.id, "state": visit.state.value}


async def _end_visit(call: ServiceCall) -> ServiceResponse:
    visit_id = call.data[ATTR_VISIT_ID]
    site = _site_of_visit(call.hass, visit_id)
    visit = await async_end_visit(site, visit_id, call.data.get(ATTR_REASON))
    return {"visit_id": visit.id, "state": visit.state.value}


async def _create_guest_link(call: ServiceCall) -> ServiceResponse:
    grant_id = call.data[ATTR_GRANT_ID]
    site = _site_of_grant(call.hass, grant_id)
    return dict(await site.async_create_guest_link(grant_id))


async def _revoke_guest_link(call: ServiceCall) -> ServiceResponse:
    link_id = call.data[ATTR_LINK_ID]
    for site in home_sites(call.hass):
        if link_id in site.site_data.guest_links:
            await site.async_revoke_guest_link(link_id)
            return {"link_id": link_id, "revoked": True}
    raise _not_valid("unknown_guest_link", link=link_id)


async def _export_visit(call: ServiceCall) -> ServiceResponse:
    visit_id = call.data[ATTR_VISIT_ID]
    site = _site_of_visit(call.hass, visit_id)
    return cast("ServiceResponse", await async_export_visit(site, visit_id))


async def _verify_audit_log(call: ServiceCall) -> ServiceResponse:
    site = _any_site(call.hass, call.data)
    return cast("ServiceResponse", (await site.async_verify_audit()).to_dict())


type Handler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]

SERVICES: dict[str, tuple[vol.Schema, Handler]] = {
    "create_grant": (CREATE_GRANT_SCHEMA, _create_grant),
    "update_grant": (UPDATE_GRANT_SCHEMA, _update_grant),
    "revoke_grant": (GRANT_ID_SCHEMA, _grant_action(GrantAction.REVOKE)),
    "suspend_grant": (GRANT_ID_SCHEMA, _grant_action(GrantAction.SUSPEND)),
    "resume_grant": (GRANT_ID_SCHEMA, _grant_action(GrantAction.RESUME)),
    "start_visit": (START_VISIT_SCHEMA, _start_visit),
    "end_visit": (END_VISIT_SCHEMA, _end_visit),
    "create_guest_link": (GRANT_ID_SCHEMA, _create_guest_link),
    "revoke_guest_link": (LINK_ID_SCHEMA, _revoke_guest_link),
    "export_visit": (VISIT_ID_SCHEMA, _export_visit),
    "verify_audit_log": (SITE_SCHEMA, _verify_audit_log),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register every action; each returns response data."""
    for name, (schema, handler) in SERVICES.items():
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=SupportsResponse.OPTIONAL
        )
