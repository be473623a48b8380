"""Decisions of the visit flow: who may enter now, what the alarm must return to, what is unsafe.

One flow serves couriers (signed tokens), guest links, the owner's own `start_visit` and
keypad PINs. The shell asks these functions and carries out the answer; nothing here
talks to Home Assistant.
"""

from dataclasses import dataclass
from enum import StrEnum

from .deny import DenyReason
from .events import AccessEventType, Source
from .grants import AlarmPolicy, Grant, GrantState
from .visits import Visit

DISARMED = "disarmed"
ARMED_STATES: frozenset[str] = frozenset(
    {
        "armed_away",
        "armed_home",
        "armed_night",
        "armed_vacation",
        "armed_custom_bypass",
    }
)
"""Alarm panel states Concierge knows how to return to."""

PREVIOUS_MODE = "previous_mode"
"""Data key of `alarm_disarmed` events: the mode to re-arm to."""

_PETS_HOME_STATES = frozenset({"on", "home", "detected"})

GRANT_DENIALS: dict[GrantState, DenyReason] = {
    GrantState.SCHEDULED: DenyReason.OUTSIDE_WINDOW,
    GrantState.EXPIRED: DenyReason.OUTSIDE_WINDOW,
    GrantState.SUSPENDED: DenyReason.GRANT_SUSPENDED,
    GrantState.REVOKED: DenyReason.GRANT_REVOKED,
    GrantState.USED_UP: DenyReason.GRANT_USED_UP,
}
"""Why a grant that is not active refuses entry."""


class SafetyIssue(StrEnum):
    """Something unsafe during a visit (the `reason` of a `safety_alert` event)."""

    CAMERA_LOST = "camera_lost"
    DOOR_NOT_OPENED = "door_not_opened"
    DOOR_HELD_OPEN = "door_held_open"
    VISIT_TOO_LONG = "visit_too_long"
    LOCK_FAILED = "lock_failed"
    REARM_FAILED = "rearm_failed"
    INTERRUPTED = "interrupted"
    LOCK_REMOVED = "lock_removed"
    """The door's lock disappeared from Home Assistant during the visit."""


@dataclass(frozen=True, slots=True)
class Conditions:
    """What the house looks like at the moment of a request."""

    grant_state: GrantState
    pets_home: bool
    cameras_working: bool
    """Every camera of the portal is available (False when the portal has none)."""
    portal_busy: bool


def pets_home(state: str | None) -> bool:
    """Read a pets-at-home entity's state (`on`, `home`, `detected` mean yes)."""
    return state is not None and state.lower() in _PETS_HOME_STATES


def denial(grant: Grant, portal: str, conditions: Conditions) -> DenyReason | None:
    """Why this request must be refused, or None to let it proceed (to the alarm)."""
    if portal not in grant.portals:
        return DenyReason.NO_COURIER_GRANT
    if (reason := GRANT_DENIALS.get(conditions.grant_state)) is not None:
        return reason
    if conditions.portal_busy:
        return DenyReason.PORTAL_BUSY
    if grant.policy.refuse_when_pets_home and conditions.pets_home:
        return DenyReason.PETS_HOME
    if grant.policy.require_camera and not conditions.cameras_working:
        return DenyReason.CAMERA_UNAVAILABLE
    return None


def should_disarm(grant: Grant | None, alarm_state: str | None) -> bool:
    """Whether the visit must disarm the linked panel first.

    Yes unless the grant leaves the alarm alone or the panel is already disarmed. A panel
    that is missing or unavailable counts as armed: the attempt fails and the visit is
    denied, rather than opening a door into an alarm that may be armed.
    """
    if grant is None or grant.policy.alarm is AlarmPolicy.LEAVE_ALONE:
        return False
    return alarm_state != DISARMED


def mode_to_restore(visit: Visit) -> str | None:
    """The mode the alarm was in before this visit disarmed it, if not restored yet."""
    mode: str | None = None
    for event in visit.timeline:
        if event.type is AccessEventType.ALARM_DISARMED:
            previous = event.data.get(PREVIOUS_MODE)
            mode = previous if isinstance(previous, str) and previous in ARMED_STATES else None
        elif event.type is AccessEventType.ALARM_REARMED:
            mode = None
    return mode


def rearm_mode(previous: str | None, *, door_secure: bool, fallback: str) -> str | None:
    """The mode to arm after a visit: the previous one, or the fallback when the door is not secure.

    A door held open or a lock that did not lock would make a perimeter mode trip (or
    be refused); the fallback (configurable, e.g. `armed_home`) must not depend on that
    door. None: nothing to re-arm (the alarm was not armed before the visit).
    """
    if previous is None:
        return None
    return previous if door_secure else fallback


def rearm_plan(
    own: str | None, held: str | None, *, others_open: bool, door_secure: bool, fallback: str
) -> tuple[str | None, str | None]:
    """What to arm as a visit ends, when visits may overlap: (arm now, hold for later).

    `own` is the mode this visit disarmed (`mode_to_restore`), `held` a mode an earlier
    overlapping visit left to restore. While another visit is still open the alarm stays
    disarmed for it and the mode is held; the last visit to end re-arms.
    """
    restore = own or held
    if others_open:
        return None, restore
    return rearm_mode(restore, door_secure=door_secure, fallback=fallback), None


def locks_itself(source: Source) -> bool:
    """Keypad visits start with the lock already open; every other source unlocks it."""
    return source is Source.KEYPAD
