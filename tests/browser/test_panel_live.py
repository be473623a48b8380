"""The Access panel in a real Home Assistant, driven in headless Chromium: the README's use
cases, done in the panel only (no YAML, no Developer tools).

One Home Assistant process for the module (the develop configuration in a temporary
directory, stopped afterwards) with two doors: "Front door" (a template lock, no keypad;
the camera) and "Back door" (the Z-Wave rig's keypad lock through Home Assistant's own
zwave_js, see scripts/develop_keypad.py).

1. A cleaner's weekly PIN: refused for the door without a keypad, in plain words; made for
   the keypad door with a generated PIN, shown once with a copy button; the PIN on the
   lock, the grant on Home Assistant's calendar and its state sensor.
2. A courier with a carrier's signed token: the carrier added in the panel, a courier
   grant for it, and "Check a token" saying the door would open.
3. A friend's guest link for the weekend: the link opened on a phone-sized page opens the
   door; the visit in the timeline with the camera's picture, opened full size.
Then the German UI, and revoking (the PIN leaves the lock). Screenshots:
artifacts/browser/<test>/. The tests run in file order and build on each other.
"""

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.request import urlopen
from zoneinfo import ZoneInfo

import jwt
import pytest
import pytest_socket
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from .conftest import ARTIFACTS, in_browser_thread
from .home_assistant import RunningHass, running_hass

pytest.importorskip(
    "hass_frontend", reason="needs Home Assistant's frontend: scripts/setup --develop"
)

# Tests talk to Home Assistant over HTTP on 127.0.0.1 (pytest-socket's guard stays on).
pytestmark = pytest.mark.usefixtures("socket_enabled")

Shoot = Callable[..., Path]
DASH = "\N{EN DASH}"  # the panel writes time ranges with it
CLEANER = "Cleaner Anna"
COURIER = "Parcel Co deliveries"
FRIEND = "Friend Ben"
TIMEOUT_MS = 30_000
KEYPAD_TIMEOUT_MS = 90_000  # a code written to the Z-Wave lock and confirmed
ZONE = ZoneInfo("Europe/Berlin")  # the develop configuration's time zone
CARRIER_KEY = ed25519.Ed25519PrivateKey.generate()
PIN: dict[str, str] = {}  # the cleaner's generated PIN, as the panel showed it once


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
    context = browser.new_context(viewport={"width": 1280, "height": 860}, timezone_id=str(ZONE))
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=instance.base_url)
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


def _lock_codes(instance: RunningHass) -> set[str]:
    """The codes the Z-Wave lock itself holds (the rig's memory, not Home Assistant's)."""
    with urlopen(f"{instance.rig_control}/codes", timeout=10) as answer:  # noqa: S310 - 127.0.0.1
        slots: dict[str, Any] = json.load(answer)
    return {str(slot["code"]) for slot in slots.values() if slot.get("code")}


def _until(what: str, check: Callable[[], bool], timeout: float = 90.0) -> None:
    """Poll until check() holds (a positive outcome only; never to show an absence)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.25)


def _grant_sensor(instance: RunningHass, label: str) -> dict[str, Any]:
    """The grant's state sensor (found by the label it carries)."""
    states = instance.call("GET", "/api/states")
    return next(
        s
        for s in states
        if s["entity_id"].startswith("sensor.") and s["attributes"].get("label") == label
    )


def _site_id(instance: RunningHass) -> str:
    (site,) = instance.bootstrap.entries(instance.tokens["access_token"], "concierge")
    return str(site["entry_id"])


def _new_grant(panel: Locator, label: str, kind: str) -> Locator:
    panel.get_by_role("button", name="New grant").click()
    dialog = panel.locator(".grant-dialog")
    dialog.locator("input[name=label]").fill(label)
    dialog.locator("select[name=kind]").select_option(kind)
    return dialog


def _every_day(dialog: Locator) -> None:
    """Every day, all day: the window is open whenever the test runs."""
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        dialog.locator(f"input[name=weekday][value={day}]").check()
    dialog.locator("input[name=start_time]").fill("00:00")
    dialog.locator("input[name=end_time]").fill("23:59")


def _front_door_for_back_door(dialog: Locator) -> None:
    """Swap the doors after a refusal: the message follows the form, gone once it is complete."""
    dialog.get_by_label("Front door").uncheck()
    expect(dialog.locator("p.error")).to_have_text("Choose at least one door.")
    dialog.get_by_label("Back door").check()
    expect(dialog.locator("p.error")).to_have_count(0)


def test_the_develop_front_door_starts_locked(hass_instance: RunningHass) -> None:
    # The develop instance's stand-in front door starts locked, as a door should.
    assert hass_instance.call("GET", "/api/states/lock.front_door")["state"] == "locked"


@in_browser_thread
def test_cleaner_gets_a_weekly_pin_on_the_keypad_door(
    admin_page: Page, hass_instance: RunningHass, shots: Shoot
) -> None:
    page = admin_page
    expect(page.locator("ha-sidebar")).to_contain_text("Access")
    panel = page.locator("concierge-panel")
    expect(panel.locator("h1")).to_have_text("Access")
    expect(panel.locator("p.empty")).to_have_text("No grants yet.")
    shots(page, "empty-panel")
    dialog = _new_grant(panel, CLEANER, "cleaner")
    dialog.get_by_label("Front door").check()
    _every_day(dialog)
    dialog.locator("button.save").click()
    # The Front door's lock is a template lock, not a keypad: the panel asks first, and
    # Home Assistant refuses a PIN that no lock of the grant could take, in plain words.
    expect(dialog.locator(".warnings")).to_contain_text("Front door has no keypad")
    dialog.get_by_role("button", name="Save anyway").click()
    expect(dialog.locator("p.error")).to_contain_text("has no keypad that Concierge can program")
    shots(page, "pin-refused-without-keypad")
    # The Back door's Z-Wave lock has a keypad: a generated PIN, shown once.
    _front_door_for_back_door(dialog)
    expect(dialog.locator("input[name=pin_mode][value=generate]")).to_be_checked()
    shots(page, "form")
    dialog.locator("button.save").click()
    pin_box = dialog.locator("input.pin-value")
    expect(pin_box).to_have_value(re.compile(r"^\d{4,10}$"))
    expect(dialog).to_contain_text("This PIN is shown only now.")
    pin = pin_box.input_value()
    PIN["cleaner"] = pin
    dialog.get_by_role("button", name="Copy").click()
    expect(dialog.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == pin
    shots(page, "pin-shown-once")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)
    row = panel.locator("tr.grant", has_text=CLEANER)
    expect(row).to_contain_text(f"every Mon, Tue, Wed, Thu, Fri, Sat, Sun, 00:00{DASH}23:59")
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("Back door: on the lock", timeout=KEYPAD_TIMEOUT_MS)
    assert pin not in row.inner_text()  # never again
    shots(page, "pin-on-the-lock")
    # The lock itself holds the PIN.
    _until("the PIN in the Z-Wave lock", lambda: pin in _lock_codes(hass_instance))
    # Home Assistant's own entities: the grant's state sensor and the access calendar.
    sensor = _grant_sensor(hass_instance, CLEANER)
    assert sensor["state"] == "active"
    assert sensor["attributes"]["codes"] == {"Back door": "programmed"}
    assert pin not in json.dumps(sensor)
    now = datetime.now(ZONE)
    span = f"start={now.isoformat()}&end={(now + timedelta(days=1)).isoformat()}"
    events = hass_instance.call(
        "GET", f"/api/calendars/calendar.home_access_windows?{span.replace('+', '%2B')}"
    )
    assert CLEANER in [event["summary"] for event in events]
    page.goto(f"{hass_instance.base_url}/calendar")
    expect(page.locator("ha-full-calendar")).to_contain_text(CLEANER)
    shots(page, "calendar")
    page.goto(f"{hass_instance.base_url}/concierge")
    expect(page.locator("concierge-panel tr.grant", has_text=CLEANER)).to_be_visible()


@in_browser_thread
def test_courier_carrier_added_and_its_token_checked(
    admin_page: Page, hass_instance: RunningHass, shots: Shoot
) -> None:
    page = admin_page
    panel = page.locator("concierge-panel")
    panel.get_by_role("button", name="Carriers").click()
    expect(panel.locator("p.empty")).to_have_text("No carrier is set up for this home.")
    panel.get_by_role("button", name="Add carrier").click()
    dialog = panel.get_by_role("dialog", name="Add a carrier")
    dialog.get_by_label("Name").fill("Parcel Co")
    dialog.get_by_label("Carrier ID (the issuer in its tokens)").fill("parcel-co")
    dialog.get_by_label("Key ID (optional)").fill("pc-2026")
    public = CARRIER_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    dialog.get_by_label("Public key (PEM)").fill(public.decode())
    shots(page, "add-carrier")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0)
    carrier = panel.locator("li.carrier", has_text="Parcel Co")
    expect(carrier.locator("tr.key")).to_contain_text("pc-2026")
    expect(carrier.locator("tr.key")).to_contain_text("EdDSA")
    shots(page, "carrier-listed")
    # A courier grant for this carrier: its signed tokens may open the Front door.
    panel.get_by_role("button", name="Grants").click()
    grant = _new_grant(panel, COURIER, "courier")
    grant.get_by_label("Front door").check()
    _every_day(grant)
    grant.locator("input[name=pin_mode][value=none]").check()
    grant.locator("input[name=guest_link]").uncheck()
    grant.locator("input[name=remote_token]").check()
    grant.locator("input[name=carrier][value=parcel-co]").check()
    shots(page, "courier-grant")
    grant.locator("button.save").click()
    expect(grant).to_have_count(0)
    expect(panel.locator("tr.grant", has_text=COURIER)).to_contain_text("Active")
    # What the courier door would answer to the carrier's token: a check, nothing opens.
    start = int(time.time())
    claims = {"iss": "parcel-co", "aud": _site_id(hass_instance), "sub": "parcel-4711",
              "jti": uuid.uuid4().hex, "nbf": start, "iat": start, "exp": start + 300}  # fmt: skip
    token = jwt.encode(claims, CARRIER_KEY, algorithm="EdDSA", headers={"kid": "pc-2026"})
    panel.get_by_role("button", name="Carriers").click()
    panel.get_by_role("textbox", name="Courier token").fill(token)
    panel.get_by_role("button", name="Check", exact=True).click()
    answer = panel.get_by_role("status")
    expect(answer).to_contain_text("Would open")
    expect(answer).to_contain_text(f"Grant: {COURIER}")
    expect(answer).to_contain_text("Door: Front door")
    expect(answer).to_contain_text("Only a check: no door was opened.")
    shots(page, "token-would-open")
    panel.get_by_role("button", name="Grants").click()


def _weekend_window(dialog: Locator) -> None:
    """From an hour ago until two days from now, in the home's time zone."""
    now = datetime.now(ZONE).replace(second=0, microsecond=0)
    dialog.locator("input[name=window][value=one_off]").check()
    dialog.locator("input[name=start]").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    dialog.locator("input[name=end]").fill((now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))


def _visit_with_picture(panel: Locator, label: str) -> Locator:
    """The visit in the timeline once its camera picture is there (the list is read anew
    each time the tab opens)."""
    visit = panel.locator("li.visit", has_text=label)
    deadline = time.monotonic() + 60
    while True:
        panel.get_by_role("button", name="Visits").click()
        try:
            expect(visit.locator(".evidence img").first).to_be_visible(timeout=5_000)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            panel.get_by_role("button", name="Grants").click()
            continue
        return visit


@in_browser_thread
def test_friend_guest_link_for_the_weekend_opens_on_a_phone(
    admin_page: Page, browser: Browser, hass_instance: RunningHass, shots: Shoot
) -> None:
    page = admin_page
    panel = page.locator("concierge-panel")
    dialog = _new_grant(panel, FRIEND, "guest")
    dialog.get_by_label("Front door").check()
    _weekend_window(dialog)
    dialog.locator("input[name=pin_mode][value=none]").check()
    expect(dialog.locator("input[name=guest_link]")).to_be_checked()
    dialog.locator("button.save").click()
    expect(dialog).to_have_count(0)
    row = panel.locator("tr.grant", has_text=FRIEND)
    expect(row).to_contain_text("Active")
    # Guest links start with the external URL, which develop_seed.py stored (its own port).
    row.get_by_role("button", name="Guest link", exact=True).click()
    link = panel.locator(".link-dialog")
    url_box = link.locator("input.url")
    expect(url_box).to_have_value(re.compile(rf"^{re.escape(hass_instance.base_url)}/"))
    assert link.locator("img.qr").evaluate("img => img.complete && img.naturalWidth") > 100
    shots(page, "guest-link")
    url = url_box.input_value()
    link.get_by_role("button", name="Close").click()
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
        shots(guest, "guest-page-on-phone", full_page=False)
        guest.get_by_role("button", name="Unlock the door").click()
        expect(guest.locator("main")).to_contain_text("Unlocked", timeout=TIMEOUT_MS)
        shots(guest, "guest-unlocked", full_page=False)
    finally:
        phone.close()
    # The owner sees the guest's visit in the timeline, with the camera's picture.
    visit = _visit_with_picture(panel, FRIEND)
    expect(visit).to_contain_text("Front door")
    shots(page, "visit-listed")
    visit.get_by_role("button", name="Show full size").first.click()
    picture = panel.get_by_role("dialog", name=f"Evidence of {FRIEND}")
    full = picture.locator("img.full")
    expect(full).to_be_visible()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=full.element_handle())
    shots(page, "picture-full-size", full_page=False)
    page.keyboard.press("Escape")
    expect(picture).to_have_count(0)
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
    expect(panel.locator("tr.grant", has_text=CLEANER)).to_contain_text("Aktiv")
    expect(panel.locator("tr.grant", has_text=CLEANER)).to_contain_text("Back door: im Schloss")
    shots(page, "german")
    page.evaluate(
        "document.querySelector('home-assistant')"
        ".dispatchEvent(new CustomEvent('hass-language-select', {detail: 'en'}))"
    )
    expect(panel.locator("h1")).to_have_text("Access")


@in_browser_thread
def test_revoke_after_confirming_takes_the_pin_off_the_lock(
    admin_page: Page, hass_instance: RunningHass, shots: Shoot
) -> None:
    panel = admin_page.locator("concierge-panel")
    row = panel.locator("tr.grant", has_text=CLEANER)
    row.get_by_role("button", name="Revoke").click()
    panel.get_by_role("alertdialog").locator("button.ok").click()
    expect(row).to_contain_text("Revoked")
    shots(admin_page, "revoked")
    _until(
        "the PIN gone from the Z-Wave lock",
        lambda: PIN["cleaner"] not in _lock_codes(hass_instance),
    )
    assert _grant_sensor(hass_instance, CLEANER)["state"] == "revoked"
