"""Event entities: every access event at a portal (a home's door or a store's gate).

Each entity's state change is the step's one logbook line. A store with shelves has one
more, store-wide: its shelf alerts (`core.stores.SHELF_ALERT_TYPES`: a pick sent to review
or resolved, an unattributed pick, a lane anomaly, a session left unbound). The cart's
other events (every item picked or returned, a track bound, a pick held for evidence)
fire no entity: a busy store has many a minute and they ask nothing of anyone; they are
on the bus and in the store's audit chain. A store with payments has one more, store-wide:
what someone may have to act on or answer for (`core.stores.CHECKOUT_ALERT_TYPES`: a
payment failed, an account settled, a refund, a receipt not sent, an account erased). A
checkout started, a payment captured, a hold released or a receipt sent fire none: one of
each per shopper, summed by the sales sensors. Its attributes say what happened and why,
never a visit id or an amount. A visit's pictures fire the
entity once, at the first; when the visit ends, one logbook line sums them up
(`logbook.EVENT_VISIT_EVIDENCE`). A door's entity also names what the door uses: its lock,
door contact and cameras.
"""

from collections import deque
from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ConciergeCoordinator
from .core.events import AccessEvent, AccessEventType, EvidenceKind
from .core.stores import (
    CHECKOUT_ALERT_TYPES,
    CHECKOUT_EVENT_TYPES,
    GATE_EVENT_TYPES,
    SHELF_ALERT_TYPES,
    SHELF_EVENT_TYPES,
    Gate,
)
from .entity import (
    GateEntity,
    PortalEntity,
    StoreEntity,
    async_add_gate_entities,
    async_setup_site_entities,
)
from .logbook import EVENT_VISIT_EVIDENCE
from .site import PortalConfig
from .site_runtime import ConciergeConfigEntry
from .site_types import signal_event
from .store_checkout import async_add_checkout_entities
from .store_shelf import async_add_shelf_entities
from .store_site import StoreSite
from .texts import async_text

PARALLEL_UPDATES = 0
_STORE_WIDE = frozenset({*SHELF_EVENT_TYPES, *CHECKOUT_EVENT_TYPES})
_VISIT_ENDS = frozenset({AccessEventType.VISIT_COMPLETED, AccessEventType.VISIT_ABORTED})
_ENDED_KEPT = 64
"""How many ended visits an entity remembers (evidence may arrive after a visit ended)."""


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an access-event entity per portal (per gate, as a store's gates appear).

    A store's shelf alerts get one entity, once its bridge says it has shelves; its payment
    alerts one, once its bridge says it takes payments.
    """
    async_setup_site_entities(entry, async_add_entities, home=_home, store=_store)


def _home(coordinator: ConciergeCoordinator, add: AddConfigEntryEntitiesCallback) -> None:
    add(PortalAccessEvent(coordinator, p) for p in coordinator.site.portals)


def _store(store: StoreSite, add: AddConfigEntryEntitiesCallback) -> None:
    async_add_gate_entities(store, add, GateAccessEvent)
    async_add_shelf_entities(
        store.shelves, add, lambda: [ShelfAlertEvent(store)], store.entry.async_on_unload
    )
    async_add_checkout_entities(
        store.checkouts, add, lambda: [PaymentAlertEvent(store)], store.entry.async_on_unload
    )


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
    """Fires with each access event at its portal (type, outcome, reason, who by label).

    Evidence fires it once per visit, at the first picture; the visit's end adds one
    logbook line with the number of pictures.
    """

    _attr_event_types = [kind.value for kind in AccessEventType if kind not in _STORE_WIDE]

    def __init__(self, coordinator: ConciergeCoordinator, portal: PortalConfig) -> None:
        """Create the event entity of a portal."""
        super().__init__(coordinator, portal, "access")
        self._pictures: dict[str, int] = {}
        """Pictures of each visit in progress here (from its first picture on)."""
        self._ended: deque[str] = deque(maxlen=_ENDED_KEPT)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """What the door uses: its lock, its door contact and its cameras."""
        portal = self.coordinator.site.portal(self.portal.portal_id) or self.portal
        return {
            "lock": portal.lock,
            "door_contact": portal.door_sensor,
            "cameras": list(portal.cameras),
        }

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
        if event.type is AccessEventType.EVIDENCE_CAPTURED and not self._first_picture(event):
            return
        if event.type in _VISIT_ENDS and event.visit is not None:
            self._ended.append(event.visit)
            if pictures := self._pictures.pop(event.visit, 0):
                self.hass.async_create_task(
                    self._async_log_pictures(event, pictures), eager_start=False
                )
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

    def _first_picture(self, event: AccessEvent) -> bool:
        """Count a visit's pictures; True only for its first (which fires the entity)."""
        visit = event.visit
        if visit is None or visit in self._ended:
            return False
        first = visit not in self._pictures
        snapshots = sum(1 for e in event.evidence if e.kind is EvidenceKind.SNAPSHOT)
        self._pictures[visit] = self._pictures.get(visit, 0) + snapshots
        return first

    async def _async_log_pictures(self, event: AccessEvent, pictures: int) -> None:
        """The visit's evidence in one logbook line (a label, a door, a number)."""
        message = await async_text(self.hass, "logbook_pictures", {"count": str(pictures)})
        self.hass.bus.async_fire(
            EVENT_VISIT_EVIDENCE,
            {
                "site": event.site,
                "portal": event.portal,
                "grant": event.grant,
                "visit": event.visit,
                "pictures": pictures,
                "entity_id": self.entity_id,
                "message": message,
            },
        )


class StoreEventEntity(StoreEntity, EventEntity):
    """An event entity of a store that hears each of its bridge's access events."""

    async def async_added_to_hass(self) -> None:
        """Listen to the store's access events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(self.hass, signal_event(self.store.site_id), self._on_event)
        )

    @callback
    def _on_event(self, event: AccessEvent) -> None:
        """One access event of the store: fire if it is one of this entity's."""
        raise NotImplementedError


class GateAccessEvent(GateEntity, StoreEventEntity):
    """Fires with each of the bridge's events at its gate (anonymous: no person, no card)."""

    _attr_event_types = [kind.value for kind in GATE_EVENT_TYPES]
    _attr_translation_key = "gate_access"

    def __init__(self, store: StoreSite, gate: Gate) -> None:
        """Create the event entity of a gate."""
        super().__init__(store, gate, "access")

    @callback
    def _on_event(self, event: AccessEvent) -> None:
        if event.portal != self.gate_id or event.type not in GATE_EVENT_TYPES:
            return
        self._trigger_event(event.type.value, _attributes(event))
        self.async_write_ha_state()


SHELF_DATA = ("lane", "sku", "quantity", "candidates", "review")
"""What a shelf alert shows of its event's data: ids, SKUs and whole numbers."""


class ShelfAlertEvent(StoreEventEntity):
    """Fires when the store's shelves need someone: review, shrink, anomalies, unbound."""

    _attr_event_types = [kind.value for kind in SHELF_ALERT_TYPES]
    _attr_translation_key = "shelf_alerts"

    def __init__(self, store: StoreSite) -> None:
        """Create the shelf-alert entity of a store."""
        super().__init__(store, "shelf_alerts")

    @callback
    def _on_event(self, event: AccessEvent) -> None:
        if event.type not in SHELF_ALERT_TYPES:
            return
        shelf = {key: event.data[key] for key in SHELF_DATA if key in event.data}
        self._trigger_event(event.type.value, _attributes(event) | shelf)
        self.async_write_ha_state()


class PaymentAlertEvent(StoreEventEntity):
    """Fires when the store's payments need someone: a payment failed, a refund, a receipt.

    Aggregated only: its attributes are what happened (`event_type`, `outcome`, `reason`),
    never which visit nor how much (one purchase's data, which the recorder would keep): the
    bridge's API and the store's audit chain have those. Never an account, payment
    reference, card or address: the event carries none.
    """

    _attr_event_types = [kind.value for kind in CHECKOUT_ALERT_TYPES]
    _attr_translation_key = "payment_alerts"

    def __init__(self, store: StoreSite) -> None:
        """Create the payment-alert entity of a store."""
        super().__init__(store, "payment_alerts")

    @callback
    def _on_event(self, event: AccessEvent) -> None:
        if event.type not in CHECKOUT_ALERT_TYPES:
            return
        self._trigger_event(
            event.type.value, {"outcome": event.outcome.value, "reason": event.reason}
        )
        self.async_write_ha_state()
