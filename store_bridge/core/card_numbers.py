"""Whether a text holds a payment card number, however it is written.

A card number (PAN) is 12-19 digits that pass the Luhn check. People and systems write it
together or in groups split by anything that is not a letter or a digit: spaces, dashes,
dots, underscores, colons, slashes, several mixed, with any text before or after it
(``card:4111.1111.1111.1111``, ``4111_1111-1111 1111/12``). So the digits of a text are
read in runs: groups of digits that only such separators split. Any consecutive groups of
a run holding 12-19 digits that pass the Luhn check are a card number.

A letter ends a run (``pm_1Ab2``): between digit groups it is part of an identifier, not a
separator. Counting letters as separators would take processor tokens for card numbers:
27 % of `pm_sim_<24 hex>` tokens and 65 % of UUIDs would be refused. A single group of more
than 19 digits is no card number either (a card number's digits are never split inside a
group): format-preserving tokens, which are made to fail the Luhn check, stay tokens.
Digits are any Unicode decimal digits (full-width or Arabic-Indic digits count too).
"""

import re
from itertools import islice
from typing import Final

MIN_DIGITS: Final = 12
MAX_DIGITS: Final = 19
RUN: Final = re.compile(r"\d+(?:[\W_]+\d+)*")
"""Digit groups split only by characters that are neither letters nor digits."""
GROUP: Final = re.compile(r"\d+")


def luhn_ok(digits: str) -> bool:
    """Whether a string of decimal digits passes the Luhn check."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2  # noqa: PLR2004
        total += value
    return total % 10 == 0


def _run_has_card_number(groups: list[str]) -> bool:
    for start in range(len(groups)):
        digits = ""
        for group in islice(groups, start, None):
            digits += group
            if len(digits) > MAX_DIGITS:
                break
            if len(digits) >= MIN_DIGITS and luhn_ok(digits):
                return True
    return False


def looks_like_card_number(text: str) -> bool:
    """Whether `text` holds 12-19 digits passing the Luhn check, whatever splits them."""
    return any(_run_has_card_number(GROUP.findall(run.group())) for run in RUN.finditer(text))
