"""A grant's settings as the actions and the Access panel's commands give them.

The same field names, formats and checks for `create_grant`/`update_grant` (services.py)
and the WebSocket commands (ws_grants.py): a schedule from one-off or weekly fields,
doors and carriers by id or name, credentials and policy over a base.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import probatio as vol
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util

from .coordinator import ConciergeCoordinator
from .core.grants import AlarmPolicy, Credentials, GrantKind, GrantUpdate, Policy
from .core.windows import OneOffWindow, Schedule, WeeklyWindow, Window
from .grant_keeper import GrantSettings
from .service_errors import not_valid
from .site_runtime import ConciergeSite, loaded_sites

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
"""The fields of a grant, as `create_grant` and `update_grant` take them."""


def not_a_home(site: ConciergeSite) -> ServiceValidationError:
    """The refusal of a grant or visit action aimed at a store."""
    return not_valid("store_site_not_supported", site=site.site_name)


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
                    raise not_a_home(other)  # a store's gate
            raise not_valid("unknown_portal", portal=name)
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
            raise not_valid("unknown_carrier", carrier=name)
        if found.carrier_id not in ids:
            ids.append(found.carrier_id)
    return tuple(ids)


def build_schedule(data: Mapping[str, Any]) -> Schedule | None:
    """A schedule from one-off (start, end) or weekly (weekdays, times) fields; None if absent."""
    one_off = "start" in data or "end" in data
    weekly = any(k in data for k in ("weekdays", "start_time", "end_time"))
    if one_off and weekly:
        raise not_valid("mixed_schedule")
    windows: tuple[Window, ...]
    if one_off:
        if "start" not in data or "end" not in data:
            raise not_valid("incomplete_window")
        windows = (OneOffWindow(_aware(data["start"]), _aware(data["end"])),)
    elif weekly:
        if not all(k in data for k in ("weekdays", "start_time", "end_time")):
            raise not_valid("incomplete_weekly")
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


def credentials(data: Mapping[str, Any], base: Credentials) -> Credentials:
    """The credentials the fields give, over `base`."""
    pin = data.get("pin", base.pin) or None
    return Credentials(
        pin=pin,
        remote_token=data.get("remote_token", base.remote_token),
        guest_link=data.get("guest_link", base.guest_link),
    )


def policy(data: Mapping[str, Any], base: Policy) -> Policy:
    """The policy the fields give, over `base`."""
    return Policy(
        alarm=AlarmPolicy(data.get("alarm", base.alarm)),
        require_camera=data.get("require_camera", base.require_camera),
        refuse_when_pets_home=data.get("refuse_when_pets_home", base.refuse_when_pets_home),
        notify=data.get("notify", base.notify),
    )


def new_grant_settings(site: ConciergeCoordinator, data: Mapping[str, Any]) -> GrantSettings:
    """What `create_grant` makes of its fields (every door when none is named)."""
    schedule = build_schedule(data)
    if schedule is None:
        raise not_valid("schedule_required")
    portals = (
        resolve_portals(site, data["portals"])
        if data.get("portals")
        else tuple(p.portal_id for p in site.site.portals)
    )
    return GrantSettings(
        label=data["label"],
        kind=GrantKind(data.get("kind", GrantKind.OTHER)),
        portals=portals,
        schedule=schedule,
        credentials=credentials(data, Credentials()),
        policy=policy(data, Policy()),
        max_uses=data.get("max_uses"),
        max_visit_minutes=data.get("max_visit_minutes"),
        carriers=resolve_carriers(site, data.get("carriers", [])),
    )


def grant_changes(
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
    if (new_credentials := credentials(data, grant.credentials)) != grant.credentials:
        changes["credentials"] = new_credentials
    if (new_policy := policy(data, grant.policy)) != grant.policy:
        changes["policy"] = new_policy
    return changes
