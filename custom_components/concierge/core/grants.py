"""Grants: who may pass which portals, when, how often, with which credential and policy.

The credential and the policy themselves are `grant_terms`'s (importable from here too).

A grant's state is never stored; `grant_state` computes it from the stored flags
(`revoked`, `suspended`, `uses`) and the schedule at a given instant. Stored flags
change only through `apply_action`, which checks an explicit table of allowed actions
per state. `next_state_change` says when the state will next change by time alone,
so the shell can schedule one callback at that instant instead of polling.
`settled_state` keeps states moving forward: a terminal state, once recorded, stays.
A grant that can no longer use its PIN does not keep it (`without_pin`).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypedDict, Unpack
from zoneinfo import ZoneInfo

from . import _parse
from .errors import InvalidGrantError, TransitionError
from .fast_times import is_open, last_end, next_edge
from .grant_carriers import carriers_from_dict, check_carriers
from .grant_terms import REDACTED, AlarmPolicy, Credentials, Policy
from .ids import is_identifier, new_id
from .windows import Schedule

__all__ = [  # a grant's credentials and policy are `grant_terms`'s; importable here too
    "ALLOWED",
    "DESCRIPTION_MAX_LENGTH",
    "LABEL_MAX_LENGTH",
    "MAX_VISIT_MINUTES",
    "REDACTED",
    "TERMINAL_STATES",
    "UPDATABLE_FIELDS",
    "AlarmPolicy",
    "Credentials",
    "Grant",
    "GrantAction",
    "GrantKind",
    "GrantState",
    "GrantUpdate",
    "Policy",
    "apply_action",
    "grant_state",
    "new_grant",
    "next_state_change",
    "settled_state",
    "without_pin",
]

LABEL_MAX_LENGTH = 64
DESCRIPTION_MAX_LENGTH = 1000
MAX_VISIT_MINUTES = 1440

_WHAT = "grant"


class GrantKind(StrEnum):
    """Who the grant is for."""

    COURIER = "courier"
    CLEANER = "cleaner"
    SITTER = "sitter"
    GUEST = "guest"
    OTHER = "other"


class GrantState(StrEnum):
    """The computed state of a grant at an instant."""

    SCHEDULED = "scheduled"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED_UP = "used_up"


class GrantAction(StrEnum):
    """Explicit changes to a grant."""

    SUSPEND = "suspend"
    RESUME = "resume"
    REVOKE = "revoke"
    RECORD_USE = "record_use"
    UPDATE = "update"


ALLOWED: Mapping[GrantState, frozenset[GrantAction]] = {
    GrantState.SCHEDULED: frozenset({GrantAction.SUSPEND, GrantAction.REVOKE, GrantAction.UPDATE}),
    GrantState.ACTIVE: frozenset(
        {GrantAction.SUSPEND, GrantAction.REVOKE, GrantAction.RECORD_USE, GrantAction.UPDATE}
    ),
    GrantState.SUSPENDED: frozenset({GrantAction.RESUME, GrantAction.REVOKE, GrantAction.UPDATE}),
    GrantState.EXPIRED: frozenset(),
    GrantState.REVOKED: frozenset(),
    GrantState.USED_UP: frozenset(),
}
"""The actions allowed in each state; anything else raises `TransitionError`."""


def _invalid(*, key: str, **placeholders: str) -> InvalidGrantError:
    return InvalidGrantError(translation_key=key, placeholders=placeholders)


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """A permission to pass portals within a schedule (immutable; see `apply_action`)."""

    id: str
    label: str
    kind: GrantKind
    portals: tuple[str, ...]
    schedule: Schedule
    created_at: datetime
    max_uses: int | None = None
    max_visit_minutes: int | None = None
    credentials: Credentials = field(default_factory=Credentials)
    policy: Policy = field(default_factory=Policy)
    uses: int = 0
    suspended: bool = False
    revoked: bool = False
    carriers: tuple[str, ...] = ()  # carrier ids it admits; none: any (`grant_carriers`)
    description: str = ""  # the owner's own words (typed in the calendar); stored if any

    def __post_init__(self) -> None:
        """Validate and normalise (label stripped, `created_at` in UTC)."""
        if not is_identifier(self.id):
            raise _invalid(key="invalid_grant_id")
        label: object = self.label
        if not isinstance(label, str) or not label.strip():
            raise _invalid(key="empty_label")
        label = label.strip()
        if len(label) > LABEL_MAX_LENGTH:
            raise _invalid(key="label_too_long", max_length=str(LABEL_MAX_LENGTH))
        object.__setattr__(self, "label", label)
        text: object = self.description
        if not isinstance(text, str) or len(text) > DESCRIPTION_MAX_LENGTH:
            raise _invalid(key="description_too_long", max_length=str(DESCRIPTION_MAX_LENGTH))
        self._check_portals()
        check_carriers(self.carriers)
        if self.max_uses is not None and (type(self.max_uses) is not int or self.max_uses < 1):
            raise _invalid(key="invalid_max_uses")
        minutes = self.max_visit_minutes
        if minutes is not None and (
            type(minutes) is not int or not 1 <= minutes <= MAX_VISIT_MINUTES
        ):
            raise _invalid(key="invalid_max_visit_minutes", max_minutes=str(MAX_VISIT_MINUTES))
        if type(self.uses) is not int or self.uses < 0:
            raise _invalid(key="invalid_uses")
        if self.created_at.tzinfo is None or self.created_at.utcoffset() is None:
            raise _invalid(key="naive_datetime", field="created_at")
        object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))

    def _check_portals(self) -> None:
        portals: object = self.portals
        if not isinstance(portals, tuple) or not portals:
            raise _invalid(key="no_portals")
        for portal in portals:
            if not is_identifier(portal):
                raise _invalid(key="invalid_portal", portal=str(portal)[:64])
        if len(set(portals)) != len(portals):
            raise _invalid(key="duplicate_portal")

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage (includes the PIN; see `redacted_dict`)."""
        return self._as_dict(redact=False)

    def redacted_dict(self) -> dict[str, object]:
        """Serialise for diagnostics, with the PIN replaced by `REDACTED`."""
        return self._as_dict(redact=True)

    def _as_dict(self, *, redact: bool) -> dict[str, object]:
        text = REDACTED if redact and self.description else self.description
        return ({"description": text} if text else {}) | {
            "id": self.id,
            "label": self.label,
            "kind": self.kind.value,
            "portals": list(self.portals),
            "schedule": self.schedule.to_dict(),
            "created_at": self.created_at.isoformat(),
            "max_uses": self.max_uses,
            "max_visit_minutes": self.max_visit_minutes,
            "credentials": self.credentials.to_dict(redact=redact),
            "policy": self.policy.to_dict(),
            "uses": self.uses,
            "suspended": self.suspended,
            "revoked": self.revoked,
            "carriers": list(self.carriers),
        }

    @classmethod
    def from_dict(cls, data: object) -> Grant:
        """Rebuild a grant from `to_dict` output."""
        obj = _parse.as_mapping(data, _WHAT)
        portals = _parse.get_list(obj, "portals", _WHAT)
        if not all(isinstance(p, str) for p in portals):
            raise _parse.fail(_WHAT, "portals")
        return cls(
            id=_parse.get_str(obj, "id", _WHAT),
            label=_parse.get_str(obj, "label", _WHAT),
            kind=_parse.get_enum(obj, "kind", GrantKind, _WHAT),
            portals=tuple(str(p) for p in portals),
            schedule=Schedule.from_dict(obj.get("schedule")),
            created_at=_parse.get_datetime(obj, "created_at", _WHAT),
            max_uses=_parse.get_opt_int(obj, "max_uses", _WHAT),
            max_visit_minutes=_parse.get_opt_int(obj, "max_visit_minutes", _WHAT),
            credentials=Credentials.from_dict(obj.get("credentials")),
            policy=Policy.from_dict(obj.get("policy")),
            uses=_parse.get_int(obj, "uses", _WHAT),
            suspended=_parse.get_bool(obj, "suspended", _WHAT),
            revoked=_parse.get_bool(obj, "revoked", _WHAT),
            carriers=carriers_from_dict(obj, _WHAT),
            description=_parse.get_opt_str(obj, "description", _WHAT) or "",
        )


def new_grant(  # noqa: PLR0913 - a grant has this many independent settings
    *,
    label: str,
    kind: GrantKind,
    portals: tuple[str, ...],
    schedule: Schedule,
    now: datetime,
    credentials: Credentials | None = None,
    policy: Policy | None = None,
    max_uses: int | None = None,
    max_visit_minutes: int | None = None,
    grant_id: str | None = None,
    carriers: tuple[str, ...] = (),
    description: str = "",
) -> Grant:
    """Create a validated grant with a fresh id (uuid4 hex) unless one is given."""
    return Grant(
        id=new_id() if grant_id is None else grant_id,
        label=label,
        kind=kind,
        portals=portals,
        schedule=schedule,
        created_at=now,
        max_uses=max_uses,
        max_visit_minutes=max_visit_minutes,
        credentials=Credentials() if credentials is None else credentials,
        policy=Policy() if policy is None else policy,
        carriers=carriers,
        description=description,
    )


def grant_state(grant: Grant, now: datetime, tz: ZoneInfo) -> GrantState:
    """Compute the grant's state at `now` in the site's time zone `tz`.

    Precedence: revoked > used_up > expired > suspended > active > scheduled.
    Expired means the schedule is closed at `now` and never opens again.
    """
    if grant.revoked:
        return GrantState.REVOKED
    if grant.max_uses is not None and grant.uses >= grant.max_uses:
        return GrantState.USED_UP
    open_now = is_open(grant.schedule, tz, now)
    if not open_now and next_edge(grant.schedule, tz, now) is None:
        return GrantState.EXPIRED
    if grant.suspended:
        return GrantState.SUSPENDED
    return GrantState.ACTIVE if open_now else GrantState.SCHEDULED


TERMINAL_STATES: frozenset[GrantState] = frozenset(
    {GrantState.EXPIRED, GrantState.REVOKED, GrantState.USED_UP}
)
"""States a grant never leaves."""


def settled_state(recorded: GrantState | None, computed: GrantState) -> GrantState:
    """The grant's state, moving forward only: a terminal state once recorded stays.

    `computed` is `grant_state` at an instant; `recorded` is the state last recorded
    for the grant (None if none was). Time alone never takes a grant out of a terminal
    state, even when the instant lies before the one the state was recorded at.
    """
    if recorded in TERMINAL_STATES and computed not in TERMINAL_STATES:
        return recorded
    return computed


def without_pin(grant: Grant) -> Grant:
    """The grant without its PIN: for a grant that is over, which never needs it again."""
    if grant.credentials.pin is None:
        return grant
    return replace(grant, credentials=replace(grant.credentials, pin=None))


def next_state_change(grant: Grant, now: datetime, tz: ZoneInfo) -> datetime | None:
    """Return when `grant_state` will next change by time alone; None if never.

    Scheduled and active grants change at every window edge; a suspended grant
    changes only when its schedule is over (it then expires); revoked, used-up and
    expired grants never change by time.
    """
    state = grant_state(grant, now, tz)
    if state in {GrantState.REVOKED, GrantState.USED_UP, GrantState.EXPIRED}:
        return None
    if state is GrantState.SUSPENDED:
        return last_end(grant.schedule, tz)
    return next_edge(grant.schedule, tz, now)


class GrantUpdate(TypedDict, total=False):
    """The fields `GrantAction.UPDATE` may replace."""

    label: str
    kind: GrantKind
    portals: tuple[str, ...]
    schedule: Schedule
    max_uses: int | None
    max_visit_minutes: int | None
    credentials: Credentials
    policy: Policy
    carriers: tuple[str, ...]
    description: str


UPDATABLE_FIELDS: frozenset[str] = frozenset(GrantUpdate.__annotations__)
"""Names of the fields an update may change."""


def apply_action(
    grant: Grant,
    action: GrantAction,
    now: datetime,
    tz: ZoneInfo,
    **changes: Unpack[GrantUpdate],
) -> Grant:
    """Apply an explicit action and return the new grant.

    Raises `TransitionError` (key `transition_not_allowed`) when `ALLOWED` does not
    permit `action` in the grant's state at `now`, and `InvalidGrantError` when
    `changes` are given to anything but `update` or make the grant invalid. A revoked
    grant, or one whose last use this was, comes back without its PIN.
    """
    state = grant_state(grant, now, tz)
    if action not in ALLOWED[state]:
        raise TransitionError(
            translation_key="transition_not_allowed",
            placeholders={"action": action.value, "state": state.value},
        )
    unknown = set(changes) - UPDATABLE_FIELDS
    if unknown or (changes and action is not GrantAction.UPDATE):
        raise _invalid(key="invalid_changes", field=", ".join(sorted(unknown or set(changes))))
    match action:
        case GrantAction.SUSPEND:
            return replace(grant, suspended=True)
        case GrantAction.RESUME:
            return replace(grant, suspended=False)
        case GrantAction.REVOKE:
            return without_pin(replace(grant, revoked=True))
        case GrantAction.RECORD_USE:
            used = replace(grant, uses=grant.uses + 1)
            return without_pin(used) if grant_state(used, now, tz) is GrantState.USED_UP else used
        case _:  # GrantAction.UPDATE
            return replace(grant, **changes)
