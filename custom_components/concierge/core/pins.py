"""One PIN, one grant per door: a keypad code must say whose it is.

A lock that accepts the same code twice would credit every use to one grant and clear
the code when either grant ends; a lock that refuses duplicates would leave the second
grant without a code for its whole window. So a PIN is refused when another grant that
is not over (scheduled, active or suspended) already uses it at one of the same doors.
A grant that is over (expired, revoked, used up) frees its PIN.
"""

from collections.abc import Iterable, Mapping

from .grants import Grant, GrantState

OVER = frozenset({GrantState.EXPIRED, GrantState.REVOKED, GrantState.USED_UP})


def pin_conflict(
    candidate: Grant, others: Iterable[Grant], states: Mapping[str, GrantState]
) -> tuple[Grant, str] | None:
    """The first other grant (and the shared door) that holds the candidate's PIN."""
    pin = candidate.credentials.pin
    if pin is None:
        return None
    for other in others:
        if other.id == candidate.id or other.credentials.pin != pin:
            continue
        if states.get(other.id) in OVER:
            continue
        shared = next((p for p in candidate.portals if p in other.portals), None)
        if shared is not None:
            return other, shared
    return None
