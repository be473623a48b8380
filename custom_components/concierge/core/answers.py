"""Spoken answers to questions about a site, in English and German.

Voice assistants ask: was my package delivered, who is visiting, is anyone at a door,
when does the cleaner come. The answers say labels, door names and local times only:
never a PIN, a token or a code, and nothing here can open a door.

Everything is computed from plain data (`SiteView`) at an instant `now` in a time
zone `tz`, so the answers are tested without Home Assistant. This file decides what is
said, and which doors a spoken door name means; the words themselves, in both languages,
are in `core.answer_texts`.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from .answer_texts import MAX_LISTED, clock, describe_window, language_of, listing, say
from .grants import Grant, GrantKind, GrantState, grant_state
from .schedule_times import current_interval, occurrences
from .visits import Visit, VisitState
from .windows import Interval


class Question(StrEnum):
    """What is asked."""

    PACKAGE = "package"
    VISITORS = "visitors"
    AT_DOOR = "at_door"
    CLEANER = "cleaner"


WINDOW_HORIZON = timedelta(days=400)
"""How far ahead the next window of a grant is looked for."""


@dataclass(frozen=True, slots=True)
class SiteView:
    """What an answer may use of one site: door names, grants, visits."""

    name: str
    portals: Mapping[str, str]
    """Door names by portal id, in the configured order."""
    grants: Mapping[str, Grant]
    visits: Sequence[Visit]
    """Every kept visit of the site (any order)."""


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
        return say(lang, "no_site")
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
            say(
                lang,
                "delivered_item",
                label=s.label,
                time=clock(s.visit.ended_at or s.visit.started_at, tz),
                portal=s.portal,
            )
            for s in sorted(delivered, key=lambda s: s.visit.ended_at or s.visit.started_at)
        ]
        return say(lang, "delivered", items=listing(lang, items))
    parts = [say(lang, "not_delivered")]
    here = _open(couriers)
    parts.extend(
        say(
            lang,
            "courier_here",
            label=s.label,
            time=clock(s.visit.started_at, tz),
            portal=s.portal,
        )
        for s in here[:MAX_LISTED]
    )
    if not here and (windows := _next_windows(sites, GrantKind.COURIER, now, tz)):
        window, grant, _ = windows[0]
        parts.append(
            say(
                lang, "next_courier", label=grant.label, when=describe_window(lang, window, now, tz)
            )
        )
    return " ".join(parts)


def _item(lang: str, seen: _Seen, tz: ZoneInfo) -> str:
    return say(
        lang,
        "visiting_item",
        label=seen.label,
        time=clock(seen.visit.started_at, tz),
        portal=seen.portal,
    )


def answer_visitors(lang: str, sites: Sequence[SiteView], tz: ZoneInfo) -> str:
    """Who is visiting: the visits in progress, with their labels and doors."""
    if not sites:
        return say(lang, "no_site")
    here = _open(_visits(sites))
    if not here:
        return say(lang, "nobody_visiting")
    if len(here) == 1:
        s = here[0]
        return say(
            lang,
            "visiting_one",
            label=s.label,
            time=clock(s.visit.started_at, tz),
            portal=s.portal,
        )
    items = [_item(lang, s, tz) for s in here]
    return say(lang, "visiting_many", count=len(here), items=listing(lang, items))


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
        return say(lang, "no_site")
    spoken = _NOW.sub("", spoken)
    wanted = {
        (index, pid) for index, site in enumerate(sites) for pid in match_portals(site, spoken)
    }
    if not wanted:
        return say(lang, "unknown_door", name=spoken.strip())
    here = [s for s in _open(_visits(sites)) if (s.site, s.visit.portal) in wanted]
    if here:
        return say(lang, "at_door_yes", items=listing(lang, [_item(lang, s, tz) for s in here]))
    doors = [
        _portal_name(sites, site, pid)
        for index, site in enumerate(sites)
        for pid in site.portals
        if (index, pid) in wanted
    ]
    return say(lang, "at_door_no", portal=listing(lang, doors))


def answer_cleaner(lang: str, sites: Sequence[SiteView], now: datetime, tz: ZoneInfo) -> str:
    """When does the cleaner come: a cleaner's visit now, or the next cleaner window."""
    if not sites:
        return say(lang, "no_site")
    here = [s for s in _open(_visits(sites)) if s.kind is GrantKind.CLEANER]
    if here:
        first = here[0]
        return say(
            lang,
            "cleaner_here",
            label=first.label,
            time=clock(first.visit.started_at, tz),
            portal=first.portal,
        )
    windows = _next_windows(sites, GrantKind.CLEANER, now, tz)
    if not windows:
        return say(lang, "no_cleaner")
    parts: list[str] = []
    seen: set[str] = set()
    for window, grant, is_open in windows:
        if grant.label in seen or len(seen) >= MAX_LISTED:
            continue
        seen.add(grant.label)
        if is_open:
            parts.append(say(lang, "cleaner_open", label=grant.label, end=clock(window.end, tz)))
        else:
            parts.append(
                say(
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
