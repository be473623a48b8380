"""Where each anonymous person track was, and when: the cart book's memory of the tracker.

A track's zones are a step function of time: each sighting holds from its frame time until
the next one (or the track's end). The table keeps a bounded history (`prune`), answers
"was this track in that zone between then and then", and ignores (and counts) messages
that are out of order, repeated, or about a track that already ended.
"""

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .cart_model import TrackPhase, TrackSighting


@dataclass(slots=True)
class Track:
    """One person track's sightings (times ascending) and its end, if it ended."""

    id: str
    camera: str
    first: datetime
    first_zones: frozenset[str]
    times: list[datetime] = field(default_factory=list)
    zones: list[frozenset[str]] = field(default_factory=list)
    ended: datetime | None = None
    last_zones: frozenset[str] = frozenset()
    """The zones it was last seen in before it ended (an end may report none)."""
    seen_zones: set[str] = field(default_factory=set)

    @property
    def last(self) -> datetime:
        """Its newest frame time."""
        return self.ended or self.times[-1]

    def zones_at(self, at: datetime) -> frozenset[str]:
        """Where it was at `at` (nowhere before its first sighting or after its end)."""
        if at < self.times[0] or (self.ended is not None and at >= self.ended):
            return frozenset()
        return self.zones[bisect_right(self.times, at) - 1]

    def in_zone(self, zone: str, start: datetime, end: datetime) -> bool:
        """Whether it was in `zone` at some moment of [start, end]."""
        if self.ended is not None and self.ended <= start:
            return False
        times = self.times
        index = max(bisect_right(times, start) - 1, 0)
        while index < len(times) and times[index] <= end:
            if zone in self.zones[index]:
                return self.ended is None or times[index] < self.ended
            index += 1
        return False

    def throughout(self, zone: str, start: datetime, end: datetime) -> bool:
        """Whether it was in `zone` for the whole of [start, end]."""
        if self.times[0] > start or (self.ended is not None and self.ended <= end):
            return False
        times = self.times
        index = bisect_right(times, start) - 1
        while index < len(times) and times[index] <= end:
            if zone not in self.zones[index]:
                return False
            index += 1
        return True

    def went_in(self, gate: str, after: datetime, stay: timedelta) -> datetime | None:
        """When, at or after `after`, it was seen going on from `gate` into the store.

        Seen in a zone other than `gate`, or still seen out of the gate's zone `stay` after
        it left it: someone walking in from an entry gate stays in the camera's view; someone
        passing the gate and going back out leaves it (their track ends). None: not (yet).
        """
        index = max(bisect_right(self.times, after) - 1, 0)
        out: datetime | None = None
        for at, zones in zip(self.times[index:], self.zones[index:], strict=True):
            if zones - {gate}:
                return max(at, after)
            if gate in zones:
                out = None
            elif out is None:
                out = at
            elif at - out >= stay:
                return max(at, after)
        return None

    def exit_from(self, zone: str, after: datetime) -> datetime | None:
        """The first moment at or after `after` when a sighting shows it leave `zone`."""
        index = max(bisect_right(self.times, after) - 1, 0)
        inside = zone in self.zones[index]
        for at, zones in zip(self.times[index + 1 :], self.zones[index + 1 :], strict=True):
            if inside and zone not in zones:
                return at
            inside = zone in zones
        return None


class TrackTable:
    """The tracks seen lately, by id, with an index of who was ever in which zone."""

    def __init__(self, silence: timedelta = timedelta(seconds=30)) -> None:
        """Start empty; note pauses of the whole tracker longer than `silence`."""
        self._silence = silence
        self.tracks: dict[str, Track] = {}
        self.by_zone: dict[str, set[str]] = {}
        self.newest: datetime | None = None
        """The newest frame time of any message taken (the tracker's watermark)."""
        self.ignored: Counter[str] = Counter()
        """Messages ignored, by reason (``out_of_order``, ``duplicate``, ``after_end``,
        ``unknown_track``, ``too_old``)."""
        self.silences: list[tuple[datetime, datetime]] = []
        """Pauses between two messages (by frame time) longer than `silence`, oldest first."""
        self.adopted = 0
        """Updates for a track never seen new (its ``new`` was lost), taken as its start."""
        self.since: datetime | None = None
        """Since when it remembers every track (the newest `prune` cutoff; None: since start)."""

    def observe(self, sighting: TrackSighting, *, oldest: datetime | None) -> Track | None:
        """Take a sighting; the track it changed, or None when it was ignored."""
        at = sighting.at
        track = self.tracks.get(sighting.track)
        reason = _rejection(sighting, track, oldest)
        if reason is not None:
            self.ignored[reason] += 1
            return None
        if track is None:
            if sighting.phase is TrackPhase.UPDATE:
                self.adopted += 1
            track = Track(sighting.track, sighting.camera, at, sighting.zones)
            self.tracks[track.id] = track
        if sighting.phase is TrackPhase.END:
            track.last_zones = sighting.zones or track.zones[-1]
            track.ended = at
        elif track.times and track.times[-1] == at:
            track.zones[-1] = sighting.zones
        else:
            track.times.append(at)
            track.zones.append(sighting.zones)
        if sighting.phase is not TrackPhase.END:
            for zone in sighting.zones - track.seen_zones:
                track.seen_zones.add(zone)
                self.by_zone.setdefault(zone, set()).add(track.id)
        if self.newest is None or at > self.newest:
            if self.newest is not None and at - self.newest > self._silence:
                self.silences.append((self.newest, at))
            self.newest = at
        return track

    def deaf(self, start: datetime, end: datetime, now: datetime | None) -> bool:
        """Whether the tracker was silent longer than `silence` at some moment of [start, end].

        Before its first message, and from its newest message on while that is longer ago
        than `silence` (at `now`), it counts as silent.
        """
        newest = self.newest
        if newest is None:
            return True
        if newest < end and now is not None and now - newest > self._silence:
            return True
        return any(a < end and b > start for a, b in self.silences)

    def in_zone(self, zone: str, start: datetime, end: datetime) -> list[Track]:
        """The tracks in `zone` at some moment of [start, end]."""
        ids = self.by_zone.get(zone, ())
        return [t for i in ids if (t := self.tracks[i]).in_zone(zone, start, end)]

    def prune(self, cutoff: datetime, *, keep: set[str]) -> list[str]:
        """Forget history before `cutoff`: tracks ended (or silent, unless in `keep`) before it.

        Returns the ids of the tracks dropped; a kept track loses its older sightings only.
        """
        dropped = [
            track.id
            for track in self.tracks.values()
            if track.last < cutoff and (track.ended is not None or track.id not in keep)
        ]
        for track_id in dropped:
            track = self.tracks.pop(track_id)
            for zone in track.seen_zones:
                members = self.by_zone[zone]
                members.discard(track_id)
                if not members:
                    del self.by_zone[zone]
        self.silences = [(a, b) for a, b in self.silences if b >= cutoff]
        if self.since is None or cutoff > self.since:
            self.since = cutoff
        for track in self.tracks.values():
            cut = bisect_right(track.times, cutoff) - 1
            if cut > 0:
                del track.times[:cut]
                del track.zones[:cut]
        return dropped


def _rejection(sighting: TrackSighting, track: Track | None, oldest: datetime | None) -> str | None:
    """Why a sighting is ignored, or None to take it."""
    at = sighting.at
    if oldest is not None and at < oldest:
        return "too_old"
    if track is None:
        return "unknown_track" if sighting.phase is TrackPhase.END else None
    if track.ended is not None:
        return "after_end" if at > track.ended else "duplicate"
    if at < track.times[-1]:
        return "out_of_order"
    if (
        at == track.times[-1]
        and sighting.phase is not TrackPhase.END
        and sighting.zones == track.zones[-1]
    ):
        return "duplicate"
    return None
