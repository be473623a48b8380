"""Home Assistant's MQTT integration, as store sites and their setup reach it (lazily)."""

from types import ModuleType
from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage


def mqtt_module(hass: HomeAssistant) -> ModuleType | None:
    """Home Assistant's MQTT integration, when it has a config entry; else None.

    Imported lazily: MQTT is no dependency of Concierge (a home needs no MQTT client),
    and its client library is installed only when MQTT is set up.
    """
    if not hass.config_entries.async_entries("mqtt"):
        return None
    try:
        from homeassistant.components import mqtt  # noqa: PLC0415
    except ImportError:  # pragma: no cover - an MQTT entry without its library
        return None
    return mqtt


async def async_mqtt_ready(hass: HomeAssistant) -> ModuleType | None:
    """The MQTT integration once its client is set up (waiting while it starts); else None."""
    if (mqtt := mqtt_module(hass)) is None or not await mqtt.async_wait_for_mqtt_client(hass):
        return None
    return mqtt


def message_payload(message: ReceiveMessage) -> bytes | str:
    """A message's payload as received (subscriptions ask for bytes, undecoded)."""
    payload = message.payload
    return payload if isinstance(payload, str) else bytes(payload)
