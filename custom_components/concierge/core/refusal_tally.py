"""Refusals of unproven requests: counted per reason and interval, not recorded one by one.

Anyone can send a site's HTTP endpoints junk. A refusal that comes before a signature is
proven (malformed, an algorithm not allowed, an unknown carrier or key, a bad signature,
a claim missing before the issuer is known, the per-address rate limit, a body too large)
costs its sender nothing, so it must not cost the site an audit record each: those are
counted (`is_counted`), per reason and source, over an interval that opens with the first
such refusal and lasts `interval_s`. When it closes (or the site unloads) each reason
gives one `RefusalSummary`: how many, the first and last time, how many distinct client
addresses (counted up to `max_clients`, never kept beyond the interval or written). So an
interval writes at most `MAX_SUMMARIES` records, however many requests came.

A refusal of a correctly signed token (expired, outside the window, replayed, the
carrier's own rate limit...) is a genuine attempt and is never counted: the shell records
it on its own, as before.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from .deny import DenyReason
from .token_checks import aware_utc
from .vocabulary import Source, format_wire_time

COUNTED: Final[frozenset[DenyReason]] = frozenset(
    {
        DenyReason.MALFORMED,
        DenyReason.ALG_NOT_ALLOWED,
        DenyReason.UNKNOWN_CARRIER,
        DenyReason.UNKNOWN_KEY,
        DenyReason.BAD_SIGNATURE,
        DenyReason.MISSING_CLAIM,  # a token without `iss` is refused before any signature
        DenyReason.RATE_LIMITED,
        DenyReason.BODY_TOO_LARGE,
    }
)
"""The reasons a request can be refused for before a signature is proven."""

COUNTED_SOURCES: Final[frozenset[Source]] = frozenset({Source.COURIER_TOKEN, Source.GUEST_LINK})
"""The sources whose unproven refusals are counted (the HTTP endpoints)."""

MAX_SUMMARIES: Final = len(COUNTED) * len(COUNTED_SOURCES)
"""The most records one interval writes, whatever the number of requests."""

DEFAULT_INTERVAL_S: Final = 60.0
DEFAULT_MAX_CLIENTS: Final = 1024


def is_counted(reason: DenyReason, *, signature_proven: bool) -> bool:
    """Whether a refusal is counted (True) or recorded on its own (False).

    Only a refusal that may come before a signature is proven is counted; once a token's
    signature is proven, every refusal of it is a genuine attempt, recorded on its own.
    """
    return not signature_proven and reason in COUNTED


@dataclass(frozen=True, slots=True)
class RefusalSummary:
    """The refusals of one reason and source in one interval (no token, no address)."""

    reason: DenyReason
    source: Source
    count: int
    first: datetime
    last: datetime
    clients: int
    """Distinct client addresses, counted up to the tally's `max_clients`."""
    clients_capped: bool
    """True when there were more distinct addresses than were counted."""
    interval_s: float

    def data(self) -> dict[str, str | int | float | bool]:
        """The access event's `data`: counts and times only."""
        return {
            "refusals": self.count,
            "first_at": format_wire_time(self.first),
            "last_at": format_wire_time(self.last),
            "clients": self.clients,
            "clients_capped": self.clients_capped,
            "interval_s": self.interval_s,
        }


@dataclass(slots=True)
class _Bucket:
    first: datetime
    last: datetime
    count: int = 0
    clients: set[str] = field(default_factory=set)
    capped: bool = False


class RefusalTally:
    """Counts unproven refusals per reason and source; time is passed in.

    `add` counts one refusal and returns the summaries of an interval that had already
    closed by then (the shell's timer normally takes them first, with `flush`).
    A naive `now` raises `InvalidCredentialError` (`naive_datetime`); a reason that is
    not `COUNTED`, or a source not in `COUNTED_SOURCES`, raises `ValueError`.
    """

    __slots__ = ("_buckets", "_interval", "_max_clients", "_opened")

    def __init__(
        self, *, interval_s: float = DEFAULT_INTERVAL_S, max_clients: int = DEFAULT_MAX_CLIENTS
    ) -> None:
        """Create an empty tally."""
        if interval_s <= 0 or max_clients < 1:
            msg = "interval_s and max_clients must be positive"
            raise ValueError(msg)
        self._interval = timedelta(seconds=interval_s)
        self._max_clients = max_clients
        self._opened: datetime | None = None
        self._buckets: dict[tuple[DenyReason, Source], _Bucket] = {}

    def __len__(self) -> int:
        """The refusals counted and not yet summarised."""
        return sum(b.count for b in self._buckets.values())

    @property
    def closes_at(self) -> datetime | None:
        """When the open interval closes; None when no refusal is pending."""
        return None if self._opened is None else self._opened + self._interval

    def add(
        self, reason: DenyReason, source: Source, client: str, now: datetime
    ) -> list[RefusalSummary]:
        """Count one refusal; return the summaries of an interval closed before `now`."""
        if reason not in COUNTED or source not in COUNTED_SOURCES:
            msg = f"{reason.value} from {source.value} is recorded, not counted"
            raise ValueError(msg)
        now = aware_utc(now, "now")
        closed = self.due(now)
        if self._opened is None:
            self._opened = now
        bucket = self._buckets.get((reason, source))
        if bucket is None:
            bucket = self._buckets[reason, source] = _Bucket(first=now, last=now)
        bucket.count += 1
        bucket.first, bucket.last = min(bucket.first, now), max(bucket.last, now)
        if client not in bucket.clients:
            if len(bucket.clients) < self._max_clients:
                bucket.clients.add(client)
            else:
                bucket.capped = True
        return closed

    def due(self, now: datetime) -> list[RefusalSummary]:
        """The summaries of the open interval if it has closed by `now` (then empty)."""
        closes = self.closes_at
        if closes is None or aware_utc(now, "now") < closes:
            return []
        return self.flush()

    def flush(self) -> list[RefusalSummary]:
        """Every pending summary, interval closed or not (a timer, an unload); then empty."""
        seconds = self._interval.total_seconds()
        summaries = [
            RefusalSummary(
                reason=reason, source=source, count=b.count, first=b.first, last=b.last,
                clients=len(b.clients), clients_capped=b.capped, interval_s=seconds,
            )
            for (reason, source), b in sorted(self._buckets.items())
        ]  # fmt: skip
        self._buckets.clear()
        self._opened = None
        return summaries
