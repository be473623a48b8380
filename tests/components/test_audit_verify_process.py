"""Verification in a process of its own: the same verdicts as in a thread, and a fallback.

The log runs in Home Assistant on real files, in segments of a few records; the child is
a real Python process. Each verdict is compared with the one the executor path gives for
the same files (`LogFile.verify`, what ran before).
"""

import asyncio
import io
import json
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant

from custom_components.concierge import audit_verify_process
from custom_components.concierge.audit_log import AuditLog
from custom_components.concierge.audit_segments import LogEnd
from custom_components.concierge.audit_verify_process import (
    CHILD_NICENESS,
    decode_result,
    verify_in_process,
    verify_request,
)
from custom_components.concierge.audit_verify_process import main as child_main
from custom_components.concierge.core.audit import ChainProblem

from ..waiting import until
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


# The child's own work, run here in the test's process (coverage does not follow the
# real child): the same JSON request it reads on stdin, its verdict read from stdout.


def _request(log: AuditLog, end: LogEnd, head: str | None, pending: tuple[()] = ()) -> bytes:
    return json.dumps(
        {
            "live": str(log.path),
            "end": {
                "closed": list(end.closed),
                "live_number": end.live_number,
                "live_size": end.live_size,
                "live_id": None if end.live_id is None else list(end.live_id),
            },
            "expected_head": head,
            "pending": list(pending),
        }
    ).encode()


def _run_child(monkeypatch: pytest.MonkeyPatch, request: bytes) -> tuple[int, bytes, list[int]]:
    """`main` as the child runs it: stdin in, stdout out (and the priority it asks for)."""
    stdout = io.BytesIO()
    niceness: list[int] = []
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(request)))
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(stdout))
    monkeypatch.setattr(os, "nice", niceness.append)  # this test's process keeps its own
    code = child_main()
    return code, stdout.getvalue(), niceness


async def test_the_child_reports_an_intact_log_as_intact(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 14)
    end = await hass.async_add_executor_job(log._file.end)

    code, out, niceness = _run_child(monkeypatch, _request(log, end, log.head))

    verdict = decode_result(out)
    assert (code, verdict.ok, verdict.count, verdict.head) == (0, True, 14, log.head)
    assert verdict == await _in_thread(hass, log, log.head)
    assert niceness == [CHILD_NICENESS]  # an access event comes first
    await log.async_close()


async def test_the_child_names_the_damage_in_a_damaged_log(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 14)
    head = log.head
    await log.async_close()
    oldest = log.folder / files(log)[0]
    lines = oldest.read_bytes().splitlines(keepends=True)
    lines[1] = b'{"seq": 2, "scribbled over": true}\n'
    oldest.write_bytes(b"".join(lines))
    end = await hass.async_add_executor_job(log._file.end)

    code, out, _ = _run_child(monkeypatch, _request(log, end, head))

    verdict = decode_result(out)
    assert (code, verdict.ok, verdict.problem) == (0, False, ChainProblem.DAMAGED_RECORD)
    assert verdict.damaged_lines
    assert verdict == await _in_thread(hass, log, head)


@pytest.mark.parametrize(
    "request_",
    [
        {"live": "x", "end": [], "expected_head": None, "pending": []},
        {"live": "x", "end": {}, "expected_head": None, "pending": "not a list"},
    ],
)
def test_the_child_gives_no_verdict_for_a_bad_request(request_: dict[str, object]) -> None:
    with pytest.raises(TypeError):
        verify_request(request_)


def test_the_child_gives_no_verdict_for_a_request_that_is_not_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(json.JSONDecodeError):
        _run_child(monkeypatch, b"not json at all")


# The parent's side: a child that fails, talks nonsense, or is cancelled.


@pytest.mark.parametrize(
    ("boot", "reason"),
    [
        ("import sys; sys.stderr.write('boom\\n'); sys.exit(3)", "exit code 3: boom"),
        ("print('garbage')", "no verdict: JSONDecodeError"),
        ("print('{\"ok\": 1}')", "no verdict: KeyError"),
        (
            (
                "import json; print(json.dumps({'ok': 'yes', 'count': 1, 'head': 'h',"
                " 'first_bad_seq': None, 'problem': None}))"
            ),
            "no verdict: TypeError",
        ),
        (
            (
                "import json; print(json.dumps({'ok': False, 'count': 1, 'head': 'h',"
                " 'first_bad_seq': 'two', 'problem': None}))"
            ),
            "no verdict: TypeError",
        ),
    ],
)
async def test_a_child_without_a_verdict_falls_back_to_a_thread(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    boot: str,
    reason: str,
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 6)
    monkeypatch.setattr(audit_verify_process, "BOOT", boot)

    with caplog.at_level(logging.WARNING):
        verified = await log.async_verify(log.head)

    assert (verified.ok, verified.count) == (True, 6)  # the thread's verdict
    assert FALLBACK in caplog.text
    assert reason in caplog.text
    await log.async_close()


async def test_a_cancelled_verification_kills_its_child(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 4)
    end = await hass.async_add_executor_job(log._file.end)
    pid_file = tmp_path / "child.pid"
    boot = (
        f"import os, pathlib, time; pathlib.Path({str(pid_file)!r}).write_text(str(os.getpid()))"
        "; time.sleep(600)"
    )
    monkeypatch.setattr(audit_verify_process, "BOOT", boot)
    task = hass.async_create_task(verify_in_process(log.path, end, log.head, ()))
    pid = int(
        await until(
            "the child runs",
            lambda: pid_file.read_text() if pid_file.exists() else "",
            want=bool,
        )
    )

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    with pytest.raises(ProcessLookupError):  # killed and reaped, not left running
        os.kill(pid, 0)
    await log.async_close()
