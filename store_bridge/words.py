"""The words a store owner reads on the status page and the demo's line (English only).

The bridge has no language setting; reason and event codes stay in the JSON and the events,
these say them in plain words.
"""

from collections.abc import Mapping
from typing import Final

REASONS: Final = {
    "store_full": "store full",
    "wrong_gate": "used the wrong gate",
    "storage_unavailable": "database not available",
    "malformed": "unreadable code",
    "alg_not_allowed": "code not signed as required",
    "unknown_key": "code signed by an unknown key",
    "bad_signature": "forged or damaged code",
    "wrong_issuer": "code from another app",
    "wrong_store": "code for another store",
    "expired": "code expired",
    "not_yet_valid": "code not valid yet",
    "lifetime_too_long": "code valid for too long",
    "missing_claim": "incomplete code",
    "bad_party": "party too large",
    "replayed": "code already used",
    "card_number_refused": "card number instead of a token",
    "bad_card_token": "unreadable card token",
    "egress": "left without being recognised",
}

EVENTS: Final = {
    "check_in": "checked in",
    "check_out": "checked out",
    "gate_opened": "gate released",
    "access_denied": "refused",
    "door_opened": "passage opened",
    "door_closed": "passage closed",
    "visit_aborted": "check-in aborted (gate did not open)",
    "safety_alert": "exit gate did not open",
    "track_bound": "shopper found by the tracker",
    "session_unbound": "shopper not found by the tracker",
    "item_picked": "item taken",
    "item_returned": "item put back",
    "pick_ambiguous": "item taken, not yet clear by whom",
    "pick_review": "item taken, waits for review",
    "review_resolved": "review decided",
    "pick_unattributed": "item taken by nobody known",
    "lane_anomaly": "unexpected weight on a shelf",
}

GATE_STATES: Final = {
    "released": "released (open command sent)",
    "open": "open",
    "closed": "closed",
    "fault": "FAULT: did not take the open command",
}

ROLES: Final = {"entry": "entry", "exit": "exit"}


def reason(code: str | None) -> str:
    """A reason code in plain words (an unknown code with its underscores as spaces)."""
    if code is None:
        return ""
    return REASONS.get(code, code.replace("_", " "))


def event(code: str) -> str:
    """An event type in plain words."""
    return EVENTS.get(code, code.replace("_", " "))


def tally(counters: Mapping[str, int], occupancy: int, capacity: int) -> str:
    """Who came and went, in people, so that it adds up to who is inside.

    `came in` - `left` (+ those inside when the bridge started) = inside. A check-in may be a
    party (one check-in, several people); `left` counts the people of recognised check-outs
    and everyone who went out without being recognised at the exit (no track or visit id):
    the exit opens for them and the count goes down by one, but their check-in's session
    stays open, so check-ins and check-outs alone never add up.
    """
    came, start = counters["people_in"], counters["inside_at_start"]
    out, unknown = counters["people_checked_out"], counters["people_unrecognised"]
    before = f" + {start} inside at start" if start else ""
    return (
        f"inside {occupancy}/{capacity}"
        f" · came in {came} ({plural(counters['checked_in'], 'check-in')}){before}"
        f" · left {out + unknown} ({out} checked out, {unknown} not recognised at the exit)"
    )


def plural(count: int, noun: str) -> str:
    """A count and its noun: 1 check-in, 2 check-ins."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
