"""A store site: a store bridge's gates and occupancy, heard through Home Assistant's MQTT.

The bridge publishes every access event (`<prefix>/<site>/events`, QoS 1, at least once)
and a retained status (`<prefix>/<site>/status`, replaced by the broker's will when the
bridge goes away). This shell subscribes through Home Assistant's own MQTT integration
(reached through `store_mqtt`, only when a store site loads, so homes never need it),
hands each message to the core (`core.stores`) and carries out what it decides:

- an invalid message, one for another site or a duplicate delivery is dropped and
  counted (logged at debug level, never with its content);
- every accepted event is fired on the bus and sent to the entities exactly as a home
  site's events are, and appended to the site's audit chain;
- the status's gates become devices (one per gate, added as they appear); the will, or
  a lost connection to the broker, makes every entity of the store unavailable;
- the status's shelf counts (a store with shelf sensors) go to `store_shelf.ShelfView`:
  the shelf entities appear with them, and a repair issue stands while picks wait for
  review;
- the status's checkout counts (a store with payments) go to
  `store_checkout.CheckoutView`: the sales and payments entities appear with them, and a
  repair issue stands while accounts owe a failed payment.

To the shell (setup, unload, diagnostics, logbook, platforms) a store is a
`site_runtime.ConciergeSite`, as a home site is.
"""

import contextlib
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryError, ConfigEntryNotReady, HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from .const import (
    CONF_BRIDGE_SITE,
    CONF_STORE_NAME,
    CONF_TOPIC_PREFIX,
    DOMAIN,
    EVENT_ACCESS,
    STORE_PASSAGE_TIMEOUT,
    STORE_SEEN_IDS,
)
from .core.audit import ChainVerification
from .core.errors import ConciergeError
from .core.events import AccessEvent, to_wire
from .core.stores import (
    Drop,
    Gate,
    Occupancy,
    Passage,
    SeenIds,
    StoreStatus,
    events_topic,
    occupancy_after,
    occupancy_from_status,
    parse_event,
    parse_status,
    passage_after,
    status_topic,
)
from .site_types import signal_event
from .store_audit import StoreAudit
from .store_checkout import CheckoutView
from .store_gates import (
    gate_ids,
    remove_stale_gate_devices,
    rename_gate_devices,
    signal_new_gates,
    signal_store_update,
)
from .store_mqtt import async_mqtt_ready, message_payload
from .store_shelf import ShelfView

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

_LOGGER = logging.getLogger(__name__)

STORE_PLATFORMS = (Platform.BINARY_SENSOR, Platform.EVENT, Platform.SENSOR)
"""A store has gates (event, visit in progress), an occupancy sensor, and maybe shelves
(their counts' sensors and an event entity for their alerts) and payments (sales and
payments sensors, an event entity for what someone may have to act on)."""

type StoreEntities = Callable[[StoreSite, AddConfigEntryEntitiesCallback], None]
"""Adds a platform's entities of a store site."""


class StoreSite:
    """One store: its bridge's status, gates, passages and occupancy."""

    platforms = STORE_PLATFORMS
    home = None
    """A store is no home: it has no grants, visits or doors of its own."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Read the store's settings; `async_start` subscribes."""
        self.hass = hass
        self.entry = entry
        self.site_id = entry.entry_id
        """The config entry's id, as for home sites (signals and unique ids use it)."""
        self.name = str(entry.data[CONF_STORE_NAME])
        self.bridge_site = str(entry.data[CONF_BRIDGE_SITE])
        self.prefix = str(entry.data[CONF_TOPIC_PREFIX])
        self.status_topic = status_topic(self.prefix, self.bridge_site)
        self.events_topic = events_topic(self.prefix, self.bridge_site)
        self.status: StoreStatus | None = None
        self.mqtt_connected = False
        self.gates: dict[str, Gate] = {}
        self.occupancy = Occupancy()
        self.passages: dict[str, Passage] = {}
        self.shelves = ShelfView(hass, entry.entry_id, self.name)
        self.checkouts = CheckoutView(hass, entry.entry_id, self.name)
        self.seen = SeenIds(STORE_SEEN_IDS)
        self.counters: Counter[str] = Counter()
        self.last_event_at: datetime | None = None
        self.chain = StoreAudit(hass, entry.entry_id)
        self.audit = self.chain.log
        self._unsubs: list[CALLBACK_TYPE] = []
        self._timers: dict[str, CALLBACK_TYPE] = {}
        self._was_available: bool | None = None
        self.site_device_id = ""
        """The store device's registry id (gates' devices sit below it)."""

    # --- lifecycle -------------------------------------------------------------------

    @property
    def available(self) -> bool:
        """Whether the store's entities show live state: connected, and the bridge online."""
        return self.mqtt_connected and self.status is not None and self.status.online

    async def async_start(self) -> None:
        """Load the audit chain's head and subscribe to the bridge's topics."""
        if (mqtt := await async_mqtt_ready(self.hass)) is None:
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="mqtt_not_set_up",
                translation_placeholders={"site": self.name},
            )
        try:
            await self.chain.async_load()
        except ConciergeError as err:
            raise ConfigEntryError(
                translation_domain=DOMAIN,
                translation_key=err.translation_key,
                translation_placeholders=dict(err.placeholders),
            ) from err
        self.mqtt_connected = bool(mqtt.is_connected(self.hass))
        self._unsubs.append(
            mqtt.async_subscribe_connection_status(self.hass, self._async_connection_changed)
        )
        self._unsubs.append(
            await mqtt.async_subscribe(
                self.hass, self.status_topic, self._async_status, qos=1, encoding=None
            )
        )
        self._unsubs.append(
            await mqtt.async_subscribe(
                self.hass, self.events_topic, self._async_event, qos=1, encoding=None
            )
        )

    async def async_wind_down(self) -> None:
        """Nothing to finish before the entities go: the bridge's work is its own."""

    async def async_close(self) -> None:
        """Unsubscribe, cancel timers, finish writing the audit chain (on unload)."""
        for unsub in (*self._unsubs, *self._timers.values()):
            # MQTT may have been unloaded first: its subscriptions are gone already.
            with contextlib.suppress(HomeAssistantError):
                unsub()
        self._unsubs.clear()
        self._timers.clear()
        self.shelves.close()
        self.checkouts.close()
        await self.chain.async_close()

    # --- messages --------------------------------------------------------------------

    def _drop(self, reason: Drop, topic: str, size: int) -> None:
        self.counters[reason.value] += 1
        # Never the payload: it may hold what the bridge should not have sent.
        _LOGGER.debug("Dropped a message on %s (%s, %d bytes)", topic, reason.value, size)

    @callback
    def _async_status(self, message: ReceiveMessage) -> None:
        payload = message_payload(message)
        status = parse_status(payload, self.bridge_site)
        if isinstance(status, Drop):
            self._drop(status, message.topic, len(payload))
            return
        self.counters["status"] += 1
        self.status = status
        self.occupancy = occupancy_from_status(self.occupancy, status)
        if status.gates is not None:
            self._set_gates(status.gates, remove_missing=status.online)
        if status.shelf is not None:
            self.shelves.update(status.shelf)
        if status.checkout is not None:
            self.checkouts.update(status.checkout)
        self._publish()

    @callback
    def _async_event(self, message: ReceiveMessage) -> None:
        payload = message_payload(message)
        event = parse_event(payload, self.bridge_site)
        if isinstance(event, Drop):
            self._drop(event, message.topic, len(payload))
            return
        if not self.seen.add(event.id):
            self._drop(Drop.DUPLICATE, message.topic, len(payload))
            return
        self.counters["accepted"] += 1
        now = dt_util.utcnow()
        self.last_event_at = now
        if event.portal is not None:
            self._pass(event.portal, event, now)
        self.occupancy = occupancy_after(self.occupancy, event)
        self.hass.bus.async_fire(EVENT_ACCESS, to_wire(event))
        async_dispatcher_send(self.hass, signal_event(self.site_id), event)
        self._publish()
        self.chain.record(event)

    @callback
    def _async_connection_changed(self, connected: bool) -> None:  # noqa: FBT001 - MQTT's API
        self.mqtt_connected = connected
        self._publish()

    # --- state -----------------------------------------------------------------------

    @callback
    def _publish(self) -> None:
        """Tell the entities, and log when the store becomes unavailable or comes back."""
        available = self.available
        if self._was_available is not None and available != self._was_available:
            if available:
                _LOGGER.info("Store %s is available again", self.name)
            else:
                _LOGGER.info(
                    "Store %s is unavailable (%s)",
                    self.name,
                    "bridge offline" if self.mqtt_connected else "MQTT disconnected",
                )
        self._was_available = available
        async_dispatcher_send(self.hass, signal_store_update(self.site_id))

    def _set_gates(self, gates: tuple[Gate, ...], *, remove_missing: bool) -> None:
        """Follow the bridge's gates: new ones get a device, renamed ones are renamed."""
        registry = dr.async_get(self.hass)
        listed = {gate.gate_id: gate for gate in gates}
        rename_gate_devices(registry, self.site_id, self.gates, listed)
        if remove_missing:
            for gate_id in set(self.gates) - set(listed):
                self._forget_gate(gate_id)
            remove_stale_gate_devices(registry, self.site_id, set(listed))
        new = [gate for gate_id, gate in listed.items() if gate_id not in self.gates]
        self.gates |= listed
        if new:
            async_dispatcher_send(self.hass, signal_new_gates(self.site_id), new)

    def _forget_gate(self, gate_id: str) -> None:
        """A gate the bridge no longer has: forget its passage."""
        del self.gates[gate_id]
        self.passages.pop(gate_id, None)
        if (timer := self._timers.pop(gate_id, None)) is not None:
            timer()

    def _pass(self, gate_id: str, event: AccessEvent, now: datetime) -> None:
        """Follow a visit's passage through a gate (a timer ends it at the latest)."""
        before = self.passages.get(gate_id)
        after = passage_after(before, event, now, timedelta(seconds=STORE_PASSAGE_TIMEOUT))
        if after is before:
            return
        if (timer := self._timers.pop(gate_id, None)) is not None:
            timer()
        if after is None:
            del self.passages[gate_id]
            return
        self.passages[gate_id] = after
        self._timers[gate_id] = async_call_later(
            self.hass, after.until - now, partial(self._async_passage_timeout, gate_id, after)
        )

    @callback
    def _async_passage_timeout(self, gate_id: str, passage: Passage, _now: datetime) -> None:
        """The timer set for this passage's `until` (a newer passage cancels it)."""
        self._timers.pop(gate_id, None)
        if self.passages.get(gate_id) is passage:
            del self.passages[gate_id]
            self._publish()

    # --- audit chain -----------------------------------------------------------------

    async def async_verify_audit(self) -> ChainVerification:
        """Check the store's audit chain against the head kept in storage."""
        return await self.chain.async_verify()

    # --- as the shell sees a site (`site_runtime.ConciergeSite`) ----------------------

    @property
    def site_name(self) -> str:
        """The store's name."""
        return self.name

    def has_portal(self, name: str) -> bool:
        """Whether `name` is the id or the name of one of the bridge's gates."""
        return any(name in {g.gate_id, g.name} for g in self.gates.values())

    @callback
    def add_entities(
        self,
        add: AddConfigEntryEntitiesCallback,
        *,
        home: object = None,  # noqa: ARG002 - what a platform adds for a home
        store: StoreEntities | None = None,
    ) -> None:
        """Add what a platform adds for a store."""
        if store is not None:
            store(self, add)

    async def async_remove_device(self, device: dr.DeviceEntry) -> bool:
        """A gate's device may go once the bridge no longer has the gate; the store's stays."""
        gates = gate_ids(device, self.site_id)
        return bool(gates) and not gates & self.gates.keys()

    def logbook_names(self, event: Mapping[str, Any]) -> tuple[str, str | None] | None:
        """The store and gate of one of the bridge's events (no grant); else None."""
        if event.get("site") != self.bridge_site:
            return None
        gate = self.gates.get(str(event.get("portal")))
        title = self.entry.title
        return (f"{title} {gate.name}" if gate else title), None

    async def async_diagnostics(self) -> dict[str, Any]:
        """The store's diagnostics, before redaction: its entry, bridge and audit chain."""
        verification = await self.async_verify_audit()
        return {
            "entry": {"title": self.entry.title, "data": dict(self.entry.data)},
            "store": self.diagnostics(),
            "audit": verification.to_dict(),
        }

    def diagnostics(self) -> dict[str, Any]:
        """The store's state for a bug report: no message content, nothing personal."""
        status = self.status
        return {
            "bridge_site": self.bridge_site,
            "topic_prefix": self.prefix,
            "available": self.available,
            "mqtt_connected": self.mqtt_connected,
            "bridge_online": None if status is None else status.online,
            "gates": [
                {"id": g.gate_id, "name": g.name, "role": g.role} for g in self.gates.values()
            ],
            "occupancy": self.occupancy.occupancy,
            "capacity": self.occupancy.capacity,
            "visits_at_gates": len(self.passages),
            "shelf": self.shelves.diagnostics(),
            "checkout": self.checkouts.diagnostics(),
            "messages": dict(sorted(self.counters.items())),
            "remembered_event_ids": len(self.seen),
            "last_event_at": None if self.last_event_at is None else self.last_event_at.isoformat(),
        }
