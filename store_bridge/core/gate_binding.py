"""Which person tracks are whose: binding at the entry gate, and re-linking a lost track.

At check-in the unbound tracks in the gate's zone around the gate's opening are the
session's candidates. A candidate counts only once it has gone on into the store (seen in a
zone other than the gate's, or still seen out of the gate's zone `tolerance_s` after it left
it): one passing the gate and turning back out of the camera's view never does. Up
to `party` of them, with no other session that could own one of them (checking in at that
gate at the same moment, or still waiting for its own track), are bound once all of them
went in (``check_in``). Otherwise the session waits for the candidates to leave the gate zone
into the store, one at a time: the first to leave after the gate opened is bound
(``passed_gate``) only when no other session was waiting for a track that one could be —
opened at that gate before it left (or within `tie_s` after), its party not yet through, the
track in the gate zone around its opening. Tracks leaving together (`tie_s`) are never told
apart. Binding never guesses: a session that stays unsure is unbound at the deadline
(`session_unbound`), and its picks go to review, never to a cart.

When a bound track ends, a new unbound track on the same camera that started within
`relink_window_s` after that end (or up to `relink_overlap_s` before it: not while the old
one was still there), in a zone the old one was last in, takes its place (``relinked``) —
only when it is the one new track that fits, the old track is the one lost track that fits
it, no other person no session owns was in those zones around the end, and no other open
session is without a track (its shopper could be the one the new track saw). Otherwise the
track is lost (noted in `gone`, which outlives the tracks' pruning: who of a party left, or was
lost, for `exit_zones.py`); a session left without a track is said to be unbound
(``track_lost``) and stays a candidate for review where it was lost.
"""

import heapq
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .attribution_tuning import AttributionTuning
from .cart_model import CartNews, NewsKind
from .cart_session import ShopSession
from .track_table import Track, TrackTable


@dataclass(frozen=True, slots=True)
class Gone:
    """A bound track that ended with no successor: its id, its end and its last zones."""

    track: str
    ended: datetime
    zones: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Lost:
    track: Track
    visit: str


class Binder:
    """Binds tracks to sessions (`owner`: track id → visit) as the tracker's picture grows."""

    def __init__(
        self,
        table: TrackTable,
        sessions: dict[str, ShopSession],
        tuning: AttributionTuning,
        on_bound: Callable[[ShopSession], None],
        unbound: Callable[[str], bool] = lambda _visit: False,
    ) -> None:
        """Bind into `sessions`, reading `table`; `on_bound` hears of every binding.

        `unbound(visit)`: whether an open session other than `visit` has no track now.
        """
        self._table = table
        self._sessions = sessions
        self._tol = timedelta(seconds=tuning.tolerance_s)
        self._deadline = timedelta(seconds=tuning.unbound_deadline_s)
        self._tie = timedelta(seconds=tuning.tie_s)
        self._window = timedelta(seconds=tuning.relink_window_s)
        self._overlap = timedelta(seconds=tuning.relink_overlap_s)
        self._on_bound = on_bound
        self._unbound = unbound
        self.owner: dict[str, str] = {}
        self._pending: dict[str, ShopSession] = {}
        self._gate: dict[str, list[str]] = {}
        """A pending session's candidate tracks (in its gate zone around check-in)."""
        self._opens: dict[str, list[ShopSession]] = {}
        """Recent check-ins by gate zone (each may be waiting for a track)."""
        self._due: list[tuple[datetime, int, _Lost]] = []
        self._recent: list[_Lost] = []
        self._order = itertools.count()
        self.relinking: Counter[str] = Counter()
        """Sessions with a lost track waiting for its relink decision."""
        self.gone: dict[str, list[Gone]] = {}
        """Each session's tracks that ended with no successor (the relink decided against),
        in that order: one per person seen leave or lost; kept until `forget`, whatever the
        track table prunes."""

    def open(self, session: ShopSession) -> None:
        """A session checked in: look for its tracks."""
        self._pending[session.visit] = session
        self._opens.setdefault(session.zone, []).append(session)

    def drop(self, visit: str) -> None:
        """A session closed or was forgotten: stop looking for its tracks."""
        self._pending.pop(visit, None)
        self._gate.pop(visit, None)

    def forget(self, visit: str) -> None:
        """A session was forgotten: drop all it holds for it."""
        self.drop(visit)
        self.gone.pop(visit, None)

    def bind(self, session: ShopSession, track: str) -> None:
        """Bind `track` to `session`."""
        self.owner[track] = session.visit
        session.tracks.add(track)
        session.lost_at = None
        self._on_bound(session)
        seen = self._table.tracks.get(track)
        if seen is not None and seen.ended is not None:
            self.ended(seen)  # it ended before it was bound: its successor may take over

    def ended(self, track: Track) -> None:
        """A track ended: if it was bound, decide its relink once the window has passed."""
        visit = self.owner.get(track.id)
        if visit is None or track.ended is None:
            return
        lost = _Lost(track, visit)
        heapq.heappush(self._due, (track.ended + self._window, next(self._order), lost))
        self._recent.append(lost)
        self.relinking[visit] += 1

    def bound(self, session: ShopSession) -> bool:
        """Whether a live track is bound to it (or a lost one may yet be relinked)."""
        if self.relinking[session.visit]:
            return True
        tracks = self._table.tracks
        return any(t in tracks and tracks[t].ended is None for t in session.tracks)

    def advance(self, known: datetime) -> list[CartNews]:
        """Bind what has become clear up to `known` (the tracker's complete picture)."""
        news: list[CartNews] = []
        for session in list(self._pending.values()):
            news += self._gate_binding(session, known)
        while self._due and self._due[0][0] <= known:
            news += self._relink(heapq.heappop(self._due)[2], known)
            recent = known - 3 * self._window  # older lost tracks can rival no new one
            self._recent = [lost for lost in self._recent if lost.track.last >= recent]
        return news

    def sizes(self) -> dict[str, int]:
        """How much it holds: sessions waiting for a track, recent check-ins, lost tracks."""
        return {
            "pending": len(self._pending),
            "check_ins": sum(len(opens) for opens in self._opens.values()),
            "lost_tracks": len(self._recent),
        }

    def prune(self, cutoff: datetime) -> None:
        """Forget check-ins older than `cutoff`."""
        for zone, opens in list(self._opens.items()):
            self._opens[zone] = kept = [s for s in opens if s.opened >= cutoff]
            if not kept:
                del self._opens[zone]

    def forget_tracks(self, dropped: list[str]) -> None:
        """The table dropped these tracks: unbind them."""
        for track in dropped:
            visit = self.owner.pop(track, None)
            if visit is not None and visit in self._sessions:
                self._sessions[visit].tracks.discard(track)

    # --- at the gate ---------------------------------------------------------------------

    def _gate_binding(self, session: ShopSession, known: datetime) -> list[CartNews]:
        opened = session.opened
        if known < opened + self._tol:
            return []
        news: list[CartNews] = []
        candidates = self._gate.get(session.visit)
        if candidates is None:
            found = self._table.in_zone(session.zone, opened - self._tol, opened + self._tol)
            candidates = [t.id for t in found if t.id not in self.owner]
            self._gate[session.visit] = candidates
        if (
            not session.at_gate
            and 0 < len(candidates) <= session.party
            and all(self._went_in(session, t) for t in candidates)
            and not any(t in self.owner for t in candidates)
            and not self._contested(session, candidates)
        ):
            news += [self._bound(session, t, "check_in", opened) for t in candidates]
        if session.at_gate < session.party:
            news += self._passers(session, candidates, known)
        if session.at_gate >= session.party or known >= opened + self._deadline:
            self.drop(session.visit)
            if not session.tracks:
                news.append(
                    CartNews(
                        NewsKind.SESSION_UNBOUND,
                        opened + self._deadline,
                        visit=session.visit,
                        reason="deadline",
                    )
                )
        return news

    def _went_in(self, session: ShopSession, track_id: str) -> bool:
        """Whether the track went on from the gate into the store (before the deadline)."""
        track = self._table.tracks.get(track_id)
        if track is None:
            return False
        went = track.went_in(session.zone, session.opened - self._tol, self._tol)
        return went is not None and went <= session.opened + self._deadline

    def _contested(self, session: ShopSession, candidates: list[str]) -> bool:
        """Whether another check-in near it, or one still waiting, could own a candidate."""
        if any(
            other is not session
            and other.zone == session.zone
            and abs(other.opened - session.opened) <= 2 * self._tol
            for other in self._pending.values()
        ):
            return True
        tracks = self._table.tracks
        return any(
            self._rival(session, tracks[t], session.opened) for t in candidates if t in tracks
        )

    def _rival(self, session: ShopSession, track: Track, left: datetime) -> bool:
        """Whether a session other than `session` could own `track`, which left at `left`.

        One that opened at the gate before the track left (or within `tie_s` after), whose
        party had not all passed by then, not closed, and the track in the gate zone around
        its opening: the track may be its person as well as `session`'s.
        """
        for other in self._opens.get(session.zone, ()):
            if (
                other is session
                or other.opened > left + self._tie
                or left > other.opened + self._deadline
                or (other.closed is not None and other.closed <= left)
                or sum(1 for at in other.passed if at < left - self._tie) >= other.party
            ):
                continue
            if track.in_zone(other.zone, other.opened - self._tol, other.opened + self._tol):
                return True
        return False

    def _passers(
        self, session: ShopSession, candidates: list[str], known: datetime
    ) -> list[CartNews]:
        opened, zone = session.opened, session.zone
        tracks = self._table.tracks
        exits: list[tuple[datetime, str]] = []
        for track_id in candidates:
            track = tracks.get(track_id)
            if track is None or track_id in self.owner:
                continue
            left = track.exit_from(zone, opened)
            if (
                left is not None
                and left <= opened + self._deadline
                and self._went_in(session, track_id)
            ):
                exits.append((left, track_id))
        exits.sort()
        news: list[CartNews] = []
        for left, track_id in exits:
            if session.at_gate >= session.party or left + self._tie > known:
                break
            if self._rival(session, tracks[track_id], left):
                break  # another session could own it: not ours to tell
            together = sum(1 for other, _ in exits if abs(other - left) <= self._tie)
            if track_id in self.owner or together > session.party - session.at_gate:
                break
            news.append(self._bound(session, track_id, "passed_gate", left))
        return news

    def _bound(self, session: ShopSession, track: str, reason: str, at: datetime) -> CartNews:
        self.bind(session, track)
        session.at_gate += 1
        session.passed.append(at)
        return CartNews(NewsKind.TRACK_BOUND, at, visit=session.visit, reason=reason)

    # --- lost tracks ---------------------------------------------------------------------

    def _fits(self, lost: _Lost, new: Track) -> bool:
        """Whether `new` could be `lost`'s person under a new id.

        It started after the old one ended (within the window), or only a little before
        (`relink_overlap_s`): one that was seen while the old one still was is someone else.
        """
        old = lost.track
        return (
            new is not old
            and new.ended is None
            and new.camera == old.camera
            and old.ended is not None
            and old.ended - self._overlap <= new.first <= old.ended + self._window
            and bool(new.first_zones & old.last_zones)
        )

    def _rivals(self, lost: _Lost, new: Track) -> bool:
        """Whether another track could have become `new`.

        Another lost one that fits it, or any other track that ended on its camera around its
        start, whatever its zones (a tracker's first zones of a new id may be late or out of
        order).
        """
        if any(o is not lost and self._fits(o, new) for o in self._recent):
            return True
        old = lost.track
        assert old.ended is not None  # noqa: S101 - a lost track ended
        start, end = old.ended - self._window, old.ended + self._window
        for t in self._table.tracks.values():
            if t is old or t is new:
                continue
            if _ended_near(t, new, self._window):
                return True
            if self.owner.get(t.id) is None and any(
                t.in_zone(zone, start, end) for zone in old.last_zones
            ):
                return True  # a person no session owns was there: the new track may be theirs
        return False

    def _relink(self, lost: _Lost, known: datetime) -> list[CartNews]:
        visit = lost.visit
        self.relinking[visit] -= 1
        if not self.relinking[visit]:
            del self.relinking[visit]
        session = self._sessions.get(visit)
        if session is None or session.closed is not None:
            return []
        fits = [t for t in self._table.tracks.values() if self._fits(lost, t)]
        if (
            len(fits) == 1
            and self.owner.get(fits[0].id) is None
            and not self._unbound(visit)
            and not self._rivals(lost, fits[0])
        ):
            self.bind(session, fits[0].id)
            return [CartNews(NewsKind.TRACK_BOUND, known, visit=visit, reason="relinked")]
        old = lost.track
        assert old.ended is not None  # noqa: S101 - a lost track ended
        self.gone.setdefault(visit, []).append(Gone(old.id, old.ended, old.last_zones))
        if self.bound(session):
            return []
        session.lost_zones = lost.track.last_zones
        session.lost_at = lost.track.last
        return [CartNews(NewsKind.SESSION_UNBOUND, known, visit=visit, reason="track_lost")]


def _ended_near(old: Track, new: Track, window: timedelta) -> bool:
    """Whether `old` ended on `new`'s camera within `window` of `new`'s start."""
    return (
        old is not new
        and old.ended is not None
        and old.camera == new.camera
        and abs(new.first - old.ended) <= window
    )
