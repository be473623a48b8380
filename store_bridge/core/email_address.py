"""Whether a text can be a receipt's recipient: checked before anything is stored.

Deliberately plain (the mail server has the last word): one ``@`` with something on both
sides, a domain with a dot and no empty label, at most 254 characters (RFC 5321's limit for a
path), printable characters only. Line breaks, other control characters, spaces, angle
brackets, commas and semicolons are refused: an address goes into a mail header, and none of
them belongs in one there (a CR/LF would let a caller add headers of their own).
"""

from enum import StrEnum
from typing import Final

MAX_LENGTH: Final = 254
MAX_LOCAL: Final = 64
_FORBIDDEN: Final = frozenset(' <>(),;:"[]\\')


class AddressProblem(StrEnum):
    """Why an address is refused (a code the API and the page translate)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    LINE_BREAK = "line_break"
    NOT_AN_ADDRESS = "not_an_address"


def address_problem(text: str) -> AddressProblem | None:
    """None if `text` may be used as it is (no trimming: the caller strips what it wants)."""
    if not text:
        return AddressProblem.EMPTY
    if "\r" in text or "\n" in text:
        return AddressProblem.LINE_BREAK
    if len(text) > MAX_LENGTH:
        return AddressProblem.TOO_LONG
    local, at, domain = text.rpartition("@")
    if (
        not at
        or "@" in local
        or not local
        or len(local) > MAX_LOCAL
        or not all(c.isprintable() and c not in _FORBIDDEN for c in text)
        or "." not in domain
        or any(not label for label in domain.split("."))
    ):
        return AddressProblem.NOT_AN_ADDRESS
    return None
