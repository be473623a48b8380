"""What the owner sees of a store in Home Assistant, for the store tests: its entities, their
states, its repairs, what its event entities fire; and the schema's store examples."""

import json
from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from tests.waiting import until

from .test_store_site import ENTRY_EVENT, EXAMPLES, EXIT_EVENT


def entities(hass: HomeAssistant, entry: MockConfigEntry, mine: Callable[[str], bool]) -> list[str]:
    """The entity ids of `entry`'s entities whose unique ids are `mine`, sorted."""
    registry = er.async_get(hass)
    return sorted(
        e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if mine(e.unique_id)
    )


def issue(hass: HomeAssistant, issue_id: str) -> ir.IssueEntry | None:
    """The integration's repair issue `issue_id`, if it stands."""
    return ir.async_get(hass).async_get_issue(DOMAIN, issue_id)


def shown_state(hass: HomeAssistant, entity_id: str) -> str | None:
    """The state `entity_id` shows, None while there is no such entity."""
    found = hass.states.get(entity_id)
    return None if found is None else found.state


def assert_warning(found: ir.IssueEntry | None, key: str, count: str) -> None:
    """`found` stands: a warning `key` for the Corner store, counting `count`."""
    assert found is not None
    assert found.translation_key == key
    assert found.translation_placeholders == {"site": "Corner store", "count": count}
    assert found.severity is ir.IssueSeverity.WARNING


async def unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload `entry` and wait until everything it started has settled."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def counts_shown(
    hass: HomeAssistant, sensors: Mapping[str, str], counts: Mapping[str, Any]
) -> None:
    """Wait until each of `sensors` (by count key) shows its count (`unknown` for None)."""
    for key, entity_id in sensors.items():
        want = "unknown" if counts.get(key) is None else str(counts[key])
        await until(lambda e=entity_id, s=want: shown_state(hass, e) == s)


def track_fired(hass: HomeAssistant, alerts: str) -> list[tuple[str, str]]:
    """What `alerts` and the gates' event entities fire from now on: (entity, event type)."""
    fired: list[tuple[str, str]] = []

    @callback
    def _changed(change: Event[EventStateChangedData]) -> None:
        new = change.data["new_state"]
        if new is not None and new.state not in {STATE_UNKNOWN, STATE_UNAVAILABLE}:
            fired.append((change.data["entity_id"], new.attributes["event_type"]))

    async_track_state_change_event(hass, [alerts, ENTRY_EVENT, EXIT_EVENT], _changed)
    return fired


def valid_examples(pattern: str) -> list[dict[str, Any]]:
    """The schema's valid examples whose file names match `pattern`, in name order."""
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((EXAMPLES / "valid").glob(pattern))
    ]
