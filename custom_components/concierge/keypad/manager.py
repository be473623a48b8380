"""The keypad manager: a grant's PIN is on its locks exactly while the grant is active.

One manager per site. It finds which doors have a keypad lock it can drive (by the lock
entity's integration), and for each such lock brings the lock's codes to what the
grants want, with the rules of `core.slots`: only inside the door's managed range, only
where something differs, never a foreign code, no retry loop for a refused code, and
retries with growing delays for a lock that does not answer. It also turns the lock's
own reports into visits (a keypad unlock with a managed slot) and alarms (wrong codes).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from ..const import DOMAIN
from ..core.events import AccessEventType, Outcome, Source
from ..core.grants import GrantState
from ..core.slots import (
    AttackWatch,
    ClearCode,
    SetCode,
    WantedCode,
    after_clear,
    after_set,
    fingerprint,
    grant_for_slot,
    observe,
    plan_lock,
    retry_delay,
)
from ..site import PortalConfig
from ..store import LockCodes
from .adapter import KeypadAdapter, KeypadEvent, KeypadEventKind, WriteResult
from .zha import ZhaKeypad
from .zwave import ZWaveKeypad

if TYPE_CHECKING:
    from ..coordinator import ConciergeCoordinator

_LOGGER = logging.getLogger(__name__)
DRAIN_TIMEOUT = 15.0
"""Seconds an unload waits for a code write in flight to be confirmed."""


class CodeStatus:
    """A grant's code at one door, as the grant's sensor shows it."""

    PROGRAMMED = "programmed"
    PENDING = "pending"
    REJECTED = "rejected"
    NO_FREE_SLOT = "no_free_slot"


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


@dataclass(slots=True)
class _DoorState:
    adapter: KeypadAdapter
    portal: PortalConfig
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    dirty: bool = False
    attempts: int = 0
    retry: CALLBACK_TYPE | None = None
    watch: AttackWatch = field(default_factory=AttackWatch)
    notified: set[str] = field(default_factory=set)


class KeypadManager:
    """Keeps every keypad lock of a site in step with its grants."""

    def __init__(self, coordinator: ConciergeCoordinator) -> None:
        """Attach to a site's coordinator (started by `async_start`)."""
        self.coordinator = coordinator
        self.hass = coordinator.hass
        self.doors: dict[str, _DoorState] = {}
        self.status: dict[str, dict[str, str]] = {}
        """Grant → portal → `CodeStatus`."""
        self._unsubs: list[CALLBACK_TYPE] = []

    @property
    def _codes(self) -> dict[str, LockCodes]:
        return self.coordinator.site_data.keypad

    def _salt(self, door: _DoorState) -> str:
        return f"{self.coordinator.site_id}:{door.adapter.lock_entity_id}"

    @callback
    def async_start(self) -> None:
        """Find the keypad locks, listen to them, and bring them in step."""
        for portal in self.coordinator.site.portals:
            adapter = adapter_for(self.hass, portal.lock)
            if adapter is None:
                continue
            door = _DoorState(
                adapter,
                portal,
                watch=AttackWatch(threshold=self.coordinator.site.attack_threshold),
            )
            self.doors[portal.portal_id] = door
            self._unsubs.append(adapter.subscribe(self._listener(door)))
        if self.doors:
            self._unsubs.append(self.coordinator.async_add_listener(self.async_schedule))
            self.async_schedule()

    @callback
    def async_stop(self) -> None:
        """Stop listening and cancel retries."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        for door in self.doors.values():
            if door.retry is not None:
                door.retry()
                door.retry = None

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

    @callback
    def async_schedule(self) -> None:
        """Reconcile every keypad lock soon (cheap when nothing differs)."""
        for door in self.doors.values():
            if door.retry is not None:
                continue  # waiting out a back-off: the retry will reconcile
            door.dirty = True
            if not door.lock.locked():
                self.coordinator.config_entry.async_create_background_task(
                    self.hass, self._async_run(door), f"concierge keypad {door.portal.name}"
                )

    async def _async_run(self, door: _DoorState) -> None:
        async with door.lock:
            while door.dirty:
                door.dirty = False
                await self._async_reconcile(door)

    # --- reconciling -------------------------------------------------------------------

    def _wanted(self, door: _DoorState) -> list[WantedCode]:
        data = self.coordinator.data
        return [
            WantedCode(grant.id, grant.credentials.pin)
            for grant in data.grants.values()
            if grant.credentials.pin
            and door.portal.portal_id in grant.portals
            and data.states.get(grant.id) is GrantState.ACTIVE
        ]

    async def _async_learn(self, door: _DoorState, codes: LockCodes) -> bool:
        """Read, once, which managed slots the lock already uses (from its cache)."""
        if codes.known:
            return True
        slots = range(door.portal.slots.first, door.portal.slots.last + 1)
        occupied = await door.adapter.async_occupied_slots(slots)
        _LOGGER.debug("Lock %s: slots in use %s", door.adapter.lock_entity_id, occupied)
        if occupied is None:
            return False
        for slot, in_use in occupied.items():
            codes.known = observe(codes.known, slot, occupied=in_use)
        return True

    async def _async_reconcile(self, door: _DoorState) -> None:
        lock_id = door.adapter.lock_entity_id
        codes = self._codes.setdefault(lock_id, LockCodes())
        if not await self._async_learn(door, codes):
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
            salt=salt,
        )
        self._issue_foreign(door, plan.foreign_slots)
        statuses = dict.fromkeys(codes.rejected, CodeStatus.REJECTED)
        statuses |= dict.fromkeys(plan.no_free_slot, CodeStatus.NO_FREE_SLOT)
        statuses |= dict.fromkeys(plan.assignments, CodeStatus.PROGRAMMED)
        codes.assignments = dict(plan.assignments)
        for command in plan.commands:
            result = await self._async_send(door, codes, command, salt)
            if result is WriteResult.UNREACHABLE:
                for pending in plan.commands:
                    if isinstance(pending, SetCode) and pending.grant in statuses:
                        statuses[pending.grant] = CodeStatus.PENDING
                self._set_statuses(door, statuses)
                await self._async_tell_owner_pending(door, plan.commands)
                self._retry_later(door)
                return
            if result is WriteResult.REJECTED and isinstance(command, SetCode):
                statuses[command.grant] = CodeStatus.REJECTED
                codes.assignments.pop(command.grant, None)
        door.attempts = 0
        self._set_statuses(door, statuses)

    async def _async_send(
        self, door: _DoorState, codes: LockCodes, command: SetCode | ClearCode, salt: str
    ) -> WriteResult:
        adapter = door.adapter
        portal = door.portal.portal_id
        if isinstance(command, SetCode):
            result = await adapter.async_set_code(command.slot, command.pin)
        else:
            result = await adapter.async_clear_code(command.slot)
        if result is WriteResult.UNREACHABLE:
            return result
        emit = self.coordinator.async_emit
        if isinstance(command, ClearCode):
            codes.known = after_clear(codes.known, command)
            await emit(AccessEventType.CODE_CLEARED, Outcome.OK, portal=portal,
                       grant=command.grant, source=Source.SCHEDULE,
                       data={"slot": command.slot})  # fmt: skip
        elif result is WriteResult.CONFIRMED:
            codes.known = after_set(codes.known, command, salt)
            await emit(AccessEventType.CODE_PROGRAMMED, Outcome.OK, portal=portal,
                       grant=command.grant, source=Source.SCHEDULE,
                       data={"slot": command.slot})  # fmt: skip
            ir.async_delete_issue(self.hass, DOMAIN, self._rejected_issue(door, command.grant))
        else:
            codes.rejected[command.grant] = fingerprint(command.pin, salt)
            await emit(AccessEventType.CODE_REJECTED, Outcome.FAILED, portal=portal,
                       grant=command.grant, source=Source.SCHEDULE, reason="refused_by_lock",
                       data={"slot": command.slot})  # fmt: skip
            grant = self.coordinator.data.grants[command.grant]
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._rejected_issue(door, command.grant),
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="code_rejected",
                translation_placeholders={"grant": grant.label, "portal": door.portal.name},
            )
        return result

    def _rejected_issue(self, door: _DoorState, grant_id: str) -> str:
        return f"code_rejected_{door.adapter.lock_entity_id}_{grant_id}"

    def _issue_foreign(self, door: _DoorState, slots: tuple[int, ...]) -> None:
        issue_id = f"foreign_codes_{door.adapter.lock_entity_id}"
        if not slots:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="foreign_codes",
            translation_placeholders={
                "portal": door.portal.name,
                "slots": ", ".join(str(s) for s in slots),
                "first": str(door.portal.slots.first),
                "last": str(door.portal.slots.last),
            },
        )

    def _set_statuses(self, door: _DoorState, statuses: dict[str, str]) -> None:
        portal = door.portal.portal_id
        before = {g: s.get(portal) for g, s in self.status.items()}
        for per_portal in self.status.values():
            per_portal.pop(portal, None)
        for grant_id, status in statuses.items():
            self.status.setdefault(grant_id, {})[portal] = status
        self.status = {g: s for g, s in self.status.items() if s}
        after = {g: s.get(portal) for g, s in self.status.items()}
        self.coordinator.async_save()
        if before != after:
            self.coordinator.async_update_listeners()

    def _retry_later(self, door: _DoorState) -> None:
        door.attempts += 1
        delay = retry_delay(door.attempts)
        _LOGGER.info(
            "Lock %s did not answer; trying again in %s s", door.adapter.lock_entity_id, delay
        )

        @callback
        def _again(_now: object) -> None:
            door.retry = None
            self.async_schedule()

        door.retry = async_call_later(self.hass, delay, _again)

    async def _async_tell_owner_pending(
        self, door: _DoorState, commands: tuple[SetCode | ClearCode, ...]
    ) -> None:
        """Tell the owner once per grant when an open window has no code on the lock."""
        for command in commands:
            if not isinstance(command, SetCode) or command.grant in door.notified:
                continue
            door.notified.add(command.grant)
            grant = self.coordinator.data.grants[command.grant]
            await self.coordinator.async_notify_owner(
                "code_not_programmed", {"grant": grant.label, "portal": door.portal.name}
            )

    # --- what the lock reports ---------------------------------------------------------

    def _listener(self, door: _DoorState) -> Callable[[KeypadEvent], None]:
        @callback
        def _on_event(event: KeypadEvent) -> None:
            self.coordinator.config_entry.async_create_background_task(
                self.hass, self._async_on_event(door, event), "concierge keypad event"
            )

        return _on_event

    async def _async_on_event(self, door: _DoorState, event: KeypadEvent) -> None:
        _LOGGER.debug("Lock %s reported %s", door.adapter.lock_entity_id, event)
        portal = door.portal.portal_id
        codes = self._codes.get(door.adapter.lock_entity_id, LockCodes())
        if event.kind is KeypadEventKind.UNLOCK:
            # The slot was free before Concierge wrote it, so a code in an assigned slot is
            # the grant's (even if the lock answers before its confirmation reached us).
            grant_id = grant_for_slot(codes.assignments, event.slot) if event.slot else None
            if grant_id is not None:
                await self.coordinator.async_keypad_entry(grant_id, portal)
            else:
                await self.coordinator.async_emit(
                    AccessEventType.UNLOCKED, Outcome.INFO, portal=portal,
                    source=Source.KEYPAD, reason="code_not_managed",
                )  # fmt: skip
            return
        if event.kind is KeypadEventKind.CODE_REJECTED:
            return  # the write that caused it reports it
        door.watch, alarm = door.watch.record(time.monotonic())
        if event.kind is KeypadEventKind.KEYPAD_DISABLED or alarm:
            reason = (
                "keypad_disabled"
                if event.kind is KeypadEventKind.KEYPAD_DISABLED
                else ("wrong_codes")
            )
            await self.coordinator.async_emit(
                AccessEventType.KEYPAD_ATTACK, Outcome.DENIED, portal=portal,
                source=Source.KEYPAD, reason=reason,
                data={"attempts": len(door.watch.attempts)},
            )  # fmt: skip
            await self.coordinator.async_notify_owner(
                "keypad_attack",
                {"portal": door.portal.name, "time": dt_util.now().strftime("%H:%M")},
            )
        else:
            await self.coordinator.async_emit(
                AccessEventType.ACCESS_DENIED, Outcome.DENIED, portal=portal,
                source=Source.KEYPAD, reason="wrong_code",
            )  # fmt: skip

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
