"""Which carriers a grant admits: the carrier ids it names, or any carrier when it names none.

A courier grant may name the carriers whose tokens it accepts (the ids of the site's
carriers, the JWT issuers of their tokens). A grant that names none admits every
carrier of the site, as grants did before they could name one, so stored grants without
the field keep working unchanged.
"""

from collections.abc import Mapping

from . import _parse
from .errors import InvalidGrantError
from .ids import is_identifier

MAX_GRANT_CARRIERS = 16


def check_carriers(carriers: object) -> None:
    """Refuse anything but a tuple of distinct carrier ids (`invalid_carrier`, `carriers`)."""
    if (
        not isinstance(carriers, tuple)
        or len(carriers) > MAX_GRANT_CARRIERS
        or not all(is_identifier(c) for c in carriers)
        or len(set(carriers)) != len(carriers)
    ):
        raise InvalidGrantError(
            translation_key="invalid_carrier", placeholders={"field": "carriers"}
        )


def carriers_from_dict(data: Mapping[str, object], what: str) -> tuple[str, ...]:
    """The stored `carriers` of a grant; none (any carrier) when the field is absent."""
    if data.get("carriers") is None:
        return ()
    carriers = _parse.get_list(data, "carriers", what)
    if not all(isinstance(c, str) for c in carriers):
        raise _parse.fail(what, "carriers")
    return tuple(str(c) for c in carriers)


def admits_carrier(carriers: tuple[str, ...], carrier_id: str) -> bool:
    """Whether a grant naming `carriers` accepts a token of `carrier_id`."""
    return not carriers or carrier_id in carriers
