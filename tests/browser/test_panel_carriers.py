"""The Access panel's carriers and evidence pictures in a real browser, against the stand-in
WebSocket API (harness.js): adding a carrier, rotating and retiring a key (a refused key
says why and changes nothing), a visit's picture full size, and all of it at phone width
(390 by 844: nothing wider than the screen). Screenshots: artifacts/browser/<test>/.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import in_browser_thread, mount, open_harness

Shoot = Callable[..., Path]
PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
"""
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A harness page, opened and closed in the browser's thread."""
    page = in_browser_thread(open_harness)(browser)
    yield page
    in_browser_thread(page.close)()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A harness page at a phone's width."""
    page = in_browser_thread(open_harness)(browser, **PHONE)
    yield page
    in_browser_thread(page.close)()


def _sent(page: Page, kind: str) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = page.evaluate(
        "kind => panel.hass.calls.filter(c => c.type === `concierge/carriers/${kind}`)", kind
    )
    return calls


def _fits(page: Page) -> None:
    """Nothing on the page is wider than the screen (no sideways scrolling)."""
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@in_browser_thread
def test_add_a_carrier_a_bad_key_is_refused_with_the_reason(page: Page, shots: Shoot) -> None:
    mount(page, count=1)
    page.get_by_role("button", name="Carriers").click()
    page.get_by_role("button", name="Add carrier").click()
    dialog = page.get_by_role("dialog", name="Add a carrier")
    dialog.get_by_label("Name").fill("Rapid Post")
    dialog.get_by_label("Carrier ID (the issuer in its tokens)").fill("rapid")
    dialog.get_by_label("Key ID (optional)").fill("rapid-2026")
    dialog.get_by_label("Public key (PEM)").fill(PUBLIC_KEY.replace("MCow", "weak"))
    shots(page, "form")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("anyone could sign tokens with it")
    expect(page.locator("li.carrier")).to_have_count(2)  # nothing added
    expect(dialog.get_by_label("Name")).to_have_value("Rapid Post")  # the form is kept
    shots(page, "weak-key-refused")
    dialog.get_by_label("Public key (PEM)").fill(PUBLIC_KEY)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    rapid = page.locator("li.carrier", has_text="Rapid Post")
    expect(rapid.locator("tr.key")).to_contain_text("rapid-2026")
    shots(page, "added")
    (sent, added) = _sent(page, "add")
    assert added == {
        "type": "concierge/carriers/add",
        "site_id": "site1",
        "name": "Rapid Post",
        "carrier_id": "rapid",
        "kid": "rapid-2026",
        "public_key": PUBLIC_KEY.strip(),
    }
    assert sent["public_key"] != added["public_key"]
    # The grant form's carrier choices know it now (the panel read the site again).
    sites = page.evaluate("panel.hass.calls.filter(c => c.type === 'concierge/sites').length")
    assert sites == 2


@in_browser_thread
def test_rotate_a_key_then_retire_the_old_one_after_confirming(page: Page, shots: Shoot) -> None:
    mount(page, count=1)
    page.get_by_role("button", name="Carriers").click()
    dhl = page.locator("li.carrier", has_text="DHL")
    expect(dhl.locator("tr.key")).to_have_count(1)
    expect(dhl.get_by_role("button", name="Retire")).to_have_count(0)  # never the last key
    dhl.get_by_role("button", name="Rotate key").click()
    dialog = page.get_by_role("dialog", name="New key for DHL")
    expect(dialog).to_contain_text("Both keys open during a rotation.")
    dialog.get_by_label("Key ID (optional)").fill("dhl-2026")
    dialog.get_by_label("Public key (PEM)").fill(PUBLIC_KEY)
    shots(page, "rotate")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(dhl.locator("tr.key")).to_have_count(2)
    shots(page, "two-keys")
    # The same key id again: the backend's words, the keys unchanged.
    dhl.get_by_role("button", name="Rotate key").click()
    dialog.get_by_label("Key ID (optional)").fill("dhl-2026")
    dialog.get_by_label("Public key (PEM)").fill(PUBLIC_KEY)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        'The carrier already has a key with the ID "dhl-2026".'
    )
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    expect(dhl.locator("tr.key")).to_have_count(2)
    # Retiring the old key asks first; cancelling keeps it.
    old = dhl.locator("tr.key", has_text="dhl-2025")
    old.get_by_role("button", name="Retire").click()
    confirm = page.get_by_role("alertdialog")
    expect(confirm).to_contain_text("Tokens signed with it no longer open the door.")
    confirm.get_by_role("button", name="Cancel").click()
    assert _sent(page, "retire_key") == []
    old.get_by_role("button", name="Retire").click()
    shots(page, "confirm-retire")
    page.get_by_role("alertdialog").locator("button.ok").click()
    expect(dhl.locator("tr.key")).to_have_count(1)
    expect(dhl.locator("tr.key")).to_contain_text("dhl-2026")
    retire = {"type": "concierge/carriers/retire_key", "site_id": "site1", "carrier_id": "dhl"}
    assert _sent(page, "retire_key") == [retire | {"kid": "dhl-2025"}]
    shots(page, "retired")


@in_browser_thread
def test_rotate_and_retire_the_old_key_in_one_step(page: Page) -> None:
    mount(page, count=1)
    page.get_by_role("button", name="Carriers").click()
    dhl = page.locator("li.carrier", has_text="DHL")
    dhl.get_by_role("button", name="Rotate key").click()
    dialog = page.get_by_role("dialog", name="New key for DHL")
    dialog.get_by_label("Public key (PEM)").fill(PUBLIC_KEY)
    dialog.get_by_label("Retire an old key now").select_option("dhl-2025")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    expect(dhl.locator("tr.key")).to_have_count(1)
    expect(dhl.locator("tr.key")).not_to_contain_text("dhl-2025")
    (sent,) = _sent(page, "rotate_key")
    assert sent["retire_kid"] == "dhl-2025"
    assert "kid" not in sent  # empty: the backend names the key by its fingerprint


@in_browser_thread
def test_a_visits_picture_opens_full_size_and_closes(page: Page, shots: Shoot) -> None:
    mount(page, count=1)
    page.get_by_role("button", name="Visits").click()
    page.locator("li.visit").get_by_role("button", name="Show full size").click()
    picture = page.get_by_role("dialog", name="Evidence of Grant 1")
    full = picture.locator("img.full")
    expect(full).to_be_visible()
    assert full.evaluate("img => img.complete && img.naturalWidth") == 640
    assert full.evaluate("img => img.getBoundingClientRect().width") > 600
    shots(page, "full-size")
    page.keyboard.press("Escape")
    expect(picture).to_have_count(0)
    page.locator("li.visit").get_by_role("button", name="Show full size").click()
    picture.get_by_role("button", name="Close").click()
    expect(picture).to_have_count(0)


@in_browser_thread
def test_carriers_dialogs_and_pictures_fit_a_phone(phone: Page, shots: Shoot) -> None:
    mount(phone, count=3)
    phone.get_by_role("button", name="Carriers").click()
    expect(phone.locator("li.carrier")).to_have_count(2)
    _fits(phone)
    shots(phone, "phone-carriers", full_page=False)
    phone.get_by_role("button", name="Add carrier").click()
    dialog = phone.get_by_role("dialog", name="Add a carrier")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    _fits(phone)
    shots(phone, "phone-add-carrier", full_page=False)
    dialog.get_by_role("button", name="Cancel").click()
    phone.locator("li.carrier", has_text="DHL").get_by_role("button", name="Rotate key").click()
    expect(phone.get_by_role("dialog", name="New key for DHL")).to_be_visible()
    _fits(phone)
    shots(phone, "phone-rotate", full_page=False)
    phone.keyboard.press("Escape")
    phone.get_by_role("button", name="Visits").click()
    phone.locator("li.visit").get_by_role("button", name="Show full size").click()
    full = phone.get_by_role("dialog", name="Evidence of Grant 1").locator("img.full")
    expect(full).to_be_visible()
    width = full.evaluate("img => img.getBoundingClientRect().right")
    assert width <= PHONE["width"]
    _fits(phone)
    shots(phone, "phone-picture", full_page=False)
