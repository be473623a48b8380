"""The carriers of a site, stored as the config entry's subentries of type `carrier`.

Adding, changing or removing a carrier changes `entry.subentries` without reloading
the entry, so read them when a token is checked rather than once at setup.
"""

import logging
from collections.abc import Iterable

from homeassistant.config_entries import ConfigSubentry

from .const import SUBENTRY_CARRIER
from .core.carriers import Carrier
from .core.errors import ConciergeError

_LOGGER = logging.getLogger(__name__)


def carriers_from_subentries(subentries: Iterable[ConfigSubentry]) -> dict[str, Carrier]:
    """Return the site's carriers by carrier id (the JWT issuer their tokens carry).

    A subentry that does not hold a valid carrier (edited by hand) is left out and
    logged by its title and error code; the other carriers still work.
    """
    carriers: dict[str, Carrier] = {}
    for subentry in subentries:
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
