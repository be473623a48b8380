"""The alarm link: disarm for a visit and re-arm after, each step verified on the panel's state.

Some panels answer an action with success without changing state (a wrong code on a
cloud panel, a panel that is offline). Concierge therefore never trusts the action's
answer: it waits for the panel's state to reach the wanted one, within a timeout.
"""

import asyncio
import logging

from homeassistant.const import ATTR_CODE, ATTR_ENTITY_ID
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event

from .core.delivery import DISARMED

_LOGGER = logging.getLogger(__name__)

DOMAIN_ALARM = "alarm_control_panel"
ARMING_STATES = frozenset({"arming", "pending"})
ARM_SERVICES = {
    "armed_away": "alarm_arm_away",
    "armed_home": "alarm_arm_home",
    "armed_night": "alarm_arm_night",
    "armed_vacation": "alarm_arm_vacation",
    "armed_custom_bypass": "alarm_arm_custom_bypass",
}


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

    async def _call(self, service: str) -> None:
        data: dict[str, str] = {ATTR_ENTITY_ID: self.entity_id}
        if self._code:
            data[ATTR_CODE] = self._code
        try:
            await self._hass.services.async_call(DOMAIN_ALARM, service, data, blocking=True)
        except HomeAssistantError as err:
            # The message may quote the service call; it never holds the code.
            _LOGGER.warning("Alarm panel %s refused %s: %s", self.entity_id, service, type(err))
            raise AlarmError("refused") from err

    async def async_disarm(self) -> str:
        """Disarm, verified; returns the mode the panel was in. Raises `AlarmError`."""
        previous = self.state
        if previous is None or previous == "unavailable":
            raise AlarmError("unavailable")
        await self._call("alarm_disarm")
        if not await async_wait_for_state(
            self._hass, self.entity_id, frozenset({DISARMED}), self._timeout
        ):
            raise AlarmError("timeout")
        return previous

    async def async_arm(self, mode: str) -> None:
        """Arm in `mode`, verified (a panel's arming time is waited out). Raises `AlarmError`."""
        if self.state == mode:
            return
        service = ARM_SERVICES.get(mode)
        if service is None:
            raise AlarmError("unknown_mode")
        await self._call(service)
        if not await async_wait_for_state(
            self._hass, self.entity_id, frozenset({mode}), self._timeout
        ):
            raise AlarmError("timeout")

    async def async_trigger(self) -> None:
        """Sound the alarm (a camera went dark during a visit that requires one)."""
        await self._call("alarm_trigger")
