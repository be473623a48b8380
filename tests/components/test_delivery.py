"""In-home delivery through a plain Home Assistant lock: the whole flow, end to end.

Real pieces: Home Assistant's `manual` alarm panel (code required), a `local_file`
camera, template locks, HTTP through Home Assistant's own server. The carrier is the
test, signing tokens with its own key.
"""

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.alarm_control_panel.const import DATA_COMPONENT as ALARM_COMPONENT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.rate_limit import RateLimiter
from custom_components.concierge.evidence_files import path_for_ref
from tests.waiting import until

from .delivery_helpers import (
    ALARM,
    CAMERA,
    EXTERNAL_URL,
    PETS,
    Carrier,
    add_site,
    courier_url,
    guest_url,
    said,
    setup_house,
    site_data,
    site_options,
    window,
)
from .helpers import at, call, entity_id, move_to

NOW = "2026-11-24 10:00"


@pytest.fixture
async def house(hass: HomeAssistant, tmp_path: Path, real_locks: None) -> None:
    """The alarm armed away, the porch camera, pets away."""
    await setup_house(hass, tmp_path)


@pytest.fixture
async def home(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, house: None, carrier: Carrier
) -> MockConfigEntry:
    """A site with the front door (lock, contact, camera) and the alarm linked."""
    await move_to(hass, freezer, at(NOW))
    return await add_site(
        hass,
        site_data("lock.front_door", "binary_sensor.front_door_contact", [CAMERA]),
        site_options(),
        carrier,
    )


async def courier_grant(hass: HomeAssistant, **extra: Any) -> str:
    start, end = window(at(NOW))
    response = await call(
        hass, "create_grant", label="Parcel Co", kind="courier", start=start, end=end,
        remote_token=True, **extra,
    )  # fmt: skip
    return str(response["grant_id"])


def door(hass: HomeAssistant, state: str) -> None:
    hass.states.async_set("binary_sensor.front_door_contact", state, {"device_class": "door"})


async def deliver(
    hass: HomeAssistant, client: Any, entry: MockConfigEntry, token: str
) -> tuple[int, dict[str, Any]]:
    response = await client.post(courier_url(entry), json={"token": token})
    body = await response.json()
    await hass.async_block_till_done()
    return response.status, body


def visit_events(events: list[dict[str, Any]], visit: str) -> list[str]:
    return [e["type"] for e in events if e["visit"] == visit]


async def test_courier_delivery_end_to_end(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    home: MockConfigEntry,
    carrier: Carrier,
    access_events: list[dict[str, Any]],
) -> None:
    await courier_grant(hass)
    client = await hass_client_no_auth()
    status, body = await deliver(hass, client, home, carrier.token(home.entry_id, now=at(NOW)))
    assert status == 200, body
    visit = body["visit"]
    # Disarmed (verified on the panel), evidence started, then unlocked.
    assert hass.states.get(ALARM).state == "disarmed"
    assert hass.states.get("lock.front_door").state == "unlocked"
    assert visit_events(access_events, visit)[:6] == [
        "access_requested", "alarm_disarmed", "access_granted", "evidence_captured",
        "unlocked", "visit_started",
    ]  # fmt: skip

    await move_to(hass, freezer, at("2026-11-24 10:00:40"))
    door(hass, "on")
    await hass.async_block_till_done()
    await move_to(hass, freezer, at("2026-11-24 10:01:30"))
    door(hass, "off")
    await hass.async_block_till_done()

    # Locked (verified), re-armed to the mode it was in, completed.
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"
    timeline = visit_events(access_events, visit)
    tail = [t for t in timeline if t != "evidence_captured"]
    assert tail[-6:] == [
        "visit_started", "door_opened", "door_closed", "locked", "alarm_rearmed",
        "visit_completed",
    ]  # fmt: skip

    # Evidence: every picture is a file under the media folder whose hash is in the chain.
    bundle = await call(hass, "export_visit", visit_id=visit)
    assert bundle["verified"]["ok"] is True
    refs = [ev for r in bundle["records"] for ev in r["event"]["evidence"]]
    assert len(refs) >= 2  # the first picture and the one at the end
    for ref in refs:
        path = path_for_ref(hass, ref["ref"])
        assert path is not None
        content = await hass.async_add_executor_job(path.read_bytes)
        assert hashlib.sha256(content).hexdigest() == ref["sha256"]

    # The owner hears about it, and the door's "last visit" image shows the picture.
    assert await _notification_text(hass, "Parcel Co")
    image = entity_id(hass, home, "front_last_visit", "image")
    assert hass.states.get(image).state not in {"unknown", "unavailable"}
    # Nothing secret reaches the bus.
    assert "4711" not in said(access_events)


async def _notification_text(hass: HomeAssistant, needle: str) -> bool:
    from homeassistant.components import persistent_notification  # noqa: PLC0415

    notifications = persistent_notification._async_get_or_create_notifications(hass)
    return any(needle in n["message"] for n in notifications.values())


async def test_alarm_that_will_not_disarm_denies_and_unlocks_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    house: None,
    carrier: Carrier,
    hass_client_no_auth: ClientSessionGenerator,
    access_events: list[dict[str, Any]],
) -> None:
    await move_to(hass, freezer, at(NOW))
    entry = await add_site(
        hass,
        site_data("lock.front_door", "binary_sensor.front_door_contact", [CAMERA]),
        site_options(alarm_code="0000"),  # the owner's code for Concierge is wrong
        carrier,
    )
    await courier_grant(hass)
    client = await hass_client_no_auth()
    status, body = await deliver(hass, client, entry, carrier.token(entry.entry_id, now=at(NOW)))
    assert (status, body["error"]) == (403, "alarm_not_disarmed")
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"
    assert [e["type"] for e in access_events[-3:]] == [
        "access_requested", "alarm_failure", "access_denied",
    ]  # fmt: skip
    assert access_events[-1]["reason"] == "alarm_not_disarmed"


@pytest.mark.parametrize(
    ("policy", "setup", "reason"),
    [
        ({"refuse_when_pets_home": True}, "pets", "pets_home"),
        ({"require_camera": True}, "camera_off", "camera_unavailable"),
    ],
)
async def test_policy_refusals(
    hass: HomeAssistant,
    home: MockConfigEntry,
    carrier: Carrier,
    hass_client_no_auth: ClientSessionGenerator,
    policy: dict[str, bool],
    setup: str,
    reason: str,
) -> None:
    await courier_grant(hass, **policy)
    if setup == "pets":
        hass.states.async_set(PETS, "on", {"device_class": "presence"})
    else:
        hass.states.async_set(CAMERA, "unavailable")
    client = await hass_client_no_auth()
    status, body = await deliver(hass, client, home, carrier.token(home.entry_id, now=at(NOW)))
    assert (status, body.get("error")) == (403, reason), body
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"


async def test_door_never_opened_relocks_and_rearms(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    grant = await courier_grant(hass)
    visit = (await call(hass, "start_visit", grant_id=grant, portal="front"))["visit_id"]
    assert hass.states.get("lock.front_door").state == "unlocked"
    await move_to(hass, freezer, at("2026-11-24 10:02:01"))  # door_open_timeout: 120 s
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"
    assert visit_events(access_events, visit)[-1] == "visit_aborted"
    assert access_events[-1]["reason"] == "door_not_opened"


async def test_door_held_open_arms_without_that_door_and_locks_when_it_closes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    grant = await courier_grant(hass)
    visit = (await call(hass, "start_visit", grant_id=grant, portal="front"))["visit_id"]
    door(hass, "on")
    await hass.async_block_till_done()
    await move_to(hass, freezer, at("2026-11-24 10:05:01"))  # door_held_open: 300 s
    # Never left disarmed: armed in the fallback mode that does not rely on this door.
    assert hass.states.get(ALARM).state == "armed_home"
    events = visit_events(access_events, visit)
    assert "safety_alert" in events
    assert events[-1] == "visit_aborted"
    assert await _notification_text(hass, "open too long")
    door(hass, "off")
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "locked"
    assert access_events[-1]["type"] == "locked"


async def test_lock_jam_alerts_and_arms_the_fallback(
    hass: HomeAssistant, home: MockConfigEntry, access_events: list[dict[str, Any]]
) -> None:
    grant = await courier_grant(hass)
    visit = (await call(hass, "start_visit", grant_id=grant, portal="front"))["visit_id"]
    door(hass, "on")
    await hass.async_block_till_done()
    hass.services.async_remove("input_boolean", "turn_on")  # the bolt's motor dies
    door(hass, "off")
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "unlocked"
    assert hass.states.get(ALARM).state == "armed_home"
    events = [e for e in visit_events(access_events, visit) if e != "evidence_captured"]
    assert events[-4:] == ["lock_failure", "safety_alert", "alarm_rearmed", "visit_aborted"]
    assert await _notification_text(hass, "did not lock")


async def test_camera_lost_mid_visit_sounds_the_alarm_when_the_grant_requires_a_camera(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    grant = await courier_grant(hass, require_camera=True)
    visit = (await call(hass, "start_visit", grant_id=grant, portal="front"))["visit_id"]
    hass.states.async_set(CAMERA, "unavailable")
    await move_to(hass, freezer, at("2026-11-24 10:00:30"))
    await until(lambda: hass.states.get(ALARM).state == "triggered")
    assert "safety_alert" in visit_events(access_events, visit)
    assert any(e["reason"] == "camera_lost" for e in access_events)
    assert hass.states.get(ALARM).state == "triggered"


async def test_restart_mid_visit_locks_rearms_and_records_it(
    hass: HomeAssistant,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    grant = await courier_grant(hass)
    visit = (await call(hass, "start_visit", grant_id=grant, portal="front"))["visit_id"]
    assert hass.states.get(ALARM).state == "disarmed"
    # Home Assistant stops in the middle of the visit...
    assert await hass.config_entries.async_unload(home.entry_id)
    # ...and starts again.
    assert await hass.config_entries.async_setup(home.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"
    events = visit_events(access_events, visit)
    assert events[-1] == "visit_aborted"
    stored = home.runtime_data.visit(visit)
    assert stored.abort_reason == "interrupted"
    assert (await call(hass, "verify_audit_log"))["ok"] is True


async def test_guest_link_opens_the_door_until_revoked(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    access_events: list[dict[str, Any]],
) -> None:
    start, end = window(at(NOW))
    grant = (
        await call(
            hass,
            "create_grant",
            label="Aunt Ida",
            kind="guest",
            start=start,
            end=end,
            guest_link=True,
        )
    )["grant_id"]
    link = await call(hass, "create_guest_link", grant_id=grant)
    url, token = link["url"].split("#")
    assert url == f"{EXTERNAL_URL}{guest_url(home)}"
    client = await hass_client_no_auth()
    page = await client.get(guest_url(home))
    assert page.status == 200
    assert "Unlock the door" in await page.text()
    assert token not in await page.text()

    response = await client.post(guest_url(home), json={"token": token})
    assert response.status == 200, await response.text()
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "unlocked"
    visit = (await response.json())["visit"]
    await call(hass, "end_visit", visit_id=visit)
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"

    await call(hass, "revoke_guest_link", link_id=link["link_id"])
    await move_to(hass, freezer, at("2026-11-24 10:10"))
    response = await client.post(guest_url(home), json={"token": token})
    assert response.status == 403
    assert (await response.json())["error"] == "link_revoked"
    assert hass.states.get("lock.front_door").state == "locked"


async def test_guest_link_needs_a_guest_link_grant(
    hass: HomeAssistant, home: MockConfigEntry
) -> None:
    grant = await courier_grant(hass)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "create_guest_link", grant_id=grant)
    assert getattr(err.value, "translation_key", None) == "guest_link_not_allowed"


async def test_unknown_site_is_not_found(
    hass: HomeAssistant, home: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator
) -> None:
    client = await hass_client_no_auth()
    response = await client.post("/api/concierge/nope/courier", json={"token": "x"})
    assert response.status == 404
    assert DOMAIN in hass.config.components


async def test_panel_that_reports_success_without_disarming_denies(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    real_locks: None,
    carrier: Carrier,
    hass_client_no_auth: ClientSessionGenerator,
    access_events: list[dict[str, Any]],
) -> None:
    """A panel whose disarm action "succeeds" but whose state stays armed (a cloud panel
    that is offline, say): Concierge waits for `disarmed`, gives up, unlocks nothing.
    """
    liar = MockConfigEntry(
        domain="template",
        title="Liar",
        options={
            "template_type": "alarm_control_panel",
            "name": "Liar",
            "state": "armed_away",
            "code_arm_required": False,
            "disarm": [{"event": "liar_disarm_requested"}],
        },
    )
    liar.add_to_hass(hass)
    assert await hass.config_entries.async_setup(liar.entry_id)
    await hass.async_block_till_done()
    await move_to(hass, freezer, at(NOW))
    entry = await add_site(
        hass,
        site_data("lock.front_door", "binary_sensor.front_door_contact", []),
        site_options(alarm_panel="alarm_control_panel.liar", alarm_code=None, alarm_timeout=5),
        carrier,
    )
    await courier_grant(hass)
    client = await hass_client_no_auth()
    request = hass.async_create_task(
        deliver(hass, client, entry, carrier.token(entry.entry_id, now=at(NOW)))
    )
    await until(lambda: any(e["type"] == "access_requested" for e in access_events))
    await move_to(hass, freezer, at("2026-11-24 10:00:06"))
    status, body = await request
    assert hass.states.get("alarm_control_panel.liar").state == "armed_away"
    assert (status, body["error"]) == (403, "alarm_not_disarmed")
    assert hass.states.get("lock.front_door").state == "locked"
    failure = next(e for e in access_events if e["type"] == "alarm_failure")
    assert failure["reason"] == "disarm_timeout"


async def test_visit_longer_than_allowed_is_ended_and_the_owner_told(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    grant = await courier_grant(hass, max_visit_minutes=1)
    visit = (await call(hass, "start_visit", grant_id=grant, portal="front"))["visit_id"]
    door(hass, "on")
    await hass.async_block_till_done()
    await move_to(hass, freezer, at("2026-11-24 10:01:01"))
    # Still open: alerted, armed without relying on this door, locked once it closes.
    assert hass.states.get(ALARM).state == "armed_home"
    assert await _notification_text(hass, "longer than its grant allows")
    ended = [e for e in access_events if e["visit"] == visit][-1]
    assert (ended["type"], ended["reason"]) == ("visit_aborted", "visit_too_long")
    door(hass, "off")
    await hass.async_block_till_done()
    assert hass.states.get("lock.front_door").state == "locked"


async def test_requests_are_rate_limited_per_carrier(
    hass: HomeAssistant,
    home: MockConfigEntry,
    carrier: Carrier,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A carrier's valid tokens meet the carrier's own limit, wherever they come from."""
    await courier_grant(hass)
    # Requests from many addresses: no per-client limit applies (tests share one address).
    home.runtime_data.gate.clients = RateLimiter(capacity=1000)
    client = await hass_client_no_auth()
    answers = []
    for _ in range(7):
        token = carrier.token(home.entry_id, now=at(NOW))
        response = await client.post(courier_url(home), json={"token": token})
        answers.append(response.status)
        if response.status == 200:
            await call(hass, "end_visit", visit_id=(await response.json())["visit"])
    assert answers == [200] * 5 + [429, 429]
    assert hass.states.get("lock.front_door").state == "locked"


def _recorded(
    seen: list[str], command: Callable[..., Awaitable[None]]
) -> Callable[..., Awaitable[None]]:
    """`command`, noting each call in `seen` (by name) before carrying it out."""

    async def _command(code: str | None = None) -> None:
        seen.append(getattr(command, "__name__", "?"))
        await command(code)

    return _command


async def test_alarm_armed_by_hand_during_the_visit_is_not_armed_twice(
    hass: HomeAssistant,
    home: MockConfigEntry,
    access_events: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grant = await courier_grant(hass)
    visit = (await call(hass, "start_visit", grant_id=grant, portal="front"))["visit_id"]
    assert hass.states.get(ALARM).state == "disarmed"
    await hass.services.async_call(
        "alarm_control_panel", "alarm_arm_away", {"entity_id": ALARM, "code": "4711"},
        blocking=True,
    )  # fmt: skip
    # Every command the panel itself receives, however it is sent (Concierge sends them
    # to the panel's entity, not as actions).
    arm_calls: list[str] = []
    panel = hass.data[ALARM_COMPONENT].get_entity(ALARM)
    assert panel is not None
    for command in ("async_alarm_disarm", "async_alarm_arm_away", "async_alarm_arm_home"):
        monkeypatch.setattr(panel, command, _recorded(arm_calls, getattr(panel, command)))
    await call(hass, "end_visit", visit_id=visit)
    await hass.async_block_till_done()
    assert hass.states.get(ALARM).state == "armed_away"
    assert arm_calls == []
    assert [e for e in visit_events(access_events, visit) if e != "evidence_captured"][-2:] == [
        "alarm_rearmed", "visit_completed",
    ]  # fmt: skip


async def test_a_door_sensor_that_only_changes_attributes_records_nothing(
    hass: HomeAssistant, home: MockConfigEntry, access_events: list[dict[str, Any]]
) -> None:
    before = len(access_events)
    hass.states.async_set(
        "binary_sensor.front_door_contact", "off", {"device_class": "door", "battery": 80}
    )
    await hass.async_block_till_done()
    assert len(access_events) == before
