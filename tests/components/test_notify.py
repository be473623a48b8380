"""Telling the owner: a persistent notification and every configured notify target."""

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_mock_service,
)

from custom_components.concierge.const import DOMAIN

from .conftest import SITE_DATA
from .helpers import at, call, move_to


async def test_owner_hears_about_a_code_used_outside_its_window(
    hass: HomeAssistant, real_locks: None, freezer: Any
) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    # The owner's phone (a legacy notify service) and a display (a notify entity) are
    # the edge of the world here: recorded, not delivered.
    phone = async_mock_service(hass, "notify", "mobile_app_owner")
    display = async_mock_service(hass, "notify", "send_message")
    hass.states.async_set("notify.hall_display", "unknown")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Home",
        data=SITE_DATA,
        options={"notify": ["notify.mobile_app_owner", "notify.hall_display", "notify.gone"]},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    grant_id = (
        await call(
            hass,
            "create_grant",
            label="Cleaner",
            pin="4711",
            start="2026-11-24 11:00:00",
            end="2026-11-24 12:00:00",
        )
    )["grant_id"]
    events = async_capture_events(hass, "concierge_access_event")

    # The lock reports the grant's code although its window has not opened.
    await entry.runtime_data.async_keypad_entry(grant_id, "front")
    await hass.async_block_till_done()

    assert events[-1].data["type"] == "safety_alert"
    assert events[-1].data["reason"] == "grant_scheduled"
    message = "Front door was opened with the PIN of Cleaner outside its window"
    calls: list[ServiceCall] = [*phone, *display]
    assert len(calls) == 2
    assert all(c.data["message"].startswith(message) for c in calls)
    assert display[0].data["entity_id"] == "notify.hall_display"
    assert "4711" not in str([c.data for c in calls])
    assert entry.runtime_data.grant(grant_id).uses == 0


def _notifications(hass: HomeAssistant) -> list[str]:
    from homeassistant.components import persistent_notification  # noqa: PLC0415

    return [
        n["message"]
        for n in persistent_notification._async_get_or_create_notifications(hass).values()
    ]


async def test_each_visit_has_its_own_notice_with_a_plain_translated_reason(
    hass: HomeAssistant, site: MockConfigEntry, freezer: Any
) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    visits = {}
    for label in ("Parcel courier", "Friend"):
        grant_id = (
            await call(
                hass,
                "create_grant",
                label=label,
                kind="guest",
                portals=["Front door"],
                start="2026-11-24 09:00:00",
                end="2026-11-24 18:00:00",
            )
        )["grant_id"]
        visits[label] = (await call(hass, "start_visit", grant_id=grant_id, portal="front"))[
            "visit_id"
        ]
        await call(hass, "end_visit", visit_id=visits[label], reason="door_not_opened")
        if label == "Parcel courier":
            hass.config.language = "de"  # the owner switches Home Assistant to German

    # The courier's notice is still there next to the friend's; no raw reason code.
    assert sorted(_notifications(hass)) == [
        "Der Besuch von Friend an Front door (10:00) endete vorzeitig: die Tür wurde nie geöffnet",
        "The visit of Parcel courier at Front door (10:00) ended early: the door was never opened",
    ]


async def test_two_visits_safety_alerts_both_stay_next_to_their_end_notices(
    hass: HomeAssistant, site: MockConfigEntry, freezer: Any
) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")
    for label, start in (("Cleaner", "10:00"), ("Sitter", "10:05")):
        await move_to(hass, freezer, at(f"2026-11-24 {start}"))
        grant_id = (
            await call(
                hass,
                "create_grant",
                label=label,
                kind="guest",
                portals=["Front door"],
                start="2026-11-24 09:00:00",
                end="2026-11-24 18:00:00",
                max_visit_minutes=1,
            )
        )["grant_id"]
        await call(hass, "start_visit", grant_id=grant_id, portal="front")
        # A minute on, the visit has run too long: the owner is alerted, the visit ended.
        await move_to(hass, freezer, at(f"2026-11-24 {start}:00") + timedelta(seconds=61))

    # The cleaner's alert is still there next to the sitter's, each with its end notice.
    too_long = "A visit at Front door took longer than its grant allows"
    assert sorted(_notifications(hass)) == [
        too_long,
        too_long,
        "The visit of Cleaner at Front door (10:00) ended early: the visit took too long",
        "The visit of Sitter at Front door (10:05) ended early: the visit took too long",
    ]
