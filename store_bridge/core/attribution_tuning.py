"""How the cart book weighs time: its tolerances, waits and deadlines (all in seconds)."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AttributionTuning:
    """The cart book's settings; the defaults suit Frigate at 5 fps and ESPHome load cells.

    Times are measured on the tracker's clock: the newest frame time seen, less
    `tracker_lag_s`, or the shell's clock (`CartBook.tick`) less `tracker_wait_s` when the
    tracker is quiet, whichever is later ("what the tracker has told us up to").
    """

    tolerance_s: float = 2.0
    """How far a track's time in a zone may be from a shelf change's `began` (or a check-in)
    and still count: the clocks of tracker and shelf, and the tracker's zone latency."""
    tracker_lag_s: float = 1.0
    """How much later than the newest frame a message of another track may still arrive."""
    tracker_wait_s: float = 3.0
    """The longest a shelf change waits for a quiet tracker before it is decided."""
    unbound_deadline_s: float = 30.0
    """How long after check-in a session may bind its tracks (then `session_unbound`)."""
    tie_s: float = 0.5
    """Tracks leaving the gate zone this close together cannot be told apart."""
    ambiguity_deadline_s: float = 60.0
    """How long an ambiguous pick waits for evidence before it goes to review."""
    relink_window_s: float = 3.0
    """How close in time a new track must start to a bound track's end to take its place."""
    relink_overlap_s: float = 0.5
    """How much earlier than a bound track's end a new track may start and still take its
    place (a track that started while the old one was still there is another person)."""
    lost_nearby_s: float = 30.0
    """How long a session whose track was lost stays a candidate in the zones it was lost in."""
    tracker_silence_s: float = 30.0
    """A tracker that sent nothing at all (no camera, no track) for longer than this around a
    shelf change is taken as deaf then (a broker or network drop): nobody's absence counts,
    the change goes to review with every session inside as a candidate. Frigate reports on
    change, so a quiet but working tracker may stay silent for a while; this is far longer."""
    review_deadline_s: float = 900.0
    """How long a pick waits in the review queue for an operator; then it is charged to
    nobody (``pick_unattributed``, reason ``review_expired``) and its candidates are free to
    be checked out."""
    max_session_s: float = 14400.0
    """A session inside for longer than this (its shopper left through an exit that could not
    tell who they were) is closed by the carts, its cart never charged (the shell's job)."""
    history_s: float = 180.0
    """How much track history is kept (longer than any hold above)."""
