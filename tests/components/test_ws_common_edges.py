"""The panel's refusals: translated into the user's language, and plain errors passed on."""

from typing import Any

import pytest
from homeassistant.components.websocket_api import ERR_HOME_ASSISTANT_ERROR
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.ws_common import home, send_error, translate


class Panel:
    """The websocket connection's far end: what the panel receives."""

    def __init__(self) -> None:
        self.errors: list[tuple[int, str, str, dict[str, Any]]] = []

    def send_error(self, msg_id: int, code: str, message: str, **extra: Any) -> None:
        self.errors.append((msg_id, code, message, extra))


async def test_an_unknown_site_is_refused_in_german(hass: HomeAssistant) -> None:
    hass.config.language = "de"
    with pytest.raises(ServiceValidationError) as raised:
        home(hass, "nowhere")
    panel = Panel()
    await send_error(hass, panel, 7, raised.value)  # type: ignore[arg-type]
    assert panel.errors == [
        (
            7,
            "not_found",
            "Es gibt keinen geladenen Concierge-Standort mit der ID nowhere.",
            {
                "translation_key": "unknown_site",
                "translation_domain": DOMAIN,
                "translation_placeholders": {"site": "nowhere"},
            },
        )
    ]


async def test_a_language_without_the_text_falls_back_to_english(hass: HomeAssistant) -> None:
    hass.config.language = "fr"
    text = await translate(hass, "unknown_site", {"site": "nowhere"})
    assert text == "There is no loaded Concierge site with id nowhere."


async def test_a_key_without_a_text_still_says_something_readable(hass: HomeAssistant) -> None:
    hass.config.language = "de"
    assert await translate(hass, "door_jammed_badly", {}) == "Door jammed badly"


async def test_a_translated_error_without_placeholders_is_shown_in_full(
    hass: HomeAssistant,
) -> None:
    panel = Panel()
    err = HomeAssistantError(translation_domain=DOMAIN, translation_key="no_windows")
    await send_error(hass, panel, 3, err)  # type: ignore[arg-type]
    assert panel.errors[0][:3] == (
        3,
        ERR_HOME_ASSISTANT_ERROR,
        "A grant needs at least one window.",
    )


@pytest.mark.parametrize(
    ("err", "shown"), [(RuntimeError("lock offline"), "lock offline"), (RuntimeError(), "Error")]
)
async def test_a_plain_error_reaches_the_panel_as_it_is(
    hass: HomeAssistant, err: Exception, shown: str
) -> None:
    panel = Panel()
    await send_error(hass, panel, 9, err)  # type: ignore[arg-type]
    assert panel.errors == [(9, ERR_HOME_ASSISTANT_ERROR, shown, {})]
