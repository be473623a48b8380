"""A session whose shopper left through an exit zone: closed there, as at the exit gate.

Only the exit gate (or the longest stay) closes a session for sure; a store whose exit does
not tell who leaves may name the tracker's zones in front of it (`exit_zones`). A session is
taken to have left when the cart book would otherwise call it lost (its last bound track
ended and no new track took its place within the relink window) and all of these hold:

- every track it holds ended in an exit zone — the last one of each of its people (a track
  another of its tracks took over from does not count); a track that ended anywhere else, or
  one the book no longer remembers, leaves it open;
- nobody else (a track of another session, or of nobody) was in that exit zone within
  `tolerance_s` of each end: people leaving together may have swapped track ids;
- when it left, no person track in the store was owned by no session, and no other open
  session was without a track. A track bound to the wrong session leaves a person whose
  track nobody owns (its shopper, under a new id) or a session without one (the one whose
  person it follows): either way the track that left may not have been this session's.

Then it closes at the moment its last track ended. It is charged what its cart holds then,
as at the gate; changes after that are not its (it is no candidate for them). A session
closed once stays closed at that moment (a later gate exit changes nothing).

What this cannot see: two bound tracks swapping ids with nobody else unbound (each session
then follows the other's shopper, as it would until the gate). If the one still inside then
puts back an item its closed cart holds, nobody present could have, so no cart is credited.
"""

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from .attribution_tuning import AttributionTuning
from .cart_session import ShopSession
from .track_table import Track, TrackTable


def left_through(  # noqa: PLR0913 - the book's parts, read only
    session: ShopSession,
    *,
    table: TrackTable,
    owner: Mapping[str, str],
    exits: Collection[str],
    tuning: AttributionTuning,
    others_unbound: bool,
) -> datetime | None:
    """When `session`'s people left through an exit zone; None when that is not sure.

    `owner`: which session each bound track is; `others_unbound`: whether an open session
    other than this one is without a track.
    """
    if not exits or session.closed is not None or not session.tracks or others_unbound:
        return None
    tolerance = timedelta(seconds=tuning.tolerance_s)
    relink = timedelta(seconds=tuning.relink_overlap_s), timedelta(seconds=tuning.relink_window_s)
    tracks: list[Track] = []
    for track_id in session.tracks:
        track = table.tracks.get(track_id)
        if track is None or track.ended is None:
            return None
        tracks.append(track)
    last = [t for t in tracks if not _taken_over(t, tracks, relink)]
    for track in last:
        assert track.ended is not None  # noqa: S101 - checked above
        zones = track.last_zones & set(exits)
        if not zones:
            return None
        start, end = track.ended - tolerance, track.ended + tolerance
        for zone in zones:
            if any(other.id not in session.tracks for other in table.in_zone(zone, start, end)):
                return None
    left = max(t.ended for t in last if t.ended is not None)
    return None if _stranger_inside(table, owner, left) else left


def _taken_over(track: Track, tracks: list[Track], relink: tuple[timedelta, timedelta]) -> bool:
    """Whether another of the session's tracks started as `track` ended (took its place).

    `relink`: how much earlier than its end, and how much later (`relink_overlap_s`,
    `relink_window_s`).
    """
    assert track.ended is not None  # noqa: S101 - only ended tracks come here
    start, end = track.ended - relink[0], track.ended + relink[1]
    return any(other is not track and start <= other.first <= end for other in tracks)


def _stranger_inside(table: TrackTable, owner: Mapping[str, str], at: datetime) -> bool:
    """Whether a person track no session owns was in the store at `at`."""
    return any(
        t.id not in owner and t.first <= at and (t.ended is None or t.ended > at)
        for t in table.tracks.values()
    )
