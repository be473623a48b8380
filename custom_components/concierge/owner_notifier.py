"""Telling the owner: a persistent notification, and each configured notify target."""

import logging
from collections.abc import Callable
from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN
from .site import SiteConfig
from .texts import async_reason, async_text

_LOGGER = logging.getLogger(__name__)

VISIT = "visit"
"""The placeholder that names the visit a message is about (not shown in the text)."""
REASON = "reason"
"""The placeholder of a reason code, shown as its translated sentence."""


def notification_id(site_id: str, key: str, visit_id: str | None) -> str:
    """One notification per visit and message: another visit's does not replace it.

    A visit's end notice leaves its safety alert (which says what to check) standing.
    """
    if visit_id:
        return f"{DOMAIN}_{site_id}_visit_{visit_id}_{key}"
    return f"{DOMAIN}_{site_id}_{key}"


class OwnerNotifier:
    """Sends a site's messages to its owner (texts from the `exceptions` translations).

    The texts are in Home Assistant's language; a `reason` placeholder is a reason code
    and shown as its sentence, and a `visit` placeholder keeps the visit's messages in
    notifications of their own.
    """

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
        words = dict(placeholders)
        visit_id = words.pop(VISIT, None)
        if REASON in words:
            words[REASON] = await async_reason(self._hass, words[REASON])
        message = await async_text(self._hass, key, words)
        title = f"Concierge: {site.name}"
        persistent_notification.async_create(
            self._hass, message, title, notification_id(self._site_id, key, visit_id)
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
