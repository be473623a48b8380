"""A long audit log: segments, compression, reading while writing, an older single file.

The log runs in Home Assistant on real files, with segments closed after a few records
(a small `segment_bytes`), so a chain of some dozen records spans several of them.
"""

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from homeassistant.core import HomeAssistant

from custom_components.concierge.audit_log import AuditLog
from custom_components.concierge.core.audit import append, to_json_line
from custom_components.concierge.core.events import (
    AccessEvent,
    AccessEventType,
    Outcome,
    Source,
)

from ..waiting import until

ENTRY = "site1"
SEGMENT = 2000  # about four records


def event(n: int, visit: str = "v1") -> AccessEvent:
    return AccessEvent(
        id=f"e{n}",
        time=datetime(2026, 11, 24, 10, tzinfo=UTC),
        site=ENTRY,
        type=AccessEventType.UNLOCKED,
        outcome=Outcome.OK,
        source=Source.KEYPAD,
        portal="front",
        visit=visit,
    )


async def started(
    hass: HomeAssistant, count: int = 0, head: str | None = None, **kw: object
) -> AuditLog:
    log = AuditLog(hass, ENTRY, segment_bytes=SEGMENT, **kw)  # type: ignore[arg-type]
    await log.async_load(head, count)
    await hass.async_block_till_done()
    return log


async def written(hass: HomeAssistant, log: AuditLog, first: int, count: int) -> None:
    for n in range(first, first + count):
        await log.async_append(event(n, visit=f"v{n % 3}"))
        await hass.async_block_till_done()  # each write on its own, as events come
    await until("every record is on disk", lambda: log.pending == 0)


def files(log: AuditLog) -> list[str]:
    return sorted(p.name for p in log.folder.iterdir()) if log.folder.exists() else []


async def test_a_long_log_is_kept_in_segments_and_verified_as_one_chain(
    hass: HomeAssistant,
) -> None:
    log = await started(hass)
    await written(hass, log, 1, 30)
    head = log.head
    names = await until(
        "the closed segments but the newest are compressed (behind the writes)",
        lambda: files(log),
        want=lambda names: all(n.endswith(".jsonl.gz") for n in names[:-1]),
    )
    assert len(names) >= 5
    assert names[-1].endswith(".jsonl")
    assert (log.path.stat().st_size if log.path.exists() else 0) < SEGMENT
    first = gzip.decompress((log.folder / names[0]).read_bytes()).splitlines()
    assert json.loads(first[0])["seq"] == 1
    verified = await log.async_verify(head)
    assert verified.to_dict() | {"head": "-"} == verified.to_dict() | {
        "ok": True, "count": 30, "head": "-", "pending": 0,
    }  # fmt: skip
    bundle = await log.async_export_visit("v1")
    assert [r["seq"] for r in bundle["records"]] == list(range(1, 31, 3))  # type: ignore[index]
    assert bundle["chain"] == {"head": head, "count": 30}
    assert bundle["verified"]["ok"] is True  # type: ignore[index]
    assert [r.seq for r in await log.async_read()] == list(range(1, 31))
    await log.async_close()

    # A restart reads the live segment's tail only, and chains on.
    again = await started(hass, 30, head)
    assert (again.count, again.head) == (30, head)
    await written(hass, again, 31, 2)
    assert (await again.async_verify(again.head)).ok
    await again.async_close()


async def test_a_closed_segment_removed_or_edited_fails_verification(
    hass: HomeAssistant,
) -> None:
    log = await started(hass)
    await written(hass, log, 1, 30)
    head = log.head
    names = await until(
        "the closed segments are compressed",
        lambda: files(log),
        want=lambda names: all(n.endswith(".jsonl.gz") for n in names[:-1]),
    )

    packed = log.folder / names[1]
    original = packed.read_bytes()
    lines = gzip.decompress(original).splitlines(keepends=True)
    edited = lines[0].replace(b'"portal":"front"', b'"portal":"back"')
    packed.write_bytes(gzip.compress(b"".join([edited, *lines[1:]])))
    verified = await log.async_verify(head)
    assert (verified.ok, verified.problem, verified.first_bad_seq) == (
        False, "hash_mismatch", json.loads(lines[0])["seq"],
    )  # fmt: skip

    packed.write_bytes(original)
    missing = log.folder / names[2]
    kept = missing.read_bytes()
    missing.unlink()
    verified = await log.async_verify(head)
    assert (verified.ok, verified.problem) == (False, "sequence_gap")

    missing.write_bytes(kept)
    assert (await log.async_verify(head)).ok
    # Uncompressed by hand (or never compressed), a segment reads the same.
    plain = log.folder / names[1].removesuffix(".gz")
    plain.write_bytes(gzip.decompress(original))
    packed.unlink()
    assert (await log.async_verify(head)).ok
    await log.async_close()


async def test_a_log_of_one_file_from_before_becomes_the_first_segment(
    hass: HomeAssistant,
) -> None:
    path = Path(hass.config.path(".storage", f"concierge.{ENTRY}.audit.jsonl"))
    records = [append(None, event(1))]
    for n in range(2, 21):
        records.append(append(records[-1], event(n)))
    data = b"".join(f"{to_json_line(r)}\n".encode() for r in records)
    await hass.async_add_executor_job(_write, path, data)

    log = await started(hass, 20, records[-1].hash)
    assert (log.count, log.head) == (20, records[-1].hash)
    await written(hass, log, 21, 1)  # the first write after it closes the old file
    assert files(log)[0] == "000001.jsonl"
    assert len((log.folder / "000001.jsonl").read_bytes().splitlines()) == 21
    verified = await log.async_verify(log.head)
    assert (verified.ok, verified.count) == (True, 21)
    await log.async_close()


async def test_a_site_behind_its_log_gets_the_records_it_missed_from_every_segment(
    hass: HomeAssistant,
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 30)
    head = log.head
    await log.async_close()
    # The site's data was last saved at record 5: the records after it span segments.
    again = AuditLog(hass, ENTRY, segment_bytes=SEGMENT)
    later = await again.async_load(head, 5)
    assert [r.seq for r in later] == list(range(6, 31))
    assert await AuditLog(hass, ENTRY, segment_bytes=SEGMENT).async_load(head, 30) == []
    # A live segment closed just before a stop: the tail is found in the closed one.
    log.path.unlink(missing_ok=True)
    newest = (log.folder / files(log)[-1]).read_bytes().splitlines()
    third = AuditLog(hass, ENTRY, segment_bytes=SEGMENT)
    assert [r.seq for r in await third.async_load(None, 0)][:2] == [1, 2]
    assert third.count == json.loads(newest[-1])["seq"]
    await hass.async_block_till_done()
    for opened in (again, third):
        await opened.async_close()


async def test_records_are_written_while_a_verification_reads(hass: HomeAssistant) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 30)
    head, count = log.head, log.count
    # The oldest segment is a pipe: the verification waits in it until the test writes.
    first = log.folder / files(log)[0]
    content = first.read_bytes()
    first.unlink()
    os.mkfifo(first)
    verify = hass.async_create_task(log.async_verify(head))
    # Opening the pipe's other end returns once the verification has opened it.
    pipe = await hass.async_add_executor_job(os.open, first, os.O_WRONLY)

    await log.async_append(event(99))
    await until("the new record is on disk", lambda: log.pending == 0)
    assert not verify.done()

    await hass.async_add_executor_job(_feed, pipe, content)
    verified = await verify
    assert (verified.ok, verified.count) == (True, count)  # what was there when it began
    assert log.count == count + 1
    await log.async_close()


def _feed(pipe: int, content: bytes) -> None:
    with os.fdopen(pipe, "wb") as handle:
        handle.write(content)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
