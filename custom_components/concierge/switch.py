"""Switches: turn a grant off (suspend) and on again (resume)."""

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ConciergeCoordinator
from .core.grants import Grant, GrantAction, GrantState
from .entity import GrantEntity, async_add_grant_entities, async_setup_site_entities
from .site_runtime import ConciergeConfigEntry

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,  # noqa: ARG001
    entry: ConciergeConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an enable switch per grant, now and as grants are created (a store has none)."""
    async_setup_site_entities(entry, async_add_entities, home=_home)


def _home(coordinator: ConciergeCoordinator, add: AddConfigEntryEntitiesCallback) -> None:
    async_add_grant_entities(coordinator, add, GrantSwitch)


class GrantSwitch(GrantEntity, SwitchEntity):
    """On while the grant is not suspended; off suspends it, on resumes it."""

    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, coordinator: ConciergeCoordinator, grant: Grant) -> None:
        """Create the enable switch of a grant."""
        super().__init__(coordinator, grant, "grant_enabled")

    @property
    def available(self) -> bool:
        """Only a grant that can still be used can be switched."""
        return super().available and self.coordinator.data.states[self.grant_id] not in {
            GrantState.EXPIRED,
            GrantState.REVOKED,
            GrantState.USED_UP,
        }

    @property
    def is_on(self) -> bool:
        """Whether the grant is enabled."""
        return not self.grant.suspended

    async def async_turn_on(self, **kwargs: Any) -> None:  # noqa: ANN401, ARG002
        """Resume the grant."""
        if self.grant.suspended:
            await self.coordinator.async_grant_action(self.grant_id, GrantAction.RESUME)

    async def async_turn_off(self, **kwargs: Any) -> None:  # noqa: ANN401, ARG002
        """Suspend the grant."""
        if not self.grant.suspended:
            await self.coordinator.async_grant_action(self.grant_id, GrantAction.SUSPEND)
