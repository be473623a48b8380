"""The guest page as a guest sees it, and where a guest link points.

The page's script asks `?check` with the link's token what to show (the door, when the
link works, why it is dead, whether there is a button) and shows the open answer's
`message`; these tests read both as the script does, through Home Assistant's own server.
"""

from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.rate_limit import RateLimiter

from .delivery_helpers import (
    CAMERA,
    EXTERNAL_URL,
    add_site,
    guest_url,
    setup_house,
    site_data,
    site_options,
    window,
)
from .helpers import at, call, move_to

NOW = "2026-11-24 10:00"  # a Tuesday
LOCK = "lock.front_door"


@pytest.fixture
async def home(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path, real_locks: None
) -> MockConfigEntry:
    """A site with the front door (lock, contact, camera), the alarm linked, at 10:00."""
    await setup_house(hass, tmp_path)
    await move_to(hass, freezer, at(NOW))
    entry = await add_site(
        hass,
        site_data(LOCK, "binary_sensor.front_door_contact", [CAMERA]),
        site_options(),
    )
    entry.runtime_data.gate.clients = RateLimiter(capacity=1000)
    return entry


async def guest_link(hass: HomeAssistant, **schedule: Any) -> tuple[str, str, str]:
    """A guest grant (09:00 to 12:00 today unless given) and a link: grant, link id, token."""
    if not schedule:
        start, end = window(at(NOW), hours=2)
        schedule = {"start": start, "end": end}
    grant = (
        await call(hass, "create_grant", label="Aunt Ida", kind="guest", guest_link=True,
                   **schedule)
    )["grant_id"]  # fmt: skip
    link = await call(hass, "create_guest_link", grant_id=grant)
    return str(grant), str(link["link_id"]), str(link["url"].split("#")[1])


async def check(
    client: Any, entry: MockConfigEntry, token: str, lang: str = "en"
) -> dict[str, Any]:
    """What the page shows of the link, as its script asks it."""
    response = await client.post(
        f"{guest_url(entry)}?check", json={"token": token}, headers={"Accept-Language": lang}
    )
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def tap(client: Any, entry: MockConfigEntry, token: str, lang: str = "en") -> tuple[int, str]:
    """The guest taps the button: the answer's status and what the page then says."""
    response = await client.post(
        guest_url(entry), json={"token": token}, headers={"Accept-Language": lang}
    )
    return response.status, (await response.json())["message"]


async def test_a_live_link_names_the_door_and_its_end_and_unlocks(
    hass: HomeAssistant, home: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator
) -> None:
    _, _, token = await guest_link(hass)
    client = await hass_client_no_auth()
    page = await client.get(guest_url(home), headers={"Accept-Language": "en-GB,en;q=0.9"})
    html = await page.text()
    assert page.status == 200
    assert 'lang="en"' in html
    assert "Unlock the door" in html
    assert token not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" in page.headers

    shown = await check(client, home, token)
    assert shown["door"] == "Front door"
    assert shown["valid"] == "Valid today from 09:00 to 12:00 (time in Europe/Berlin)."
    assert shown["can_open"] is True
    assert shown["message"] == ""
    assert hass.states.get(LOCK).state == "locked"  # a look opens nothing

    status, message = await tap(client, home, token)
    assert status == 200
    assert message == "Unlocked. Push the door open and close it behind you."
    assert hass.states.get(LOCK).state == "unlocked"

    # A second tap while that visit holds the door: the door is busy, not "cannot open".
    status, message = await tap(client, home, token)
    assert status == 403
    assert message.startswith("Someone else is using this door right now.")


async def test_the_german_page(
    hass: HomeAssistant, home: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator
) -> None:
    _, _, token = await guest_link(hass)
    client = await hass_client_no_auth()
    page = await client.get(guest_url(home), headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.8"})
    html = await page.text()
    assert 'lang="de"' in html
    assert "Tür entriegeln" in html
    assert "Willkommen" in html

    shown = await check(client, home, token, "de")
    assert shown["valid"] == "Gültig heute von 09:00 bis 12:00 (Zeitzone Europe/Berlin)."
    assert shown["door"] == "Front door"

    status, message = await tap(client, home, token, "de")
    assert status == 200
    assert message.startswith("Entriegelt.")
    assert hass.states.get(LOCK).state == "unlocked"


async def test_a_revoked_link_says_so_and_shows_no_button(
    hass: HomeAssistant, home: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator
) -> None:
    _, link_id, token = await guest_link(hass)
    await call(hass, "revoke_guest_link", link_id=link_id)
    client = await hass_client_no_auth()
    shown = await check(client, home, token)
    assert (shown["can_open"], shown["message"]) == (False, "This link has been revoked.")
    assert shown["door"] == "Front door"
    assert (await check(client, home, token, "de"))["message"] == "Dieser Link wurde widerrufen."
    status, message = await tap(client, home, token)
    assert (status, message) == (403, "This link has been revoked.")
    assert hass.states.get(LOCK).state == "locked"


async def test_a_link_for_a_later_window_says_when_and_shows_no_button(
    hass: HomeAssistant, home: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator
) -> None:
    _, _, token = await guest_link(hass, weekdays=["tue"], start_time="14:00", end_time="15:00")
    client = await hass_client_no_auth()
    shown = await check(client, home, token)
    assert shown["can_open"] is False
    assert shown["valid"] == "Valid today from 14:00 to 15:00 (time in Europe/Berlin)."
    assert shown["message"].startswith("This link does not work yet.")
    assert await tap(client, home, token) == (403, shown["message"])
    assert hass.states.get(LOCK).state == "locked"


async def test_an_ended_link_says_so_and_shows_no_button(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    _, _, token = await guest_link(hass)
    await move_to(hass, freezer, at("2026-11-24 12:05"))
    client = await hass_client_no_auth()
    shown = await check(client, home, token)
    assert (shown["can_open"], shown["message"]) == (False, "This link has ended.")
    assert shown["valid"] == "Valid today from 09:00 to 12:00 (time in Europe/Berlin)."
    assert await tap(client, home, token) == (403, "This link has ended.")


async def test_a_forged_link_is_not_valid(
    hass: HomeAssistant, home: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator
) -> None:
    _, _, token = await guest_link(hass)
    head, payload, signature = token.split(".")
    forged = f"{head}.{payload}.{signature[::-1]}"
    client = await hass_client_no_auth()
    response = await client.post(f"{guest_url(home)}?check", json={"token": forged})
    assert response.status == 401
    body = await response.json()
    assert body["message"] == "This link is not valid."
    assert "door" not in body


async def test_no_link_without_an_external_url_until_one_is_set(
    hass: HomeAssistant, home: MockConfigEntry
) -> None:
    start, end = window(at(NOW))
    grant = (
        await call(hass, "create_grant", label="Aunt Ida", kind="guest", guest_link=True,
                   start=start, end=end)
    )["grant_id"]  # fmt: skip
    await hass.config.async_update(external_url=None)
    hass.config.internal_url = "http://192.0.2.2:8123"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_guest_link", grant_id=grant)
    assert err.value.translation_key == "no_external_url"
    assert "Settings → System → Network" in str(err.value)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "no_external_url")
    assert issue is not None
    assert issue.learn_more_url == "homeassistant://config/network"
    assert home.runtime_data.home is not None
    assert home.runtime_data.home.site_data.guest_links == {}  # nothing signed

    await hass.config.async_update(external_url=EXTERNAL_URL)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "no_external_url") is None
    link = await call(hass, "create_guest_link", grant_id=grant)
    assert link["url"].startswith(f"{EXTERNAL_URL}{guest_url(home)}#")
