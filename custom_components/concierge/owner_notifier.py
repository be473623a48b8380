"""Telling the owner: a persistent notification, and each configured notify target."""

import logging
from collections.abc import Callable
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.translation import async_get_exception_message

from .const import DOMAIN
from .site import SiteConfig

_LOGGER = logging.getLogger(__name__)


class OwnerNotifier:
    """Sends a site's messages to its owner (texts from the `exceptions` translations)."""

    def __init__(self, hass: HomeAssistant, site_id: str, site: Callable[[], SiteConfig]) -> None:
        """Notify for the site `site_id`; `site` gives its current configuration."""
        self._hass = hass
        self._site_id = site_id
        self._site = site

    async def async_notify(
        self, key: str, placeholders: dict[str, str], *, image_portal: str | None = None
    ) -> None:
        """Tell the owner; a failing target is logged, never raised.

        With `image_portal`, notify services that take pictures (the mobile app) get the
        portal's "last visit" image.
        """
        site = self._site()
        message = async_get_exception_message(DOMAIN, key, placeholders)
        title = f"Concierge: {site.name}"
        persistent_notification.async_create(
            self._hass, message, title, f"{DOMAIN}_{self._site_id}_{key}"
        )
        for target in site.notify:
            domain, _, name = target.partition(".")
            data: dict[str, Any]
            if self._hass.states.get(target) is not None:
                service, data = "send_message", {ATTR_ENTITY_ID: target}
            else:
                service, data = name, {}
                if (image := self._image_entity(image_portal)) is not None:
                    data = {"data": {"image": f"/api/image_proxy/{image}"}}
            try:
                await self._hass.services.async_call(
                    domain, service, {**data, "message": message, "title": title}, blocking=True
                )
            except HomeAssistantError as err:
                _LOGGER.warning("Could not notify %s: %s", target, err)

    def _image_entity(self, portal_id: str | None) -> str | None:
        if portal_id is None:
            return None
        return er.async_get(self._hass).async_get_entity_id(
            "image", DOMAIN, f"{self._site_id}_{portal_id}_last_visit"
        )
