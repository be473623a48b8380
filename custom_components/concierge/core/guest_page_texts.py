"""The guest page's words, in English and German, and what a guest link's state means to them.

The page speaks the guest's language (from the browser's `Accept-Language`, German or else
English) and says times in the home's time zone, naming it. `LinkStatus` is what the page
knows of a link before a tap: live, or why it opens nothing; `link_status` decides it.
Which answer of the open request is said how: `answer_text`.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from .answer_texts import describe_window
from .grants import GrantState
from .windows import Interval

LANGUAGES = ("en", "de")


class LinkStatus(StrEnum):
    """A guest link as its page shows it before the guest taps."""

    LIVE = "live"
    NOT_YET = "not_yet"
    ENDED = "ended"
    REVOKED = "revoked"
    USED_UP = "used_up"
    PAUSED = "paused"


_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "title": "Welcome",
        "open": "Unlock the door",
        "wait": "One moment\u2026",
        "valid": "Valid {window} (time in {zone}).",
        "ok": "Unlocked. Push the door open and close it behind you.",
        "live": "",
        "not_yet": "This link does not work yet. Please come back at the time above.",
        "ended": "This link has ended.",
        "revoked": "This link has been revoked.",
        "used_up": "This link has been used as often as it may be.",
        "paused": "This link is paused for now.",
        "busy": "Someone else is using this door right now. Please try again in a few minutes.",
        "outside": "This link does not work at this time.",
        "invalid": "This link is not valid.",
        "too_many": "Too many tries. Please wait a moment and try again.",
        "failed": "The door could not be unlocked. Please try again or call your host.",
    },
    "de": {
        "title": "Willkommen",
        "open": "Tür entriegeln",
        "wait": "Einen Moment\u2026",
        "valid": "Gültig {window} (Zeitzone {zone}).",
        "ok": "Entriegelt. Drücken Sie die Tür auf und schließen Sie sie hinter sich.",
        "live": "",
        "not_yet": "Dieser Link gilt noch nicht. Bitte kommen Sie zur oben genannten Zeit.",
        "ended": "Dieser Link ist abgelaufen.",
        "revoked": "Dieser Link wurde widerrufen.",
        "used_up": "Dieser Link wurde so oft benutzt, wie er darf.",
        "paused": "Dieser Link ist gerade pausiert.",
        "busy": "Die Tür wird gerade von jemand anderem benutzt. "
        "Bitte versuchen Sie es in ein paar Minuten noch einmal.",
        "outside": "Dieser Link gilt zu dieser Zeit nicht.",
        "invalid": "Dieser Link ist ungültig.",
        "too_many": "Zu viele Versuche. Bitte warten Sie einen Moment.",
        "failed": "Die Tür konnte nicht entriegelt werden. "
        "Bitte versuchen Sie es noch einmal oder rufen Sie Ihren Gastgeber an.",
    },
}

_ANSWERS: Mapping[str, str] = {
    "link_revoked": "revoked",
    "grant_revoked": "revoked",
    "expired": "ended",
    "not_yet_valid": "not_yet",
    "grant_used_up": "used_up",
    "grant_suspended": "paused",
    "outside_window": "outside",
    "portal_busy": "busy",
    "invalid_token": "invalid",
    "rate_limited": "too_many",
}
"""The open request's error codes the page explains; any other is `failed`."""


def page_language(accept_language: str | None) -> str:
    """The page's language for an `Accept-Language` header: the guest's first of en/de."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGUAGES and quality > 0:
            ranked.append((-quality, index, lang))
    return min(ranked)[2] if ranked else "en"


def text(lang: str, key: str) -> str:
    """The page's text `key` in `lang`."""
    return _TEXTS[lang][key]


def page_texts(lang: str) -> Mapping[str, str]:
    """The texts the page's script shows itself (before and between answers)."""
    return {key: _TEXTS[lang][key] for key in ("title", "open", "wait", "invalid", "failed")}


def validity_text(lang: str, window: Interval, now: datetime, tz: ZoneInfo) -> str:
    """When a link works, e.g. "Valid today from 09:00 to 12:00 (time in Europe/Berlin)."."""
    return _TEXTS[lang]["valid"].format(window=describe_window(lang, window, now, tz), zone=str(tz))


def answer_text(lang: str, error: str | None) -> str:
    """What the page says after a tap: "Unlocked" for none, or why the door stays locked."""
    if error is None:
        return _TEXTS[lang]["ok"]
    return _TEXTS[lang][_ANSWERS.get(error, "failed")]


def link_status(
    *,
    known: bool,
    grant_state: GrantState | None,
    window: Interval,
    now: datetime,
    leeway: timedelta,
) -> LinkStatus:
    """A signed link's status at `now`: `known` is False for a revoked or forgotten link.

    `window` is the link's validity; `grant_state` its grant's state (None: grant gone).
    """
    if not known or grant_state in {None, GrantState.REVOKED}:
        return LinkStatus.REVOKED
    if grant_state is GrantState.USED_UP:
        return LinkStatus.USED_UP
    if grant_state is GrantState.EXPIRED or now >= window.end + leeway:
        return LinkStatus.ENDED
    if grant_state is GrantState.SUSPENDED:
        return LinkStatus.PAUSED
    if now < window.start - leeway:
        return LinkStatus.NOT_YET
    return LinkStatus.LIVE
