"""The Access panel in a real browser, against an in-memory stand-in of the WebSocket API.

Fast checks of what a user sees and does: the live grants list and its search, the
create dialog (weekly window, generated PIN shown once, warnings to confirm), suspend and
revoke with confirmation, a guest link with its QR code, a grant's guest links and revoking
one, visits with the audit check and a visit's export, the carriers tab with "Check a token",
German, phone width.
The same panel against a real Home Assistant: test_panel_live.py.
"""

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import in_browser_thread, mount, open_harness

Shoot = Callable[..., Path]
DASH = "\N{EN DASH}"  # the panel writes time ranges with it


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A harness page, opened and closed in the browser's thread."""
    page = in_browser_thread(open_harness)(browser)
    yield page
    in_browser_thread(page.close)()


@in_browser_thread
def test_grants_list_shows_each_grant_and_filters_by_search(page: Page, shots: Shoot) -> None:
    mount(page, count=12)
    rows = page.locator("tr.grant")
    expect(rows).to_have_count(12)
    first = rows.first
    expect(first).to_contain_text("Grant 0")
    expect(first).to_contain_text("Front door: on the lock")
    expect(first).to_contain_text(f"every Mon, Thu, 09:00{DASH}12:00")
    expect(first).to_contain_text("next ")
    shots(page, "list")
    page.locator("input.search").fill("grant 11")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grant 11")
    page.locator("input.search").fill("nobody")
    expect(page.locator("p.empty")).to_have_text("No grant matches the search.")


@in_browser_thread
def test_create_weekly_grant_with_generated_pin_warns_and_shows_pin_once(
    page: Page, shots: Shoot
) -> None:
    mount(page, count=1)
    expect(page.locator("tr.grant")).to_have_count(1)
    page.get_by_role("button", name="New grant").click()
    dialog = page.locator(".grant-dialog")
    dialog.locator("button.save").click()
    expect(dialog.get_by_role("alert")).to_have_text("Give the grant a label.")
    # The message follows the form: what is still missing, then nothing once it is complete.
    dialog.locator("input[name=label]").fill("Cleaner Anna")
    expect(dialog.get_by_role("alert")).to_have_text("Choose at least one door.")
    dialog.locator("select[name=kind]").select_option("cleaner")
    dialog.locator("input[name=portal][value=front]").check()
    dialog.locator("input[name=portal][value=garage]").check()
    dialog.locator("input[name=weekday][value=tue]").check()
    dialog.locator("input[name=weekday][value=fri]").check()
    dialog.locator("input[name=start_time]").fill("08:30")
    dialog.locator("input[name=end_time]").fill("11:00")
    expect(dialog.get_by_role("alert")).to_have_count(0)
    shots(page, "form")
    dialog.locator("button.save").click()
    # The garage's lock has no keypad: asked before anything is saved.
    expect(dialog.locator(".warnings")).to_contain_text(
        "The lock of Garage has no keypad: the PIN cannot open it."
    )
    assert page.evaluate("panel.hass.calls.filter(c => c.type.endsWith('/create')).length") == 0
    shots(page, "warning")
    dialog.get_by_role("button", name="Save anyway").click()
    expect(dialog.locator("input.pin-value")).to_have_value("482913")
    expect(dialog).to_contain_text("This PIN is shown only now.")
    shots(page, "pin")
    sent = page.evaluate("panel.hass.calls.find(c => c.type === 'concierge/grants/create')")
    assert sent["weekdays"] == ["tue", "fri"]
    assert (sent["start_time"], sent["end_time"]) == ("08:30", "11:00")
    assert sent["generate_pin"] is True
    assert "pin" not in sent
    assert sent["portals"] == ["front", "garage"]
    dialog.get_by_role("button", name="Close").click()
    row = page.locator("tr.grant", has_text="Cleaner Anna")
    expect(row).to_contain_text("Front door: pending")
    expect(row).to_contain_text("Garage: not a keypad")
    expect(row).to_contain_text(f"every Tue, Fri, 08:30{DASH}11:00")


@in_browser_thread
def test_a_refused_save_shows_the_backends_message_and_keeps_the_form(page: Page) -> None:
    mount(page, count=0)
    expect(page.locator("p.empty")).to_have_text("No grants yet.")
    page.get_by_role("button", name="New grant").click()
    dialog = page.locator(".grant-dialog")
    dialog.locator("input[name=label]").fill("boom")
    dialog.locator("input[name=portal][value=front]").check()
    dialog.locator("input[name=weekday][value=mon]").check()
    dialog.locator("input[name=pin_mode][value=none]").check()
    dialog.locator("button.save").click()
    expect(dialog.get_by_role("alert")).to_have_text("The end is before the start.")
    dialog.locator("input[name=pin_mode][value=typed]").check()
    # The backend's message was about the form as it was: it goes with the change, and
    # what is wrong now (no PIN typed yet) takes its place.
    expect(dialog.get_by_role("alert")).to_have_text("A PIN has 4 to 10 digits.")
    dialog.locator("input[name=pin]").fill("12")
    dialog.locator("button.save").click()
    expect(dialog.get_by_role("alert")).to_have_text("A PIN has 4 to 10 digits.")
    dialog.locator("input[name=pin]").fill("1111")
    dialog.locator("button.save").click()
    expect(dialog.locator(".warnings")).to_contain_text("Another grant already uses this PIN")
    expect(dialog.locator("input[name=label]")).to_have_value("boom")
    expect(page.locator("tr.grant")).to_have_count(0)


@in_browser_thread
def test_suspend_and_revoke_ask_first(page: Page, shots: Shoot) -> None:
    mount(page, count=2)
    row = page.locator("tr.grant", has_text="Grant 1")
    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Revoke “Grant 1” for good?")
    shots(page, "confirm-revoke")
    page.get_by_role("alertdialog").get_by_role("button", name="Cancel").click()
    expect(row).to_contain_text("Scheduled")
    row.get_by_role("button", name="Suspend").click()
    page.get_by_role("alertdialog").locator("button.ok").click()
    expect(row).to_contain_text("Suspended")
    expect(row.get_by_role("button", name="Resume")).to_be_visible()
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("alertdialog").locator("button.ok").click()
    expect(row).to_contain_text("Revoked")
    expect(row.get_by_role("button")).to_have_count(0)


@in_browser_thread
def test_guest_link_shows_url_qr_code_and_share(page: Page, shots: Shoot) -> None:
    page.add_init_script("navigator.share = async (data) => { window.shared = data; };")
    page.reload()
    page.wait_for_function("window.harnessReady === true")
    mount(page, count=1)
    page.locator("tr.grant").get_by_role("button", name="Guest link", exact=True).click()
    dialog = page.locator(".link-dialog")
    expect(dialog.locator("input.url")).to_have_value(
        "http://panel.test/api/concierge/guest/g0000-token"
    )
    qr = dialog.locator("img.qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth") > 100
    shots(page, "guest-link")
    dialog.get_by_role("button", name="Share").click()
    shared = page.evaluate("window.shared")
    assert shared["url"] == "http://panel.test/api/concierge/guest/g0000-token"
    assert shared["text"] == "Your guest link for Grant 0"


@in_browser_thread
def test_visits_list_shows_who_door_outcome_and_evidence(page: Page, shots: Shoot) -> None:
    mount(page, count=1)
    page.get_by_role("button", name="Visits").click()
    visit = page.locator("li.visit")
    expect(visit).to_contain_text("Grant 1")
    expect(visit).to_contain_text("Front door")
    expect(visit).to_contain_text("completed")
    expect(visit.locator(".evidence img")).to_have_attribute("src", re.compile(r"^data:image/svg"))
    shots(page, "visits")


@in_browser_thread
def test_guest_links_list_and_revoke_one_after_confirming(page: Page, shots: Shoot) -> None:
    mount(page, count=1)
    page.locator("tr.grant").get_by_role("button", name="Guest links").click()
    dialog = page.locator(".guest-links")
    links = dialog.locator("li.link")
    expect(links).to_have_count(2)
    expect(dialog.locator("li.link.expired")).to_contain_text("expired")
    expect(dialog.locator("li.link.expired").get_by_role("button")).to_have_count(0)
    live = dialog.locator("li.link.active")
    expect(live).to_contain_text("valid until ")
    shots(page, "links")
    live.get_by_role("button", name="Revoke").click()
    expect(dialog.get_by_role("alertdialog")).to_contain_text(
        "Whoever has it can no longer open the door."
    )
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog.locator("li.link.active")).to_have_count(1)
    revokes = "panel.hass.calls.filter(c => c.type.endsWith('guest_links/revoke')).length"
    assert page.evaluate(revokes) == 0
    dialog.locator("li.link.active").get_by_role("button", name="Revoke").click()
    shots(page, "confirm")
    dialog.get_by_role("alertdialog").locator("button.ok").click()
    expect(dialog.locator("li.link.revoked")).to_contain_text("revoked")
    expect(dialog.locator("li.link.active")).to_have_count(0)
    sent = page.evaluate("panel.hass.calls.find(c => c.type === 'concierge/guest_links/revoke')")
    assert sent == {"type": "concierge/guest_links/revoke", "site_id": "site1", "link_id": "l-live"}
    shots(page, "revoked")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)


@in_browser_thread
def test_carriers_tab_shows_keys_and_checks_a_token_without_opening(
    page: Page, shots: Shoot
) -> None:
    mount(page, count=1)
    page.get_by_role("button", name="Carriers").click()
    dhl = page.locator("li.carrier", has_text="DHL")
    expect(dhl.locator("tr.key")).to_contain_text("dhl-2025")
    expect(dhl.locator("tr.key")).to_contain_text("EdDSA")
    expect(dhl.locator("tr.key")).to_contain_text("SHA256:4f:1a:9c:07:e2")
    expect(page.locator("li.carrier", has_text="UPS")).to_contain_text("No keys yet.")
    token = page.get_by_role("textbox", name="Courier token")
    token.fill("good.eyJ.sig")
    page.get_by_role("button", name="Check", exact=True).click()
    answer = page.get_by_role("status")
    expect(answer).to_contain_text("Would open")
    expect(answer).to_contain_text("The token is valid: the door would open.")
    expect(answer).to_contain_text("Grant: Grant 0")
    expect(answer).to_contain_text("Door: Front door")
    expect(answer).to_contain_text("Only a check: no door was opened.")
    shots(page, "would-open")
    token.fill("late.eyJ.sig")
    page.get_by_role("button", name="Check", exact=True).click()
    expect(answer).to_contain_text("Would be refused")
    expect(answer).to_contain_text("answer 403")
    expect(answer).to_contain_text("The grant is not open at this time.")
    expect(answer).to_contain_text("Only a check: no door was opened.")
    shots(page, "refused")
    checks = page.evaluate("panel.hass.calls.filter(c => c.type === 'concierge/tokens/check')")
    assert [c["token"] for c in checks] == ["good.eyJ.sig", "late.eyJ.sig"]


@in_browser_thread
def test_visits_verify_the_audit_log_and_export_a_visit(page: Page, shots: Shoot) -> None:
    mount(page, count=1)
    page.get_by_role("button", name="Visits").click()
    page.get_by_role("button", name="Verify the audit log").click()
    expect(page.get_by_role("status")).to_have_text(
        "✓ The audit log is intact (128 records checked)."
    )
    with page.expect_download() as info:
        page.locator("li.visit").get_by_role("button", name="Export").click()
    download = info.value
    assert download.suggested_filename == "concierge-visit-v1.json"
    bundle = json.loads(Path(download.path()).read_text())
    assert bundle["visit"]["visit_id"] == "v1"
    assert bundle["records"] == [{"seq": 7, "type": "granted"}]
    shots(page, "verified")
    # A log that was tampered with says what is wrong.
    page.evaluate("document.body.innerHTML = ''")
    mount(page, count=1, auditBroken=True)
    page.get_by_role("button", name="Visits").click()
    page.get_by_role("button", name="Verify the audit log").click()
    expect(page.get_by_role("alert")).to_have_text(
        "✗ The audit log is not intact: a record was altered (after 41 good records)."
    )
    shots(page, "tampered")


@in_browser_thread
def test_german_texts_follow_the_users_language(page: Page, shots: Shoot) -> None:
    mount(page, count=3, language="de")
    expect(page.locator("h1")).to_have_text("Zugang")
    expect(page.get_by_role("button", name="Neue Berechtigung")).to_be_visible()
    expect(page.get_by_role("button", name="Zusteller")).to_be_visible()
    expect(page.locator("tr.grant").first).to_contain_text("Front door: im Schloss")
    expect(page.locator("tr.grant").first).to_contain_text(f"jeden Mo, Do, 09:00{DASH}12:00")
    shots(page, "german")
    # Switching the language re-renders in place.
    page.evaluate("panel.hass = { ...panel.hass, language: 'en' }")
    expect(page.locator("h1")).to_have_text("Access")


@in_browser_thread
def test_fits_a_phone(browser: Browser, shots: Shoot) -> None:
    page = open_harness(browser, width=390, height=844)
    try:
        mount(page, count=5)
        expect(page.locator("tr.grant")).to_have_count(5)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shots(page, "phone-list", full_page=False)
        page.get_by_role("button", name="New grant").click()
        expect(page.locator(".grant-dialog")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shots(page, "phone-dialog", full_page=False)
    finally:
        page.close()
