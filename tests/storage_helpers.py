"""Real storage files in tests: the test harness keeps every `Store` in memory otherwise.

`hass_storage` (requested by the `hass` fixture) patches how `Store` reads, writes and
removes; the originals are taken here, when the module is imported (before any test
runs), and put back for the duration of `real_storage()`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import Mock, patch

from homeassistant.core import HomeAssistant
from homeassistant.helpers import storage

from custom_components.concierge.site_storage import copy_key, storage_key

_ORIGINALS = {
    name: getattr(storage.Store, name)
    for name in ("_async_load", "_async_write_data", "async_remove")
}
assert not any(isinstance(f, Mock) for f in _ORIGINALS.values())


@contextmanager
def real_storage() -> Iterator[None]:
    """Let every `Store` read and write its file under the config folder's `.storage`."""
    with patch.multiple(storage.Store, **_ORIGINALS):
        yield


def site_file(hass: HomeAssistant, entry_id: str) -> Path:
    """The file of a site's stored data."""
    return Path(hass.config.path(".storage", storage_key(entry_id)))


def copy_file(hass: HomeAssistant, entry_id: str) -> Path:
    """The file of a site's last good copy."""
    return Path(hass.config.path(".storage", copy_key(entry_id)))


def set_aside(hass: HomeAssistant, entry_id: str, of: Path | None = None) -> list[Path]:
    """The damaged versions of a site's file (or of `of`) kept aside, oldest first."""
    file = of or site_file(hass, entry_id)
    return sorted(file.parent.glob(f"{file.name}.corrupt.*"))
