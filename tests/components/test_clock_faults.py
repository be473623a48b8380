"""The wall clock steps (NTP, a wrong clock after a power cut): grant states move forward only.

The freezer here is elapsed time: it drives the event loop's monotonic clock, which the
grant timers run on. The `wall` fixture is the wall clock every `dt_util.utcnow()` reads,
freezer time plus an offset a test steps back or forward, as NTP or a user would.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.coordinator import ConciergeCoordinator
from custom_components.concierge.core.grants import GrantState
from custom_components.concierge.core.schedule_times import current_interval
from custom_components.concierge.site_storage import STORAGE_MINOR_VERSION

from .conftest import SITE_DATA
from .helpers import UTC, at, call, grant_state, move_to

CLOCK_LOGGER = "custom_components.concierge.site_clock"
DOMAIN_LOGGER = "custom_components.concierge"


@dataclass
class Wall:
    """The wall clock: elapsed (freezer) time plus `offset`."""

    offset: timedelta = field(default_factory=timedelta)

    def step(self, seconds: float) -> None:
        """The wall clock jumps, back (negative) or forward; elapsed time does not."""
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def wall(monkeypatch: pytest.MonkeyPatch, freezer: FrozenDateTimeFactory) -> Wall:
    """Step the wall clock without moving elapsed time."""
    clock = Wall()
    frozen = dt_util.utcnow
    monkeypatch.setattr(dt_util, "utcnow", lambda: frozen() + clock.offset)
    return clock


def _site(entry: MockConfigEntry) -> ConciergeCoordinator:
    coordinator = entry.runtime_data
    assert isinstance(coordinator, ConciergeCoordinator)
    return coordinator


def _assert_every_active_grant_has_its_end_timer(entry: MockConfigEntry) -> None:
    coordinator = _site(entry)
    now = coordinator.now()
    active = [g for g, s in coordinator.data.states.items() if s is GrantState.ACTIVE]
    for grant_id in active:
        window = current_interval(coordinator.grant(grant_id).schedule, coordinator.tz, now)
        assert window is not None
        assert coordinator.edge_timer(grant_id) == window.end, grant_id


def _events_for(events: list[dict[str, Any]], grant_id: str, since: int = 0) -> list[str]:
    return [e["type"] for e in events[since:] if e["grant"] == grant_id]


def _steps(caplog: pytest.LogCaptureFixture, direction: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == CLOCK_LOGGER
        and r.levelno == logging.WARNING
        and f"stepped {direction}" in r.getMessage()
    ]


async def _create(hass: HomeAssistant, label: str, **window: Any) -> str:
    response = await call(hass, "create_grant", label=label, kind="cleaner", **window)
    return str(response["grant_id"])


async def test_step_back_after_the_window_leaves_the_grant_expired(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    wall: Wall,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await move_to(hass, freezer, at("2026-11-24 08:00"))
    one_off = await _create(
        hass, "Plumber", start="2026-11-24 10:00:00", end="2026-11-24 12:00:00", pin="482913"
    )
    weekly = await _create(
        hass, "Cleaner", weekdays=["tue"], start_time="10:00", end_time="12:00", pin="13579"
    )
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    _assert_every_active_grant_has_its_end_timer(site)
    await move_to(hass, freezer, at("2026-11-24 12:00"))
    assert grant_state(hass, site, one_off) == "expired"
    assert grant_state(hass, site, weekly) == "scheduled"
    before = len(access_events)

    wall.step(-30 * 60)  # NTP: the wall clock now says 11:30
    await move_to(hass, freezer, at("2026-11-24 12:01"))
    # Something unrelated changes: another grant is made.
    await _create(hass, "Window cleaner", start="2026-11-25 10:00:00", end="2026-11-25 11:00:00")
    await hass.async_block_till_done()

    assert dt_util.utcnow() == at("2026-11-24 11:31").astimezone(UTC)
    assert grant_state(hass, site, one_off) == "expired"
    assert grant_state(hass, site, weekly) == "scheduled"
    assert _site(site).data.states[one_off] is GrantState.EXPIRED
    for grant_id in (one_off, weekly):
        assert _events_for(access_events, grant_id, before) == [], grant_id
        assert _site(site).site_data.grant_states[grant_id] is not GrantState.ACTIVE
    assert _site(site).edge_timer(one_off) is None
    assert _site(site).edge_timer(weekly) == at("2026-12-01 10:00").astimezone(UTC)
    # Logged once, with its size; nothing else is said or recorded.
    (warning,) = _steps(caplog, "back")
    assert "1800 s" in warning
    said = " ".join(r.getMessage() for r in caplog.records if r.name.startswith(DOMAIN_LOGGER))
    assert "482913" not in said
    assert "13579" not in said
    assert {e["type"] for e in access_events[before:]} == {"grant_created"}


async def test_step_back_mid_window_keeps_the_grant_active_until_its_end(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    wall: Wall,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await move_to(hass, freezer, at("2026-11-24 08:00"))
    grant_id = await _create(hass, "Sitter", start="2026-11-24 10:00:00", end="2026-11-24 12:00:00")
    await move_to(hass, freezer, at("2026-11-24 10:15"))
    assert grant_state(hass, site, grant_id) == "active"

    wall.step(-30 * 60)  # the wall clock says 09:45: before the window by its reading
    await _create(hass, "Window cleaner", start="2026-11-25 10:00:00", end="2026-11-25 11:00:00")
    await hass.async_block_till_done()
    assert grant_state(hass, site, grant_id) == "active"  # the holder is not locked out
    _assert_every_active_grant_has_its_end_timer(site)
    assert _site(site).edge_timer(grant_id) == at("2026-11-24 12:00").astimezone(UTC)

    # The window ends after the elapsed time it had left (1 h 45 min), though the wall
    # clock then reads 11:30.
    await move_to(hass, freezer, at("2026-11-24 11:59:59"))
    assert grant_state(hass, site, grant_id) == "active"
    _assert_every_active_grant_has_its_end_timer(site)
    await move_to(hass, freezer, at("2026-11-24 12:00"))
    assert dt_util.utcnow() == at("2026-11-24 11:30").astimezone(UTC)
    assert grant_state(hass, site, grant_id) == "expired"
    assert _site(site).edge_timer(grant_id) is None
    assert _events_for(access_events, grant_id) == [
        "grant_created",
        "grant_activated",
        "grant_expired",
    ]
    assert len(_steps(caplog, "back")) == 1
    assert hass.states.get("lock.front_door").state == "locked"


async def test_step_forward_is_taken_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    wall: Wall,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await move_to(hass, freezer, at("2026-11-24 08:00"))
    grant_id = await _create(hass, "Sitter", start="2026-11-24 10:00:00", end="2026-11-24 12:00:00")
    await move_to(hass, freezer, at("2026-11-24 10:15"))
    assert grant_state(hass, site, grant_id) == "active"

    wall.step(3 * 3600)  # the wall clock is corrected to 13:15
    await _create(hass, "Window cleaner", start="2026-11-25 10:00:00", end="2026-11-25 11:00:00")
    # Its end timer is now due (with frozen time, due timers run when time is fired).
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    # Not left to its timer (1 h 45 min of elapsed time away): expired now.
    assert grant_state(hass, site, grant_id) == "expired"
    assert _events_for(access_events, grant_id)[-1] == "grant_expired"
    assert _site(site).edge_timer(grant_id) is None
    (warning,) = _steps(caplog, "forward")
    assert "10800 s" in warning


async def test_start_with_the_clock_far_behind_the_stored_mark(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    wall: Wall,
    site: MockConfigEntry,
    hass_storage: dict[str, Any],
    access_events: list[dict[str, Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await move_to(hass, freezer, at("2026-11-24 08:00"))
    one_off = await _create(hass, "Plumber", start="2026-11-24 10:00:00", end="2026-11-24 11:00:00")
    weekly = await _create(
        hass, "Cleaner", weekdays=["tue"], start_time="09:00", end_time="10:30", pin="13579"
    )
    for moment in ("09:00", "10:00", "10:30", "11:00"):
        await move_to(hass, freezer, at(f"2026-11-24 {moment}"))
    assert grant_state(hass, site, one_off) == "expired"
    assert grant_state(hass, site, weekly) == "scheduled"
    assert await hass.config_entries.async_unload(site.entry_id)
    stored = hass_storage[f"{DOMAIN}.{site.entry_id}"]
    assert stored["minor_version"] == STORAGE_MINOR_VERSION
    mark = datetime.fromisoformat(stored["data"]["clock_mark"])
    assert mark >= at("2026-11-24 11:00")
    before = len(access_events)

    # A power cut; the clock comes back 52 weeks and 90 minutes behind: a Tuesday, 09:30,
    # inside the weekly window by its reading.
    wall.step(-(timedelta(weeks=52) + timedelta(minutes=90)).total_seconds())
    assert dt_util.as_local(dt_util.utcnow()) == at("2025-11-25 09:30")
    assert await hass.config_entries.async_setup(site.entry_id)
    await hass.async_block_till_done()

    assert _site(site).now() >= mark
    assert grant_state(hass, site, one_off) == "expired"
    assert grant_state(hass, site, weekly) == "scheduled"
    assert access_events[before:] == []
    (warning,) = _steps(caplog, "back")
    assert f"{(mark - dt_util.utcnow()).total_seconds():.0f} s" in warning
    # Its next window opens after the elapsed time to it, the wall clock still behind.
    assert _site(site).edge_timer(weekly) == at("2026-12-01 09:00").astimezone(UTC)
    await move_to(hass, freezer, at("2026-12-01 09:00"))
    assert grant_state(hass, site, weekly) == "active"
    _assert_every_active_grant_has_its_end_timer(site)
    assert _events_for(access_events, weekly, before) == ["grant_activated"]


async def test_a_recorded_expiry_stands_without_a_clock_mark(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    real_locks: None,
    hass_storage: dict[str, Any],
) -> None:
    """Storage from before site time (1.4): no mark, but the expiry it recorded stands."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    await move_to(hass, freezer, at("2026-11-24 11:00"))  # inside the window by the clock
    entry = MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA)
    grant = {
        "id": "g1", "label": "Old friend", "kind": "guest", "portals": ["front"],
        "schedule": {"windows": [{"type": "one_off", "start": "2026-11-24T08:00:00+00:00",
                                  "end": "2026-11-24T12:00:00+00:00"}],
                     "valid_from": None, "valid_until": None},
        "created_at": "2026-11-01T00:00:00+00:00", "max_uses": None,
        "max_visit_minutes": None,
        "credentials": {"pin": "482913", "remote_token": False, "guest_link": False},
        "policy": {"alarm": "leave_alone", "require_camera": False,
                   "refuse_when_pets_home": False, "notify": True},
        "uses": 0, "suspended": False, "revoked": False,
    }  # fmt: skip
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 4,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {
            "grants": [grant], "visits": [], "grant_states": {"g1": "expired"},
            "audit": {"head": None, "count": 0}, "keypad": {}, "lock_on_close": [],
            "replay": {}, "link_secret": None, "guest_links": {},
        },
    }  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    assert grant_state(hass, entry, "g1") == "expired"
    assert _site(entry).edge_timer("g1") is None
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "update_grant", grant_id="g1", label="Back again")
    assert err.value.translation_key == "transition_not_allowed"
    assert _site(entry).grant("g1").label == "Old friend"

    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]
    assert stored["minor_version"] == STORAGE_MINOR_VERSION
    assert datetime.fromisoformat(stored["data"]["clock_mark"]) == at("2026-11-24 11:00")


@pytest.mark.parametrize("mark", [None, 42, "not a time", "2026-11-24T12:00:00"])
async def test_a_missing_or_damaged_mark_starts_from_the_wall_clock(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    real_locks: None,
    hass_storage: dict[str, Any],
    mark: object,
) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")
    await move_to(hass, freezer, at("2026-11-24 11:00"))
    entry = MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA)
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": STORAGE_MINOR_VERSION,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {"grants": [], "visits": [], "clock_mark": mark},
    }
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _site(entry).now() == at("2026-11-24 11:00")
