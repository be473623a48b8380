"""Retiring ended grants: which grants leave the site, and when the next one is due.

A grant has ended for good when it is revoked, used up or past its last window (a
terminal state); it leaves the site a configurable time after that end. A suspended
grant has not ended: it may be resumed, and never retires while it is suspended (once
its last window is over it is expired, and ends like any other). A grant whose code is,
or may still be, on a lock waits until the lock confirmed the clear, so the owner keeps
seeing it; so does a grant with a visit still open. Its audit records are never touched.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .code_status import CodeStatus
from .errors import ConciergeError
from .events import AccessEventType, parse_wire_time
from .fast_times import last_end
from .grants import TERMINAL_STATES, Grant, GrantState
from .slot_types import HELD, KnownSlot

END_EVENTS: frozenset[str] = frozenset(
    {
        AccessEventType.GRANT_EXPIRED.value,
        AccessEventType.GRANT_REVOKED.value,
        AccessEventType.GRANT_USED_UP.value,
    }
)
"""The events that record a grant's end."""

_UNSETTLED_CODES = frozenset({CodeStatus.NOT_REMOVED.value, CodeStatus.PENDING.value})


def recorded_ends(events: Iterable[Mapping[str, object]]) -> dict[str, datetime]:
    """When each grant's end was recorded (the first such event), from wire-form events."""
    ends: dict[str, datetime] = {}
    for event in events:
        grant = event.get("grant")
        if event.get("type") not in END_EVENTS or not isinstance(grant, str) or grant in ends:
            continue
        try:
            ends[grant] = parse_wire_time(event.get("time"))
        except ConciergeError:
            continue
    return ends


def ended_at(
    grant: Grant, state: GrantState, recorded: datetime | None, tz: ZoneInfo
) -> datetime | None:
    """When the grant ended for good; None while it has not, or when nobody can tell.

    An expired grant ended at the end of its last window (even if Home Assistant was down
    then); a revoked or used-up grant when that was recorded, or at the end of its last
    window if that came first.
    """
    if state not in TERMINAL_STATES:
        return None
    end = last_end(grant.schedule, tz)
    if state is GrantState.EXPIRED and end is not None:
        return end
    known = [t for t in (recorded, end) if t is not None]
    return min(known) if known else None


def codes_left(
    locks: Iterable[Mapping[int, KnownSlot]], statuses: Mapping[str, Mapping[str, str]]
) -> frozenset[str]:
    """Grants whose code is, or may still be, on a lock: a clear not confirmed yet.

    `locks` is each lock's slot knowledge; `statuses` maps a grant to its code status
    per door (`not_removed` or `pending` means the lock has not confirmed the clear).
    """
    held = {s.grant for slots in locks for s in slots.values() if s.status in HELD and s.grant}
    shown = {g for g, per in statuses.items() if _UNSETTLED_CODES & set(per.values())}
    return frozenset(held | shown)


@dataclass(frozen=True, slots=True)
class RetirementPlan:
    """What to retire now, what is due but must wait, and when to look again."""

    due: tuple[str, ...]
    """Grants to retire now."""
    waiting: tuple[str, ...]
    """Grants past their time that must wait (a code on a lock, a visit open)."""
    next_at: datetime | None
    """When the next grant becomes due; None if none will by time alone."""


def plan_retirement(
    ends: Mapping[str, datetime], keep: timedelta, now: datetime, held: Collection[str] = ()
) -> RetirementPlan:
    """Which grants leave at `now`: those that ended at least `keep` ago and are not `held`.

    `ends` maps each ended grant to its end (`ended_at`); `keep` is never negative.
    """
    if keep < timedelta(0):
        msg = "keep must not be negative"
        raise ValueError(msg)
    ready = sorted(g for g, end in ends.items() if end + keep <= now)
    later = [end + keep for end in ends.values() if end + keep > now]
    return RetirementPlan(
        due=tuple(g for g in ready if g not in held),
        waiting=tuple(g for g in ready if g in held),
        next_at=min(later, default=None),
    )
