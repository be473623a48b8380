"""A store's form and the bridge check: a store is set up only once its bridge answers.

A store is a store bridge heard through Home Assistant's MQTT integration. The form
asks for its name, the bridge's site id and the topic prefix (`STORE_SCHEMA`;
reconfiguring keeps the site id, `STORE_RECONFIGURE_SCHEMA`); `store_errors` checks
them and `async_bridge_status` waits for the bridge's retained status message.
"""

import asyncio
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

import probatio as vol
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import selector

from .config_flow_checks import usable_name
from .const import CONF_BRIDGE_SITE, CONF_STORE_NAME, CONF_TOPIC_PREFIX, DEFAULT_TOPIC_PREFIX
from .core.ids import is_identifier
from .core.stores import StoreStatus, is_topic_prefix, parse_status, status_topic
from .store_mqtt import message_payload

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

STORE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_STORE_NAME): selector.TextSelector(),
        vol.Required(CONF_BRIDGE_SITE): selector.TextSelector(
            selector.TextSelectorConfig(autocomplete="off")
        ),
        vol.Required(CONF_TOPIC_PREFIX, default=DEFAULT_TOPIC_PREFIX): selector.TextSelector(),
    }
)
STORE_RECONFIGURE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_STORE_NAME): selector.TextSelector(),
        vol.Required(CONF_TOPIC_PREFIX, default=DEFAULT_TOPIC_PREFIX): selector.TextSelector(),
    }
)


def store_input(user_input: Mapping[str, Any]) -> tuple[str, str, str]:
    """A store's name, bridge site id and topic prefix as entered (trimmed)."""
    return (
        str(user_input[CONF_STORE_NAME]).strip(),
        str(user_input[CONF_BRIDGE_SITE]).strip(),
        str(user_input.get(CONF_TOPIC_PREFIX, DEFAULT_TOPIC_PREFIX)).strip(),
    )


def store_errors(name: str, site: str, prefix: str) -> dict[str, str]:
    """Check a store's name, its bridge's site id (an identifier) and the topic prefix."""
    errors: dict[str, str] = {}
    if not usable_name(name):
        errors[CONF_STORE_NAME] = "empty_name"
    if not is_identifier(site):
        errors[CONF_BRIDGE_SITE] = "invalid_site_id"
    if not is_topic_prefix(prefix):
        errors[CONF_TOPIC_PREFIX] = "invalid_topic_prefix"
    return errors


async def async_bridge_status(
    hass: HomeAssistant, mqtt: ModuleType, prefix: str, site: str, *, wait: float
) -> StoreStatus | None:
    """Wait up to `wait` seconds for the bridge's retained status; None if none came."""
    answered: asyncio.Future[StoreStatus] = hass.loop.create_future()

    @callback
    def _message(message: ReceiveMessage) -> None:
        status = parse_status(message_payload(message), site)
        if isinstance(status, StoreStatus) and not answered.done():
            answered.set_result(status)

    unsubscribe = await mqtt.async_subscribe(
        hass, status_topic(prefix, site), _message, qos=1, encoding=None
    )
    try:
        async with asyncio.timeout(wait):
            return await answered
    except TimeoutError:
        return None
    finally:
        unsubscribe()
