"""The door card in a real browser, against the stand-in hass (states, WebSocket, actions).

What a user sees on a dashboard: the door's name, who is visiting, the last visit's picture,
the next window; "Let someone in now" asks first and then starts a visit for a grant that is
open now; the card picker lists the card; German.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import in_browser_thread, mount_card, open_harness

Shoot = Callable[..., Path]
DOOR = {"type": "custom:concierge-door-card", "door": "front", "site_id": "site1"}
LIVE = {"label": "Cleaner Anna", "state": "active", "from_hours": -1, "to_hours": 2}
LATER = {"label": "Dog sitter", "state": "scheduled", "from_hours": 5, "to_hours": 6}
GARAGE = {"label": "Gardener", "state": "active", "from_hours": -1, "to_hours": 1,
          "portals": ["garage"]}  # fmt: skip


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A harness page, opened and closed in the browser's thread."""
    page = in_browser_thread(open_harness)(browser)
    yield page
    in_browser_thread(page.close)()


@in_browser_thread
def test_card_is_in_the_card_picker_with_a_stub_for_the_first_door(page: Page) -> None:
    entry = page.evaluate("window.customCards.find(c => c.type === 'concierge-door-card')")
    assert entry["name"] == "Concierge door"
    assert entry["preview"] is True
    assert "door" in entry["description"]
    stub = page.evaluate(
        "customElements.get('concierge-door-card').getStubConfig(window.makeHass())"
    )
    assert stub == {"door": "front", "site_id": "site1"}


@in_browser_thread
def test_card_shows_the_visit_the_picture_and_the_next_window(page: Page, shots: Shoot) -> None:
    mount_card(
        page, DOOR, doorGrants=[LATER, GARAGE],
        visiting={"portal": "front", "visit_id": "v9", "label": "Cleaner Anna"},
    )  # fmt: skip
    card = page.locator("concierge-door-card")
    expect(card.locator(".name")).to_have_text("Front door")
    expect(card.locator(".status")).to_have_text("Visit in progress: Cleaner Anna")
    expect(card.locator("img.picture")).to_have_attribute("alt", "Last visit")
    assert card.locator("img.picture").evaluate("img => img.complete && img.naturalWidth") > 0
    # The garage's grant is not this door's; the nearest of this door is the sitter's.
    expect(card.locator(".window")).to_contain_text("Next window: Dog sitter, ")
    shots(page, "visiting")


@in_browser_thread
def test_card_without_visit_picture_or_window(page: Page) -> None:
    mount_card(page, DOOR, picture=False)
    card = page.locator("concierge-door-card")
    expect(card.locator(".status")).to_have_text("No visit")
    expect(card.locator(".no-picture")).to_have_text("No picture of a visit yet.")
    expect(card.locator("img.picture")).to_have_count(0)
    expect(card.locator(".window")).to_have_text("No window ahead.")


@in_browser_thread
def test_let_someone_in_asks_first_then_starts_a_visit_for_a_live_grant(
    page: Page, shots: Shoot
) -> None:
    mount_card(page, DOOR, doorGrants=[LIVE, LATER, GARAGE])
    card = page.locator("concierge-door-card")
    expect(card.locator(".window")).to_contain_text("Open now: Cleaner Anna, until ")
    card.get_by_role("button", name="Let someone in now").click()
    dialog = card.get_by_role("dialog")
    expect(dialog).to_contain_text("Let someone in through Front door?")
    # Only grants open now for this door can be chosen.
    options = dialog.locator("select[name=grant] option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text("Cleaner Anna")
    shots(page, "confirm")
    assert page.evaluate("card.hass.services.length") == 0  # nothing happens before the answer
    dialog.get_by_role("button", name="Cancel").click()
    expect(card.get_by_role("dialog")).to_have_count(0)
    assert page.evaluate("card.hass.services.length") == 0
    card.get_by_role("button", name="Let someone in now").click()
    card.get_by_role("dialog").get_by_role("button", name="Unlock now").click()
    expect(card.get_by_role("status")).to_have_text("Visit started: the door is unlocked.")
    assert page.evaluate("card.hass.services") == [
        {
            "domain": "concierge",
            "service": "start_visit",
            "data": {"grant_id": "g0500", "portal": "front"},
        }
    ]
    shots(page, "started")


@in_browser_thread
def test_let_in_is_not_offered_without_a_live_grant_and_shows_a_refusal(page: Page) -> None:
    mount_card(page, DOOR, doorGrants=[LATER])
    card = page.locator("concierge-door-card")
    card.get_by_role("button", name="Let someone in now").click()
    dialog = card.get_by_role("dialog")
    expect(dialog).to_contain_text("No grant is open for this door now.")
    expect(dialog.get_by_role("button", name="Unlock now")).to_be_disabled()
    page.evaluate("card.remove()")
    mount_card(page, DOOR, doorGrants=[LIVE], refuseVisit=True)
    card = page.locator("concierge-door-card")
    card.get_by_role("button", name="Let someone in now").click()
    card.get_by_role("dialog").get_by_role("button", name="Unlock now").click()
    expect(card.get_by_role("alert")).to_have_text("The grant is not open at this time.")
    expect(card.get_by_role("status")).to_have_count(0)


@in_browser_thread
def test_card_in_german(page: Page, shots: Shoot) -> None:
    mount_card(
        page, DOOR, language="de", doorGrants=[LIVE],
        visiting={"portal": "front", "visit_id": "v9", "label": "Cleaner Anna"},
    )  # fmt: skip
    card = page.locator("concierge-door-card")
    expect(card.locator(".status")).to_have_text("Besuch läuft: Cleaner Anna")
    expect(card.locator(".window")).to_contain_text("Jetzt offen: Cleaner Anna, bis ")
    card.get_by_role("button", name="Jetzt jemanden hereinlassen").click()
    dialog = card.get_by_role("dialog")
    expect(dialog).to_contain_text("Jemanden durch Front door hereinlassen?")
    expect(dialog.get_by_role("button", name="Abbrechen")).to_be_visible()
    expect(dialog.get_by_role("button", name="Jetzt entriegeln")).to_be_enabled()
    shots(page, "german")
