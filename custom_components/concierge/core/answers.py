"""Spoken answers to questions about a site, in English and German.

Voice assistants ask: was my package delivered, who is visiting, is anyone at a door,
when does the cleaner come. The answers say labels, door names and local times only:
never a PIN, a token or a code, and nothing here can open a door.

Everything is computed from plain data (`SiteView`) at an instant `now` in a time
zone `tz`, so the answers are tested without Home Assistant.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from .grants import Grant, GrantKind, GrantState, grant_state
from .visits import Visit, VisitState
from .windows import Interval, current_interval, occurrences


class Question(StrEnum):
    """What is asked."""

    PACKAGE = "package"
    VISITORS = "visitors"
    AT_DOOR = "at_door"
    CLEANER = "cleaner"


LANGUAGES = ("en", "de")
WINDOW_HORIZON = timedelta(days=400)
"""How far ahead the next window of a grant is looked for."""
MAX_LISTED = 3
"""At most this many items are read out; the rest are counted."""


@dataclass(frozen=True, slots=True)
class SiteView:
    """What an answer may use of one site: door names, grants, visits."""

    name: str
    portals: Mapping[str, str]
    """Door names by portal id, in the configured order."""
    grants: Mapping[str, Grant]
    visits: Sequence[Visit]
    """Every kept visit of the site (any order)."""


# --- texts ---------------------------------------------------------------------------

_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "and": "and",
        "more": "{count} more",
        "no_site": "Concierge has no site set up.",
        "delivered": "Yes, delivered today: {items}.",
        "delivered_item": "{label} at {time} ({portal})",
        "not_delivered": "No, no delivery has been recorded today.",
        "courier_here": "{label} is at the door right now, since {time} ({portal}).",
        "next_courier": "Next delivery window: {label}, {when}.",
        "visiting_one": "{label} is visiting, since {time} ({portal}).",
        "visiting_many": "{count} visits in progress: {items}.",
        "visiting_item": "{label} since {time} ({portal})",
        "nobody_visiting": "Nobody is visiting right now.",
        "at_door_yes": "Yes: {items}.",
        "at_door_no": "No, nobody is there right now ({portal}).",
        "unknown_door": "I don't know a door called {name}.",
        "cleaner_next": "{label} comes {when}.",
        "cleaner_open": "{label} may come in now, until {end}.",
        "cleaner_here": "{label} is here now, since {time} ({portal}).",
        "no_cleaner": "No cleaner is scheduled.",
        "today": "today",
        "tomorrow": "tomorrow",
        "on_day": "on {weekday}, {month} {day}",
        "date": "{weekday}, {month} {day}",
        "span": "{day} from {start} to {end}",
        "span_overnight": "{day} from {start} until {end_day} at {end}",
    },
    "de": {
        "and": "und",
        "more": "{count} weitere",
        "no_site": "Concierge ist noch nicht eingerichtet.",
        "delivered": "Ja, heute geliefert: {items}.",
        "delivered_item": "{label} um {time} ({portal})",
        "not_delivered": "Nein, heute wurde noch keine Lieferung registriert.",
        "courier_here": "{label} ist gerade an der Tür, seit {time} ({portal}).",
        "next_courier": "Nächstes Lieferfenster: {label}, {when}.",
        "visiting_one": "{label} ist zu Besuch, seit {time} ({portal}).",
        "visiting_many": "{count} Besuche laufen: {items}.",
        "visiting_item": "{label} seit {time} ({portal})",
        "nobody_visiting": "Gerade ist niemand zu Besuch.",
        "at_door_yes": "Ja: {items}.",
        "at_door_no": "Nein, gerade ist niemand da ({portal}).",
        "unknown_door": "Ich kenne keine Tür namens {name}.",
        "cleaner_next": "{label} kommt {when}.",
        "cleaner_open": "{label} darf jetzt kommen, bis {end}.",
        "cleaner_here": "{label} ist jetzt da, seit {time} ({portal}).",
        "no_cleaner": "Es ist keine Putzkraft eingeplant.",
        "today": "heute",
        "tomorrow": "morgen",
        "on_day": "am {weekday}, {day}. {month}",
        "date": "{weekday}, {day}. {month}",
        "span": "{day} von {start} bis {end}",
        "span_overnight": "{day} von {start} bis {end_day} um {end}",
    },
}

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
}
_MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
    "de": (
        "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
        "September", "Oktober", "November", "Dezember",
    ),
}  # fmt: skip

# Spoken door names that mean a configured door in the other language (or commonly).
_DOOR_ALIASES: tuple[frozenset[str], ...] = (
    frozenset({
        "front door", "front", "main door", "entrance", "entrance door", "entry door",
        "haustür", "haustüre", "eingangstür", "eingang", "vordertür", "wohnungstür",
    }),
    frozenset({"back door", "back", "rear door", "hintertür", "hintereingang", "gartentür"}),
    frozenset({"garage door", "garage", "garagentor", "garagentür"}),
    frozenset({"side door", "side", "seitentür", "seiteneingang"}),
)  # fmt: skip
_ANY_DOOR = frozenset({"door", "doors", "tür", "türe", "türen", "haus", "house"})
_NOW = re.compile(
    r"\s+(?:right now|now|at the moment|jetzt|gerade|im moment)[\s.?!]*$", re.IGNORECASE
)
"""A trailing "now" that a wildcard door name picked up ("at the front door right now")."""
_ARTICLES = re.compile(r"^(?:the|der|die|das|dem|den|des)\s+")


def language_of(language: str | None) -> str:
    """The answer language for a conversation language (German or else English)."""
    return "de" if (language or "").lower().split("-")[0].split("_")[0] == "de" else "en"


def _t(lang: str, key: str, **values: object) -> str:
    return _TEXTS[lang][key].format(**values)


def _join(lang: str, items: Sequence[str]) -> str:
    shown = list(items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        shown.append(_t(lang, "more", count=len(items) - MAX_LISTED))
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} {_t(lang, 'and')} {shown[-1]}"


def _clock(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%H:%M")


def _day(lang: str, when: datetime, now: datetime, tz: ZoneInfo, *, bare: bool = False) -> str:
    day = when.astimezone(tz).date()
    today = now.astimezone(tz).date()
    if day == today:
        return _t(lang, "today")
    if day == today + timedelta(days=1):
        return _t(lang, "tomorrow")
    return _t(
        lang,
        "date" if bare else "on_day",
        weekday=_WEEKDAYS[lang][day.weekday()],
        month=_MONTHS[lang][day.month - 1],
        day=day.day,
    )


def describe_window(lang: str, window: Interval, now: datetime, tz: ZoneInfo) -> str:
    """Say when a window is, e.g. "tomorrow from 09:00 to 13:00" (local time)."""
    start, end = window.start.astimezone(tz), window.end.astimezone(tz)
    day = _day(lang, start, now, tz)
    # An end at midnight belongs to the day the window started.
    if (end - timedelta(microseconds=1)).date() == start.date():
        return _t(lang, "span", day=day, start=_clock(start, tz), end=_clock(end, tz))
    return _t(
        lang,
        "span_overnight",
        day=day,
        start=_clock(start, tz),
        end_day=_day(lang, end, now, tz, bare=True),
        end=_clock(end, tz),
    )


# --- the data behind the answers -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Seen:
    """A visit with what may be said about it."""

    visit: Visit
    label: str
    portal: str
    kind: GrantKind | None
    site: int
    """The site's index in the list asked about."""


def _visits(sites: Sequence[SiteView]) -> list[_Seen]:
    seen: list[_Seen] = []
    for index, site in enumerate(sites):
        for visit in site.visits:
            grant = site.grants.get(visit.grant) if visit.grant is not None else None
            seen.append(
                _Seen(
                    visit=visit,
                    label=grant.label if grant is not None else "?",
                    portal=_portal_name(sites, site, visit.portal),
                    kind=grant.kind if grant is not None else None,
                    site=index,
                )
            )
    return sorted(seen, key=lambda s: s.visit.started_at)


def _portal_name(sites: Sequence[SiteView], site: SiteView, portal_id: str) -> str:
    name = site.portals.get(portal_id, portal_id)
    return f"{site.name}: {name}" if len(sites) > 1 else name


def _open(seen: Iterable[_Seen]) -> list[_Seen]:
    return [s for s in seen if not s.visit.terminal]


def _next_windows(
    sites: Sequence[SiteView], kind: GrantKind, now: datetime, tz: ZoneInfo
) -> list[tuple[Interval, Grant, bool]]:
    """The current or next window of every usable grant of `kind`, soonest first.

    The flag says whether the window is open now.
    """
    found: list[tuple[Interval, Grant, bool]] = []
    for site in sites:
        for grant in site.grants.values():
            if grant.kind is not kind:
                continue
            if grant_state(grant, now, tz) not in {GrantState.SCHEDULED, GrantState.ACTIVE}:
                continue
            if (window := current_interval(grant.schedule, tz, now)) is not None:
                found.append((window, grant, True))
            elif upcoming := occurrences(grant.schedule, tz, now, now + WINDOW_HORIZON):
                found.append((upcoming[0], grant, False))
    return sorted(found, key=lambda f: (f[0].start, f[1].label))


# --- the answers ---------------------------------------------------------------------


def answer_package(lang: str, sites: Sequence[SiteView], now: datetime, tz: ZoneInfo) -> str:
    """Was a package delivered today: completed courier visits, or who is coming."""
    if not sites:
        return _t(lang, "no_site")
    today = now.astimezone(tz).date()
    couriers = [s for s in _visits(sites) if s.kind is GrantKind.COURIER]
    delivered = [
        s
        for s in couriers
        if s.visit.state is VisitState.COMPLETED
        and s.visit.ended_at is not None
        and s.visit.ended_at.astimezone(tz).date() == today
    ]
    if delivered:
        items = [
            _t(
                lang,
                "delivered_item",
                label=s.label,
                time=_clock(s.visit.ended_at or s.visit.started_at, tz),
                portal=s.portal,
            )
            for s in sorted(delivered, key=lambda s: s.visit.ended_at or s.visit.started_at)
        ]
        return _t(lang, "delivered", items=_join(lang, items))
    parts = [_t(lang, "not_delivered")]
    here = _open(couriers)
    parts.extend(
        _t(
            lang,
            "courier_here",
            label=s.label,
            time=_clock(s.visit.started_at, tz),
            portal=s.portal,
        )
        for s in here[:MAX_LISTED]
    )
    if not here and (windows := _next_windows(sites, GrantKind.COURIER, now, tz)):
        window, grant, _ = windows[0]
        parts.append(
            _t(lang, "next_courier", label=grant.label, when=describe_window(lang, window, now, tz))
        )
    return " ".join(parts)


def _item(lang: str, seen: _Seen, tz: ZoneInfo) -> str:
    return _t(
        lang,
        "visiting_item",
        label=seen.label,
        time=_clock(seen.visit.started_at, tz),
        portal=seen.portal,
    )


def answer_visitors(lang: str, sites: Sequence[SiteView], tz: ZoneInfo) -> str:
    """Who is visiting: the visits in progress, with their labels and doors."""
    if not sites:
        return _t(lang, "no_site")
    here = _open(_visits(sites))
    if not here:
        return _t(lang, "nobody_visiting")
    if len(here) == 1:
        s = here[0]
        return _t(
            lang,
            "visiting_one",
            label=s.label,
            time=_clock(s.visit.started_at, tz),
            portal=s.portal,
        )
    items = [_item(lang, s, tz) for s in here]
    return _t(lang, "visiting_many", count=len(here), items=_join(lang, items))


def _fold(text: str) -> str:
    """Casefold, unify umlaut spellings and spaces, drop a leading article."""
    text = unicodedata.normalize("NFC", text).casefold().strip(" \t.,;:!?\"'")
    for umlaut, plain in (("ae", "ä"), ("oe", "ö"), ("ue", "ü")):
        text = text.replace(umlaut, plain)
    text = re.sub(r"[\s_-]+", " ", text)
    return _ARTICLES.sub("", text)


_FOLDED_ALIASES = tuple(frozenset(_fold(a) for a in group) for group in _DOOR_ALIASES)
_FOLDED_ANY_DOOR = frozenset(_fold(a) for a in _ANY_DOOR)


def match_portals(site: SiteView, spoken: str) -> list[str]:
    """The portal ids of a site that a spoken door name means (all for "door" or none said)."""
    wanted = _fold(spoken)
    if not wanted or wanted in _FOLDED_ANY_DOOR:
        return list(site.portals)
    names = {pid: {_fold(name), _fold(pid)} for pid, name in site.portals.items()}
    exact = [pid for pid, known in names.items() if wanted in known]
    if exact:
        return exact
    for group in _FOLDED_ALIASES:
        if wanted in group:
            return [pid for pid, known in names.items() if known & group]
    words = set(wanted.split())
    return [pid for pid, known in names.items() if any(words <= set(n.split()) for n in known)]


def answer_at_door(lang: str, sites: Sequence[SiteView], spoken: str, tz: ZoneInfo) -> str:
    """Is anyone at a door: the visit in progress there, if any."""
    if not sites:
        return _t(lang, "no_site")
    spoken = _NOW.sub("", spoken)
    wanted = {
        (index, pid) for index, site in enumerate(sites) for pid in match_portals(site, spoken)
    }
    if not wanted:
        return _t(lang, "unknown_door", name=spoken.strip())
    here = [s for s in _open(_visits(sites)) if (s.site, s.visit.portal) in wanted]
    if here:
        return _t(lang, "at_door_yes", items=_join(lang, [_item(lang, s, tz) for s in here]))
    doors = [
        _portal_name(sites, site, pid)
        for index, site in enumerate(sites)
        for pid in site.portals
        if (index, pid) in wanted
    ]
    return _t(lang, "at_door_no", portal=_join(lang, doors))


def answer_cleaner(lang: str, sites: Sequence[SiteView], now: datetime, tz: ZoneInfo) -> str:
    """When does the cleaner come: a cleaner's visit now, or the next cleaner window."""
    if not sites:
        return _t(lang, "no_site")
    here = [s for s in _open(_visits(sites)) if s.kind is GrantKind.CLEANER]
    if here:
        first = here[0]
        return _t(
            lang,
            "cleaner_here",
            label=first.label,
            time=_clock(first.visit.started_at, tz),
            portal=first.portal,
        )
    windows = _next_windows(sites, GrantKind.CLEANER, now, tz)
    if not windows:
        return _t(lang, "no_cleaner")
    parts: list[str] = []
    seen: set[str] = set()
    for window, grant, is_open in windows:
        if grant.label in seen or len(seen) >= MAX_LISTED:
            continue
        seen.add(grant.label)
        if is_open:
            parts.append(_t(lang, "cleaner_open", label=grant.label, end=_clock(window.end, tz)))
        else:
            parts.append(
                _t(
                    lang,
                    "cleaner_next",
                    label=grant.label,
                    when=describe_window(lang, window, now, tz),
                )
            )
    return " ".join(parts)


def answer(  # noqa: PLR0913 - a question, its language, its data and the clock
    question: Question,
    language: str | None,
    sites: Sequence[SiteView],
    now: datetime,
    tz: ZoneInfo,
    *,
    door: str | None = None,
) -> str:
    """The spoken answer to `question` (in German for "de...", else in English)."""
    lang = language_of(language)
    if question is Question.PACKAGE:
        return answer_package(lang, sites, now, tz)
    if question is Question.VISITORS:
        return answer_visitors(lang, sites, tz)
    if question is Question.AT_DOOR:
        return answer_at_door(lang, sites, door or "", tz)
    return answer_cleaner(lang, sites, now, tz)
