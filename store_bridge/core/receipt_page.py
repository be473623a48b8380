"""The receipt page's HTML (the page a card shopper opens from the exit's QR), en and de.

Pure: the shell (`receipt_web.py`) says which page to show, in which language, with which
form token. The page asks for an e-mail address and says what the store does with it. It
loads nothing from elsewhere (its style is inline; the shell's Content-Security-Policy allows
no scripts at all), and every value in it is escaped.
"""

from collections.abc import Mapping
from enum import StrEnum
from html import escape
from typing import Final

from .email_address import AddressProblem
from .receipt import Language


class PageKind(StrEnum):
    """Which receipt page."""

    FORM = "form"
    THANKS = "thanks"
    USED = "used"
    INVALID = "invalid"
    """Unknown or expired: the shopper cannot tell the two apart, nor needs to."""
    STALE_FORM = "stale_form"
    """The form did not come from this page (or is too old): load the page again."""


_WORDS: Final[Mapping[Language, Mapping[str, str]]] = {
    Language.EN: {
        "title": "Your receipt",
        "form": "Enter your e-mail address and we will send you the receipt for this visit.",
        "label": "E-mail address",
        "send": "Send my receipt",
        "privacy": "We use your address only to send this receipt and erase it as soon as "
        "the mail server has accepted it.",
        "thanks": "Thank you. Your receipt is on its way; it may take a few minutes.",
        "used": "A receipt has already been requested with this code.",
        "invalid": "This receipt code is not valid (any more). Codes are valid for a day.",
        "stale_form": "The form has expired. Please open the link again.",
        AddressProblem.EMPTY: "Please enter your e-mail address.",
        AddressProblem.TOO_LONG: "This address is too long.",
        AddressProblem.LINE_BREAK: "An address cannot contain a line break.",
        AddressProblem.NOT_AN_ADDRESS: "This does not look like an e-mail address.",
    },
    Language.DE: {
        "title": "Ihr Beleg",
        "form": "Geben Sie Ihre E-Mail-Adresse ein, und wir senden Ihnen den Beleg zu "
        "diesem Einkauf.",
        "label": "E-Mail-Adresse",
        "send": "Beleg senden",
        "privacy": "Wir verwenden Ihre Adresse nur, um diesen Beleg zu senden, und löschen "
        "sie, sobald der Mailserver ihn angenommen hat.",
        "thanks": "Vielen Dank. Ihr Beleg ist unterwegs; das kann einige Minuten dauern.",
        "used": "Mit diesem Code wurde bereits ein Beleg angefordert.",
        "invalid": "Dieser Beleg-Code ist nicht (mehr) gültig. Codes gelten einen Tag.",
        "stale_form": "Das Formular ist abgelaufen. Bitte öffnen Sie den Link erneut.",
        AddressProblem.EMPTY: "Bitte geben Sie Ihre E-Mail-Adresse ein.",
        AddressProblem.TOO_LONG: "Diese Adresse ist zu lang.",
        AddressProblem.LINE_BREAK: "Eine Adresse darf keinen Zeilenumbruch enthalten.",
        AddressProblem.NOT_AN_ADDRESS: "Das sieht nicht wie eine E-Mail-Adresse aus.",
    },
}

_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem}"
    "input,button{font-size:1.1rem;width:100%;box-sizing:border-box;padding:.5rem;margin:.3rem 0}"
    ".error{color:#a00}small{color:#555}"
)


def language_of(accept_language: str) -> Language:
    """The page's language from an ``Accept-Language`` header (English unless German wins)."""
    best: tuple[float, Language] = (0.0, Language.EN)
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in {lang.value for lang in Language}:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > best[0]:
            best = (weight, Language(primary))
    return best[1]


def page(
    kind: PageKind,
    language: Language,
    *,
    token: str = "",
    problem: AddressProblem | None = None,
    store: str = "",
) -> str:
    """One receipt page's HTML."""
    words = _WORDS[language]
    title = escape(words["title"] + (f" - {store}" if store else ""))
    if kind is PageKind.FORM:
        error = (
            "" if problem is None else f'<p class="error" role="alert">{escape(words[problem])}</p>'
        )
        body = (
            f"<p>{escape(words['form'])}</p>{error}"
            f'<form method="post"><input type="hidden" name="token" value="{escape(token)}">'
            f'<input type="hidden" name="lang" value="{language.value}">'
            f'<label for="email">{escape(words["label"])}</label>'
            '<input id="email" name="email" type="email" required maxlength="254" '
            'autocomplete="email">'
            f'<button type="submit">{escape(words["send"])}</button></form>'
            f"<p><small>{escape(words['privacy'])}</small></p>"
        )
    else:
        body = f"<p>{escape(words[kind.value])}</p>"
    return (
        f'<!DOCTYPE html><html lang="{language.value}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<meta name="referrer" content="no-referrer"><title>{title}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{title}</h1>{body}</body></html>"
    )
