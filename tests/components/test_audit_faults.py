"""The audit log under storage faults: a full disk, a torn last line, damage, lost records.

The disk is real: Home Assistant's `.storage` folder is a small tmpfs of its own, filled
to the last byte by a filler file (falling back to `/dev/full` where nothing can be
mounted). Home Assistant's own stores are kept in memory by the test harness, so only
the audit log meets the fault. Every test asserts what the owner notices: the door
locked, the alarm re-armed, the repair, and what `verify_audit_log` says.
"""

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.audit_log import AuditLog
from custom_components.concierge.const import DOMAIN
from custom_components.concierge.coordinator import ConciergeCoordinator
from custom_components.concierge.diagnostics import async_get_config_entry_diagnostics

from .delivery_helpers import ALARM, add_site, setup_house, site_data, site_options, window
from .helpers import at, call, entity_id, move_to

NOW = "2026-11-24 10:00"
PAGE = 4096
CONTACT = "binary_sensor.front_door_contact"


class Disk:
    """The `.storage` folder on a small file system of its own, which can be filled."""

    def __init__(self, folder: Path) -> None:
        """Mount a 256 KiB tmpfs at `folder` (or, where that fails, prepare /dev/full)."""
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(folder)],  # noqa: S607
            check=False,
            capture_output=True,
        )
        self.tmpfs = mounted.returncode == 0
        self.filler = folder / "filler"
        self._backing: dict[Path, Path] = {}

    def fill(self, *, room: int = 0) -> None:
        """Take every byte but `room` pages; the audit logs' last pages are padded too.

        A log's last page may still have room after the filler took every free page; it
        is padded with newlines (blank lines, which the log ignores), so the next write
        finds no room at all.
        """
        if not self.tmpfs:
            for log in self.folder.glob("*.audit.jsonl"):
                backing = self.folder.parent / f"{log.name}.backing"
                shutil.move(log, backing)
                log.symlink_to("/dev/full")
                self._backing[log] = backing
            return
        _write_until_full(self.filler, b"\0" * PAGE)
        for log in self.folder.glob("*.audit.jsonl"):
            _write_until_full(log, b"\n")
        if room:
            with self.filler.open("r+b") as handle:
                handle.truncate(max(0, self.filler.stat().st_size - room * PAGE))

    def make_room(self) -> None:
        """Free the disk again."""
        self.filler.unlink(missing_ok=True)
        for log, backing in self._backing.items():
            log.unlink()
            shutil.move(backing, log)
        self._backing.clear()

    def read_only(self, *, on: bool) -> None:
        """Remount the file system read-only (or writable again)."""
        mode = "ro" if on else "rw"
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.folder)], check=True)  # noqa: S607

    def unmount(self) -> None:
        """Give the folder back."""
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.folder)], check=False)  # noqa: S607


def _write_until_full(path: Path, chunk: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    code = 0
    try:
        while True:
            os.write(fd, chunk)
    except OSError as err:
        code = err.errno or 0
    finally:
        os.close(fd)
    assert code == errno.ENOSPC
    if chunk == b"\n":
        return
    # Whatever the last write left: the rest of its page goes too.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        while True:
            os.write(fd, b"\0")
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.fixture
def disk(hass: HomeAssistant) -> Iterator[Disk]:
    """`.storage` on its own small disk (the audit log lives there)."""
    folder = Path(hass.config.path(".storage"))
    disk = Disk(folder)
    yield disk
    disk.unmount()


@pytest.fixture
async def home(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    real_locks: None,
    disk: Disk,
) -> MockConfigEntry:
    """The front door (template lock, contact) and the manual alarm panel, armed away."""
    await setup_house(hass, tmp_path, camera=False)
    await move_to(hass, freezer, at(NOW))
    return await add_site(hass, site_data("lock.front_door", CONTACT, []), site_options())


def site(entry: MockConfigEntry) -> ConciergeCoordinator:
    runtime = entry.runtime_data
    assert isinstance(runtime, ConciergeCoordinator)
    return runtime


def audit(entry: MockConfigEntry) -> AuditLog:
    return site(entry).audit


async def create_grant(hass: HomeAssistant) -> str:
    """A cleaner's grant, active now; returns once its records were written (or failed)."""
    start, end = window(at(NOW))
    made = hass.data.get("concierge_test_grants", 0) + 1  # live grants need their own labels
    hass.data["concierge_test_grants"] = made
    response = await call(hass, "create_grant", label=f"Cleaner {made}", kind="cleaner",
                          start=start, end=end)  # fmt: skip
    await hass.async_block_till_done()  # the audit log is written behind the action
    return str(response["grant_id"])


def door(hass: HomeAssistant, state: str) -> None:
    hass.states.async_set(CONTACT, state, {"device_class": "door"})


async def visit(hass: HomeAssistant, freezer: FrozenDateTimeFactory, grant: str) -> str:
    """A whole visit: in, door open, door shut (Concierge locks and re-arms)."""
    response = await call(hass, "start_visit", grant_id=grant, portal="front")
    assert hass.states.get("lock.front_door").state == "unlocked"
    assert hass.states.get(ALARM).state == "disarmed"
    await move_to(hass, freezer, at(NOW) + timedelta(seconds=30))
    door(hass, "on")
    await hass.async_block_till_done()
    await move_to(hass, freezer, at(NOW) + timedelta(seconds=90))
    door(hass, "off")
    await hass.async_block_till_done()
    return str(response["visit_id"])


def lines(path: Path) -> list[dict[str, Any]]:
    """The log's records; every line must be whole (blank ones aside)."""
    data = path.read_bytes()
    assert not data or data.endswith(b"\n"), "a partial line stayed in the log"
    return [json.loads(line) for line in data.splitlines() if line.strip()]


def issue(hass: HomeAssistant, key: str) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, key)


def issues_of(hass: HomeAssistant, prefix: str) -> list[ir.IssueEntry]:
    registry = ir.async_get(hass)
    return [i for (d, k), i in registry.issues.items() if d == DOMAIN and k.startswith(prefix)]


async def reload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


# --- a full disk ------------------------------------------------------------------------


async def test_a_visit_secures_the_house_while_the_disk_is_full(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    disk: Disk,
    access_events: list[dict[str, Any]],
) -> None:
    grant = await create_grant(hass)
    log = audit(home)
    before = lines(log.path)
    disk.fill()

    visit_id = await visit(hass, freezer, grant)

    # The owner's house is safe: locked, re-armed, the visit completed.
    assert hass.states.get("lock.front_door").state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"
    in_progress = entity_id(hass, home, "front_visit_in_progress", "binary_sensor")
    assert hass.states.get(in_progress).state == "off"
    timeline = [e["type"] for e in access_events if e["visit"] == visit_id]
    assert timeline[-3:] == ["locked", "alarm_rearmed", "visit_completed"]
    # Nothing was written, nothing half-written; every record waits in memory.
    assert lines(log.path) == before
    assert log.pending == len(access_events) - len(before)
    assert log.failures >= 1
    repair = issue(hass, f"audit_write_failed_{home.entry_id}")
    assert repair is not None
    assert repair.translation_key == "audit_write_failed"
    assert repair.translation_placeholders["pending"] == str(log.pending)
    assert repair.translation_placeholders["error"] == "No space left on device"
    verified = await call(hass, "verify_audit_log")
    assert verified == verified | {"ok": True, "intact": True, "pending": log.pending}
    diagnostics = await async_get_config_entry_diagnostics(hass, home)
    assert diagnostics["audit"]["pending"] == log.pending

    # Room again: the next retry writes every record, in order, and the repair goes.
    disk.make_room()
    await move_to(hass, freezer, at(NOW) + timedelta(minutes=10))
    assert log.pending == 0
    written = lines(log.path)
    assert [r["seq"] for r in written] == list(range(1, len(written) + 1))
    assert [r["event"]["id"] for r in written] == [e["id"] for e in access_events]
    assert issue(hass, f"audit_write_failed_{home.entry_id}") is None
    verified = await call(hass, "verify_audit_log")
    assert verified == verified | {"ok": True, "count": len(written), "pending": 0}
    bundle = await call(hass, "export_visit", visit_id=visit_id)
    assert bundle["verified"]["ok"] is True
    assert [r["event"]["type"] for r in bundle["records"]] == timeline


async def test_a_write_cut_short_leaves_no_partial_line_and_is_retried_in_order(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    disk: Disk,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not disk.tmpfs:
        pytest.skip("a write cut short needs a real file system that fills up")
    log = audit(home)
    disk.fill(room=1)  # one page left: records fit until one is cut short
    grants = 0
    while not log.failures:
        await create_grant(hass)
        grants += 1
        assert grants < 20, "the disk never filled up"
    # The write that did not fit was cut back: the file ends where the last whole
    # record ends, short of its page's end (so the failed write had written a part).
    size = log.path.stat().st_size
    assert size % PAGE != 0
    written = lines(log.path)
    assert written[-1]["seq"] + log.pending == log.count
    assert caplog.text.count("Could not write the audit log") == 1

    # Retries: after 1 s, then 5 s more (each fails; the disk is still full).
    attempts = log.failures
    await move_to(hass, freezer, at(NOW) + timedelta(seconds=1))
    assert log.failures == attempts + 1
    await move_to(hass, freezer, at(NOW) + timedelta(seconds=6))
    assert log.failures == attempts + 2
    assert log.path.stat().st_size == size
    assert caplog.text.count("Could not write the audit log") == 1  # warned once

    disk.make_room()
    await move_to(hass, freezer, at(NOW) + timedelta(seconds=36))
    assert (log.pending, log.failures) == (0, 0)
    records = lines(log.path)
    assert [r["seq"] for r in records] == list(range(1, log.count + 1))
    assert "is written again" in caplog.text
    assert (await call(hass, "verify_audit_log"))["ok"] is True


async def test_unloading_writes_what_waits_once_there_is_room(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, home: MockConfigEntry, disk: Disk
) -> None:
    disk.fill()
    await create_grant(hass)
    log = audit(home)
    assert log.pending > 0
    disk.make_room()  # no retry is due yet: unloading writes them
    await reload(hass, home)
    assert audit(home).pending == 0
    assert issues_of(hass, "audit_records_lost") == []
    verified = await call(hass, "verify_audit_log")
    assert verified == verified | {"ok": True, "count": log.count, "missing": []}


async def test_home_assistant_stopping_tries_a_last_write(
    hass: HomeAssistant, home: MockConfigEntry, disk: Disk
) -> None:
    disk.fill()
    await create_grant(hass)
    log = audit(home)
    assert log.pending > 0
    disk.make_room()
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert log.pending == 0
    assert [r["seq"] for r in lines(log.path)] == list(range(1, log.count + 1))


async def test_records_still_waiting_when_the_site_stops_leave_a_gap_record(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    disk: Disk,
    caplog: pytest.LogCaptureFixture,
) -> None:
    grant = await create_grant(hass)
    present = audit(home).count
    disk.fill()
    await visit(hass, freezer, grant)
    lost = audit(home).count - present
    assert audit(home).pending == lost > 0
    # The site stops while the disk is still full (its stored head counts the records),
    # as a process that dies would: the records waiting are gone.
    assert await hass.config_entries.async_unload(home.entry_id)
    await hass.async_block_till_done()
    assert "could not be written before stopping" in caplog.text
    assert issue(hass, f"audit_write_failed_{home.entry_id}") is None
    disk.make_room()
    assert await hass.config_entries.async_setup(home.entry_id)
    await hass.async_block_till_done()

    records = lines(audit(home).path)
    gap = records[-1]
    assert gap["seq"] == present + lost + 1
    assert gap["prev"] == records[-2]["hash"]
    assert gap["event"]["type"] == "audit_gap"
    assert gap["event"]["reason"] == "records_lost"
    assert gap["event"]["data"] | {"lost_head": "-"} == {
        "missing_from": present + 1, "missing_to": present + lost, "missing_count": lost,
        "lost_head": "-",
    }  # fmt: skip
    verified = await call(hass, "verify_audit_log")
    assert verified == verified | {
        "ok": False, "intact": True, "problem": "records_missing",
        "first_bad_seq": present + 1, "missing_count": lost,
        "missing": [{"from": present + 1, "to": present + lost, "count": lost}],
    }  # fmt: skip
    (repair,) = issues_of(hass, f"audit_records_lost_{home.entry_id}")
    assert repair.translation_placeholders == {
        "site": "Home", "count": str(lost), "first": str(present + 1),
        "last": str(present + lost),
    }  # fmt: skip
    assert repair.is_persistent

    # The chain goes on after the gap, and the gap stays visible.
    await create_grant(hass)
    verified = await call(hass, "verify_audit_log")
    assert verified["intact"] is True
    assert verified["missing_count"] == lost
    assert verified["count"] == len(lines(audit(home).path)) > len(records)
    # A restart does not declare them twice.
    await reload(hass, home)
    assert [r["event"]["type"] for r in lines(audit(home).path)].count("audit_gap") == 1


# --- a torn last line, a damaged line ------------------------------------------------------


async def _stopped_with_records(hass: HomeAssistant, entry: MockConfigEntry) -> Path:
    """Two grants recorded, then the site unloaded; the log's path."""
    await create_grant(hass)
    await create_grant(hass)
    path = audit(entry).path
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    return path


async def test_a_torn_last_line_is_cut_back_and_setup_goes_on(
    hass: HomeAssistant, home: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    path = await _stopped_with_records(hass, home)
    whole = path.read_bytes()
    count = len(whole.splitlines())
    torn = whole.splitlines()[-1][:57]  # a record cut short by a power loss
    path.write_bytes(whole + torn)

    assert await hass.config_entries.async_setup(home.entry_id)
    await hass.async_block_till_done()
    assert home.state is ConfigEntryState.LOADED
    assert path.read_bytes() == whole
    (aside,) = path.parent.glob(f"{path.name}.torn-*")
    assert aside.read_bytes() == torn
    (repair,) = issues_of(hass, f"audit_torn_tail_{home.entry_id}")
    assert repair.translation_key == "audit_torn_tail"
    assert repair.translation_placeholders == {
        "site": "Home", "line": str(count + 1), "seq": str(count + 1), "file": str(aside),
    }  # fmt: skip
    assert f"line {count + 1} (record {count + 1}) was cut short" in caplog.text
    # The torn record was never counted: the chain verifies, and goes on.
    assert (await call(hass, "verify_audit_log"))["ok"] is True
    await create_grant(hass)
    verified = await call(hass, "verify_audit_log")
    assert verified == verified | {"ok": True, "count": count + 2}


async def test_a_torn_record_the_site_had_counted_is_declared_missing(
    hass: HomeAssistant, home: MockConfigEntry
) -> None:
    path = await _stopped_with_records(hass, home)
    records = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(records[:-1]) + records[-1][:80])  # the last write torn

    assert await hass.config_entries.async_setup(home.entry_id)
    await hass.async_block_till_done()
    assert len(issues_of(hass, f"audit_torn_tail_{home.entry_id}")) == 1
    verified = await call(hass, "verify_audit_log")
    last = len(records)
    assert verified == verified | {
        "ok": False, "intact": True, "problem": "records_missing",
        "missing": [{"from": last, "to": last, "count": 1}],
    }  # fmt: skip


async def test_torn_bytes_that_cannot_be_kept_are_logged_and_cut_at_the_next_write(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    home: MockConfigEntry,
    disk: Disk,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not disk.tmpfs:
        pytest.skip("needs a file system that can be made read-only")
    path = await _stopped_with_records(hass, home)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"event":{"data"')
    disk.read_only(on=True)
    try:
        assert await hass.config_entries.async_setup(home.entry_id)
        await hass.async_block_till_done()
        assert home.state is ConfigEntryState.LOADED
        assert "the torn bytes could not be kept in a file" in caplog.text
        assert b'{"event":{"data"' in caplog.text.encode()
        (repair,) = issues_of(hass, f"audit_torn_tail_{home.entry_id}")
        assert repair.translation_placeholders["file"].startswith("the Home Assistant log")
        await create_grant(hass)  # its record cannot be written either
        assert audit(home).failures >= 1
    finally:
        disk.read_only(on=False)
    await move_to(hass, freezer, at(NOW) + timedelta(minutes=10))
    assert audit(home).pending == 0
    records = lines(path)  # the torn bytes were cut before the next record was written
    assert path.read_bytes().startswith(whole)
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert (await call(hass, "verify_audit_log"))["ok"] is True


async def test_a_damaged_line_in_the_middle_is_reported_and_concierge_runs(
    hass: HomeAssistant, home: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    path = await _stopped_with_records(hass, home)
    original = path.read_bytes().splitlines(keepends=True)
    damaged = list(original)
    damaged[1] = b'{"seq": 2, "scribbled over": true}\n'
    path.write_bytes(b"".join(damaged))

    assert await hass.config_entries.async_setup(home.entry_id)
    await hass.async_block_till_done()
    assert home.state is ConfigEntryState.LOADED
    repair = issue(hass, f"audit_damaged_{home.entry_id}")
    assert repair is not None
    assert repair.translation_placeholders == {
        "site": "Home", "line": "2", "seq": "2", "count": "1", "file": str(path),
    }  # fmt: skip
    assert "hold no record" in caplog.text
    # The damage stays in the file, and verification fails on it.
    assert path.read_bytes().startswith(b"".join(damaged))
    verified = await call(hass, "verify_audit_log")
    assert verified == verified | {
        "ok": False, "intact": False, "problem": "damaged_record", "first_bad_seq": 2,
        "damaged_lines": [2],
    }  # fmt: skip
    # New records chain onto the last whole one.
    await create_grant(hass)
    added = path.read_bytes().splitlines(keepends=True)[len(damaged) :]
    assert json.loads(added[0])["seq"] == len(original) + 1
    assert json.loads(added[0])["prev"] == json.loads(original[-1])["hash"]

    # The file restored from a backup (with the new records): whole again.
    path.write_bytes(b"".join(original + added))
    await reload(hass, home)
    assert issue(hass, f"audit_damaged_{home.entry_id}") is None
    assert (await call(hass, "verify_audit_log"))["ok"] is True


async def test_removing_a_site_deletes_its_log_torn_bytes_and_repairs(
    hass: HomeAssistant, home: MockConfigEntry
) -> None:
    path = await _stopped_with_records(hass, home)
    path.write_bytes(path.read_bytes() + b"{")
    assert await hass.config_entries.async_setup(home.entry_id)
    await hass.async_block_till_done()
    assert issues_of(hass, f"audit_torn_tail_{home.entry_id}")
    assert list(path.parent.glob(f"{path.name}.torn-*"))
    await hass.config_entries.async_remove(home.entry_id)
    await hass.async_block_till_done()
    assert not path.exists()
    assert not list(path.parent.glob(f"{path.name}.torn-*"))
    assert issues_of(hass, "audit_") == []
