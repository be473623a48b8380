"""Generated PINs: random digits no other grant of the site holds."""

import secrets
from collections.abc import Collection

PIN_LENGTH = 6
"""Within the 4 to 10 digits a PIN may have (`core.grants.Credentials`)."""


def generate_pin(taken: Collection[str], length: int = PIN_LENGTH) -> str:
    """A fresh PIN of `length` digits, none of `taken` (the site's PINs), not all one digit."""
    while True:
        pin = "".join(secrets.choice("0123456789") for _ in range(length))
        if pin not in taken and len(set(pin)) > 1:
            return pin
