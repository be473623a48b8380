"""Window edges of many grants: one timer waits for the earliest, each grant changes at its own.

A site with thousands of grants must not keep a timer per grant (issue #15): the grant
keeper waits for the earliest edge of all, acts on every grant whose edge is reached, and
waits for the next. What a user sees is unchanged: each grant becomes active at its
window's start and expired at its end, to the second, whether it was made now or read
from storage at setup.
"""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.coordinator import ConciergeCoordinator
from custom_components.concierge.core.grants import GrantKind, GrantState, new_grant
from custom_components.concierge.core.windows import OneOffWindow, Schedule
from custom_components.concierge.site_storage import (
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
    SiteData,
    encode,
    storage_key,
)
from tests.waiting import settled

from .conftest import SITE_DATA
from .helpers import UTC, at, call, grant_state, move_to

START = "2026-11-24 08:00"
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)


def _site(entry: MockConfigEntry) -> ConciergeCoordinator:
    coordinator = entry.runtime_data
    assert isinstance(coordinator, ConciergeCoordinator)
    return coordinator


def _timers(hass: HomeAssistant) -> int:
    """Timers waiting on the event loop (not cancelled)."""
    loop: asyncio.AbstractEventLoop = hass.loop
    return sum(1 for h in loop._scheduled if not h.cancelled())  # type: ignore[attr-defined]


def _local(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


async def _create(hass: HomeAssistant, label: str, start: datetime, end: datetime) -> str:
    response = await call(
        hass, "create_grant", label=label, kind="guest", portals=["Front door"],
        start=_local(start), end=_local(end),
    )  # fmt: skip
    return str(response["grant_id"])


def _events_for(events: list[dict[str, Any]], grant_id: str) -> list[str]:
    return [e["type"] for e in events if e["grant"] == grant_id]


@pytest.fixture
async def site(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, real_locks: None
) -> MockConfigEntry:
    """The home of `conftest.site`, started on 2026-11-24 at 08:00 (Berlin)."""
    freezer.move_to(at(START))
    await hass.config.async_set_time_zone("Europe/Berlin")
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA, options={"notify": []}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_each_grant_changes_at_its_own_edge_with_one_timer_for_all(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    first = at("2026-11-24 10:00")
    # Windows of 5 minutes, 10 minutes apart, made in reverse order: each new one is earlier.
    windows = [(first + 10 * n * MINUTE, first + (10 * n + 5) * MINUTE) for n in range(8)]
    by_window = {await _create(hass, "Guest 7", *windows[7]): windows[7]}
    await hass.async_block_till_done()
    one = _timers(hass)
    for n in range(6, -1, -1):
        by_window[await _create(hass, f"Guest {n}", *windows[n])] = windows[n]
    by_window = dict(sorted(by_window.items(), key=lambda item: item[1]))
    await hass.async_block_till_done()

    assert _timers(hass) == one, "eight grants wait with the timers of one"
    assert _site(site).edge_timer(next(iter(by_window))) == first.astimezone(UTC)
    for grant_id, (start, end) in by_window.items():
        await move_to(hass, freezer, start - SECOND)
        assert grant_state(hass, site, grant_id) == "scheduled"
        await move_to(hass, freezer, start)
        assert grant_state(hass, site, grant_id) == "active"
        others = [g for g in by_window if g != grant_id]
        assert all(grant_state(hass, site, g) != "active" for g in others), "only its own"
        await move_to(hass, freezer, end)
        assert grant_state(hass, site, grant_id) == "expired"
        assert _events_for(access_events, grant_id) == [
            "grant_created", "grant_activated", "grant_expired",
        ]  # fmt: skip
    assert all(_site(site).edge_timer(g) is None for g in by_window)


async def test_a_grant_changed_to_an_earlier_window_is_acted_on_then(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    later = await _create(hass, "Later", at("2026-11-24 12:00"), at("2026-11-24 13:00"))
    moved = await _create(hass, "Moved", at("2026-11-24 14:00"), at("2026-11-24 15:00"))
    assert _site(site).edge_timer(later) == at("2026-11-24 12:00").astimezone(UTC)

    await call(
        hass, "update_grant", grant_id=moved,
        start="2026-11-24 10:30:00", end="2026-11-24 11:00:00",
    )  # fmt: skip
    assert _site(site).edge_timer(moved) == at("2026-11-24 10:30").astimezone(UTC)

    await move_to(hass, freezer, at("2026-11-24 10:30"))
    assert grant_state(hass, site, moved) == "active"
    assert grant_state(hass, site, later) == "scheduled"
    await move_to(hass, freezer, at("2026-11-24 11:00"))
    assert grant_state(hass, site, moved) == "expired"
    await move_to(hass, freezer, at("2026-11-24 12:00"))
    assert grant_state(hass, site, later) == "active"


async def test_grants_sharing_an_edge_change_together(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, site: MockConfigEntry
) -> None:
    start, end = at("2026-11-24 10:00"), at("2026-11-24 11:00")
    grants = [await _create(hass, f"Guest {n}", start, end) for n in range(3)]
    await move_to(hass, freezer, start)
    assert [grant_state(hass, site, g) for g in grants] == ["active"] * 3


async def test_unload_cancels_the_timer(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    site: MockConfigEntry,
    access_events: list[dict[str, Any]],
) -> None:
    grant_id = await _create(hass, "Guest", at("2026-11-24 10:00"), at("2026-11-24 11:00"))
    await move_to(hass, freezer, at("2026-11-24 08:01"))  # the delayed save is done
    waiting = _timers(hass)
    coordinator = _site(site)

    assert await hass.config_entries.async_unload(site.entry_id)
    await hass.async_block_till_done()

    assert _timers(hass) < waiting, "the edge timer is gone"
    assert coordinator.edge_timer(grant_id) is None
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    await settled(hass)
    assert _events_for(access_events, grant_id) == ["grant_created"]


def _stored(entry: MockConfigEntry, windows: list[tuple[datetime, datetime]]) -> dict[str, Any]:
    data = SiteData()
    for n, (start, end) in enumerate(windows):
        grant = new_grant(
            label=f"Stored {n}", kind=GrantKind.GUEST, portals=("front",),
            schedule=Schedule((OneOffWindow(start, end),)), now=at("2026-11-01 00:00"),
        )  # fmt: skip
        data.grants[grant.id] = grant
        data.grant_states[grant.id] = GrantState.SCHEDULED
    data.clock_mark = at(START).astimezone(UTC)
    return {
        "version": STORAGE_VERSION, "minor_version": STORAGE_MINOR_VERSION,
        "key": storage_key(entry.entry_id), "data": encode(data),
    }  # fmt: skip


async def _stored_site(
    hass: HomeAssistant, hass_storage: dict[str, Any], windows: list[tuple[datetime, datetime]]
) -> tuple[MockConfigEntry, dict[str, Any]]:
    await hass.config.async_set_time_zone("Europe/Berlin")
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA, options={"notify": []}
    )
    stored = _stored(entry, windows)
    hass_storage[storage_key(entry.entry_id)] = stored
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry, stored


async def test_stored_grants_change_at_their_edges_after_setup(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    real_locks: None,
) -> None:
    freezer.move_to(at(START))
    first = at("2026-11-24 09:00")
    windows = [(first + n * MINUTE, first + (n + 2) * MINUTE) for n in range(0, 40, 3)]
    entry, stored = await _stored_site(hass, hass_storage, windows)
    # Nothing changed at setup: the data is not written again.
    await move_to(hass, freezer, at(START) + 2 * SECOND)
    assert hass_storage[storage_key(entry.entry_id)] is stored

    grants = list(_site(entry).site_data.grants)
    for grant_id, (start, end) in zip(grants, windows, strict=True):
        await move_to(hass, freezer, start - SECOND)
        assert grant_state(hass, entry, grant_id) == "scheduled"
        await move_to(hass, freezer, start)
        assert grant_state(hass, entry, grant_id) == "active"
        await move_to(hass, freezer, end)
        assert grant_state(hass, entry, grant_id) == "expired"
    await move_to(hass, freezer, windows[-1][1] + 2 * SECOND)
    saved = hass_storage[storage_key(entry.entry_id)]["data"]["grant_states"]
    assert set(saved.values()) == {"expired"}


async def test_an_edge_missed_while_stopped_is_recorded_and_saved_at_setup(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    real_locks: None,
    access_events: list[dict[str, Any]],
) -> None:
    freezer.move_to(at("2026-11-24 10:30"))
    now_open = (at("2026-11-24 10:00"), at("2026-11-24 11:00"))
    entry, stored = await _stored_site(hass, hass_storage, [now_open])
    (grant_id,) = _site(entry).site_data.grants

    assert grant_state(hass, entry, grant_id) == "active"
    assert _events_for(access_events, grant_id) == ["grant_activated"]
    await move_to(hass, freezer, at("2026-11-24 10:30") + 2 * SECOND)
    saved = hass_storage[storage_key(entry.entry_id)]
    assert saved is not stored
    assert saved["data"]["grant_states"] == {grant_id: "active"}
