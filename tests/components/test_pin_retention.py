"""What the site's files keep of a PIN: only while its grant may use it; never an unkeyed hash.

The files are real (`real_storage`) and read from disk, as someone who got hold of them
would. The locks here are plain Home Assistant locks (no keypad): this is about the grants'
data and its migration; the keypad rigs show the same with codes on a lock.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.fingerprints import (
    fingerprint,
    legacy_fingerprint,
    lock_key,
)
from custom_components.concierge.site_storage import COPY_SAVED_AT
from tests.storage_helpers import copy_file, real_storage, site_file

from .conftest import SITE_DATA
from .helpers import at, call, grant_state, move_to

pytestmark = pytest.mark.usefixtures("real_locks")

REVOKED_PIN = "90817264"
EXPIRED_PIN = "35792468"
SUSPENDED_PIN = "11223344"
WEEKLY_PIN = "55667788"
ACTIVE_PIN = "24681357"
LOCK = "lock.front_door"


@pytest.fixture
def disk(hass: HomeAssistant) -> Iterator[None]:
    """Every `Store` on real files (requested after `hass`, so it wins over the mock)."""
    with real_storage():
        yield


@pytest.fixture
def entry(hass: HomeAssistant, disk: None) -> MockConfigEntry:
    """A home site, not loaded yet."""
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA, options={"notify": []}
    )
    entry.add_to_hass(hass)
    return entry


async def start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def stop(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the site: what waits is written (the file, then its copy)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


def key_file(hass: HomeAssistant, entry_id: str) -> Path:
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.fingerprint_key"))


def site_files(hass: HomeAssistant, entry_id: str) -> dict[str, str]:
    """Every file the site keeps under `.storage`, by name, as text."""
    folder = Path(hass.config.path(".storage"))
    return {p.name: p.read_text(encoding="utf-8") for p in folder.glob(f"{DOMAIN}.{entry_id}*")}


def holding(hass: HomeAssistant, entry_id: str, text: str) -> list[str]:
    """The site's files in which `text` appears."""
    return sorted(name for name, body in site_files(hass, entry_id).items() if text in body)


def stored(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_bytes())
    assert isinstance(data, dict)
    return data


async def test_only_grants_that_may_still_use_their_pin_keep_it_on_disk(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    await move_to(hass, freezer, at("2026-11-24 09:00"))  # a Tuesday
    await start(hass, entry)

    async def grant(label: str, pin: str, **window: Any) -> str:
        response = await call(hass, "create_grant", label=label, pin=pin, **window)
        return str(response["grant_id"])

    one_off = {"start": "2026-11-24 10:00:00", "end": "2026-11-24 12:00:00"}
    revoked = await grant("Plumber", REVOKED_PIN, **one_off)
    expired = await grant("Painter", EXPIRED_PIN, **one_off)
    suspended = await grant("Sitter", SUSPENDED_PIN, **(one_off | {"end": "2026-11-30 12:00:00"}))
    weekly = await grant(
        "Cleaner", WEEKLY_PIN, weekdays=["tue"], start_time="10:00", end_time="11:00"
    )
    await entry.runtime_data.async_flush()
    main, copy = site_file(hass, entry.entry_id).name, copy_file(hass, entry.entry_id).name
    for pin in (REVOKED_PIN, EXPIRED_PIN, SUSPENDED_PIN, WEEKLY_PIN):
        assert holding(hass, entry.entry_id, pin) == sorted([main, copy])

    await move_to(hass, freezer, at("2026-11-24 10:30"))
    await call(hass, "revoke_grant", grant_id=revoked)
    await call(hass, "suspend_grant", grant_id=suspended)
    await move_to(hass, freezer, at("2026-11-24 12:00"))
    assert grant_state(hass, entry, expired) == "expired"
    assert grant_state(hass, entry, weekly) == "scheduled"  # between its windows
    await stop(hass, entry)

    # Over for good: gone from the data, its copy, the key file and the audit log.
    assert {f"{DOMAIN}.{entry.entry_id}.audit.jsonl", main, copy} <= set(
        site_files(hass, entry.entry_id)
    )
    assert holding(hass, entry.entry_id, REVOKED_PIN) == []
    assert holding(hass, entry.entry_id, EXPIRED_PIN) == []
    # Needed again (after a resume, next Tuesday): kept, in the data and its copy only.
    assert holding(hass, entry.entry_id, SUSPENDED_PIN) == sorted([main, copy])
    assert holding(hass, entry.entry_id, WEEKLY_PIN) == sorted([main, copy])
    # What the owner sees of the grants is unchanged by the erasure.
    await start(hass, entry)
    assert grant_state(hass, entry, revoked) == "revoked"
    assert grant_state(hass, entry, expired) == "expired"
    assert entry.runtime_data.grant(suspended).credentials.pin == SUSPENDED_PIN


def _grant(grant_id: str, pin: str, *, revoked: bool = False) -> dict[str, Any]:
    return {
        "id": grant_id, "label": grant_id, "kind": "cleaner", "portals": ["front"],
        "schedule": {"windows": [{"type": "one_off", "start": "2026-11-24T09:00:00+00:00",
                                  "end": "2026-11-24T11:00:00+00:00"}],
                     "valid_from": None, "valid_until": None},
        "created_at": "2026-11-01T00:00:00+00:00", "max_uses": None,
        "max_visit_minutes": None,
        "credentials": {"pin": pin, "remote_token": False, "guest_link": False},
        "policy": {"alarm": "leave_alone", "require_camera": False,
                   "refuse_when_pets_home": False, "notify": True},
        "uses": 0, "suspended": False, "revoked": revoked,
    }  # fmt: skip


def _version_1_5(entry_id: str, *, copy: bool = False) -> dict[str, Any]:
    """A site as storage 1.5 kept it: PINs of revoked grants, unkeyed fingerprints."""

    def old(pin: str) -> str:
        return legacy_fingerprint(pin, entry_id, LOCK)

    data: dict[str, Any] = {
        "grants": [_grant("g1", ACTIVE_PIN), _grant("g2", REVOKED_PIN, revoked=True)],
        "visits": [],
        "grant_states": {"g1": "active", "g2": "revoked"},
        "audit": {"head": None, "count": 0},
        "keypad": {
            LOCK: {
                "known": {
                    "10": {"status": "ours", "grant": "g1", "fp": old(ACTIVE_PIN)},
                    "11": {"status": "empty", "grant": "g2", "fp": old(REVOKED_PIN)},
                    "12": {"status": "empty", "grant": "gone", "fp": old("31415926")},
                },
                "assignments": {"g1": 10},
                "rejected": {"g1": old("27182818")},  # an older PIN of g1
            }
        },
        "lock_on_close": [],
        "alarm_hold": None,
        "replay": {},
        "link_secret": None,
        "guest_links": {},
        "clock_mark": None,
    }
    if copy:
        data[COPY_SAVED_AT] = "2026-11-24T08:00:00+00:00"
    suffix = ".backup" if copy else ""
    return {"version": 1, "minor_version": 5, "key": f"{DOMAIN}.{entry_id}{suffix}", "data": data}


async def test_data_of_the_previous_version_is_migrated_and_its_copy_follows(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: MockConfigEntry
) -> None:
    await move_to(hass, freezer, at("2026-11-24 10:30"))
    main, copy = site_file(hass, entry.entry_id), copy_file(hass, entry.entry_id)
    main.parent.mkdir(parents=True, exist_ok=True)
    main.write_text(json.dumps(_version_1_5(entry.entry_id)), encoding="utf-8")
    copy.write_text(json.dumps(_version_1_5(entry.entry_id, copy=True)), encoding="utf-8")
    legacy = [
        legacy_fingerprint(pin, entry.entry_id, LOCK)
        for pin in (ACTIVE_PIN, REVOKED_PIN, "31415926", "27182818")
    ]

    await start(hass, entry)
    assert grant_state(hass, entry, "g1") == "active"
    assert entry.runtime_data.grant("g1").credentials.pin == ACTIVE_PIN
    await stop(hass, entry)

    new = stored(main)
    assert new["minor_version"] == 6
    grants = {g["id"]: g for g in new["data"]["grants"]}
    assert grants["g1"]["credentials"]["pin"] == ACTIVE_PIN
    assert grants["g2"]["credentials"]["pin"] is None
    # The copy was rewritten with the first save: the revoked PIN is gone from both.
    assert holding(hass, entry.entry_id, REVOKED_PIN) == []
    assert all(holding(hass, entry.entry_id, fp) == [] for fp in legacy)
    # Fingerprints are re-derived under the site's key where the grant's PIN matches
    # (also the revoked grant's, before its PIN was erased); the rest are dropped.
    secret = bytes.fromhex(stored(key_file(hass, entry.entry_id))["data"]["key"])
    key = lock_key(secret, entry.entry_id, LOCK)
    known = new["data"]["keypad"][LOCK]["known"]
    assert known["10"] == {"status": "ours", "grant": "g1", "fp": fingerprint(ACTIVE_PIN, key)}
    assert known["11"] == {"status": "empty", "grant": "g2", "fp": fingerprint(REVOKED_PIN, key)}
    assert known["12"] == {"status": "empty", "grant": "gone", "fp": None}
    assert new["data"]["keypad"][LOCK]["rejected"] == {}
    # The key is in its own file, readable by Home Assistant's user only.
    assert holding(hass, entry.entry_id, secret.hex()) == [key_file(hass, entry.entry_id).name]
    assert key_file(hass, entry.entry_id).stat().st_mode & 0o077 == 0
    assert main.stat().st_mode & 0o077 == 0


async def test_deleting_the_site_deletes_its_fingerprint_key(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    await start(hass, entry)
    await call(
        hass, "create_grant", label="Cleaner", pin=ACTIVE_PIN,
        start="2099-01-01 10:00:00", end="2099-01-01 11:00:00",
    )  # fmt: skip
    await entry.runtime_data.async_flush()
    assert key_file(hass, entry.entry_id).exists()
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not key_file(hass, entry.entry_id).exists()
    assert not site_file(hass, entry.entry_id).exists()
    assert not copy_file(hass, entry.entry_id).exists()
