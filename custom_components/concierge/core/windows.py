"""Access windows and schedules: what they are, their checks and their stored form.

All intervals are half-open, `[start, end)`, and every instant is an aware datetime in
UTC.

Two kinds of window exist:

- `OneOffWindow`: two absolute instants.
- `WeeklyWindow`: a set of weekdays and a local wall-clock start and end, evaluated in
  the site's time zone. An end at or before the start means the window runs overnight
  into the next day (an end equal to the start is a full day).

A `Schedule` combines windows (their union) with optional overall validity bounds
`valid_from` / `valid_until` (a weekly schedule usually has a date range).

When a schedule is open (its intervals and edges, and the DST rules that map wall-clock
times to instants): `core.schedule_times`.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from . import _parse
from .errors import InvalidWindowError
from .skips import check_skipped, skipped_from_dict, skipped_to_list

MAX_ONE_OFF_LENGTH = timedelta(days=366)
"""The longest one-off window allowed."""

_WHAT_WINDOW = "window"
_HHMM = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_WHAT_SCHEDULE = "schedule"


def aware_utc(value: datetime, field: str) -> datetime:
    """Return `value` in UTC, refusing naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidWindowError(translation_key="naive_datetime", placeholders={"field": field})
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Interval:
    """A half-open interval `[start, end)` of absolute instants (UTC)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        """Normalise to UTC and require `end > start`."""
        object.__setattr__(self, "start", aware_utc(self.start, "start"))
        object.__setattr__(self, "end", aware_utc(self.end, "end"))
        if self.end <= self.start:
            raise InvalidWindowError(translation_key="window_end_before_start")

    def contains(self, at: datetime) -> bool:
        """Return whether `at` lies in `[start, end)`."""
        return self.start <= at < self.end

    @property
    def duration(self) -> timedelta:
        """The real (elapsed) length of the interval."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class OneOffWindow:
    """A single window between two absolute instants (stored in UTC)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        """Normalise to UTC and check order and maximum length."""
        object.__setattr__(self, "start", aware_utc(self.start, "start"))
        object.__setattr__(self, "end", aware_utc(self.end, "end"))
        if self.end <= self.start:
            raise InvalidWindowError(translation_key="window_end_before_start")
        if self.end - self.start > MAX_ONE_OFF_LENGTH:
            raise InvalidWindowError(
                translation_key="window_too_long",
                placeholders={"max_days": str(MAX_ONE_OFF_LENGTH.days)},
            )

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage."""
        return {"type": "one_off", "start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True, slots=True)
class WeeklyWindow:
    """A window recurring on weekdays (0=Monday) between local wall-clock times.

    `end <= start` means the window runs overnight into the next day.
    """

    weekdays: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        """Check weekdays (non-empty, 0..6) and minute-precision naive times."""
        days: object = self.weekdays
        if (
            not isinstance(days, frozenset)
            or not days
            or not all(type(d) is int and 0 <= d <= 6 for d in days)  # noqa: PLR2004
        ):
            raise InvalidWindowError(translation_key="invalid_weekdays")
        for name in ("start", "end"):
            value: object = getattr(self, name)
            if (
                not isinstance(value, time)
                or value.tzinfo is not None
                or value.second
                or value.microsecond
            ):
                raise InvalidWindowError(
                    translation_key="invalid_time", placeholders={"field": name}
                )

    @property
    def overnight(self) -> bool:
        """Whether each occurrence ends on the following day."""
        return self.end <= self.start

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage (weekdays sorted, times as HH:MM)."""
        return {
            "type": "weekly",
            "weekdays": sorted(self.weekdays),
            "start": self.start.strftime("%H:%M"),
            "end": self.end.strftime("%H:%M"),
        }


type Window = OneOffWindow | WeeklyWindow
"""Any access window."""


def _parse_hhmm(value: object, field: str) -> time:
    """Parse a strict `HH:MM` string."""
    match = _HHMM.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise _parse.fail(_WHAT_WINDOW, field)
    return time(int(match[1]), int(match[2]))


def window_from_dict(data: object) -> Window:
    """Rebuild a window from `to_dict` output."""
    obj = _parse.as_mapping(data, _WHAT_WINDOW)
    kind = _parse.get_str(obj, "type", _WHAT_WINDOW)
    if kind == "one_off":
        return OneOffWindow(
            start=_parse.get_datetime(obj, "start", _WHAT_WINDOW),
            end=_parse.get_datetime(obj, "end", _WHAT_WINDOW),
        )
    if kind != "weekly":
        raise _parse.fail(_WHAT_WINDOW, "type")
    days = _parse.get_list(obj, "weekdays", _WHAT_WINDOW)
    if not all(type(d) is int for d in days):
        raise _parse.fail(_WHAT_WINDOW, "weekdays")
    return WeeklyWindow(
        weekdays=frozenset(d for d in days if type(d) is int),
        start=_parse_hhmm(obj.get("start"), "start"),
        end=_parse_hhmm(obj.get("end"), "end"),
    )


@dataclass(frozen=True, slots=True)
class Schedule:
    """The union of windows, limited to `[valid_from, valid_until)` where given.

    `skipped`: local dates on which weekly occurrences are left out (`core.skips`).
    """

    windows: tuple[Window, ...]
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    skipped: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        """Check the windows and the validity bounds."""
        windows: object = self.windows
        if not isinstance(windows, tuple) or not windows:
            raise InvalidWindowError(translation_key="no_windows")
        if self.valid_from is not None:
            object.__setattr__(self, "valid_from", aware_utc(self.valid_from, "valid_from"))
        if self.valid_until is not None:
            object.__setattr__(self, "valid_until", aware_utc(self.valid_until, "valid_until"))
        if (
            self.valid_from is not None
            and self.valid_until is not None
            and self.valid_until <= self.valid_from
        ):
            raise InvalidWindowError(translation_key="invalid_validity")
        check_skipped(self.skipped)
        for window in self.windows:
            if isinstance(window, OneOffWindow) and self.clip(window.start, window.end) is None:
                raise InvalidWindowError(translation_key="window_outside_validity")

    @property
    def has_weekly(self) -> bool:
        """Whether any window recurs weekly."""
        return any(isinstance(w, WeeklyWindow) for w in self.windows)

    def clip(self, start: datetime, end: datetime) -> Interval | None:
        """Clip `[start, end)` to the validity bounds; None if nothing is left."""
        if self.valid_from is not None:
            start = max(start, self.valid_from)
        if self.valid_until is not None:
            end = min(end, self.valid_until)
        return Interval(start, end) if start < end else None

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage (`skipped` only where a date is left out)."""
        stored: dict[str, object] = {
            "windows": [w.to_dict() for w in self.windows],
            "valid_from": None if self.valid_from is None else self.valid_from.isoformat(),
            "valid_until": None if self.valid_until is None else self.valid_until.isoformat(),
        }
        if self.skipped:
            stored["skipped"] = skipped_to_list(self.skipped)
        return stored

    @classmethod
    def from_dict(cls, data: object) -> Schedule:
        """Rebuild a schedule from `to_dict` output."""
        obj = _parse.as_mapping(data, _WHAT_SCHEDULE)
        return cls(
            windows=tuple(
                window_from_dict(w) for w in _parse.get_list(obj, "windows", _WHAT_SCHEDULE)
            ),
            valid_from=_parse.get_opt_datetime(obj, "valid_from", _WHAT_SCHEDULE),
            valid_until=_parse.get_opt_datetime(obj, "valid_until", _WHAT_SCHEDULE),
            skipped=skipped_from_dict(obj, _WHAT_SCHEDULE),
        )
