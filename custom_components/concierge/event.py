"""Event entities: every access event at a portal."""

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ConciergeConfigEntry, ConciergeCoordinator, signal_event
from .core.events import AccessEvent, AccessEventType
from .entity import PortalEntity
from .site import PortalConfig

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an access-event entity per portal."""
    coordinator = entry.runtime_data
    async_add_entities(PortalAccessEvent(coordinator, p) for p in coordinator.site.portals)


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
                "event_id": event.id,
                "outcome": event.outcome.value,
                "reason": event.reason,
                "source": event.source.value if event.source else None,
                "visit_id": event.visit,
                "grant_id": event.grant,
                "label": grant.label if grant else None,
            },
        )
        self.async_write_ha_state()
