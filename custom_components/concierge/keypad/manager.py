"""The keypad manager: a grant's PIN is on its locks exactly while the grant is active.

One manager per site. It finds which doors have a keypad lock it can drive (by the lock
entity's integration), and for each such lock brings the lock's codes to what the
grants want, with the rules of `core.slots`: only inside the door's managed range, only
where something differs, never a foreign code, no retry loop for a refused code.

What cannot be confirmed is never assumed: a write with no answer leaves its slot
`unsettled` (it may hold the code), settled by writing or clearing it again as soon as
the lock answers; a clear counts only when the lock confirms it. A door whose codes are
not where they should be is retried by one chain of growing delays (cancelled on
unload), and the owner sees it (the grant's and the door's sensors, a repair, one
notification). The lock's own reports (a keypad unlock, wrong codes, a code added or
deleted at the lock, a wipe) are heard without polling.

Sending one command and recording its outcome is `commands.py`'s job; what a keypad
unlock or a wrong code means, `reports.py`'s; telling the owner, `notices.py`'s.
"""

import asyncio
import logging
from collections.abc import Callable

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_call_later

from ..core.fingerprints import lock_key
from ..core.grants import GrantState
from ..core.slots import (
    AttackWatch,
    CodeStatus,
    DoorCodes,
    SlotReport,
    SlotStatus,
    WantedCode,
    code_statuses,
    door_codes,
    fingerprint,
    not_removed,
    observe,
    observe_report,
    plan_lock,
    retry_delay,
    wiped,
)
from ..hosts import KeypadHost
from ..site_storage import LockCodes
from .adapter import KeypadAdapter, KeypadEvent, KeypadEventKind, WriteResult
from .commands import CodeCommands
from .door import DoorState
from .notices import KeypadNotices
from .reports import async_on_use
from .zha import ZhaKeypad
from .zwave import ZWaveKeypad

__all__ = ["CodeStatus", "DoorCodes", "KeypadManager", "adapter_for"]

_LOGGER = logging.getLogger(__name__)
DRAIN_TIMEOUT = 15.0
"""Seconds an unload waits for a code write in flight to be confirmed."""


def adapter_for(hass: HomeAssistant, lock_entity_id: str) -> KeypadAdapter | None:
    """The keypad adapter for a lock entity, by the integration that provides it."""
    entry = er.async_get(hass).async_get(lock_entity_id)
    if entry is None:
        return None
    if entry.platform == "zwave_js":
        return ZWaveKeypad.for_entity(hass, entry)
    if entry.platform == "zha":
        return ZhaKeypad.for_entity(hass, entry)
    return None


class KeypadManager:
    """Keeps every keypad lock of a site in step with its grants."""

    def __init__(self, coordinator: KeypadHost) -> None:
        """Attach to a site's coordinator (started by `async_start`)."""
        self.coordinator = coordinator
        self.hass = coordinator.hass
        self.doors: dict[str, DoorState] = {}
        self.status: dict[str, dict[str, str]] = {}
        """Grant → portal → `CodeStatus`."""
        self.door_status: dict[str, DoorCodes] = {}
        """Portal → how its lock's codes stand."""
        self._unsubs: list[CALLBACK_TYPE] = []
        self._stopped = False
        self.notices = KeypadNotices(self.hass, coordinator)
        self.commands = CodeCommands(coordinator, self.notices)

    @property
    def _codes(self) -> dict[str, LockCodes]:
        return self.coordinator.site_data.keypad

    def _codes_of(self, door: DoorState) -> LockCodes:
        return self._codes.get(door.adapter.lock_entity_id, LockCodes())

    def _salt(self, door: DoorState) -> str:
        """The lock's fingerprint key (secret: from the site's key, never stored)."""
        site = self.coordinator
        return lock_key(site.site_data.code_key, site.site_id, door.adapter.lock_entity_id)

    @callback
    def async_start(self) -> None:
        """Find the keypad locks, listen to them, and bring them in step."""
        for portal in self.coordinator.site.portals:
            adapter = adapter_for(self.hass, portal.lock)
            if adapter is None:
                continue
            door = DoorState(
                adapter,
                portal,
                watch=AttackWatch(threshold=self.coordinator.site.attack_threshold),
            )
            self.doors[portal.portal_id] = door
            self.door_status[portal.portal_id] = DoorCodes.IN_SYNC
            self._unsubs.append(adapter.subscribe(self._listener(door)))
        if self.doors:
            self._unsubs.append(self.coordinator.async_add_listener(self.async_schedule))
            self.async_schedule()

    @callback
    def async_stop(self) -> None:
        """Stop listening and cancel retries: no frame is sent after this."""
        self._stopped = True
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        for door in self.doors.values():
            door.dirty = False
            self._cancel_retry(door)

    async def async_drain(self) -> None:
        """Let writes in flight finish (on unload), so no confirmation is lost."""
        for door in self.doors.values():
            door.dirty = False
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT):
                for door in self.doors.values():
                    async with door.lock:
                        pass
        except TimeoutError:
            _LOGGER.warning("A keypad lock was still busy when Concierge unloaded")

    @property
    def idle(self) -> bool:
        """No pass running or queued and no retry waiting: nothing is sent unprompted."""
        return all(
            not door.lock.locked() and not door.dirty and door.retry is None
            for door in self.doors.values()
        )

    @callback
    def async_schedule(self) -> None:
        """Reconcile every keypad lock soon (cheap when nothing differs)."""
        for door in self.doors.values():
            self._schedule(door)

    @callback
    def _schedule(self, door: DoorState) -> None:
        if self._stopped or (door.unreachable and door.retry is not None):
            return  # stopped, or waiting out a back-off: the retry will reconcile
        door.dirty = True
        if not door.lock.locked():
            self.coordinator.config_entry.async_create_background_task(
                self.hass, self._async_run(door), f"concierge keypad {door.portal.name}"
            )

    async def _async_run(self, door: DoorState) -> None:
        async with door.lock:
            while door.dirty and not self._stopped:
                door.dirty = False
                await self._async_reconcile(door)

    # --- reconciling -------------------------------------------------------------------

    def _wanted(self, door: DoorState) -> list[WantedCode]:
        data = self.coordinator.data
        return [
            WantedCode(grant.id, grant.credentials.pin)
            for grant in data.grants.values()
            if grant.credentials.pin
            and door.portal.portal_id in grant.portals
            and data.states.get(grant.id) is GrantState.ACTIVE
        ]

    async def _async_learn(self, door: DoorState, codes: LockCodes) -> bool:
        """Read, once, which managed slots the lock already uses (from its cache)."""
        if codes.known:
            return True
        slots = range(door.portal.slots.first, door.portal.slots.last + 1)
        try:
            occupied = await door.adapter.async_occupied_slots(slots)
        except Exception as err:  # noqa: BLE001 - any failure of the call: not known yet
            _LOGGER.info(
                "Lock %s: its slots could not be read (%s)", door.portal.name, type(err).__name__
            )
            return False
        _LOGGER.debug("Lock %s: slots in use %s", door.adapter.lock_entity_id, occupied)
        if occupied is None:
            return False
        for slot, in_use in occupied.items():
            codes.known = observe(codes.known, slot, occupied=in_use)
        return True

    async def _async_reconcile(self, door: DoorState) -> None:
        lock_id = door.adapter.lock_entity_id
        codes = self._codes.setdefault(lock_id, LockCodes())
        if not await self._async_learn(door, codes):
            door.unreachable = True
            self._retry_later(door)
            return
        salt = self._salt(door)
        wanted = self._wanted(door)
        pins = {w.grant: w.pin for w in wanted}
        codes.rejected = {
            g: fp
            for g, fp in codes.rejected.items()
            if g in pins and fingerprint(pins[g], salt) == fp
        }
        plan = plan_lock(
            managed=door.portal.slots,
            known=codes.known,
            assignments=codes.assignments,
            wanted=wanted,
            rejected=frozenset(codes.rejected),
            hold=frozenset(door.hold),
            salt=salt,
        )
        self.notices.foreign(door, plan.foreign_slots)
        codes.assignments = dict(plan.assignments)
        unreachable = False
        for command in plan.commands:
            result = await self.commands.async_send(door, codes, command, salt)
            if result is WriteResult.UNREACHABLE:
                unreachable = True
                break
        door.unreachable = unreachable
        wanted_fps = {
            g: fingerprint(pin, salt) for g, pin in pins.items() if g not in codes.rejected
        }
        statuses = code_statuses(
            known=codes.known,
            assignments=codes.assignments,
            wanted=wanted_fps,
            rejected=[g for g in codes.rejected if g in pins],
            no_free_slot=plan.no_free_slot,
        )
        leftovers = not_removed(
            codes.known, {g: s for g, s in codes.assignments.items() if g in wanted_fps}
        )
        orphans = sum(1 for grant in leftovers.values() if grant is None)
        self._set_statuses(door, statuses, door_codes(statuses, orphans))
        await self.notices.async_tell(door, statuses, orphans)
        unsettled = any(s.status is SlotStatus.UNSETTLED for s in codes.known.values())
        if unreachable or leftovers or unsettled:
            self._retry_later(door)
        else:
            door.attempts = 0
            door.hold.clear()
            self._cancel_retry(door)

    def _set_statuses(
        self, door: DoorState, statuses: dict[str, CodeStatus], overall: DoorCodes
    ) -> None:
        portal = door.portal.portal_id
        before = ({g: s.get(portal) for g, s in self.status.items()}, self.door_status.get(portal))
        for per_portal in self.status.values():
            per_portal.pop(portal, None)
        for grant_id, status in statuses.items():
            self.status.setdefault(grant_id, {})[portal] = status.value
        self.status = {g: s for g, s in self.status.items() if s}
        self.door_status[portal] = overall
        after = ({g: s.get(portal) for g, s in self.status.items()}, overall)
        self.coordinator.async_save()
        if before != after:
            self.coordinator.async_update_listeners()

    def _cancel_retry(self, door: DoorState) -> None:
        if door.retry is not None:
            door.retry()
            door.retry = None

    def _retry_later(self, door: DoorState) -> None:
        """One retry chain per lock: a new delay replaces the one waiting."""
        self._cancel_retry(door)
        if self._stopped:
            return
        door.attempts += 1
        delay = retry_delay(door.attempts)
        _LOGGER.info(
            "Lock %s: codes not where they should be yet; trying again in %s s",
            door.adapter.lock_entity_id,
            delay,
        )

        @callback
        def _again(_now: object) -> None:
            door.retry = None
            door.unreachable = False
            door.hold.clear()
            self._schedule(door)

        door.retry = async_call_later(self.hass, delay, _again)

    # --- what the lock reports ---------------------------------------------------------

    def _listener(self, door: DoorState) -> Callable[[KeypadEvent], None]:
        @callback
        def _on_event(event: KeypadEvent) -> None:
            if self._stopped:
                return
            if event.kind in {
                KeypadEventKind.SLOT_CHANGED,
                KeypadEventKind.ALL_CLEARED,
                KeypadEventKind.RESYNC,
            }:
                self._on_slots_reported(door, event)
                return
            self.coordinator.config_entry.async_create_background_task(
                self.hass,
                async_on_use(self.coordinator, door, self._codes_of(door), event),
                "concierge keypad event",
            )

        return _on_event

    @callback
    def _on_slots_reported(self, door: DoorState, event: KeypadEvent) -> None:
        """The lock said what a slot (or all of them) holds now: adopt it, then reconcile."""
        codes = self._codes.setdefault(door.adapter.lock_entity_id, LockCodes())
        managed = door.portal.slots
        if event.kind is KeypadEventKind.ALL_CLEARED:
            _LOGGER.warning("Lock %s reported that every code was deleted", door.portal.name)
            codes.known = wiped(codes.known, managed)
        elif event.kind is KeypadEventKind.SLOT_CHANGED:
            if event.slot is None or event.slot not in managed or event.occupied is None:
                return
            fp = fingerprint(event.code, self._salt(door)) if event.code else None
            report = SlotReport(event.slot, event.occupied, fp, event.by_us)
            before = codes.known.get(event.slot)
            codes.known = observe_report(codes.known, report, writing=frozenset(door.writing))
            if codes.known.get(event.slot) == before:
                return
        else:  # RESYNC: the lock is back; settle what waits now rather than at the retry
            door.attempts = 0
            door.unreachable = False
            door.hold.clear()
            self._cancel_retry(door)
        self.coordinator.async_save()
        self._schedule(door)

    def known_for_diagnostics(self) -> dict[str, dict[str, object]]:
        """Per lock: slot states and assignments (no PIN)."""
        return {
            lock: {
                "known": {s: k.status.value for s, k in codes.known.items()},
                "assignments": dict(codes.assignments),
                "rejected": sorted(codes.rejected),
            }
            for lock, codes in self._codes.items()
        }
