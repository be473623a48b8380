"""Visits the audit log took further than the site's stored data, rebuilt from its records.

Before a door opens for a visit, the visit's records (requested, disarmed, granted) are
on disk in the audit log; the site's stored data follows a moment later. A stop in
between leaves the log ahead of the data. `replay_visits` applies the log's later
records to the stored visits (and rebuilds a visit the data never held from its
`access_requested`), and counts the grant's use for each `access_granted`, so that the
restart finds the visit, locks its door and records it as interrupted.

Only the records after the data's stored head are given: the stored data holds a
visit's steps and its grant's use up to exactly that head (both change together). A
visit the data does not hold and the log ended is left out (the data keeps only the
newest finished visits).
"""

from collections.abc import Iterable, Mapping, MutableMapping
from datetime import datetime
from zoneinfo import ZoneInfo

from .errors import ConciergeError
from .events import AccessEvent, AccessEventType, from_wire
from .grants import Grant, GrantAction, apply_action
from .visits import ENDED_WITH_REASON, Visit, VisitState, add_event, advance, request_visit

STATE_AFTER: Mapping[AccessEventType, VisitState] = {
    AccessEventType.ACCESS_GRANTED: VisitState.AUTHORIZED,
    AccessEventType.VISIT_STARTED: VisitState.IN_PROGRESS,
    AccessEventType.ACCESS_DENIED: VisitState.DENIED,
    AccessEventType.VISIT_COMPLETED: VisitState.COMPLETED,
    AccessEventType.VISIT_ABORTED: VisitState.ABORTED,
}
"""The state a visit's record moves it to (records of other types only join its timeline)."""


def _event(wire: Mapping[str, object]) -> AccessEvent | None:
    if not wire.get("visit"):
        return None
    try:
        return from_wire(wire)
    except ConciergeError:
        return None


def _apply(visit: Visit | None, event: AccessEvent) -> Visit | None:
    """The visit after `event`; None for a visit the records cannot start."""
    if visit is None:
        if event.type is not AccessEventType.ACCESS_REQUESTED or event.portal is None:
            return None
        source = event.source
        if source is None:
            return None
        return request_visit(site=event.site, portal=event.portal, source=source,
                             event=event, now=event.time, grant=event.grant)  # fmt: skip
    if any(e.id == event.id for e in visit.timeline):
        return visit
    state = STATE_AFTER.get(event.type)
    if state is None:
        return add_event(visit, event)
    reason = event.reason if state in ENDED_WITH_REASON else None
    return advance(visit, state, event, max(event.time, visit.started_at), reason=reason)


def _use(grant: Grant, at: datetime, tz: ZoneInfo) -> Grant:
    try:
        return apply_action(grant, GrantAction.RECORD_USE, at, tz)
    except ConciergeError:  # no use left (a keypad entry after the last): nothing to count
        return grant


def replay_visits(
    visits: MutableMapping[str, Visit],
    grants: MutableMapping[str, Grant],
    events: Iterable[Mapping[str, object]],
    tz: ZoneInfo,
) -> list[str]:
    """Apply the log's later records (wire form, in order) to `visits` and `grants`.

    Returns the ids of the visits changed or rebuilt. A record that does not fit its
    visit (damaged, out of order) is skipped; nothing raises.
    """
    replayed: dict[str, Visit] = {}
    uses: dict[str, Grant] = {}
    for wire in events:
        if (event := _event(wire)) is None or event.visit is None:
            continue
        try:
            visit = _apply(replayed.get(event.visit) or visits.get(event.visit), event)
        except ConciergeError:
            continue
        if visit is None:
            continue
        replayed[visit.id] = visit
        granted = event.type is AccessEventType.ACCESS_GRANTED and event.grant is not None
        if granted and (grant := uses.get(event.grant or "") or grants.get(event.grant or "")):
            uses[grant.id] = _use(grant, event.time, tz)
    kept = [v for v in replayed.values() if v.id in visits or not v.terminal]
    visits.update((v.id, v) for v in kept)
    grants.update(uses)
    return [v.id for v in kept]
