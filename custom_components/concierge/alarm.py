"""The alarm link: disarm for a visit and re-arm after, each step verified on the panel's state.

Some panels answer a command with success without changing state (a wrong code on a
cloud panel, a panel that is offline). Concierge therefore never trusts the answer: it
waits for the panel's state to reach the wanted one, within a timeout.

The panel is driven through its entity, with the entity's own public handlers (those the
`alarm_control_panel` actions call, so the default code and the arm-code check apply),
not through an action: an action's data, the code, would be fired on Home Assistant's
event bus as a `call_service` event and stored by the recorder.
"""

import asyncio
import logging

from homeassistant.components.alarm_control_panel import AlarmControlPanelEntity
from homeassistant.components.alarm_control_panel.const import (
    DATA_COMPONENT,
    AlarmControlPanelEntityFeature,
)
from homeassistant.const import ATTR_CODE, STATE_UNAVAILABLE
from homeassistant.core import Context, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.helpers.service import async_handle_entity_calls

from .core.delivery import DISARMED

_LOGGER = logging.getLogger(__name__)

ARMING_STATES = frozenset({"arming", "pending"})
Feature = AlarmControlPanelEntityFeature
ARM_HANDLERS: dict[str, tuple[str, Feature]] = {
    "armed_away": ("async_handle_alarm_arm_away", Feature.ARM_AWAY),
    "armed_home": ("async_handle_alarm_arm_home", Feature.ARM_HOME),
    "armed_night": ("async_handle_alarm_arm_night", Feature.ARM_NIGHT),
    "armed_vacation": ("async_handle_alarm_arm_vacation", Feature.ARM_VACATION),
    "armed_custom_bypass": ("async_handle_alarm_arm_custom_bypass", Feature.ARM_CUSTOM_BYPASS),
}
"""Each armed mode's entity handler and the feature it needs (as the actions register them)."""


class AlarmError(Exception):
    """The panel did not reach the wanted state (`reason`: refused or timeout)."""

    def __init__(self, reason: str) -> None:
        """Keep the reason (snake_case, no codes)."""
        super().__init__(reason)
        self.reason = reason


async def async_wait_for_state(
    hass: HomeAssistant, entity_id: str, wanted: frozenset[str], seconds: float
) -> bool:
    """Wait until the entity's state is one of `wanted`; False on timeout."""
    reached = asyncio.Event()

    @callback
    def _changed(event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if new is not None and new.state in wanted:
            reached.set()

    unsub = async_track_state_change_event(hass, [entity_id], _changed)
    try:
        if (state := hass.states.get(entity_id)) is not None and state.state in wanted:
            return True
        try:
            async with asyncio.timeout(seconds):
                await reached.wait()
        except TimeoutError:
            return False
        return True
    finally:
        unsub()


class AlarmLink:
    """One site's alarm panel, driven with the code the owner set for Concierge."""

    def __init__(
        self, hass: HomeAssistant, entity_id: str, code: str | None, timeout: float
    ) -> None:
        """Remember the panel; the code is never logged."""
        self._hass = hass
        self.entity_id = entity_id
        self._code = code
        self._timeout = timeout

    @property
    def state(self) -> str | None:
        """The panel's state now (None when it is missing)."""
        state = self._hass.states.get(self.entity_id)
        return None if state is None else state.state

    def _panel(self) -> AlarmControlPanelEntity | None:
        """The panel's entity, while it is there and available."""
        component = self._hass.data.get(DATA_COMPONENT)
        panel = None if component is None else component.get_entity(self.entity_id)
        return panel if panel is not None and panel.available else None

    async def _call(self, handler: str, feature: Feature | None) -> None:
        """Run one of the panel entity's handlers, as its action would (no bus event)."""
        panel = self._panel()
        if panel is None:
            raise AlarmError(STATE_UNAVAILABLE)
        if feature is not None and feature not in panel.supported_features:
            _LOGGER.warning("Alarm panel %s cannot %s", self.entity_id, handler)
            raise AlarmError("refused")
        data = {ATTR_CODE: self._code} if self._code else {}
        try:
            await async_handle_entity_calls(handler, [(panel, data)], context=Context())
        except Exception as err:  # whatever the panel's integration raises: refused
            # The kind only: a panel's message may quote what it was sent.
            _LOGGER.warning(
                "Alarm panel %s refused %s (%s)", self.entity_id, handler, type(err).__name__
            )
            raise AlarmError("refused") from err

    async def async_disarm(self) -> str:
        """Disarm, verified; returns the mode the panel was in. Raises `AlarmError`."""
        previous = self.state
        if previous is None or previous == STATE_UNAVAILABLE:
            raise AlarmError(STATE_UNAVAILABLE)
        await self._call("async_handle_alarm_disarm", None)
        if not await async_wait_for_state(
            self._hass, self.entity_id, frozenset({DISARMED}), self._timeout
        ):
            raise AlarmError("timeout")
        return previous

    async def async_arm(self, mode: str) -> None:
        """Arm in `mode`, verified (a panel's arming time is waited out). Raises `AlarmError`."""
        if self.state == mode:
            return
        handler = ARM_HANDLERS.get(mode)
        if handler is None:
            raise AlarmError("unknown_mode")
        await self._call(*handler)
        if not await async_wait_for_state(
            self._hass, self.entity_id, frozenset({mode}), self._timeout
        ):
            raise AlarmError("timeout")

    async def async_trigger(self) -> None:
        """Sound the alarm (a camera went dark during a visit that requires one)."""
        await self._call("async_alarm_trigger", Feature.TRIGGER)
