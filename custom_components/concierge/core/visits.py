"""Visits: one passage through a portal, from request to completion, with its timeline.

The state machine is the explicit `TRANSITIONS` table. `authorized -> completed` is
allowed for portals without a door sensor, where nobody can observe the door being
opened. Every change appends the access event that caused it to the timeline; evidence
referenced by timeline events is collected into `Visit.evidence`.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from . import _parse
from .errors import VisitTransitionError
from .events import AccessEvent, AccessEventType, EvidenceRef, Source, from_wire, to_wire
from .ids import is_identifier, is_snake_case

_WHAT = "visit"


class VisitState(StrEnum):
    """Where a visit stands."""

    REQUESTED = "requested"
    AUTHORIZED = "authorized"
    DENIED = "denied"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ABORTED = "aborted"


TRANSITIONS: Mapping[VisitState, frozenset[VisitState]] = {
    VisitState.REQUESTED: frozenset({VisitState.AUTHORIZED, VisitState.DENIED, VisitState.ABORTED}),
    VisitState.AUTHORIZED: frozenset(
        {VisitState.IN_PROGRESS, VisitState.COMPLETED, VisitState.ABORTED}
    ),
    VisitState.IN_PROGRESS: frozenset({VisitState.COMPLETED, VisitState.ABORTED}),
    VisitState.DENIED: frozenset(),
    VisitState.COMPLETED: frozenset(),
    VisitState.ABORTED: frozenset(),
}
"""The states each state may move to; terminal states accept nothing."""

TERMINAL_STATES: frozenset[VisitState] = frozenset(s for s, t in TRANSITIONS.items() if not t)
"""States a visit never leaves."""

ENDED_WITH_REASON: frozenset[VisitState] = frozenset({VisitState.DENIED, VisitState.ABORTED})
"""Terminal states that record why (`Visit.abort_reason`)."""


def _invalid(*, field: str) -> VisitTransitionError:
    return VisitTransitionError(translation_key="invalid_visit", placeholders={"field": field})


def _merge_evidence(
    current: tuple[EvidenceRef, ...], more: Iterable[EvidenceRef]
) -> tuple[EvidenceRef, ...]:
    merged = list(current)
    merged.extend(e for e in more if e not in merged)
    return tuple(merged)


@dataclass(frozen=True, slots=True, kw_only=True)
class Visit:
    """One visit (immutable; change it with `advance`, `add_event`, `add_evidence`).

    `ended_at` is set exactly when the state is terminal. `abort_reason` (snake_case)
    says why a denied or aborted visit ended, when known.
    """

    id: str
    site: str
    portal: str
    grant: str | None
    source: Source
    state: VisitState
    started_at: datetime
    ended_at: datetime | None = None
    abort_reason: str | None = None
    timeline: tuple[AccessEvent, ...] = ()
    evidence: tuple[EvidenceRef, ...] = ()

    def __post_init__(self) -> None:
        """Validate ids, times and the reason; normalise times to UTC."""
        for name in ("id", "site", "portal"):
            if not is_identifier(getattr(self, name)):
                raise _invalid(field=name)
        if self.grant is not None and not is_identifier(self.grant):
            raise _invalid(field="grant")
        if self.started_at.tzinfo is None or self.started_at.utcoffset() is None:
            raise _invalid(field="started_at")
        object.__setattr__(self, "started_at", self.started_at.astimezone(UTC))
        ended = self.ended_at
        if (ended is None) == (self.state in TERMINAL_STATES):
            raise _invalid(field="ended_at")
        if ended is not None:
            if ended.tzinfo is None or ended.utcoffset() is None or ended < self.started_at:
                raise _invalid(field="ended_at")
            object.__setattr__(self, "ended_at", ended.astimezone(UTC))
        if self.abort_reason is not None and (
            self.state not in ENDED_WITH_REASON or not is_snake_case(self.abort_reason)
        ):
            raise _invalid(field="abort_reason")
        for event in self.timeline:
            _check_event_belongs(self, event)

    @property
    def terminal(self) -> bool:
        """Whether the visit is over."""
        return self.state in TERMINAL_STATES

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage (timeline events in wire form)."""
        return {
            "id": self.id,
            "site": self.site,
            "portal": self.portal,
            "grant": self.grant,
            "source": self.source.value,
            "state": self.state.value,
            "started_at": self.started_at.isoformat(),
            "ended_at": None if self.ended_at is None else self.ended_at.isoformat(),
            "abort_reason": self.abort_reason,
            "timeline": [to_wire(e) for e in self.timeline],
            "evidence": [e.to_wire() for e in self.evidence],
        }

    @classmethod
    def from_dict(cls, data: object) -> Visit:
        """Rebuild a visit from `to_dict` output."""
        obj = _parse.as_mapping(data, _WHAT)
        return cls(
            id=_parse.get_str(obj, "id", _WHAT),
            site=_parse.get_str(obj, "site", _WHAT),
            portal=_parse.get_str(obj, "portal", _WHAT),
            grant=_parse.get_opt_str(obj, "grant", _WHAT),
            source=_parse.get_enum(obj, "source", Source, _WHAT),
            state=_parse.get_enum(obj, "state", VisitState, _WHAT),
            started_at=_parse.get_datetime(obj, "started_at", _WHAT),
            ended_at=_parse.get_opt_datetime(obj, "ended_at", _WHAT),
            abort_reason=_parse.get_opt_str(obj, "abort_reason", _WHAT),
            timeline=tuple(from_wire(e) for e in _parse.get_list(obj, "timeline", _WHAT)),
            evidence=tuple(
                EvidenceRef.from_wire(e) for e in _parse.get_list(obj, "evidence", _WHAT)
            ),
        )


def _check_event_belongs(visit: Visit, event: AccessEvent) -> None:
    """Refuse an event that names another visit or site."""
    if event.visit != visit.id or event.site != visit.site:
        raise VisitTransitionError(
            translation_key="event_visit_mismatch",
            placeholders={"visit": visit.id, "event": event.id},
        )


def request_visit(  # noqa: PLR0913 - a visit request names all of these
    *,
    site: str,
    portal: str,
    source: Source,
    event: AccessEvent,
    now: datetime,
    grant: str | None = None,
) -> Visit:
    """Open a visit in state `requested` with `event` as its first timeline entry.

    The visit's id is `event.visit` (create it with `ids.new_id()`); an event that
    names no visit, or another site, raises `VisitTransitionError`.
    """
    if event.visit is None:
        raise VisitTransitionError(
            translation_key="event_visit_mismatch", placeholders={"visit": "", "event": event.id}
        )
    visit = Visit(
        id=event.visit,
        site=site,
        portal=portal,
        grant=grant,
        source=source,
        state=VisitState.REQUESTED,
        started_at=now,
    )
    return add_event(visit, event)


def advance(
    visit: Visit,
    new_state: VisitState,
    event: AccessEvent,
    now: datetime,
    reason: str | None = None,
) -> Visit:
    """Move the visit to `new_state`, appending `event` to the timeline.

    Raises `VisitTransitionError` (key `visit_transition_not_allowed`) when the
    `TRANSITIONS` table does not allow it. `reason` is recorded as `abort_reason` and
    is accepted only for denied and aborted; a terminal state sets `ended_at = now`.
    """
    if new_state not in TRANSITIONS[visit.state]:
        raise VisitTransitionError(
            translation_key="visit_transition_not_allowed",
            placeholders={"state": visit.state.value, "new_state": new_state.value},
        )
    _check_event_belongs(visit, event)
    return replace(
        visit,
        state=new_state,
        ended_at=now if new_state in TERMINAL_STATES else None,
        abort_reason=reason,
        timeline=(*visit.timeline, event),
        evidence=_merge_evidence(visit.evidence, event.evidence),
    )


def add_event(visit: Visit, event: AccessEvent) -> Visit:
    """Append `event` to the timeline without changing the state.

    A terminal visit only accepts `evidence_captured` events (media can arrive after
    the visit ended); anything else raises `VisitTransitionError` (key `visit_closed`).
    """
    if visit.terminal and event.type is not AccessEventType.EVIDENCE_CAPTURED:
        raise VisitTransitionError(
            translation_key="visit_closed",
            placeholders={"visit": visit.id, "state": visit.state.value},
        )
    _check_event_belongs(visit, event)
    return replace(
        visit,
        timeline=(*visit.timeline, event),
        evidence=_merge_evidence(visit.evidence, event.evidence),
    )


def add_evidence(visit: Visit, *refs: EvidenceRef) -> Visit:
    """Attach evidence references (duplicates ignored); allowed in every state."""
    return replace(visit, evidence=_merge_evidence(visit.evidence, refs))
