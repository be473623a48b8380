"""The carriers of a site, stored as the config entry's subentries of type `carrier`.

Adding, changing or removing a carrier changes `entry.subentries` without reloading
the entry, so read them when a token is checked rather than once at setup.
"""

import logging
from typing import TYPE_CHECKING

from .const import SUBENTRY_CARRIER
from .core.carriers import Carrier
from .core.errors import ConciergeError

if TYPE_CHECKING:
    from .coordinator import ConciergeConfigEntry

_LOGGER = logging.getLogger(__name__)


def carriers_from_entry(entry: ConciergeConfigEntry) -> dict[str, Carrier]:
    """Return the site's carriers by carrier id (the JWT issuer their tokens carry).

    A subentry that does not hold a valid carrier (edited by hand) is left out and
    logged by its title and error code; the other carriers still work.
    """
    carriers: dict[str, Carrier] = {}
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_CARRIER:
            continue
        try:
            carrier = Carrier.from_dict(dict(subentry.data))
        except ConciergeError as err:
            _LOGGER.warning(
                "Carrier %r is ignored: its stored data is invalid (%s)",
                subentry.title,
                err.translation_key,
            )
            continue
        carriers[carrier.carrier_id] = carrier
    return carriers
