"""Base entities: every Concierge entity belongs to a site, a portal or a grant device.

The site's and its doors' entities follow every update of the site's snapshot; a grant's
entities only the updates that change their grant (its settings, state or codes, or its
window edge): a change to one grant writes that grant's entities and no other grant's.
A store site's entities belong to the store's device or to one of its gates' devices.
"""

from collections.abc import Callable

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import ConciergeCoordinator, HomeEntities
from .core.grants import Grant
from .core.stores import Gate
from .home_devices import grant_device_id, portal_device_id, remove_grant_devices
from .site import PortalConfig
from .site_runtime import ConciergeConfigEntry
from .site_types import signal_new_grant
from .store_gates import gate_device_id, signal_new_gates, signal_store_update, store_device_id
from .store_site import StoreEntities, StoreSite


class ConciergeEntity(CoordinatorEntity[ConciergeCoordinator]):
    """An entity of a Concierge site."""

    _attr_has_entity_name = True


class PortalEntity(ConciergeEntity):
    """An entity of one portal (a door)."""

    def __init__(self, coordinator: ConciergeCoordinator, portal: PortalConfig, key: str) -> None:
        """Attach to the portal's device."""
        super().__init__(coordinator)
        self.portal = portal
        self._attr_unique_id = f"{coordinator.site_id}_{portal.portal_id}_{key}"
        self._attr_translation_key = key
        self._attr_device_info = DeviceInfo(
            identifiers={portal_device_id(coordinator.site_id, portal.portal_id)},
            name=portal.name,
            manufacturer="Concierge",
            model="Portal",
            via_device_id=coordinator.site_device_id,
        )


class GrantEntity(Entity):
    """An entity of one grant, written when its grant changes (`async_listen_grant`)."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, coordinator: ConciergeCoordinator, grant: Grant, key: str) -> None:
        """Attach to the grant's device."""
        self.coordinator = coordinator
        self.grant_id = grant.id
        self._attr_unique_id = f"{coordinator.site_id}_{grant.id}_{key}"
        self._attr_translation_key = key
        self._attr_device_info = DeviceInfo(
            identifiers={grant_device_id(coordinator.site_id, grant.id)},
            name=grant.label,
            manufacturer="Concierge",
            model=f"Grant ({grant.kind.value})",
            via_device_id=coordinator.site_device_id,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the grant (only the grant: other grants' changes pass it by)."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.coordinator.async_listen_grant(self.grant_id, self.async_write_ha_state)
        )

    @property
    def available(self) -> bool:
        """A grant's entities are available while the grant exists."""
        coordinator = self.coordinator
        return coordinator.last_update_success and self.grant_id in coordinator.data.grants

    @property
    def grant(self) -> Grant:
        """The grant as it is now."""
        return self.coordinator.data.grants[self.grant_id]


@callback
def async_add_grant_entities(
    coordinator: ConciergeCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[ConciergeCoordinator, Grant], Entity],
) -> None:
    """Add an entity per grant now, and one for every grant created later.

    With the site's option `grant_entities` off, none: the grants' devices left from
    before leave the registries (their entities with them).
    """
    if not coordinator.grant_entities:
        remove_grant_devices(coordinator.hass, coordinator.site_id)
        return
    async_add_entities(factory(coordinator, g) for g in coordinator.data.grants.values())

    @callback
    def _add(grant_id: str) -> None:
        async_add_entities([factory(coordinator, coordinator.grant(grant_id))])

    coordinator.config_entry.async_on_unload(
        async_dispatcher_connect(coordinator.hass, signal_new_grant(coordinator.site_id), _add)
    )


# --- store sites ----------------------------------------------------------------------


class StoreEntity(Entity):
    """An entity of a store site, updated when its bridge says something (push)."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, store: StoreSite, key: str) -> None:
        """Attach to the store's device."""
        self.store = store
        self._attr_unique_id = f"{store.site_id}_{key}"
        self._attr_device_info = DeviceInfo(identifiers={store_device_id(store.site_id)})

    @property
    def available(self) -> bool:
        """Unavailable while the bridge is offline or the broker cannot be reached."""
        return self.store.available

    async def async_added_to_hass(self) -> None:
        """Follow the store's state."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, signal_store_update(self.store.site_id), self.async_write_ha_state
            )
        )


class GateEntity(StoreEntity):
    """An entity of one of a store's gates (a portal of the store)."""

    def __init__(self, store: StoreSite, gate: Gate, key: str) -> None:
        """Attach to the gate's device, below the store's."""
        super().__init__(store, f"gate_{gate.gate_id}_{key}")
        self.gate_id = gate.gate_id
        self._attr_device_info = DeviceInfo(
            identifiers={gate_device_id(store.site_id, gate.gate_id)},
            name=gate.name,
            manufacturer="Concierge",
            model="Store gate" if gate.role is None else f"Store gate ({gate.role})",
            via_device_id=store.site_device_id,
        )


@callback
def async_add_gate_entities(
    store: StoreSite,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: Callable[[StoreSite, Gate], Entity],
) -> None:
    """Add an entity per gate the bridge has named, and one for every gate it adds later."""
    async_add_entities(factory(store, gate) for gate in store.gates.values())

    @callback
    def _add(gates: list[Gate]) -> None:
        async_add_entities(factory(store, gate) for gate in gates)

    store.entry.async_on_unload(
        async_dispatcher_connect(store.hass, signal_new_gates(store.site_id), _add)
    )


@callback
def async_setup_site_entities(
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    *,
    home: HomeEntities | None = None,
    store: StoreEntities | None = None,
) -> None:
    """Add a platform's entities: the platform names what a home and a store add.

    The site picks what its kind adds (nothing, when the platform names none for it).
    """
    entry.runtime_data.add_entities(async_add_entities, home=home, store=store)
