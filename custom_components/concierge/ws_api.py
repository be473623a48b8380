"""The Access panel's WebSocket API: every command registered once, admin-only.

The commands live by job: grants (`ws_grants.py`), guest links (`ws_guest_links.py`),
visits and the audit chain (`ws_visits.py`), carriers and token checks
(`ws_carriers.py`); what they share is `ws_common.py`. The panel (`frontend/`) is built
against these commands: names, fields and answers change only together with it.
"""

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback

from . import ws_carriers, ws_grants, ws_guest_links, ws_visits


@callback
def async_setup_ws_api(hass: HomeAssistant) -> None:
    """Register the Access panel's commands."""
    for module in (ws_grants, ws_guest_links, ws_visits, ws_carriers):
        for command in module.COMMANDS:
            websocket_api.async_register_command(hass, command)
