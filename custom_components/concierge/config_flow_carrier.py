"""Carriers, a home's config subentries: add or change a delivery company and its keys.

A carrier's signed courier tokens open the door. The owner enters its name, the issuer
(`iss`) its tokens carry and its public keys pasted as PEM (`CARRIER_SCHEMA`);
`validate_carrier` gives each field its own error and builds the core `Carrier`, and
`carrier_data` is what the subentry stores. Replacing the keys is a key rotation.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers import selector

from .const import CONF_CARRIER_ID, CONF_CARRIER_KEYS, CONF_CARRIER_NAME, SUBENTRY_CARRIER
from .core.carriers import (
    CARRIER_NAME_MAX_LENGTH,
    MAX_KEYS_PER_CARRIER,
    Carrier,
    CarrierKey,
    parse_public_key,
)
from .core.errors import InvalidCredentialError
from .core.ids import is_identifier

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)

CARRIER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_CARRIER_NAME): selector.TextSelector(),
        vol.Required(CONF_CARRIER_ID): selector.TextSelector(
            selector.TextSelectorConfig(autocomplete="off")
        ),
        vol.Required(CONF_CARRIER_KEYS): selector.TextSelector(
            selector.TextSelectorConfig(multiline=True, autocomplete="off")
        ),
    }
)


def _pem_blocks(text: str) -> list[tuple[str, str]] | None:
    """Split pasted text into (label, block) PEM blocks; None when anything else is in it."""
    blocks = [(match.group(1), match.group(0)) for match in _PEM_BLOCK.finditer(text)]
    if _PEM_BLOCK.sub("", text).strip():
        return None
    return blocks


def _unique_keys(keys: Iterable[CarrierKey]) -> list[CarrierKey]:
    """Drop a key pasted twice (same key id), keeping the order."""
    by_kid: dict[str, CarrierKey] = {}
    for key in keys:
        by_kid.setdefault(key.kid, key)
    return list(by_kid.values())


def _parse_keys(text: str, errors: dict[str, str]) -> list[CarrierKey]:
    """Parse one or more pasted PEM public keys; put an error in `errors` if they are bad."""
    blocks = _pem_blocks(text)
    if blocks is None:
        errors[CONF_CARRIER_KEYS] = "invalid_public_key"
    elif not blocks:
        errors[CONF_CARRIER_KEYS] = "no_public_key"
    elif any("PRIVATE" in label for label, _ in blocks):
        errors[CONF_CARRIER_KEYS] = "private_key"
    elif len(blocks) > MAX_KEYS_PER_CARRIER:
        errors[CONF_CARRIER_KEYS] = "too_many_keys"
    else:
        try:
            return _unique_keys(parse_public_key(block) for _, block in blocks)
        except InvalidCredentialError as err:
            # A small-order or non-canonical Ed25519 key would let anyone sign: say so.
            weak = err.translation_key == "weak_public_key"
            errors[CONF_CARRIER_KEYS] = "weak_public_key" if weak else "invalid_public_key"
    return []


def validate_carrier(
    user_input: Mapping[str, Any], taken_ids: Iterable[str]
) -> tuple[Carrier | None, dict[str, str]]:
    """Check a carrier's name, id (its JWT issuer) and public keys; build it when valid.

    The checks are those `Carrier` makes, so that each field gets its own error.
    """
    errors: dict[str, str] = {}
    name = str(user_input[CONF_CARRIER_NAME]).strip()
    carrier_id = str(user_input[CONF_CARRIER_ID]).strip()
    if not name:
        errors[CONF_CARRIER_NAME] = "empty_name"
    elif len(name) > CARRIER_NAME_MAX_LENGTH:
        errors[CONF_CARRIER_NAME] = "name_too_long"
    if not is_identifier(carrier_id):
        errors[CONF_CARRIER_ID] = "invalid_carrier_id"
    elif carrier_id in set(taken_ids):
        errors[CONF_CARRIER_ID] = "carrier_exists"
    keys = _parse_keys(str(user_input[CONF_CARRIER_KEYS]), errors)
    if errors:
        return None, errors
    return Carrier(carrier_id=carrier_id, name=name, keys=tuple(keys)), errors


def carrier_data(carrier: Carrier) -> dict[str, Any]:
    """Build the stored form of a carrier (what `Carrier.from_dict` reads back)."""
    return {
        CONF_CARRIER_ID: carrier.carrier_id,
        CONF_CARRIER_NAME: carrier.name,
        CONF_CARRIER_KEYS: [key.to_dict() for key in carrier.keys],
    }


class CarrierSubentryFlow(ConfigSubentryFlow):
    """Add or change a carrier: a delivery company whose signed tokens open the door."""

    def _taken_ids(self, ignore_subentry_id: str | None = None) -> list[str]:
        return [
            str(subentry.data.get(CONF_CARRIER_ID))
            for subentry in self._get_entry().subentries.values()
            if subentry.subentry_type == SUBENTRY_CARRIER
            and subentry.subentry_id != ignore_subentry_id
        ]

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a carrier: its name, the issuer it signs with and its public keys."""
        errors: dict[str, str] = {}
        if user_input is not None:
            carrier, errors = validate_carrier(user_input, self._taken_ids())
            if carrier is not None:
                return self.async_create_entry(
                    title=carrier.name, data=carrier_data(carrier), unique_id=carrier.carrier_id
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(CARRIER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Rename a carrier, change its issuer or replace its keys (a key rotation)."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            carrier, errors = validate_carrier(
                user_input, self._taken_ids(ignore_subentry_id=subentry.subentry_id)
            )
            if carrier is not None:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=carrier.name,
                    unique_id=carrier.carrier_id,
                    data=carrier_data(carrier),
                    reason="reconfigure_successful",
                )
        suggested = user_input or {
            CONF_CARRIER_NAME: subentry.data.get(CONF_CARRIER_NAME, subentry.title),
            CONF_CARRIER_ID: subentry.data.get(CONF_CARRIER_ID, ""),
            CONF_CARRIER_KEYS: "".join(
                str(key.get("public_key_pem", ""))
                for key in subentry.data.get(CONF_CARRIER_KEYS, [])
            ),
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(CARRIER_SCHEMA, suggested),
            errors=errors,
        )
