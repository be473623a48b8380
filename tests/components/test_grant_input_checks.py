"""Risky grant input is refused with a clear message, and nothing changes."""

# ruff: noqa: F811 - the fixtures imported from test_calendar are used by name

from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .helpers import call
from .test_calendar import entry  # noqa: F401 - the site, Monday 2026-10-19 08:00 in Berlin

WINDOW = {"start": "2026-10-20 10:00:00", "end": "2026-10-20 12:00:00"}


@pytest.fixture
def keypadless_back_door(hass: HomeAssistant) -> None:
    """The back door's lock is a registered template lock: no keypad Concierge can drive."""
    registered = er.async_get(hass).async_get_or_create(
        "lock", "template", "back_door_lock", suggested_object_id="back_door"
    )
    assert registered.entity_id == "lock.back_door"


def grants(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    return dict(entry.runtime_data.home.data.grants)


async def refused(hass: HomeAssistant, service: str, **data: Any) -> ServiceValidationError:
    with pytest.raises(ServiceValidationError) as caught:
        await call(hass, service, **data)
    return caught.value


async def test_a_pin_for_a_door_without_keypad_is_refused_naming_the_door(
    hass: HomeAssistant, keypadless_back_door: None, entry: MockConfigEntry
) -> None:
    err = await refused(hass, "create_grant", label="Cleaner", pin="482913", **WINDOW)
    assert err.translation_key == "pin_without_keypad"
    assert err.translation_placeholders == {"portal": "Back door"}
    assert grants(hass, entry) == {}

    # The front door's lock is not known to lack one: a PIN for it alone is taken.
    made = await call(
        hass, "create_grant", label="Cleaner", pin="482913", portals=["Front door"], **WINDOW
    )
    before = grants(hass, entry)
    err = await refused(hass, "update_grant", grant_id=made["grant_id"], portals=["Back door"])
    assert err.translation_key == "pin_without_keypad"
    assert grants(hass, entry) == before
    # Changing something else of the grant is not refused for its PIN.
    await call(hass, "update_grant", grant_id=made["grant_id"], label="Cleaner Anna")


async def test_a_second_live_grant_with_the_same_label_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    first = await call(hass, "create_grant", label="Cleaner", **WINDOW)
    other = await call(hass, "create_grant", label="Plumber", **WINDOW)
    before = grants(hass, entry)
    for service, data in (
        ("create_grant", {"label": " cleaner "} | WINDOW),
        ("update_grant", {"grant_id": other["grant_id"], "label": "CLEANER"}),
    ):
        err = await refused(hass, service, **data)
        assert err.translation_key == "label_in_use"
        assert err.translation_placeholders == {"grant": "Cleaner"}
    assert grants(hass, entry) == before

    # A grant that is over frees its label.
    await call(hass, "revoke_grant", grant_id=first["grant_id"])
    await call(hass, "create_grant", label="Cleaner", **WINDOW)


async def test_the_same_pin_as_another_live_grant_at_the_door_is_refused(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    await call(hass, "create_grant", label="Cleaner", pin="482913", **WINDOW)
    before = grants(hass, entry)
    err = await refused(hass, "create_grant", label="Sitter", pin="482913", **WINDOW)
    assert err.translation_key == "pin_in_use"
    assert err.translation_placeholders == {"grant": "Cleaner", "portal": "Front door"}
    assert grants(hass, entry) == before
