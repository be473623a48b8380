"""Verification in a process of its own: the same verdicts as in a thread, and a fallback.

The log runs in Home Assistant on real files, in segments of a few records; the child is
a real Python process. Each verdict is compared with the one the executor path gives for
the same files (`LogFile.verify`, what ran before).
"""

import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant

from custom_components.concierge.audit_log import AuditLog
from custom_components.concierge.audit_verify_process import verify_in_process
from custom_components.concierge.core.audit import ChainProblem

from .test_audit_segments import files, started, written

FALLBACK = "verifying in a thread instead"


async def _in_thread(hass: HomeAssistant, log: AuditLog, head: str | None) -> object:
    end = await hass.async_add_executor_job(log._file.end)
    return await hass.async_add_executor_job(log._file.verify, end, head, ())


async def test_an_intact_log_is_verified_in_a_process_of_its_own(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 20)
    assert len(files(log)) >= 3

    verified = await log.async_verify(log.head)

    assert (verified.ok, verified.count, verified.head) == (True, 20, log.head)
    assert verified == await _in_thread(hass, log, log.head)
    assert FALLBACK not in caplog.text
    await log.async_close()


async def test_damage_and_tampering_get_the_same_verdict_as_in_a_thread(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 20)
    head = log.head
    await log.async_close()
    # A line of a closed segment scribbled over, a record of the live one edited.
    oldest = log.folder / files(log)[1]
    lines = oldest.read_bytes().splitlines(keepends=True)
    lines[1] = b'{"seq": 2, "scribbled over": true}\n'
    oldest.write_bytes(b"".join(lines))
    live = log.path.read_bytes().replace(b'"front"', b'"back"', 1)
    log.path.write_bytes(live)

    verified = await log.async_verify(head)

    assert not verified.ok
    assert verified.problem is ChainProblem.DAMAGED_RECORD
    assert verified.damaged_lines
    assert verified == await _in_thread(hass, log, head)
    assert FALLBACK not in caplog.text


async def test_the_waiting_records_are_verified_after_the_files(hass: HomeAssistant) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 9)
    records = await log.async_read()
    end = await hass.async_add_executor_job(log._file.end)
    last_line = log.path.read_bytes().splitlines(keepends=True)[-1]
    # The files end before the newest record, which still waits to be written.
    before = replace(end, live_size=end.live_size - len(last_line))

    verified = await verify_in_process(log.path, before, log.head, (records[-1],))
    assert (verified.ok, verified.count, verified.pending) == (True, 9, 1)
    again = await verify_in_process(log.path, end, log.head, (records[-1],))
    assert (again.ok, again.problem, again.first_bad_seq) == (
        False, ChainProblem.SEQUENCE_GAP, 9,
    )  # fmt: skip
    await log.async_close()


async def test_a_process_that_cannot_start_falls_back_to_a_thread(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 12)
    monkeypatch.setattr(sys, "executable", str(Path(os.devnull) / "no-python"))

    with caplog.at_level(logging.WARNING):
        verified = await log.async_verify(log.head)

    assert (verified.ok, verified.count) == (True, 12)
    assert FALLBACK in caplog.text
    await log.async_close()
