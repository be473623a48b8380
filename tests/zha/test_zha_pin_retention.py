"""A PIN is kept only while its grant may use it, and the slot fingerprints need the site's key.

Real Zigbee lock (simulated radio), real files: every test reads the site's files from
`.storage` on disk (data, last good copy, fingerprint key, audit log), as someone who got
hold of them would. What the lock holds is read from the simulated lock's own PIN table.
"""

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.fingerprints import (
    fingerprint,
    legacy_fingerprint,
    lock_key,
)
from tests.keypad_helpers import PIN, create_grant, local_time, setup_site
from tests.storage_helpers import copy_file, real_storage, site_file
from tests.waiting import until

from .conftest import ZhaLock

pytestmark = pytest.mark.usefixtures("quick_retry", "phone")

LONG_PIN = "90817264"
"""Eight digits: too long to turn up by chance in the hex of hashes and ids in the files."""


@pytest.fixture
def disk(hass: HomeAssistant) -> Iterator[None]:
    """Every `Store` on real files under the test's config folder."""
    with real_storage():
        yield


def _slot_of(lock: ZhaLock, pin: str) -> int | None:
    return next((s for s, c in lock.codes().items() if c["pin"] == pin), None)


def site_files(hass: HomeAssistant, entry_id: str) -> dict[str, str]:
    """Every file the site keeps under `.storage`, by name, as text."""
    folder = Path(hass.config.path(".storage"))
    return {p.name: p.read_text(encoding="utf-8") for p in folder.glob(f"{DOMAIN}.{entry_id}*")}


def key_file(hass: HomeAssistant, entry_id: str) -> Path:
    return Path(hass.config.path(".storage", f"{DOMAIN}.{entry_id}.fingerprint_key"))


def stored(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_bytes())
    assert isinstance(data, dict)
    return data


def stored_grant(hass: HomeAssistant, entry_id: str, grant_id: str) -> dict[str, Any]:
    grants = stored(site_file(hass, entry_id))["data"]["grants"]
    return next(g for g in grants if g["id"] == grant_id)


async def stop(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the site: what waits is written (the file, then its copy)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def assert_pin_nowhere(hass: HomeAssistant, entry_id: str, pin: str) -> None:
    files = site_files(hass, entry_id)
    assert [name for name, text in files.items() if pin in text] == []
    ends = ("", ".backup", ".fingerprint_key", ".audit.jsonl")
    assert {f"{DOMAIN}.{entry_id}{end}" for end in ends} <= set(files)  # all were read


async def programmed(
    hass: HomeAssistant, entry: MockConfigEntry, lock: ZhaLock, pin: str
) -> tuple[str, int]:
    """Create a grant with `pin`, open now; wait until its code is on the lock."""
    grant_id = await create_grant(hass, local_time(-60), local_time(3600), pin=pin)
    slot = await until("the code is on the lock", lambda: _slot_of(lock, pin))
    await until(lambda: entry.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"})
    assert isinstance(slot, int)
    return grant_id, slot


async def test_a_revoked_grants_pin_leaves_the_lock_and_every_stored_file(
    hass: HomeAssistant, disk: None, zha_lock: ZhaLock
) -> None:
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12)
    grant_id, _slot = await programmed(hass, entry, zha_lock, LONG_PIN)
    await entry.runtime_data.async_flush()
    # While the grant may use it, its PIN is in the data and the copy (it must be written
    # to the lock again after a wipe): the check below can fail.
    files = site_files(hass, entry.entry_id)
    assert LONG_PIN in files[site_file(hass, entry.entry_id).name]
    assert LONG_PIN in files[copy_file(hass, entry.entry_id).name]

    await hass.services.async_call(DOMAIN, "revoke_grant", {"grant_id": grant_id}, blocking=True)
    await until("the code is cleared", lambda: _slot_of(zha_lock, LONG_PIN) is None)
    await until(lambda: entry.runtime_data.keypad.idle)
    await stop(hass, entry)

    assert_pin_nowhere(hass, entry.entry_id, LONG_PIN)
    grant = stored_grant(hass, entry.entry_id, grant_id)
    assert grant["revoked"] is True
    assert grant["credentials"]["pin"] is None


async def test_an_expired_grants_pin_leaves_every_stored_file(
    hass: HomeAssistant, disk: None, zha_lock: ZhaLock
) -> None:
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12)
    grant_id = await create_grant(hass, local_time(-60), local_time(2), pin=LONG_PIN)
    await until("the code is on the lock", lambda: _slot_of(zha_lock, LONG_PIN))
    await until("the window ends", lambda: entry.runtime_data.state_of(grant_id) == "expired")
    await until("the code is cleared", lambda: _slot_of(zha_lock, LONG_PIN) is None)
    await until(lambda: entry.runtime_data.keypad.idle)
    await stop(hass, entry)

    assert_pin_nowhere(hass, entry.entry_id, LONG_PIN)
    assert stored_grant(hass, entry.entry_id, grant_id)["credentials"]["pin"] is None


async def test_a_one_use_pin_leaves_every_stored_file_once_used(
    hass: HomeAssistant, disk: None, zha_lock: ZhaLock
) -> None:
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12)
    grant_id = await create_grant(hass, local_time(-60), local_time(3600), pin=LONG_PIN, max_uses=1)
    slot = await until("the code is on the lock", lambda: _slot_of(zha_lock, LONG_PIN))

    zha_lock.keypad_unlock(slot)
    await until("the use is counted", lambda: entry.runtime_data.state_of(grant_id) == "used_up")
    await until("the code is cleared", lambda: _slot_of(zha_lock, LONG_PIN) is None)
    zha_lock.manual_lock()
    visits = entry.runtime_data.site_data.visits

    def visit_over() -> bool:
        return bool(visits) and all(v.terminal for v in visits.values())

    await until("the visit ends", visit_over)
    await until(lambda: entry.runtime_data.keypad.idle)
    await stop(hass, entry)

    assert_pin_nowhere(hass, entry.entry_id, LONG_PIN)


def crack(fp: str, fingerprint_of: Callable[[bytes], str], longest: int) -> str | None:
    """Try every PIN of 4 to `longest` digits against a stored fingerprint."""
    for length in range(4, longest + 1):
        for n in range(10**length):
            pin = b"%0*d" % (length, n)
            if fingerprint_of(pin) == fp:
                return pin.decode()
    return None


def unkeyed(salt: str) -> Callable[[bytes], str]:
    """The fingerprint storage 1.5 held: SHA-256 of `<site>:<lock>:<pin>`."""
    base = hashlib.sha256(f"{salt}:".encode())

    def of(pin: bytes) -> str:
        h = base.copy()
        h.update(pin)
        return h.hexdigest()[:16]

    return of


def keyed(key: str) -> Callable[[bytes], str]:
    """Today's fingerprint under a lock key."""
    base = hmac.new(key.encode(), digestmod=hashlib.sha256)

    def of(pin: bytes) -> str:
        h = base.copy()
        h.update(pin)
        return h.hexdigest()[:16]

    return of


async def test_a_stored_fingerprint_cannot_be_reversed_without_the_key_file(
    hass: HomeAssistant, disk: None, zha_lock: ZhaLock
) -> None:
    """Brute force over every PIN up to the PIN's own length (longer ones cannot be it)."""
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12)
    grant_id, slot = await programmed(hass, entry, zha_lock, PIN)
    await hass.services.async_call(DOMAIN, "revoke_grant", {"grant_id": grant_id}, blocking=True)
    await until("the code is cleared", lambda: _slot_of(zha_lock, PIN) is None)
    await until(lambda: entry.runtime_data.keypad.idle)
    await stop(hass, entry)

    # The cleared slot keeps whose code it was and its fingerprint: a lock that reports
    # that code back (a clear it confirmed but did not do) is recognised.
    site = stored(site_file(hass, entry.entry_id))
    (lock,) = site["data"]["keypad"]
    kept = site["data"]["keypad"][lock]["known"][str(slot)]
    assert kept["status"] == "empty"
    assert kept["grant"] == grant_id
    fp = kept["fp"]
    assert isinstance(fp, str)
    assert len(fp) == 16
    site_id = site["key"].removeprefix(f"{DOMAIN}.")
    assert site_id == entry.entry_id

    # What the site's file (and its copy) give away is not enough: the unkeyed hash of
    # `<site>:<lock>:<pin>` storage 1.5 held is not what is stored.
    assert crack(fp, unkeyed(f"{site_id}:{lock}"), len(PIN)) is None
    files = site_files(hass, entry.entry_id)
    secret = stored(key_file(hass, entry.entry_id))["data"]["key"]
    assert [name for name, text in files.items() if secret in text] == [
        key_file(hass, entry.entry_id).name
    ]
    # With the key file, the same search finds it: the key is what protects the PIN.
    found = crack(fp, keyed(lock_key(bytes.fromhex(secret), site_id, lock)), len(PIN))
    assert found == PIN
    assert key_file(hass, entry.entry_id).stat().st_mode & 0o077 == 0  # Home Assistant's only


async def test_a_suspended_grant_keeps_its_pin_and_gets_its_code_back(
    hass: HomeAssistant, disk: None, zha_lock: ZhaLock
) -> None:
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12)
    grant_id, _slot = await programmed(hass, entry, zha_lock, LONG_PIN)
    await hass.services.async_call(DOMAIN, "suspend_grant", {"grant_id": grant_id}, blocking=True)
    await until("the code is cleared", lambda: _slot_of(zha_lock, LONG_PIN) is None)
    await until(lambda: entry.runtime_data.keypad.idle)
    await entry.runtime_data.async_flush()
    assert stored_grant(hass, entry.entry_id, grant_id)["credentials"]["pin"] == LONG_PIN

    await hass.services.async_call(DOMAIN, "resume_grant", {"grant_id": grant_id}, blocking=True)
    await until("the code is back", lambda: _slot_of(zha_lock, LONG_PIN))
    await stop(hass, entry)


async def test_fingerprints_of_the_previous_version_still_match_after_the_upgrade(
    hass: HomeAssistant, disk: None, zha_lock: ZhaLock
) -> None:
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12)
    grant_id, slot = await programmed(hass, entry, zha_lock, PIN)
    await stop(hass, entry)
    # What storage 1.5 held: the same data, with unkeyed fingerprints and no key file.
    main = site_file(hass, entry.entry_id)
    old = stored(main)
    old["minor_version"] = 5
    for lock, codes in old["data"]["keypad"].items():
        for known in codes["known"].values():
            if known["fp"] is not None:
                known["fp"] = legacy_fingerprint(PIN, entry.entry_id, lock)
    main.write_text(json.dumps(old), encoding="utf-8")
    key_file(hass, entry.entry_id).unlink()
    copy_file(hass, entry.entry_id).unlink()
    zha_lock.reset_frames()

    await start(hass, entry)
    await until(lambda: entry.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"})
    await until(lambda: entry.runtime_data.keypad.idle)
    assert zha_lock.frames() == []  # recognised as on the lock: nothing rewritten
    assert _slot_of(zha_lock, PIN) == slot
    await stop(hass, entry)
    new = stored(main)
    assert new["minor_version"] == 6
    secret = bytes.fromhex(stored(key_file(hass, entry.entry_id))["data"]["key"])
    (lock,) = new["data"]["keypad"]
    fp = new["data"]["keypad"][lock]["known"][str(slot)]["fp"]
    assert fp == fingerprint(PIN, lock_key(secret, entry.entry_id, lock))
    assert legacy_fingerprint(PIN, entry.entry_id, lock) not in main.read_text(encoding="utf-8")


async def test_a_lost_key_file_costs_one_rewrite_of_the_code(
    hass: HomeAssistant, disk: None, zha_lock: ZhaLock
) -> None:
    entry = await setup_site(hass, zha_lock.entity_id, last_slot=12)
    grant_id, slot = await programmed(hass, entry, zha_lock, PIN)
    await stop(hass, entry)
    key_file(hass, entry.entry_id).unlink()
    zha_lock.reset_frames()

    await start(hass, entry)
    await until(lambda: entry.runtime_data.keypad.status.get(grant_id) == {"front": "programmed"})
    await until(lambda: entry.runtime_data.keypad.idle)
    assert zha_lock.frames() == ["set_pin_code"]
    assert _slot_of(zha_lock, PIN) == slot
    assert key_file(hass, entry.entry_id).exists()
    await stop(hass, entry)
