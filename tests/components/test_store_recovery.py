"""A site whose storage file is damaged: it starts from its last good copy, or safely without.

The files are real (`real_storage`): each test damages them on disk while the site is
unloaded, as a power cut would, then sets the site up again and looks at what the owner
sees: the grants, the repair, the damaged file kept aside.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
from homeassistant.util.file import WriteError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.events import AccessEventType, Outcome, Source
from custom_components.concierge.core.grants import GrantState
from custom_components.concierge.core.slots import KnownSlot, SlotStatus
from custom_components.concierge.site_storage import COPY_SAVED_AT
from tests.storage_helpers import copy_file, real_storage, set_aside, site_file

from .conftest import SITE_DATA
from .helpers import call

pytestmark = pytest.mark.usefixtures("home_entities")


@pytest.fixture
def disk(hass: HomeAssistant) -> Iterator[None]:
    """Every `Store` on real files (requested after `hass`, so it wins over the mock)."""
    with real_storage():
        yield


@pytest.fixture
async def entry(hass: HomeAssistant, disk: None) -> MockConfigEntry:
    """A home site, loaded, with nothing stored yet."""
    entry = MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def create(hass: HomeAssistant, label: str) -> str:
    response = await call(
        hass, "create_grant", label=label, start="2099-01-01 10:00:00", end="2099-01-01 11:00:00"
    )
    return str(response["grant_id"])


async def stop(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Unload the site: what waits is written (the file, then its copy)."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


def labels(entry: MockConfigEntry) -> set[str]:
    return {g.label for g in entry.runtime_data.data.grants.values()}


def repairs(hass: HomeAssistant, key: str) -> list[ir.IssueEntry]:
    return [
        issue
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.translation_key == key
    ]


def stored(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_bytes())
    assert isinstance(data, dict)
    return data


def copy_time(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The copy's time as the repair shows it (local time, to the minute)."""
    saved = dt_util.parse_datetime(stored(copy_file(hass, entry.entry_id))["data"][COPY_SAVED_AT])
    assert saved is not None
    return dt_util.as_local(saved).strftime("%Y-%m-%d %H:%M")


def bad_grant(good: bytes) -> bytes:
    """Valid JSON of the current version, with a grant that does not decode."""
    envelope = json.loads(good)
    envelope["data"]["grants"][0].pop("portals")
    return json.dumps(envelope).encode()


DAMAGE = {
    "zero_length": lambda _good: b"",
    "cut_short": lambda good: good[: len(good) // 2],
    "empty_object": lambda _good: b"{}",
    "not_a_store": lambda _good: b"[1, 2]",
    "grant_does_not_decode": bad_grant,
}


async def test_every_save_keeps_a_last_good_copy(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    await create(hass, "Cleaner")
    await stop(hass, entry)
    main, copy = stored(site_file(hass, entry.entry_id)), stored(copy_file(hass, entry.entry_id))
    assert [g["label"] for g in main["data"]["grants"]] == ["Cleaner"]
    assert copy["key"] == f"{DOMAIN}.{entry.entry_id}.backup"
    saved = copy["data"].pop(COPY_SAVED_AT)
    assert dt_util.parse_datetime(saved) is not None
    assert copy["data"] == main["data"]
    assert COPY_SAVED_AT not in main["data"]
    # A good start reads no copy and raises nothing.
    await start(hass, entry)
    assert labels(entry) == {"Cleaner"}
    assert not [i for (d, _), i in ir.async_get(hass).issues.items() if d == DOMAIN]


@pytest.mark.parametrize("damage", DAMAGE)
async def test_a_damaged_file_is_kept_aside_and_the_site_starts_from_its_copy(
    hass: HomeAssistant, entry: MockConfigEntry, damage: str
) -> None:
    await create(hass, "Cleaner")
    await stop(hass, entry)
    main = site_file(hass, entry.entry_id)
    damaged = DAMAGE[damage](main.read_bytes())
    main.write_bytes(damaged)
    expected_time = copy_time(hass, entry)

    await start(hass, entry)

    assert labels(entry) == {"Cleaner"}
    (kept,) = set_aside(hass, entry.entry_id)
    assert kept.read_bytes() == damaged
    (repair,) = repairs(hass, "site_store_recovered")
    assert repair.severity is ir.IssueSeverity.WARNING
    assert repair.is_persistent
    assert repair.translation_placeholders == {
        "site": "Home",
        "time": expected_time,
        "kept": str(kept),
        "revoked": "\N{EM DASH}",
        "suspended": "\N{EM DASH}",
    }
    # Ours replaces Home Assistant's generic "restore from a backup" repair.
    assert not [d for (d, _) in ir.async_get(hass).issues if d == "homeassistant"]
    # The recovered state is on disk at once, in the file and in its copy.
    assert [g["label"] for g in stored(main)["data"]["grants"]] == ["Cleaner"]
    assert [g["label"] for g in stored(copy_file(hass, entry.entry_id))["data"]["grants"]] == [
        "Cleaner"
    ]


async def test_a_missing_file_is_restored_from_its_copy(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    await create(hass, "Cleaner")
    await stop(hass, entry)
    site_file(hass, entry.entry_id).unlink()
    expected_time = copy_time(hass, entry)

    await start(hass, entry)

    assert labels(entry) == {"Cleaner"}
    assert set_aside(hass, entry.entry_id) == []
    (repair,) = repairs(hass, "site_store_missing")
    assert repair.translation_placeholders is not None
    assert repair.translation_placeholders["time"] == expected_time
    assert site_file(hass, entry.entry_id).exists()


async def test_grants_changed_after_the_copy_are_revoked_again_or_suspended(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    revoked = await create(hass, "Revoked later")
    changed = await create(hass, "Changed later")
    kept_as_is = await create(hass, "Left alone")
    await stop(hass, entry)
    old_copy = copy_file(hass, entry.entry_id).read_bytes()
    await start(hass, entry)
    await call(hass, "revoke_grant", grant_id=revoked)
    await call(
        hass, "update_grant", grant_id=changed,
        start="2099-01-01 10:00:00", end="2099-01-01 10:30:00",
    )  # fmt: skip
    await create(hass, "Created later")
    await stop(hass, entry)
    # The last good copy is the older one; the file itself is damaged.
    copy_file(hass, entry.entry_id).write_bytes(old_copy)
    main = site_file(hass, entry.entry_id)
    main.write_bytes(main.read_bytes()[:100])

    await start(hass, entry)

    coordinator = entry.runtime_data
    assert labels(entry) == {"Revoked later", "Changed later", "Left alone"}
    assert coordinator.state_of(revoked) is GrantState.REVOKED
    assert coordinator.state_of(changed) is GrantState.SUSPENDED
    assert coordinator.state_of(kept_as_is) is GrantState.SCHEDULED
    (repair,) = repairs(hass, "site_store_recovered")
    assert repair.translation_placeholders is not None
    assert repair.translation_placeholders["revoked"] == "Revoked later"
    assert repair.translation_placeholders["suspended"] == "Changed later"


@pytest.mark.parametrize("copy_damage", ["damaged", "missing"])
async def test_with_no_usable_copy_the_site_starts_safely_without_grants(
    hass: HomeAssistant, entry: MockConfigEntry, copy_damage: str
) -> None:
    grant = await create(hass, "Cleaner")
    coordinator = entry.runtime_data

    async def code(event_type: AccessEventType, portal: str, slot: int) -> None:
        # What the keypad manager records once a lock confirmed a write.
        await coordinator.async_emit(
            event_type, Outcome.OK, portal=portal, grant=grant,
            source=Source.SCHEDULE, data={"slot": slot},
        )  # fmt: skip

    await code(AccessEventType.CODE_PROGRAMMED, "front", 10)
    await code(AccessEventType.CODE_PROGRAMMED, "front", 11)
    await code(AccessEventType.CODE_CLEARED, "front", 11)
    await code(AccessEventType.CODE_PROGRAMMED, "back", 12)
    await stop(hass, entry)
    main, copy = site_file(hass, entry.entry_id), copy_file(hass, entry.entry_id)
    main.write_bytes(b'{"version": 1, "minor')
    if copy_damage == "damaged":
        copy.write_bytes(b"\x00" * 64)
    else:
        copy.unlink()

    await start(hass, entry)

    coordinator = entry.runtime_data
    assert labels(entry) == set()
    # The audit log says which managed slots hold a code of ours: marked, with no grant,
    # so that the keypad manager clears them.
    keypad = coordinator.site_data.keypad
    assert keypad["lock.front_door"].known == {
        10: KnownSlot(SlotStatus.OURS),
        11: KnownSlot(SlotStatus.EMPTY),
    }
    assert keypad["lock.back_door"].known == {12: KnownSlot(SlotStatus.OURS)}
    kept = set_aside(hass, entry.entry_id)
    assert [p.read_bytes() for p in kept] == [b'{"version": 1, "minor']
    if copy_damage == "damaged":
        (copy_kept,) = set_aside(hass, entry.entry_id, of=copy)
        assert copy_kept.read_bytes() == b"\x00" * 64
        kept.append(copy_kept)
    (repair,) = repairs(hass, "site_store_lost")
    assert repair.severity is ir.IssueSeverity.ERROR
    assert repair.translation_placeholders == {
        "site": "Home",
        "kept": ", ".join(str(p) for p in kept),
    }
    # The safe state is stored at once: a restart now finds the slots still to clear.
    assert stored(main)["data"]["keypad"]["lock.front_door"]["known"]["10"]["status"] == "ours"
    await stop(hass, entry)
    await start(hass, entry)
    assert len(repairs(hass, "site_store_lost")) == 1
    assert entry.runtime_data.site_data.keypad["lock.front_door"].known[10].status is (
        SlotStatus.OURS
    )


async def test_a_damaged_file_that_cannot_be_kept_aside_is_never_overwritten(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    await create(hass, "Cleaner")
    await stop(hass, entry)
    main = site_file(hass, entry.entry_id)
    damaged = bad_grant(main.read_bytes())
    main.write_bytes(damaged)
    copy_before = copy_file(hass, entry.entry_id).read_bytes()

    with patch(
        "custom_components.concierge.storage_recovery.shutil.copy2", side_effect=OSError("full")
    ):
        await start(hass, entry)

    assert labels(entry) == {"Cleaner"}
    (repair,) = repairs(hass, "site_store_recovered")
    assert repair.translation_placeholders is not None
    assert repair.translation_placeholders["kept"] == str(main)
    await create(hass, "Plumber")
    await stop(hass, entry)
    assert main.read_bytes() == damaged
    assert copy_file(hass, entry.entry_id).read_bytes() == copy_before


async def test_a_failed_save_leaves_the_copy_as_it_was(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    await create(hass, "Cleaner")
    await stop(hass, entry)
    copy_before = copy_file(hass, entry.entry_id).read_bytes()
    await start(hass, entry)
    main = str(site_file(hass, entry.entry_id))

    def refuse_the_main_file(path: str, *args: Any, **kwargs: Any) -> None:
        if path == main:
            raise WriteError(path)
        real_write(path, *args, **kwargs)

    from homeassistant.helpers import storage  # noqa: PLC0415

    real_write = storage.write_utf8_file_atomic
    with patch.object(storage, "write_utf8_file_atomic", refuse_the_main_file):
        await create(hass, "Plumber")
        await stop(hass, entry)
    assert copy_file(hass, entry.entry_id).read_bytes() == copy_before


async def test_a_store_from_a_newer_version_still_refuses_to_load(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    await create(hass, "Cleaner")
    await stop(hass, entry)
    main = site_file(hass, entry.entry_id)
    newer = stored(main) | {"version": 2}
    main.write_text(json.dumps(newer))

    assert not await hass.config_entries.async_setup(entry.entry_id)

    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert stored(main) == newer
    assert set_aside(hass, entry.entry_id) == []
    assert not repairs(hass, "site_store_recovered")


async def test_deleting_the_site_deletes_its_copy_and_repairs_but_not_the_damaged_file(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    await create(hass, "Cleaner")
    await stop(hass, entry)
    site_file(hass, entry.entry_id).write_bytes(b"")
    await start(hass, entry)
    assert repairs(hass, "site_store_recovered")
    (kept,) = set_aside(hass, entry.entry_id)
    other_site = f"site_store_lost_{entry.entry_id}x_20990101T000000"
    ir.async_create_issue(
        hass, DOMAIN, other_site, is_fixable=False, severity=ir.IssueSeverity.ERROR,
        translation_key="site_store_lost",
    )  # fmt: skip

    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()

    assert not site_file(hass, entry.entry_id).exists()
    assert not copy_file(hass, entry.entry_id).exists()
    assert not repairs(hass, "site_store_recovered")
    assert ir.async_get(hass).async_get_issue(DOMAIN, other_site) is not None
    assert kept.exists()


async def test_damaged_data_never_fails_the_setup(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    # Home Assistant's test storage (in memory, no file to keep aside, no copy).
    entry = MockConfigEntry(domain=DOMAIN, unique_id="home", title="Home", data=SITE_DATA)
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {"grants": [{"id": "g1", "label": "Half a grant"}], "visits": []},
    }
    entry.add_to_hass(hass)

    await start(hass, entry)

    assert labels(entry) == set()
    (repair,) = repairs(hass, "site_store_lost")
    assert repair.translation_placeholders == {"site": "Home", "kept": "\N{EM DASH}"}


async def test_changes_recorded_but_not_saved_before_a_stop_are_applied_from_the_log(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    revoked = await create(hass, "Revoked just before")
    changed = await create(hass, "Changed just before")
    kept_as_is = await create(hass, "Left alone")
    coordinator = entry.runtime_data
    await stop(hass, entry)
    saved = site_file(hass, entry.entry_id).read_bytes()
    await start(hass, entry)
    coordinator = entry.runtime_data
    await call(hass, "revoke_grant", grant_id=revoked)
    await call(
        hass, "update_grant", grant_id=changed,
        start="2099-01-01 10:00:00", end="2099-01-01 10:30:00",
    )  # fmt: skip
    # A code was written (recorded) for the grant left alone, in a managed slot.
    await coordinator.async_emit(
        AccessEventType.CODE_PROGRAMMED, Outcome.OK, portal="front", grant=kept_as_is,
        source=Source.SCHEDULE, data={"slot": 12},
    )  # fmt: skip
    await stop(hass, entry)
    # Home Assistant stopped before the store was written: the file is whole but older.
    site_file(hass, entry.entry_id).write_bytes(saved)

    await start(hass, entry)

    coordinator = entry.runtime_data
    assert coordinator.state_of(revoked) is GrantState.REVOKED
    assert coordinator.state_of(changed) is GrantState.SUSPENDED
    assert coordinator.state_of(kept_as_is) is GrantState.SCHEDULED
    # The slot the log says holds a code of ours is known again (cleared once unwanted).
    known = coordinator.site_data.keypad["lock.front_door"].known
    assert known[12] == KnownSlot(SlotStatus.OURS, kept_as_is)
    (repair,) = repairs(hass, "site_store_behind")
    assert repair.translation_placeholders is not None
    assert repair.translation_placeholders["revoked"] == "Revoked just before"
    assert repair.translation_placeholders["suspended"] == "Changed just before"
    # A clean restart applies nothing again and raises nothing new.
    await stop(hass, entry)
    await start(hass, entry)
    assert len(repairs(hass, "site_store_behind")) == 1
