"""A site's fingerprint key: in a file of its own, never with the fingerprints it keys.

Each lock slot Concierge writes is remembered with a keyed fingerprint of the PIN in it
(`core.fingerprints`). The key is 32 random bytes per site, kept in
`.storage/concierge.<entry>.fingerprint_key` (readable by Home Assistant's user only),
not in the site's data file nor in its last good copy: those files alone do not let
anyone test PINs against a fingerprint.

A key that is missing or unreadable is replaced by a new one. Fingerprints made with the
old key then no longer match anything: a code of ours is written once more, and a code
that was cleared can no longer be recognised if a lock reports it back. Nothing else is
lost, and no PIN is exposed.
"""

import logging
import secrets
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, UnsupportedStorageVersionError
from homeassistant.helpers.storage import Store

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

KEY_BYTES = 32
KEY_STORAGE_VERSION = 1


def key_storage_key(entry_id: str) -> str:
    """Storage key of a site's fingerprint key."""
    return f"{DOMAIN}.{entry_id}.fingerprint_key"


def key_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Open the store of a site's fingerprint key."""
    return Store(
        hass, KEY_STORAGE_VERSION, key_storage_key(entry_id), private=True, atomic_writes=True
    )


def new_key() -> bytes:
    """A fresh fingerprint key."""
    return secrets.token_bytes(KEY_BYTES)


def _decode(raw: object) -> bytes | None:
    if not isinstance(raw, dict) or not isinstance(hexed := raw.get("key"), str):
        return None
    try:
        key = bytes.fromhex(hexed)
    except ValueError:
        return None
    return key if len(key) == KEY_BYTES else None


async def async_load_key(store: Store[dict[str, Any]]) -> bytes:
    """The site's fingerprint key; a new one (written at once) when there is none usable."""
    try:
        key = _decode(await store.async_load())
    except UnsupportedStorageVersionError:
        raise
    except (HomeAssistantError, KeyError, TypeError, ValueError) as err:
        _LOGGER.debug("Could not read %s: %r", store.path, err)
        key = None
    if key is None:
        key = new_key()
        await store.async_save({"key": key.hex()})
    return key
