"""A grant as the Access panel sees it: plain JSON, never its PIN.

`grant_view` turns a grant, its state and where its code stands on each door's lock into
the `Grant` object of the panel's WebSocket API (`ws_grants.py`): times in
UTC ISO 8601, weekly windows as weekday names and `HH:MM`, `has_pin` instead of the PIN.
"""

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .grants import TERMINAL_STATES, Grant, GrantState
from .schedule_times import (
    CURRENT_INTERVAL_HORIZON,
    current_interval,
    next_edge,
    occurrences,
)
from .windows import Interval, OneOffWindow, Schedule

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NO_KEYPAD = "no_keypad"
"""A door's code status when its lock has no keypad Concierge can program."""

type Json = dict[str, object]

LOOKAHEAD = timedelta(days=8)
"""How far ahead one pass looks for the next window (a weekly one is always within)."""


def iso(value: datetime | None) -> str | None:
    """An instant in UTC, ISO 8601 with its offset; None stays None."""
    return None if value is None else value.astimezone(UTC).isoformat()


def _hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def window_view(schedule: Schedule) -> Json:
    """The grant's window: one-off (start, end) or weekly (days, times, validity)."""
    window = schedule.windows[0]
    if isinstance(window, OneOffWindow):
        return {"kind": "one_off", "start": iso(window.start), "end": iso(window.end)}
    return {
        "kind": "weekly",
        "weekdays": [WEEKDAY_NAMES[d] for d in sorted(window.weekdays)],
        "start_time": _hhmm(window.start),
        "end_time": _hhmm(window.end),
        "valid_from": iso(schedule.valid_from),
        "valid_until": iso(schedule.valid_until),
    }


def current_or_next(schedule: Schedule, tz: ZoneInfo, now: datetime) -> Interval | None:
    """The window open now, else the next one to open; None when none will.

    A window that opens within `LOOKAHEAD` is found with one pass over that range (most
    weekly grants); one open now, further away or longer, edge by edge.
    """
    soon = occurrences(schedule, tz, now, now + LOOKAHEAD)
    if soon and now < soon[0].start and soon[0].end < now + LOOKAHEAD:
        return soon[0]  # wholly inside the range: not cut at either end
    if (current := current_interval(schedule, tz, now)) is not None:
        return current
    if (start := next_edge(schedule, tz, now)) is None:
        return None
    end = next_edge(schedule, tz, start)
    return Interval(start, start + CURRENT_INTERVAL_HORIZON if end is None else end)


def code_view(
    grant: Grant, codes: Mapping[str, str], keypad_portals: Collection[str]
) -> dict[str, str]:
    """Where the grant's code stands on each door's lock, as the keypad manager reports it.

    A door without a keypad is `no_keypad` for a grant with a PIN; a keypad door with no
    report (the code is not wanted there now) is left out.
    """
    view = {portal: status for portal, status in codes.items() if portal in grant.portals}
    if grant.credentials.pin is not None:
        view |= {p: NO_KEYPAD for p in grant.portals if p not in keypad_portals}
    return view


def grant_view(  # noqa: PLR0913 - what the panel shows of a grant comes from all of these
    grant: Grant,
    state: GrantState,
    *,
    codes: Mapping[str, str],
    keypad_portals: Collection[str],
    tz: ZoneInfo,
    now: datetime,
    windows: NextWindows | None = None,
) -> Json:
    """The panel's view of a grant (no PIN: only whether it has one).

    `windows` keeps the grants' next windows between calls (the list is asked often).
    """
    if state in TERMINAL_STATES:
        interval = None
    elif windows is not None:
        interval = windows.get(grant.id, grant.schedule, tz, now)
    else:
        interval = current_or_next(grant.schedule, tz, now)
    return {
        "grant_id": grant.id,
        "label": grant.label,
        "kind": grant.kind.value,
        "portals": list(grant.portals),
        "state": state.value,
        "window": window_view(grant.schedule),
        "current_or_next": None
        if interval is None
        else {"start": iso(interval.start), "end": iso(interval.end)},
        "uses": grant.uses,
        "max_uses": grant.max_uses,
        "codes": code_view(grant, codes, keypad_portals),
        "has_pin": grant.credentials.pin is not None,
        "remote_token": grant.credentials.remote_token,
        "guest_link": grant.credentials.guest_link,
        "alarm": grant.policy.alarm.value,
        "require_camera": grant.policy.require_camera,
        "refuse_when_pets_home": grant.policy.refuse_when_pets_home,
        "notify": grant.policy.notify,
        "carriers": list(grant.carriers),
        "max_visit_minutes": grant.max_visit_minutes,
    }


class NextWindows:
    """Each grant's current or next window, kept until that window ends.

    The answer stays right while the grant's schedule is the same object (a grant is
    replaced, never changed, and keeps its schedule object when that did not change)
    and the window has not ended: a next window becomes the current one, same bounds.
    """

    def __init__(self) -> None:
        """Start with nothing kept."""
        self._kept: dict[str, tuple[Schedule, ZoneInfo, Interval | None]] = {}

    def get(
        self, grant_id: str, schedule: Schedule, tz: ZoneInfo, now: datetime
    ) -> Interval | None:
        """The grant's current or next window at `now` (see `current_or_next`)."""
        kept = self._kept.get(grant_id)
        if (
            kept is not None
            and kept[0] is schedule
            and kept[1] == tz
            and ((window := kept[2]) is None or now < window.end)
        ):
            return window
        window = current_or_next(schedule, tz, now)
        self._kept[grant_id] = (schedule, tz, window)
        return window

    def keep_only(self, grant_ids: Collection[str]) -> None:
        """Forget the grants that are gone."""
        if len(self._kept) > len(grant_ids):
            self._kept = {g: v for g, v in self._kept.items() if g in grant_ids}
