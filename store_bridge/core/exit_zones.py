"""A session whose shopper left through an exit zone: closed there, as at the exit gate.

Only the exit gate (or the longest stay) closes a session for sure; a store whose exit does
not tell who leaves may name the tracker's zones in front of it (`exit_zones`). A session is
taken to have left when the cart book would otherwise call it lost (its last bound track
ended and no new track took its place within the relink window) and all of these hold:

- every one of its people (`party`) was seen leave: the binder's record of the session's
  tracks that ended with no successor (`Binder.gone`: a track the binder really relinked
  does not count, however close in time; the record outlives the track table's pruning)
  holds one track per person, and each of them ended in an exit zone. One person lost
  anywhere else, or a person never bound, leaves it open for good (the gate or the longest
  stay closes it);
- nobody else (a track of another session, or of nobody) was in that exit zone within
  `tolerance_s` of each end: people leaving together may have swapped track ids;
- from the first of its people leaving until the decision, no person track in the store was
  owned by nobody, or by a session that had already left (its shopper is gone: the track
  is someone else), and no other open session was without a track. A track bound to the
  wrong session leaves a person whose track nobody owns (its shopper, under a new id) or a
  session without one (the one whose person it follows): either way the track that left
  may not have been this session's. The track table must still remember all of that time;
  if it forgot part of it, the session stays open.

Then it closes at the moment its last track ended. It is charged what its cart holds then,
as at the gate; changes after that are not its (it is no candidate for them). A session
closed once stays closed at that moment (a later gate exit changes nothing). When in doubt
it is not closed here: a missed close waits for the gate, a wrong one would charge someone
else's picks to nobody or to the wrong cart.

What this cannot see: two bound tracks swapping ids with nobody else unbound (each session
then follows the other's shopper, as it would until the gate). If the one still inside then
puts back an item its closed cart holds, nobody present could have, so no cart is credited.
"""

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta

from .attribution_tuning import AttributionTuning
from .cart_session import ShopSession
from .gate_binding import Gone
from .track_table import TrackTable


def left_through(  # noqa: PLR0913 - the book's parts, read only
    session: ShopSession,
    *,
    gone: Sequence[Gone],
    table: TrackTable,
    owner: Mapping[str, str],
    sessions: Mapping[str, ShopSession],
    exits: Collection[str],
    tuning: AttributionTuning,
    others_unbound: bool,
    now: datetime,
) -> datetime | None:
    """When `session`'s people left through an exit zone; None when that is not sure.

    `gone`: its tracks that ended with no successor (`Binder.gone`); `owner`: which session
    each bound track is; `others_unbound`: whether an open session other than this one is
    without a track; `now`: up to when the tracker's picture is complete.
    """
    people = {gone_track.track: gone_track for gone_track in gone}
    if (
        not exits
        or session.closed is not None
        or others_unbound
        or not people
        or len(people) < session.party  # somebody of the party was never seen leave
        or any(t in table.tracks and table.tracks[t].ended is None for t in session.tracks)
    ):
        return None
    tolerance = timedelta(seconds=tuning.tolerance_s)
    first = min(person.ended for person in people.values()) - tolerance
    if table.since is not None and table.since > first:
        return None  # the table forgot part of the time since the first left
    zones = set(exits)
    if not all(
        _alone_out(p, visit=session.visit, table=table, owner=owner, exits=zones, tol=tolerance)
        for p in people.values()
    ) or _stranger_inside(table, owner, sessions, start=first, end=now, tolerance=tolerance):
        return None
    return max(person.ended for person in people.values())


def _alone_out(  # noqa: PLR0913 - one check, its parts
    person: Gone,
    *,
    visit: str,
    table: TrackTable,
    owner: Mapping[str, str],
    exits: set[str],
    tol: timedelta,
) -> bool:
    """Whether `person`'s track ended in an exit zone with only `visit`'s people in it then."""
    zones = person.zones & exits
    if not zones:
        return False
    start, end = person.ended - tol, person.ended + tol
    return not any(
        owner.get(other.id) != visit for zone in zones for other in table.in_zone(zone, start, end)
    )


def _stranger_inside(  # noqa: PLR0913 - one check, its parts
    table: TrackTable,
    owner: Mapping[str, str],
    sessions: Mapping[str, ShopSession],
    *,
    start: datetime,
    end: datetime,
    tolerance: timedelta,
) -> bool:
    """Whether a person track not accounted for was in the store at some moment of [start, end].

    Not accounted for: owned by no session, or seen later than `tolerance` after its session
    closed (that shopper left: the track now follows someone else).
    """
    for track in table.tracks.values():
        visit = owner.get(track.id)
        session = None if visit is None else sessions.get(visit)
        since = start
        if session is not None:
            if session.closed is None:
                continue
            since = max(start, session.closed + tolerance)
        if track.first <= end and (track.ended is None or track.ended > since):
            return True
    return False
