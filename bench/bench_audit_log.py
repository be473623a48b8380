"""The audit log at length: setup, memory, verification and appends during a verification.

Run: .venv/bin/python -m pytest bench/bench_audit_log.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

Logs of 1,000, 100,000 and 1,000,000 records are written directly as valid chains (the
same segments the log writes: closed ones of `SEGMENT_BYTES`, the rest live), each a
real record of about 415 bytes. Reported, never asserted, except that every log loads
onto its last record and verifies:

- setup: `AuditLog.async_load` (what a site's setup waits for), median of 5, and its
  ratio to the 1,000-record log in the same run; the live segment's check for damaged
  lines that follows in the background; peak Python memory of a load (tracemalloc);
- verification throughput (records/s), plain and with closed segments compressed (in a
  process of its own, `audit_verify_process.py`; the run fails if it fell back to a thread);
- an access event's append while a verification of 1,000,000 records runs: from when it
  is due on the event loop until `async_append` returned (p50/p99), against the same
  appends with nothing else running, in the same run (half just before the verification,
  half just after; their ratio); and until it is on disk; and the priority the child got;
- bytes per record on disk, plain and compressed.

Asserted (issue #15): the appends' p99 during the verification is at most 5 ms when the
same appends with nothing else running had a p99 of at most 2.5 ms; on a machine loaded
by others beyond that (the absolute goal cannot be told apart from their load), at most
twice the quiet p99, and the run says so.
"""

import asyncio
import hashlib
import logging
import statistics
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant

from custom_components.concierge.audit_log import AuditLog
from custom_components.concierge.audit_segments import SEGMENT_BYTES, archive_folder
from custom_components.concierge.core.audit import GENESIS, canonical_json
from custom_components.concierge.core.events import (
    AccessEvent,
    AccessEventType,
    Outcome,
    Source,
    to_wire,
)

SIZES = (1_000, 100_000, 1_000_000)
ROUNDS = 5
APPEND_EVERY = 0.005
BASELINE_APPENDS = 500
"""Appends with nothing else running, before and again after the verification."""
GOAL_P99 = 0.005
QUIET_P99_FOR_GOAL = 0.0025
"""The absolute goal holds when the quiet appends' p99 is at most this (else the ratio)."""
MAX_RATIO = 2.0


def _event(n: int) -> AccessEvent:
    return AccessEvent(
        id=f"{n:032x}",
        time=datetime(2026, 11, 24, 10, tzinfo=UTC),
        site="bench",
        type=AccessEventType.UNLOCKED,
        outcome=Outcome.OK,
        source=Source.KEYPAD,
        portal="front",
        grant="g-cleaner",
        visit="v-1",
    )


def write_chain(live: Path, count: int) -> str:
    """Write a valid chain of `count` records as the log would; return its head."""
    head_part, _, tail_part = canonical_json(to_wire(_event(0))).partition(b"0" * 32)
    folder = archive_folder(live)
    folder.mkdir(parents=True, exist_ok=True)
    prev = GENESIS.encode()
    segment: list[bytes] = []
    size, number = 0, 0
    for seq in range(1, count + 1):
        event = b"%s%032x%s" % (head_part, seq, tail_part)
        digest = (
            hashlib.sha256(b'{"event":%s,"prev":"%s","seq":%d}' % (event, prev, seq))
            .hexdigest()
            .encode()
        )
        line = b'{"event":%s,"hash":"%s","prev":"%s","seq":%d}\n' % (event, digest, prev, seq)
        segment.append(line)
        size += len(line)
        prev = digest
        if size >= SEGMENT_BYTES:
            number += 1
            (folder / f"{number:06d}.jsonl").write_bytes(b"".join(segment))
            segment, size = [], 0
    live.write_bytes(b"".join(segment))
    return prev.decode()


def _disk_bytes(live: Path) -> int:
    folder = archive_folder(live)
    return live.stat().st_size + sum(p.stat().st_size for p in folder.iterdir())


async def _load(hass: HomeAssistant, entry: str, head: str, count: int) -> tuple[float, float]:
    """One setup: the load's time, and the background check's that follows."""
    log = AuditLog(hass, entry, compress=False)
    start = time.perf_counter()
    await log.async_load(head, count)
    loaded = time.perf_counter() - start
    assert (log.count, log.head) == (count, head)
    await hass.async_block_till_done()
    checked = time.perf_counter() - start
    await log.async_close()
    return loaded, checked - loaded


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _appends(
    log: AuditLog, first: int, until: asyncio.Future[object] | None
) -> tuple[list[float], list[float]]:
    """Append an event every few ms (until `until` is done): due→returned, due→on disk."""
    returned: list[float] = []
    durable: list[float] = []
    n = first
    while (until is None and len(returned) < BASELINE_APPENDS) or (
        until is not None and not until.done()
    ):
        due = time.perf_counter() + APPEND_EVERY
        await asyncio.sleep(APPEND_EVERY)
        await log.async_append(_event(n))
        returned.append(time.perf_counter() - due)
        while log.pending:  # noqa: ASYNC110 - the log tells no one when it wrote
            await asyncio.sleep(0.0002)
        durable.append(time.perf_counter() - due)
        n += 1
    return returned, durable


async def test_bench_audit_log(hass: HomeAssistant, caplog: pytest.LogCaptureFixture) -> None:
    """Setup, memory, verification and appends during a verification, by log length."""
    storage = Path(hass.config.path(".storage"))
    heads: dict[int, str] = {}
    for count in SIZES:
        start = time.perf_counter()
        heads[count] = await hass.async_add_executor_job(
            write_chain, storage / f"concierge.n{count}.audit.jsonl", count
        )
        print(f"wrote {count} records in {time.perf_counter() - start:.1f} s")

    print("\nsetup (async_load), median of", ROUNDS)
    base = 0.0
    for count in SIZES:
        runs = [await _load(hass, f"n{count}", heads[count], count) for _ in range(ROUNDS)]
        loaded = statistics.median(r[0] for r in runs)
        checked = statistics.median(r[1] for r in runs)
        base = base or loaded
        tracemalloc.start()
        await _load(hass, f"n{count}", heads[count], count)
        _now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(
            f"  {count:>9} records: {loaded * 1000:6.2f} ms ({loaded / base:4.2f}x the 1k log),"
            f" +{(loaded - base) * 1000:5.2f} ms; peak {peak / 1024:7.1f} KiB;"
            f" background check of the live segment {checked * 1000:6.1f} ms"
        )

    big = SIZES[-1]
    log = AuditLog(hass, f"n{big}", compress=False)
    await log.async_load(heads[big], big)
    await hass.async_block_till_done()
    plain = _disk_bytes(log.path)
    start = time.perf_counter()
    verified = await log.async_verify(heads[big])
    took = time.perf_counter() - start
    assert verified.ok
    assert verified.count == big
    print(f"\nverify {big} records (plain): {took:.2f} s, {big / took:,.0f} records/s")

    await _appends_during_verify(hass, log, big, caplog)
    await log.async_close()
    await _compressed(hass, SIZES[1], heads[SIZES[1]], plain / big)
    assert "verifying in a thread instead" not in caplog.text  # every verify in a process


async def _appends_during_verify(
    hass: HomeAssistant, log: AuditLog, big: int, caplog: pytest.LogCaptureFixture
) -> None:
    before_returned, before_durable = await _appends(log, big + 1, None)
    start = time.perf_counter()
    with caplog.at_level(logging.DEBUG, "custom_components.concierge.audit_verify_process"):
        verify = hass.async_create_task(log.async_verify(None))
        busy_returned, busy_durable = await _appends(log, big + 10_000, verify)
        assert (await verify).intact
    took = time.perf_counter() - start
    after_returned, after_durable = await _appends(log, big + 20_000, None)
    quiet_returned = before_returned + after_returned
    quiet_durable = before_durable + after_durable
    priority = [r.getMessage() for r in caplog.records if "priority" in r.getMessage()]
    ms = 1000
    quiet99, busy99 = _pct(quiet_returned, 0.99), _pct(busy_returned, 0.99)
    print(f"verify {big} records while appending: {took:.2f} s, {big / took:,.0f} records/s;"
          f" {priority[-1] if priority else 'the child said nothing of its priority'}")  # fmt: skip
    print(
        f"append due→returned, nothing else running: p50 {_pct(quiet_returned, 0.5) * ms:.2f}"
        f" / p99 {quiet99 * ms:.2f} ms ({len(quiet_returned)} appends); during a verify of "
        f"{big}: p50 {_pct(busy_returned, 0.5) * ms:.2f} / p99 {busy99 * ms:.2f} ms "
        f"({busy99 / quiet99:.2f}x), max {max(busy_returned) * ms:.2f} ms, "
        f"{len(busy_returned)} appends"
    )
    print(
        f"append due→on disk (fsync), nothing else: p99 {_pct(quiet_durable, 0.99) * ms:.2f}"
        f" ms; during the verify: p50 {_pct(busy_durable, 0.5) * ms:.2f} / p99 "
        f"{_pct(busy_durable, 0.99) * ms:.2f} ms"
    )
    if quiet99 <= QUIET_P99_FOR_GOAL:
        assert busy99 <= GOAL_P99, f"append p99 {busy99 * ms:.2f} ms during the verify"
        print(f"goal met: p99 during the verify {busy99 * ms:.2f} ms <= {GOAL_P99 * ms:.0f} ms")
        return
    print(
        f"the machine was too loaded for the absolute goal (quiet p99 {quiet99 * ms:.2f} ms >"
        f" {QUIET_P99_FOR_GOAL * ms} ms): asserting p99 during/quiet <= {MAX_RATIO}"
    )
    assert busy99 / quiet99 <= MAX_RATIO, f"p99 {busy99 / quiet99:.2f}x the quiet one"


async def _compressed(hass: HomeAssistant, mid: int, head: str, plain_per_record: float) -> None:
    log = AuditLog(hass, f"n{mid}")
    await log.async_load(head, mid)
    await hass.async_block_till_done()
    mid_plain = _disk_bytes(log.path)
    start = time.perf_counter()
    packed = await hass.async_add_executor_job(log._file.compress_closed)  # noqa: SLF001
    took_packing = time.perf_counter() - start
    packed_bytes = _disk_bytes(log.path)
    start = time.perf_counter()
    verified = await log.async_verify(head)
    took = time.perf_counter() - start
    assert verified.ok
    assert verified.count == mid
    print(
        f"verify {mid} records, {packed} closed segments compressed ({took_packing:.2f} s): "
        f"{took:.2f} s, {mid / took:,.0f} records/s"
    )
    print(
        f"disk per record: plain {plain_per_record:.0f} B; with closed segments compressed "
        f"{packed_bytes / mid:.0f} B ({mid_plain / mid:.0f} B plain at {mid})"
    )
    await log.async_close()
