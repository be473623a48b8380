"""Reading stored grants fast: a site of thousands reads each of them at every setup.

`Grant.from_dict` reads any stored grant, field by field through the strict readers of
`_parse`, and says which field is wrong. Almost every stored grant has the plain shape
`to_dict` writes; `grant_from_stored` reads that shape directly (the grant, its windows,
credentials and policy are still built through their own checks), shares the few
distinct policies and PIN-less credentials among grants, and hands anything else to
`Grant.from_dict`, which reads it or says what is wrong, as before. Plain typed Python.
"""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import NoReturn

from .errors import ConciergeError
from .grant_terms import AlarmPolicy, Credentials, Policy
from .grants import Grant, GrantKind, GrantState
from .windows import OneOffWindow, Schedule, Window, window_from_dict

_KINDS: Mapping[str, GrantKind] = {kind.value: kind for kind in GrantKind}
_ALARMS: Mapping[str, AlarmPolicy] = {alarm.value: alarm for alarm in AlarmPolicy}
_STATES: Mapping[str, GrantState] = {state.value: state for state in GrantState}
_NO_PIN: dict[tuple[bool, bool], Credentials] = {}
_POLICIES: dict[tuple[AlarmPolicy, bool, bool, bool], Policy] = {}
_FAILED = (ConciergeError, ValueError, TypeError, OverflowError)


class _NotPlain(Exception):  # noqa: N818 - not an error: the general reader takes over
    """The stored grant is not in the plain shape."""


def grant_from_stored(data: object) -> Grant:
    """The grant `Grant.to_dict` stored (what `Grant.from_dict` reads, faster)."""
    try:
        return _plain_grant(data)
    except (_NotPlain, *_FAILED):
        return Grant.from_dict(data)


def state_from_stored(value: object) -> GrantState:
    """A recorded grant state from its stored value (as `GrantState(value)`)."""
    if isinstance(value, str) and (state := _STATES.get(value)) is not None:
        return state
    return GrantState(str(value))  # not a state: raises ValueError, as before


def _plain_grant(data: object) -> Grant:
    if type(data) is not dict:
        raise _NotPlain
    get = data.get
    portals = get("portals")
    if type(portals) is not list or not all(type(p) is str for p in portals):
        raise _NotPlain
    kind = get("kind")
    carriers = get("carriers")
    if carriers is not None and (
        type(carriers) is not list or not all(type(c) is str for c in carriers)
    ):
        raise _NotPlain
    return Grant(
        id=_str(get("id")),
        label=_str(get("label")),
        kind=_KINDS[kind] if type(kind) is str and kind in _KINDS else _not_plain(),
        portals=tuple(portals),
        schedule=_schedule(get("schedule")),
        created_at=_instant(get("created_at")),
        max_uses=_opt_int(get("max_uses")),
        max_visit_minutes=_opt_int(get("max_visit_minutes")),
        credentials=_credentials(get("credentials")),
        policy=_policy(get("policy")),
        uses=_int(get("uses")),
        suspended=_bool(get("suspended")),
        revoked=_bool(get("revoked")),
        carriers=() if carriers is None else tuple(carriers),
        description=_opt_str(get("description")) or "",
    )


def _schedule(data: object) -> Schedule:
    if type(data) is not dict or data.get("skipped") is not None:
        raise _NotPlain
    stored = data.get("windows")
    if type(stored) is not list:
        raise _NotPlain
    windows: list[Window] = []
    for window in stored:
        if type(window) is dict and window.get("type") == "one_off":
            windows.append(OneOffWindow(_instant(window.get("start")), _instant(window.get("end"))))
        else:
            windows.append(window_from_dict(window))
    low, high = data.get("valid_from"), data.get("valid_until")
    return Schedule(
        tuple(windows),
        valid_from=None if low is None else _instant(low),
        valid_until=None if high is None else _instant(high),
    )


def _credentials(data: object) -> Credentials:
    if type(data) is not dict:
        raise _NotPlain
    pin = _opt_str(data.get("pin"))
    remote, link = _bool(data.get("remote_token")), _bool(data.get("guest_link"))
    if pin is not None:
        return Credentials(pin, remote, link)  # never kept here: a PIN is a secret
    if (shared := _NO_PIN.get((remote, link))) is None:
        shared = _NO_PIN[remote, link] = Credentials(None, remote, link)
    return shared


def _policy(data: object) -> Policy:
    if type(data) is not dict:
        raise _NotPlain
    alarm = data.get("alarm")
    key = (
        _ALARMS[alarm] if type(alarm) is str and alarm in _ALARMS else _not_plain(),
        _bool(data.get("require_camera")),
        _bool(data.get("refuse_when_pets_home")),
        _bool(data.get("notify")),
    )
    if (shared := _POLICIES.get(key)) is None:
        shared = _POLICIES[key] = Policy(*key)
    return shared


def _instant(value: object) -> datetime:
    if type(value) is not str:
        raise _NotPlain
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise _NotPlain
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


def _str(value: object) -> str:
    if type(value) is not str:
        raise _NotPlain
    return value


def _opt_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _int(value: object) -> int:
    if type(value) is not int:
        raise _NotPlain
    return value


def _opt_int(value: object) -> int | None:
    return None if value is None else _int(value)


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise _NotPlain
    return value


def _not_plain() -> NoReturn:
    raise _NotPlain
