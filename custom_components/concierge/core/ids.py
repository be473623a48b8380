"""Identifier rules shared by grants, portals, sites, visits and events.

`new_id` makes a fresh id; it is the wire vocabulary's (generated into `vocabulary`, the
same in store_bridge) and re-exported here.
"""

import re

from .vocabulary import new_id

__all__ = ["IDENTIFIER", "SNAKE_CASE", "is_identifier", "is_snake_case", "new_id"]

IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
"""Ids: 1-64 ASCII characters (letters, digits, `._:-`), starting with a letter or digit."""

SNAKE_CASE = re.compile(r"[a-z][a-z0-9_]{0,63}")
"""Machine codes such as reasons: lowercase snake_case, at most 64 characters."""


def is_identifier(value: object) -> bool:
    """Return whether `value` is a valid id string (see `IDENTIFIER`)."""
    return isinstance(value, str) and IDENTIFIER.fullmatch(value) is not None


def is_snake_case(value: object) -> bool:
    """Return whether `value` is a snake_case code (see `SNAKE_CASE`)."""
    return isinstance(value, str) and SNAKE_CASE.fullmatch(value) is not None
