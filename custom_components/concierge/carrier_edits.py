"""Carriers changed from the Access panel: add one, add a key (a rotation), retire a key.

The checks are the carrier subentry's own (`config_flow_carrier.validate_carrier`: the
name, the issuer, the pasted PEM public key — a weak Ed25519 key is refused there), and a
carrier is stored as that flow stores it, as a subentry of the site's config entry, so the
flow and the panel see the same carriers. A refused change stores nothing: everything is
checked before the entry is touched.
"""

from dataclasses import dataclass
from types import MappingProxyType

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant

from .config_flow_carrier import carrier_data, validate_carrier
from .const import CONF_CARRIER_ID, CONF_CARRIER_KEYS, CONF_CARRIER_NAME, SUBENTRY_CARRIER
from .core.carriers import MAX_KEYS_PER_CARRIER, Carrier, CarrierKey
from .core.errors import ConciergeError
from .service_errors import not_valid
from .site_runtime import ConciergeConfigEntry


class CarrierInputError(Exception):
    """A field the carrier subentry's form would refuse: its field and error code.

    The code is one of the subentry form's errors (`config_subentries.carrier.error`),
    so the panel says what the form says.
    """

    def __init__(self, field: str, code: str) -> None:
        """Name the refused field and the form's error code."""
        super().__init__(code)
        self.field = field
        self.code = code


@dataclass(frozen=True, slots=True)
class PastedKey:
    """A public key as pasted (PEM) and the key id its tokens name (None: its fingerprint)."""

    pem: str
    kid: str | None = None


def _carrier_subentries(entry: ConciergeConfigEntry) -> list[ConfigSubentry]:
    return [s for s in entry.subentries.values() if s.subentry_type == SUBENTRY_CARRIER]


def _checked(name: str, carrier_id: str, public_key: str, taken: list[str]) -> Carrier:
    """The carrier the subentry form would store, or the form's first error raised."""
    carrier, errors = validate_carrier(
        {CONF_CARRIER_NAME: name, CONF_CARRIER_ID: carrier_id, CONF_CARRIER_KEYS: public_key},
        taken,
    )
    if carrier is None:
        field, code = next(iter(errors.items()))
        raise CarrierInputError(field, code)
    return carrier


def _one_key(carrier: Carrier, kid: str | None) -> CarrierKey:
    """The one pasted key, under key id `kid` (its fingerprint when None)."""
    if len(carrier.keys) != 1:
        raise not_valid("carrier_one_key")
    (key,) = carrier.keys
    if kid is None or kid == key.kid:
        return key
    try:
        return CarrierKey(kid=kid, alg=key.alg, public_key_pem=key.public_key_pem)
    except ConciergeError as err:  # an id the JWT header could not carry
        raise not_valid(err.translation_key) from err


def _stored(entry: ConciergeConfigEntry, carrier_id: str) -> tuple[ConfigSubentry, Carrier]:
    """The subentry of carrier `carrier_id` and the carrier it holds."""
    for subentry in _carrier_subentries(entry):
        if subentry.data.get(CONF_CARRIER_ID) == carrier_id:
            try:
                return subentry, Carrier.from_dict(dict(subentry.data))
            except ConciergeError as err:  # edited by hand: change it in its own form
                raise not_valid(err.translation_key, **err.placeholders) from err
    raise not_valid("unknown_carrier", carrier=carrier_id)


def add_carrier(
    hass: HomeAssistant,
    entry: ConciergeConfigEntry,
    *,
    name: str,
    carrier_id: str,
    key: PastedKey,
) -> Carrier:
    """Add a carrier with one public key (its key id, else the key's fingerprint)."""
    taken = [str(s.data.get(CONF_CARRIER_ID)) for s in _carrier_subentries(entry)]
    checked = _checked(name, carrier_id, key.pem, taken)
    carrier = Carrier(checked.carrier_id, checked.name, (_one_key(checked, key.kid),))
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType(carrier_data(carrier)),
            subentry_type=SUBENTRY_CARRIER,
            title=carrier.name,
            unique_id=carrier.carrier_id,
        ),
    )
    return carrier


def rotate_key(
    hass: HomeAssistant,
    entry: ConciergeConfigEntry,
    *,
    carrier_id: str,
    pasted: PastedKey,
    retire: str | None,
) -> Carrier:
    """Add a new key to a carrier; retire key `retire` at the same time when given."""
    subentry, current = _stored(entry, carrier_id)
    checked = _checked(current.name, current.carrier_id, pasted.pem, [])
    key = _one_key(checked, pasted.kid)
    if current.key_by_kid(key.kid) is not None:
        raise not_valid("carrier_key_exists", kid=key.kid)
    if retire is not None and current.key_by_kid(retire) is None:
        raise not_valid("unknown_carrier_key", carrier=current.name, kid=retire)
    kept = tuple(k for k in current.keys if k.kid != retire)
    if len(kept) >= MAX_KEYS_PER_CARRIER:
        raise CarrierInputError(CONF_CARRIER_KEYS, "too_many_keys")
    carrier = Carrier(current.carrier_id, current.name, (*kept, key))
    hass.config_entries.async_update_subentry(entry, subentry, data=carrier_data(carrier))
    return carrier


def retire_key(
    hass: HomeAssistant, entry: ConciergeConfigEntry, *, carrier_id: str, kid: str
) -> Carrier:
    """Remove key `kid` from a carrier; its last key stays (add the new one first)."""
    subentry, current = _stored(entry, carrier_id)
    if current.key_by_kid(kid) is None:
        raise not_valid("unknown_carrier_key", carrier=current.name, kid=kid)
    kept = tuple(k for k in current.keys if k.kid != kid)
    if not kept:
        raise not_valid("carrier_last_key", carrier=current.name)
    carrier = Carrier(current.carrier_id, current.name, kept)
    hass.config_entries.async_update_subentry(entry, subentry, data=carrier_data(carrier))
    return carrier
