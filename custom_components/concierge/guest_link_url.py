"""Where a guest link points: Home Assistant's external URL, or a refusal and a repair.

A guest opens the link on a phone, usually outside the home network, so only an address
reachable from there will do: the external URL set under Settings → System → Network (or
Home Assistant Cloud's remote URL). Without one a link is refused with a translated error
that says where to set it, and a repair issue (linking to the network settings) is
raised; the issue goes by itself once Home Assistant's configuration has an external URL.
"""

from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .service_errors import not_valid

ISSUE_ID = "no_external_url"
NETWORK_SETTINGS = "homeassistant://config/network"
_WATCH: HassKey[CALLBACK_TYPE] = HassKey(f"{DOMAIN}_external_url_watch")


def _external_url(hass: HomeAssistant) -> str | None:
    try:
        return get_url(hass, allow_internal=False, prefer_external=True)
    except NoURLAvailableError:
        return None


def guest_link_base(hass: HomeAssistant) -> str:
    """The external URL a guest link starts with; raises a translated error if none is set.

    Without one, the repair issue is raised (or kept) until an external URL is set.
    """
    if (base := _external_url(hass)) is not None:
        ir.async_delete_issue(hass, DOMAIN, ISSUE_ID)
        if (unwatch := hass.data.pop(_WATCH, None)) is not None:
            unwatch()
        return base.rstrip("/")
    ir.async_create_issue(
        hass,
        DOMAIN,
        ISSUE_ID,
        is_fixable=False,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=ISSUE_ID,
        learn_more_url=NETWORK_SETTINGS,
    )
    if _WATCH not in hass.data:
        _watch(hass)
    raise not_valid(ISSUE_ID)


def _watch(hass: HomeAssistant) -> None:
    """Clear the issue, and stop watching, once the configuration has an external URL."""

    @callback
    def _config_updated(_event: Event) -> None:
        if _external_url(hass) is None:
            return
        ir.async_delete_issue(hass, DOMAIN, ISSUE_ID)
        hass.data.pop(_WATCH)()

    hass.data[_WATCH] = hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, _config_updated)
