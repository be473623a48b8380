"""Telling the owner about a door's codes.

Repairs while something is wrong, and one notification for each new problem (never one
per retry).
"""

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from ..const import DOMAIN
from ..core.slots import CodeStatus
from ..hosts import KeypadHost
from .door import DoorState


class KeypadNotices:
    """The repairs and notifications of one site's keypad locks."""

    def __init__(self, hass: HomeAssistant, host: KeypadHost) -> None:
        """Tell the owner of `host`'s site."""
        self.hass = hass
        self.coordinator = host

    def rejected_issue(self, door: DoorState, grant_id: str) -> str:
        """The repair id of a grant's refused PIN at a door."""
        return f"code_rejected_{door.adapter.lock_entity_id}_{grant_id}"

    def foreign(self, door: DoorState, slots: tuple[int, ...]) -> None:
        """Managed slots hold codes Concierge did not write: a repair (gone when none)."""
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

    def _labels(self, grant_ids: set[str]) -> str:
        grants = self.coordinator.data.grants
        return ", ".join(sorted(grants[g].label if g in grants else g for g in grant_ids))

    async def async_tell(
        self, door: DoorState, statuses: dict[str, CodeStatus], orphans: int
    ) -> None:
        """Repairs while something is wrong, and one notification for each new problem."""
        lock_id = door.adapter.lock_entity_id
        name = door.portal.name
        # Codes that outlive their window.
        stale = {g for g, s in statuses.items() if s is CodeStatus.NOT_REMOVED}
        issue_id = f"code_not_removed_{lock_id}"
        if stale or orphans:
            labels = self._labels(stale) or "—"
            ir.async_create_issue(
                self.hass, DOMAIN, issue_id, is_fixable=False,
                severity=ir.IssueSeverity.ERROR, translation_key="code_not_removed",
                translation_placeholders={"portal": name, "grants": labels,
                                          "count": str(len(stale) + orphans)},
            )  # fmt: skip
            new = (stale | ({"<orphan>"} if orphans else set())) - door.told_not_removed
            if new:
                door.told_not_removed |= new
                await self.coordinator.async_notify_owner(
                    "code_not_removed", {"grants": labels, "portal": name}
                )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            door.told_not_removed.clear()
        # Grants left without a slot.
        homeless = {g for g, s in statuses.items() if s is CodeStatus.NO_FREE_SLOT}
        issue_id = f"no_free_slot_{lock_id}"
        if homeless:
            labels = self._labels(homeless)
            ir.async_create_issue(
                self.hass, DOMAIN, issue_id, is_fixable=False,
                severity=ir.IssueSeverity.ERROR, translation_key="no_free_slot",
                translation_placeholders={
                    "portal": name, "grants": labels, "count": str(len(homeless)),
                    "first": str(door.portal.slots.first), "last": str(door.portal.slots.last),
                },
            )  # fmt: skip
            if homeless - door.told_no_slot:
                door.told_no_slot |= homeless
                await self.coordinator.async_notify_owner(
                    "no_free_slot", {"grants": labels, "portal": name}
                )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            door.told_no_slot.clear()
        # Open windows whose code is not on the lock because it does not answer.
        if door.unreachable:
            for grant_id, status in statuses.items():
                if status is not CodeStatus.PENDING or grant_id in door.notified:
                    continue
                door.notified.add(grant_id)
                grant = self.coordinator.data.grants[grant_id]
                await self.coordinator.async_notify_owner(
                    "code_not_programmed", {"grant": grant.label, "portal": name}
                )

    def code_rejected(self, door: DoorState, grant_id: str) -> None:
        """A lock refused a grant's PIN: a repair that says what to do."""
        grant = self.coordinator.data.grants[grant_id]
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.rejected_issue(door, grant_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="code_rejected",
            translation_placeholders={"grant": grant.label, "portal": door.portal.name},
        )

    def code_accepted(self, door: DoorState, grant_id: str) -> None:
        """A lock took a grant's PIN: a repair about its refusal is over."""
        ir.async_delete_issue(self.hass, DOMAIN, self.rejected_issue(door, grant_id))
