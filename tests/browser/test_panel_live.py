"""The Access panel in a real Home Assistant, driven in headless Chromium.

One Home Assistant process for the module (the develop configuration in a temporary
directory, stopped afterwards): the panel in the sidebar; a weekly grant made in the panel
(a generated PIN is refused for the develop door, whose lock has no keypad, and the panel
says why), seen in the list and on its own entities; a guest link opened on a phone-sized
page; the German UI; revoking. Screenshots: artifacts/browser/<test>/.
The tests run in file order and build on each other (one grant, made by the first).
"""

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import pytest_socket
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .conftest import ARTIFACTS, in_browser_thread
from .home_assistant import RunningHass, running_hass

pytest.importorskip(
    "hass_frontend", reason="needs Home Assistant's frontend: scripts/setup --develop"
)

# Tests talk to Home Assistant over HTTP on 127.0.0.1 (pytest-socket's guard stays on).
pytestmark = pytest.mark.usefixtures("socket_enabled")

Shoot = Callable[..., Path]
DASH = "\N{EN DASH}"  # the panel writes time ranges with it
LABEL = "Cleaner Anna"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def hass_instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHass]:
    # Module fixtures are made after pytest-socket blocked sockets for the first test (its
    # function-scoped socket_enabled comes later): start with the real socket put back.
    pytest_socket.enable_socket()
    with running_hass(
        tmp_path_factory.mktemp("hass") / "config", ARTIFACTS / "home-assistant.log"
    ) as instance:
        yield instance


def _logged_in(browser: Browser, instance: RunningHass) -> tuple[BrowserContext, Page]:
    """The dev user's session (its tokens where the frontend keeps them), on /concierge."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{instance.base_url}/auth/authorize")
    page.evaluate(
        "tokens => localStorage.setItem('hassTokens', tokens)", instance.local_storage_tokens()
    )
    page.goto(f"{instance.base_url}/concierge")
    return context, page


@pytest.fixture(scope="module")
def admin_page(browser: Browser, hass_instance: RunningHass) -> Iterator[Page]:
    context, page = in_browser_thread(_logged_in)(browser, hass_instance)
    yield page
    in_browser_thread(context.close)()


@in_browser_thread
def test_panel_in_the_sidebar_creates_a_weekly_grant(
    admin_page: Page, hass_instance: RunningHass, shots: Shoot
) -> None:
    page = admin_page
    expect(page.locator("ha-sidebar")).to_contain_text("Access")
    panel = page.locator("concierge-panel")
    expect(panel.locator("h1")).to_have_text("Access")
    expect(panel.locator("p.empty")).to_have_text("No grants yet.")
    shots(page, "empty-panel")
    panel.get_by_role("button", name="New grant").click()
    dialog = panel.locator(".grant-dialog")
    dialog.locator("input[name=label]").fill(LABEL)
    dialog.locator("select[name=kind]").select_option("cleaner")
    dialog.get_by_label("Front door").check()
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        dialog.locator(f"input[name=weekday][value={day}]").check()
    dialog.locator("input[name=start_time]").fill("00:00")
    dialog.locator("input[name=end_time]").fill("23:59")
    shots(page, "form")
    dialog.locator("button.save").click()
    # The develop door's lock is a template lock, not a keypad: the panel asks first, and
    # Home Assistant refuses a PIN that no lock of the grant could take, in plain words.
    expect(dialog.locator(".warnings")).to_contain_text("Front door has no keypad")
    dialog.get_by_role("button", name="Save anyway").click()
    expect(dialog.locator("p.error")).to_contain_text("has no keypad that Concierge can program")
    shots(page, "pin-refused-without-keypad")
    # Without a PIN (the door opens by guest link or courier entry) it is saved.
    dialog.locator("input[name=pin_mode][value=none]").check()
    dialog.locator("button.save").click()
    expect(dialog).to_have_count(0)
    row = panel.locator("tr.grant", has_text=LABEL)
    expect(row).to_contain_text("Cleaner")
    expect(row).to_contain_text(f"every Mon, Tue, Wed, Thu, Fri, Sat, Sun, 00:00{DASH}23:59")
    expect(row).to_contain_text("Active")
    shots(page, "grant-listed")
    # The grant is Home Assistant's too: its own entities carry its label.
    states = hass_instance.call("GET", "/api/states")
    named = [s for s in states if LABEL in str(s["attributes"].get("friendly_name", ""))]
    assert named, "no entity of the new grant"


@in_browser_thread
def test_guest_link_opens_on_a_phone(
    admin_page: Page, browser: Browser, hass_instance: RunningHass, shots: Shoot
) -> None:
    page = admin_page
    # Guest links start with the external URL, which develop_seed.py stored (its own port).
    panel = page.locator("concierge-panel")
    panel.locator("tr.grant", has_text=LABEL).get_by_role(
        "button", name="Guest link", exact=True
    ).click()
    dialog = panel.locator(".link-dialog")
    url_box = dialog.locator("input.url")
    expect(url_box).to_have_value(re.compile(rf"^{re.escape(hass_instance.base_url)}/"))
    assert dialog.locator("img.qr").evaluate("img => img.complete && img.naturalWidth") > 100
    shots(page, "guest-link")
    url = url_box.input_value()
    dialog.get_by_role("button", name="Close").click()
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        guest = phone.new_page()
        answer = guest.goto(url)
        assert answer is not None
        assert answer.status == 200
        expect(guest.get_by_role("heading", name="Welcome")).to_be_visible()
        expect(guest.locator("main")).to_contain_text("Front door")
        shots(guest, "guest-page-on-phone")
        guest.get_by_role("button", name="Unlock the door").click()
        expect(guest.locator("main")).to_contain_text("Unlocked")
        shots(guest, "guest-unlocked")
    finally:
        phone.close()
    # The owner sees the guest's visit in the panel's visits.
    panel.get_by_role("button", name="Visits").click()
    visit = panel.locator("li.visit", has_text=LABEL)
    expect(visit).to_contain_text("Front door")
    shots(page, "visit-listed")
    panel.get_by_role("button", name="Grants").click()


@in_browser_thread
def test_german_ui(admin_page: Page, shots: Shoot) -> None:
    page = admin_page
    page.evaluate(
        "document.querySelector('home-assistant')"
        ".dispatchEvent(new CustomEvent('hass-language-select', {detail: 'de'}))"
    )
    panel = page.locator("concierge-panel")
    expect(panel.locator("h1")).to_have_text("Zugang")
    expect(panel.get_by_role("button", name="Neue Berechtigung")).to_be_visible()
    expect(panel.locator("tr.grant", has_text=LABEL)).to_contain_text("Aktiv")
    shots(page, "german")
    page.evaluate(
        "document.querySelector('home-assistant')"
        ".dispatchEvent(new CustomEvent('hass-language-select', {detail: 'en'}))"
    )
    expect(panel.locator("h1")).to_have_text("Access")


@in_browser_thread
def test_revoke_after_confirming(admin_page: Page, shots: Shoot) -> None:
    panel = admin_page.locator("concierge-panel")
    row = panel.locator("tr.grant", has_text=LABEL)
    row.get_by_role("button", name="Revoke").click()
    panel.get_by_role("alertdialog").locator("button.ok").click()
    expect(row).to_contain_text("Revoked")
    shots(admin_page, "revoked")
