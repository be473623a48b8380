"""Concierge's actions: manage grants, run visits, export evidence, verify the audit chain.

Grants and visits belong to home sites: an action aimed at a store site (its config
entry, or one of its gates as the portal) is refused with a translated message. A
store's audit chain can be verified like a home's.
"""

from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
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
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .coordinator import ConciergeCoordinator
from .core.errors import ConciergeError
from .core.events import Source
from .core.grants import AlarmPolicy, Credentials, GrantAction, GrantKind, GrantUpdate, Policy
from .core.windows import OneOffWindow, Schedule, WeeklyWindow, Window
from .owner_visits import async_end_visit, async_export_visit, async_start_visit
from .service_errors import validation_error
from .site_runtime import ConciergeSite, home_sites, loaded_sites

ATTR_CONFIG_ENTRY_ID = "config_entry_id"
ATTR_GRANT_ID = "grant_id"
ATTR_VISIT_ID = "visit_id"
ATTR_PORTAL = "portal"
ATTR_REASON = "reason"
ATTR_LINK_ID = "link_id"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

GRANT_FIELDS: dict[vol.Marker, Any] = {
    vol.Optional("label"): cv.string,
    vol.Optional("kind"): vol.In([k.value for k in GrantKind]),
    vol.Optional("portals"): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("start"): cv.datetime,
    vol.Optional("end"): cv.datetime,
    vol.Optional("weekdays"): vol.All(cv.ensure_list, [vol.In(WEEKDAYS)]),
    vol.Optional("start_time"): cv.time,
    vol.Optional("end_time"): cv.time,
    vol.Optional("valid_from"): cv.datetime,
    vol.Optional("valid_until"): cv.datetime,
    vol.Optional("max_uses"): vol.Any(None, vol.All(vol.Coerce(int), vol.Range(min=1))),
    vol.Optional("max_visit_minutes"): vol.Any(
        None, vol.All(vol.Coerce(int), vol.Range(min=1, max=1440))
    ),
    vol.Optional("pin"): vol.Any(None, cv.string),
    vol.Optional("remote_token"): cv.boolean,
    vol.Optional("guest_link"): cv.boolean,
    vol.Optional("alarm"): vol.In([a.value for a in AlarmPolicy]),
    vol.Optional("require_camera"): cv.boolean,
    vol.Optional("refuse_when_pets_home"): cv.boolean,
    vol.Optional("notify"): cv.boolean,
    vol.Optional("carriers"): vol.All(cv.ensure_list, [cv.string]),
}

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


def _not_a_home(site: ConciergeSite) -> ServiceValidationError:
    """The refusal of a grant or visit action aimed at a store."""
    return _not_valid("store_site_not_supported", site=site.site_name)


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
            raise _not_a_home(site)
        return home
    homes = home_sites(hass)
    if not homes and (sites := loaded_sites(hass)):
        raise _not_a_home(sites[0])
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


def _aware(value: datetime) -> datetime:
    """A service datetime; naive ones are in Home Assistant's time zone."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt_util.get_default_time_zone())
    return value


def resolve_portals(site: ConciergeCoordinator, names: list[str]) -> tuple[str, ...]:
    """Portal ids from ids or names (case-insensitive)."""
    ids: list[str] = []
    for name in names:
        if (portal := site.site.find_portal(name)) is None:
            for other in loaded_sites(site.hass):
                if other.home is None and other.has_portal(name):
                    raise _not_a_home(other)  # a store's gate
            raise _not_valid("unknown_portal", portal=name)
        ids.append(portal.portal_id)
    return tuple(ids)


def resolve_carriers(site: ConciergeCoordinator, names: list[str]) -> tuple[str, ...]:
    """Carrier ids from the ids or names (case-insensitive) of the site's carriers."""
    carriers = site.carriers.values()
    ids: list[str] = []
    for name in names:
        found = next((c for c in carriers if c.carrier_id == name), None) or next(
            (c for c in carriers if c.name.casefold() == name.strip().casefold()), None
        )
        if found is None:
            raise _not_valid("unknown_carrier", carrier=name)
        if found.carrier_id not in ids:
            ids.append(found.carrier_id)
    return tuple(ids)


def build_schedule(data: Mapping[str, Any]) -> Schedule | None:
    """A schedule from one-off (start, end) or weekly (weekdays, times) fields; None if absent."""
    one_off = "start" in data or "end" in data
    weekly = any(k in data for k in ("weekdays", "start_time", "end_time"))
    if one_off and weekly:
        raise _not_valid("mixed_schedule")
    windows: tuple[Window, ...]
    if one_off:
        if "start" not in data or "end" not in data:
            raise _not_valid("incomplete_window")
        windows = (OneOffWindow(_aware(data["start"]), _aware(data["end"])),)
    elif weekly:
        if not all(k in data for k in ("weekdays", "start_time", "end_time")):
            raise _not_valid("incomplete_weekly")
        windows = (
            WeeklyWindow(
                frozenset(WEEKDAYS.index(d) for d in data["weekdays"]),
                data["start_time"].replace(second=0, microsecond=0),
                data["end_time"].replace(second=0, microsecond=0),
            ),
        )
    else:
        return None
    valid_from = data.get("valid_from")
    valid_until = data.get("valid_until")
    return Schedule(
        windows,
        valid_from=None if valid_from is None else _aware(valid_from),
        valid_until=None if valid_until is None else _aware(valid_until),
    )


def _credentials(data: Mapping[str, Any], base: Credentials) -> Credentials:
    pin = data.get("pin", base.pin) or None
    return Credentials(
        pin=pin,
        remote_token=data.get("remote_token", base.remote_token),
        guest_link=data.get("guest_link", base.guest_link),
    )


def _policy(data: Mapping[str, Any], base: Policy) -> Policy:
    return Policy(
        alarm=AlarmPolicy(data.get("alarm", base.alarm)),
        require_camera=data.get("require_camera", base.require_camera),
        refuse_when_pets_home=data.get("refuse_when_pets_home", base.refuse_when_pets_home),
        notify=data.get("notify", base.notify),
    )


def _grant_response(site: ConciergeCoordinator, grant_id: str) -> ServiceResponse:
    return {"grant_id": grant_id, "state": site.state_of(grant_id).value}


async def _create_grant(call: ServiceCall) -> ServiceResponse:
    site = _site(call.hass, call.data)
    try:
        schedule = build_schedule(call.data)
        if schedule is None:
            raise _not_valid("schedule_required")
        portals = (
            resolve_portals(site, call.data["portals"])
            if call.data.get("portals")
            else tuple(p.portal_id for p in site.site.portals)
        )
        grant = await site.async_create_grant(
            label=call.data["label"],
            kind=GrantKind(call.data.get("kind", GrantKind.OTHER)),
            portals=portals,
            schedule=schedule,
            credentials=_credentials(call.data, Credentials()),
            policy=_policy(call.data, Policy()),
            max_uses=call.data.get("max_uses"),
            max_visit_minutes=call.data.get("max_visit_minutes"),
            carriers=resolve_carriers(site, call.data.get("carriers", [])),
        )
    except ConciergeError as err:
        raise validation_error(err) from err
    return _grant_response(site, grant.id)


def _grant_changes(
    site: ConciergeCoordinator, grant_id: str, data: Mapping[str, Any]
) -> GrantUpdate:
    """The fields an update_grant call changes."""
    grant = site.grant(grant_id)
    changes: GrantUpdate = {}
    if (schedule := build_schedule(data)) is not None:
        changes["schedule"] = schedule
    if "label" in data:
        changes["label"] = data["label"]
    if "kind" in data:
        changes["kind"] = GrantKind(data["kind"])
    if data.get("portals"):
        changes["portals"] = resolve_portals(site, data["portals"])
    if "max_uses" in data:
        changes["max_uses"] = data["max_uses"]
    if "max_visit_minutes" in data:
        changes["max_visit_minutes"] = data["max_visit_minutes"]
    if "carriers" in data:  # an empty list: any carrier again
        changes["carriers"] = resolve_carriers(site, data["carriers"])
    if (credentials := _credentials(data, grant.credentials)) != grant.credentials:
        changes["credentials"] = credentials
    if (policy := _policy(data, grant.policy)) != grant.policy:
        changes["policy"] = policy
    return changes


async def _update_grant(call: ServiceCall) -> ServiceResponse:
    grant_id = call.data[ATTR_GRANT_ID]
    site = _site_of_grant(call.hass, grant_id)
    try:
        changes = _grant_changes(site, grant_id, call.data)
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
