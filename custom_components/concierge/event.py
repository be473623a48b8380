"""Event entities: every access event at a portal (a home's door or a store's gate)."""

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ConciergeCoordinator
from .core.events import AccessEvent, AccessEventType
from .core.stores import STORE_EVENT_TYPES, Gate
from .entity import GateEntity, PortalEntity, async_add_gate_entities, async_setup_site_entities
from .site import PortalConfig
from .site_runtime import ConciergeConfigEntry
from .site_types import signal_event
from .store_site import StoreSite

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an access-event entity per portal (per gate, as a store's gates appear)."""
    async_setup_site_entities(entry, async_add_entities, home=_home, store=_store)


def _home(coordinator: ConciergeCoordinator, add: AddConfigEntryEntitiesCallback) -> None:
    add(PortalAccessEvent(coordinator, p) for p in coordinator.site.portals)


def _store(store: StoreSite, add: AddConfigEntryEntitiesCallback) -> None:
    async_add_gate_entities(store, add, GateAccessEvent)


def _attributes(event: AccessEvent) -> dict[str, Any]:
    """What an event entity shows of an access event (no personal data)."""
    return {
        "event_id": event.id,
        "outcome": event.outcome.value,
        "reason": event.reason,
        "source": event.source.value if event.source else None,
        "visit_id": event.visit,
    }


class PortalAccessEvent(PortalEntity, EventEntity):
    """Fires with each access event at its portal (type, outcome, reason, who by label)."""

    _attr_event_types = [kind.value for kind in AccessEventType]

    def __init__(self, coordinator: ConciergeCoordinator, portal: PortalConfig) -> None:
        """Create the event entity of a portal."""
        super().__init__(coordinator, portal, "access")

    async def async_added_to_hass(self) -> None:
        """Listen to the site's access events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_event(self.coordinator.site_id), self._on_event
            )
        )

    @callback
    def _on_event(self, event: AccessEvent) -> None:
        if event.portal != self.portal.portal_id:
            return
        grant = self.coordinator.data.grants.get(event.grant) if event.grant else None
        self._trigger_event(
            event.type.value,
            {
                **_attributes(event),
                "grant_id": event.grant,
                "label": grant.label if grant else None,
            },
        )
        self.async_write_ha_state()


class GateAccessEvent(GateEntity, EventEntity):
    """Fires with each of the bridge's events at its gate (anonymous: no person, no card)."""

    _attr_event_types = [kind.value for kind in STORE_EVENT_TYPES]
    _attr_translation_key = "gate_access"

    def __init__(self, store: StoreSite, gate: Gate) -> None:
        """Create the event entity of a gate."""
        super().__init__(store, gate, "access")

    async def async_added_to_hass(self) -> None:
        """Listen to the store's access events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, signal_event(self.store.site_id), self._on_event)
        )

    @callback
    def _on_event(self, event: AccessEvent) -> None:
        if event.portal != self.gate_id or event.type not in STORE_EVENT_TYPES:
            return
        self._trigger_event(event.type.value, _attributes(event))
        self.async_write_ha_state()
