"""A store's repair issues that follow a count its bridge reports.

One issue per translation key and store (``<key>_<entry id>``): raised while the count is
above 0 (its text says how many and names the store), updated when the count changes,
deleted at 0 and when the store goes (unload). Only a changed count touches the issue
registry: the bridge's status comes often.
"""

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN


def count_issue_id(key: str, entry_id: str) -> str:
    """The id of a store's repair issue `key`."""
    return f"{key}_{entry_id}"


class CountIssues:
    """The repair issues `keys` of one store, each following its count."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, store_name: str, keys: tuple[str, ...]
    ) -> None:
        """No issue until a count is above 0."""
        self._hass = hass
        self._entry_id = entry_id
        self._store_name = store_name
        self._keys = keys
        self._counts: dict[str, int] = {}
        """The count each issue last said (absent: no issue)."""

    @callback
    def follow(self, key: str, count: int) -> None:
        """Raise, update or clear the issue `key` (only when its count changed)."""
        if count == self._counts.get(key, 0):
            return
        issue_id = count_issue_id(key, self._entry_id)
        if not count:
            del self._counts[key]
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
            return
        self._counts[key] = count
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=key,
            translation_placeholders={"site": self._store_name, "count": str(count)},
        )

    @callback
    def close(self) -> None:
        """The store goes (unload): its issues go with it."""
        for key in self._keys:
            ir.async_delete_issue(self._hass, DOMAIN, count_issue_id(key, self._entry_id))
        self._counts.clear()
