"""Who was at a lane when its weight changed, and whether that leaves exactly one picker.

Sessions count by their bound tracks in the lane's zone within the tolerance of the change's
`began`. A person track no session owns there is *unknown*: it could be anyone (a shopper
whose track was switched, a party member never bound), so it makes the change ambiguous
and brings every session without a track in as a candidate. A session whose track was
lost in that zone a short while ago is a candidate there too, and so is every open session
without a track whose whereabouts are unknown: one never bound (the tracker never saw its
shopper, or not yet) or whose track was lost longer than `lost_nearby_s` ago. Such a
shopper may be standing at any lane unseen, so a pick there is never anyone else's alone.
"""

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime, timedelta

from .attribution_tuning import AttributionTuning
from .cart_model import ShelfChange
from .cart_session import ShopSession
from .track_table import Track, TrackTable
from .tracker_clock import ALLOWED_S


@dataclass(frozen=True, slots=True)
class Seen:
    """Who was at a lane's zone around a shelf change."""

    sessions: dict[str, list[Track]]
    """Sessions with a bound track there, and those tracks."""
    unknown: list[Track]
    """Person tracks there that no session (open at the time) owns."""
    orphans: set[str]
    """Sessions without a track that could have been there."""

    @property
    def candidates(self) -> tuple[str, ...]:
        """Every session that could have made the change, by id."""
        return tuple(sorted(self.sessions.keys() | self.orphans))


def who_was_there(  # noqa: PLR0913 - the book's parts, read only
    c: ShelfChange,
    *,
    table: TrackTable,
    owner: Mapping[str, str],
    sessions: Mapping[str, ShopSession],
    orphans: AbstractSet[str],
    tuning: AttributionTuning,
) -> Seen:
    """The sessions and unknown people at `c`'s zone within the tolerance of its `began`.

    A change whose moment is unknown (`ShelfChange.began_known`): from its `began` (the
    earliest it can have been) until it settled.
    """
    tol = tuning.tolerance_s
    last = c.began if c.began_known else c.settled
    start, end = c.began - timedelta(seconds=tol), last + timedelta(seconds=tol)
    present: dict[str, list[Track]] = {}
    unknown: list[Track] = []
    for track in table.in_zone(c.zone, start, end):
        visit = owner.get(track.id)
        session = None if visit is None else sessions.get(visit)
        if session is not None and session.open_at(start, end, tol):
            present.setdefault(session.visit, []).append(track)
        else:
            unknown.append(track)
    nearby = timedelta(seconds=tuning.lost_nearby_s)
    possible = {
        visit
        for visit in orphans
        if (session := sessions[visit]).open_at(start, end, tol)
        and (
            unknown
            or _nowhere(session, start - nearby)
            or _lost_near(session, c.zone, start - nearby)
        )
    }
    return Seen(present, unknown, possible - present.keys())


def _nowhere(session: ShopSession, since: datetime) -> bool:
    """Whether nothing says where a session without a track is (it could be anywhere)."""
    return session.lost_at is None or session.lost_at < since


def _lost_near(session: ShopSession, zone: str, since: datetime) -> bool:
    return session.lost_at is not None and session.lost_at >= since and zone in session.lost_zones


def sole_picker(c: ShelfChange, seen: Seen) -> str | None:
    """The one session that can have made `c`, when the evidence leaves exactly one.

    Alone at the lane; or the only one (of sessions and unknown people) that had not left
    the zone before the change began, and that stood in it from `began` until `settled`.
    "Before" by more than what is left of the clocks' disagreement once the shell corrected
    the tracker's (`tracker_clock.ALLOWED_S`): one that left just before `began` may still
    have been the hand.
    """
    if seen.orphans:
        return None
    if len(seen.sessions) == 1 and not seen.unknown:
        return next(iter(seen.sessions))
    zone, began, settled = c.zone, c.began, c.settled
    since = began - timedelta(seconds=ALLOWED_S)

    def gone(tracks: list[Track]) -> bool:
        return all(
            zone not in t.zones_at(since) and not t.in_zone(zone, since, settled) for t in tracks
        )

    if not all(gone([t]) for t in seen.unknown):
        return None
    stayed = [visit for visit, tracks in seen.sessions.items() if not gone(tracks)]
    if len(stayed) != 1:
        return None
    tracks = seen.sessions[stayed[0]]
    return stayed[0] if any(t.throughout(zone, began, settled) for t in tracks) else None
