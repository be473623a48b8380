"""Voice questions through Assist: conversation.process in English and German."""

from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.assist import SENTENCES
from custom_components.concierge.const import EVENT_ACCESS

from .helpers import at, call, move_to


@pytest.fixture
async def assist(hass: HomeAssistant) -> None:
    """Home Assistant's own conversation agent, set up for real."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(hass, "conversation", {})
    await hass.async_block_till_done()


async def ask(hass: HomeAssistant, text: str, language: str = "en") -> str:
    response = await hass.services.async_call(
        "conversation",
        "process",
        {"text": text, "language": language},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    speech: Any = response["response"]["speech"]["plain"]["speech"]
    assert isinstance(speech, str)
    return speech


def _door(hass: HomeAssistant, state: str) -> None:
    hass.states.async_set("binary_sensor.front_door_contact", state, {"device_class": "door"})


@pytest.fixture
async def grants(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, assist: None, site: MockConfigEntry
) -> dict[str, str]:
    """A courier for the front door today, a weekly cleaner, a sitter; it is Tue 24 Nov 08:00."""
    await move_to(hass, freezer, at("2026-11-24 08:00"))

    async def _back_door_motor(_call: ServiceCall) -> None:
        # The shared rig's back door motor fails; here it works.
        await hass.services.async_call(
            "input_boolean", "turn_off", {"entity_id": "input_boolean.back_door_bolt"}
        )

    hass.services.async_register("lock_motor", "unlock", _back_door_motor)
    courier = await call(
        hass, "create_grant", label="DHL", kind="courier", portals=["Front door"],
        start="2026-11-24 09:00:00", end="2026-11-24 13:00:00", pin="735194",
    )  # fmt: skip
    cleaner = await call(
        hass, "create_grant", label="Anna (cleaning)", kind="cleaner",
        weekdays=["thu"], start_time="09:30:00", end_time="12:00:00", pin="246810",
    )  # fmt: skip
    sitter = await call(
        hass, "create_grant", label="Dog sitter", kind="sitter", portals=["Back door"],
        start="2026-11-24 09:00:00", end="2026-11-24 18:00:00",
    )  # fmt: skip
    return {
        "courier": str(courier["grant_id"]),
        "cleaner": str(cleaner["grant_id"]),
        "sitter": str(sitter["grant_id"]),
    }


async def test_package_delivered_in_both_languages(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, grants: dict[str, str]
) -> None:
    assert await ask(hass, "Was my package delivered?") == (
        "No, no delivery has been recorded today. "
        "Next delivery window: DHL, today from 09:00 to 13:00."
    )
    assert await ask(hass, "Wurde mein Paket geliefert?", "de") == (
        "Nein, heute wurde noch keine Lieferung registriert. "
        "Nächstes Lieferfenster: DHL, heute von 09:00 bis 13:00."
    )

    await move_to(hass, freezer, at("2026-11-24 10:02"))
    visit = await call(hass, "start_visit", grant_id=grants["courier"], portal="Front door")
    assert await ask(hass, "did my parcel arrive") == (
        "No, no delivery has been recorded today. "
        "DHL is at the door right now, since 10:02 (Front door)."
    )
    assert visit["state"] == "in_progress"
    await move_to(hass, freezer, at("2026-11-24 10:03"))
    _door(hass, "on")
    await hass.async_block_till_done()
    await move_to(hass, freezer, at("2026-11-24 10:05"))
    _door(hass, "off")  # Concierge locks and completes the visit
    await hass.async_block_till_done()

    answer = await ask(hass, "Was my package delivered?")
    assert answer == "Yes, delivered today: DHL at 10:05 (Front door)."
    assert await ask(hass, "Ist mein Paket heute angekommen?", "de") == (
        "Ja, heute geliefert: DHL um 10:05 (Front door)."
    )
    # The spoken answer never carries a PIN.
    assert "735194" not in answer

    # Tomorrow, yesterday's delivery is not today's.
    await move_to(hass, freezer, at("2026-11-25 08:00"))
    assert await ask(hass, "was my package delivered") == (
        "No, no delivery has been recorded today."
    )


async def test_who_is_visiting_and_who_is_at_a_door(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, grants: dict[str, str]
) -> None:
    assert await ask(hass, "Who is visiting?") == "Nobody is visiting right now."
    assert await ask(hass, "Wer ist zu Besuch?", "de") == "Gerade ist niemand zu Besuch."
    assert await ask(hass, "Is anyone at the front door?") == (
        "No, nobody is there right now (Front door)."
    )
    assert await ask(hass, "Ist jemand an der Haustür?", "de") == (
        "Nein, gerade ist niemand da (Front door)."
    )

    await move_to(hass, freezer, at("2026-11-24 10:00"))
    sitter = await call(hass, "start_visit", grant_id=grants["sitter"], portal="Back door")
    assert await ask(hass, "Who is visiting?") == "Dog sitter is visiting, since 10:00 (Back door)."
    assert await ask(hass, "Is anyone at the front door?") == (
        "No, nobody is there right now (Front door)."
    )
    assert await ask(hass, "Is somebody at the back door?") == (
        "Yes: Dog sitter since 10:00 (Back door)."
    )
    assert await ask(hass, "Steht jemand an der Hintertür?", "de") == (
        "Ja: Dog sitter seit 10:00 (Back door)."
    )

    await move_to(hass, freezer, at("2026-11-24 10:20"))
    await call(hass, "start_visit", grant_id=grants["courier"], portal="Front door")
    assert await ask(hass, "who's visiting") == (
        "2 visits in progress: Dog sitter since 10:00 (Back door) and DHL since 10:20 (Front door)."
    )
    assert await ask(hass, "Wer ist gerade zu Besuch?", "de") == (
        "2 Besuche laufen: Dog sitter seit 10:00 (Back door) und DHL seit 10:20 (Front door)."
    )
    assert await ask(hass, "Is anyone at the front door?") == ("Yes: DHL since 10:20 (Front door).")
    assert await ask(hass, "Ist gerade jemand an der Haustür?", "de") == (
        "Ja: DHL seit 10:20 (Front door)."
    )
    assert await ask(hass, "Who is at the front door right now?") == (
        "Yes: DHL since 10:20 (Front door)."
    )
    assert await ask(hass, "Is anyone at the door?") == (
        "Yes: Dog sitter since 10:00 (Back door) and DHL since 10:20 (Front door)."
    )
    assert await ask(hass, "Is anyone at the cellar hatch?") == (
        "I don't know a door called cellar hatch."
    )
    assert await ask(hass, "Ist jemand am Kellerfenster?", "de") == (
        "Ich kenne keine Tür namens Kellerfenster."
    )

    await call(hass, "end_visit", visit_id=sitter["visit_id"])
    assert await ask(hass, "Is anyone at the back door?") == (
        "No, nobody is there right now (Back door)."
    )


async def test_when_does_the_cleaner_come(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, grants: dict[str, str]
) -> None:
    # Tuesday: the cleaner comes on Thursday.
    assert await ask(hass, "When does the cleaner come?") == (
        "Anna (cleaning) comes on Thursday, November 26 from 09:30 to 12:00."
    )
    assert await ask(hass, "Wann kommt die Putzkraft?", "de") == (
        "Anna (cleaning) kommt am Donnerstag, 26. November von 09:30 bis 12:00."
    )
    await move_to(hass, freezer, at("2026-11-25 20:00"))
    assert await ask(hass, "when is the cleaner coming") == (
        "Anna (cleaning) comes tomorrow from 09:30 to 12:00."
    )
    await move_to(hass, freezer, at("2026-11-26 09:45"))
    assert await ask(hass, "When does the cleaner come?") == (
        "Anna (cleaning) may come in now, until 12:00."
    )
    visit = await call(hass, "start_visit", grant_id=grants["cleaner"], portal="Front door")
    assert await ask(hass, "Wann kommt die Putzfrau?", "de") == (
        "Anna (cleaning) ist jetzt da, seit 09:45 (Front door)."
    )
    await call(hass, "end_visit", visit_id=visit["visit_id"])
    await move_to(hass, freezer, at("2026-11-26 13:00"))
    assert await ask(hass, "Wann kommt die Putzkraft?", "de") == (
        "Anna (cleaning) kommt am Donnerstag, 3. Dezember von 09:30 bis 12:00."
    )
    await call(hass, "revoke_grant", grant_id=grants["cleaner"])
    assert await ask(hass, "When does the cleaner come?") == "No cleaner is scheduled."
    assert await ask(hass, "Wann kommt die Putzkraft?", "de") == (
        "Es ist keine Putzkraft eingeplant."
    )


async def test_nothing_opens_a_door_by_voice(hass: HomeAssistant, grants: dict[str, str]) -> None:
    events: list[Any] = []
    hass.bus.async_listen(EVENT_ACCESS, events.append)
    answers = [
        await ask(hass, text, language)
        for text, language in (
            ("Open the front door", "en"),
            ("Unlock the front door", "en"),
            ("Let the courier in", "en"),
            ("Öffne die Haustür", "de"),
            ("Schließ die Haustür auf", "de"),
        )
    ]
    await hass.async_block_till_done()
    # Home Assistant's own agent answers (locks are not exposed to Assist by default).
    assert not [a for a in answers if a.startswith(("Yes", "No,", "Ja", "Nein"))], answers
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get("lock.back_door").state == "locked"
    assert events == []
    # Concierge registers questions only.
    for questions in SENTENCES.values():
        for sentences in questions.values():
            for sentence in sentences:
                assert not {"open", "unlock", "öffne", "auf"} & set(sentence.lower().split())


async def test_answers_without_a_site(hass: HomeAssistant, assist: None) -> None:
    """Concierge set up without a loaded site (e.g. its only entry disabled)."""
    assert await async_setup_component(hass, "concierge", {})
    await hass.async_block_till_done()
    assert await ask(hass, "Who is visiting?") == "Concierge has no site set up."
    assert await ask(hass, "Wer ist zu Besuch?", "de") == "Concierge ist noch nicht eingerichtet."


async def test_conversation_set_up_after_concierge(
    hass: HomeAssistant, site: MockConfigEntry
) -> None:
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "conversation", {})
    await hass.async_block_till_done()
    assert await ask(hass, "Who is visiting?") == "Nobody is visiting right now."
