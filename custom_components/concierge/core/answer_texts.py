"""The answers' words, in English and German: sentences, lists, clock times and days.

Every sentence an answer says is here, in both languages, with how a list of items, a
local clock time, a day ("today", "tomorrow", "on Friday, June 5") and a window are
said. Which answer is given, and from what: `core.answers`.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .windows import Interval

LANGUAGES = ("en", "de")
MAX_LISTED = 3
"""At most this many items are read out; the rest are counted."""

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


def language_of(language: str | None) -> str:
    """The answer language for a conversation language (German or else English)."""
    return "de" if (language or "").lower().split("-")[0].split("_")[0] == "de" else "en"


def say(lang: str, key: str, **values: object) -> str:
    """The sentence `key` in `lang`, with `values` filled in."""
    return _TEXTS[lang][key].format(**values)


def listing(lang: str, items: Sequence[str]) -> str:
    """Items as said in a sentence ("a, b and 2 more"), at most `MAX_LISTED` of them."""
    shown = list(items[:MAX_LISTED])
    if len(items) > MAX_LISTED:
        shown.append(say(lang, "more", count=len(items) - MAX_LISTED))
    if len(shown) == 1:
        return shown[0]
    return f"{', '.join(shown[:-1])} {say(lang, 'and')} {shown[-1]}"


def clock(when: datetime, tz: ZoneInfo) -> str:
    """A local clock time, e.g. "09:30"."""
    return when.astimezone(tz).strftime("%H:%M")


def _day(lang: str, when: datetime, now: datetime, tz: ZoneInfo, *, bare: bool = False) -> str:
    day = when.astimezone(tz).date()
    today = now.astimezone(tz).date()
    if day == today:
        return say(lang, "today")
    if day == today + timedelta(days=1):
        return say(lang, "tomorrow")
    return say(
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
        return say(lang, "span", day=day, start=clock(start, tz), end=clock(end, tz))
    return say(
        lang,
        "span_overnight",
        day=day,
        start=clock(start, tz),
        end_day=_day(lang, end, now, tz, bare=True),
        end=clock(end, tz),
    )
