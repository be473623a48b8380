"""Verification in a process of its own: the same verdicts as in a thread, and a fallback.

The log runs in Home Assistant on real files, in segments of a few records; the child is
a real Python process. Each verdict is compared with the one the executor path gives for
the same files (`LogFile.verify`, what ran before).
"""

import asyncio
import ctypes
import io
import json
import logging
import os
import platform
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant

from custom_components.concierge import audit_verify_process
from custom_components.concierge.audit_log import AuditLog
from custom_components.concierge.audit_segments import LogEnd
from custom_components.concierge.audit_verify_process import (
    CHILD_NICENESS,
    IOPRIO_CLASS_IDLE,
    decode_result,
    granted_priority,
    lower_priority,
    verify_in_process,
    verify_request,
)
from custom_components.concierge.audit_verify_process import main as child_main
from custom_components.concierge.core.audit import ChainProblem

from ..waiting import until
from .test_audit_segments import files, started, written

FALLBACK = "verifying in a thread instead"
_IOPRIO_GET = {"x86_64": 252, "aarch64": 31, "riscv64": 31, "armv7l": 315, "i686": 290}


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


class _Libc:
    """The C library's `syscall`, as the child calls it for its I/O class (recorded)."""

    def __init__(self, answer: int = 0) -> None:
        self.calls: list[tuple[int, ...]] = []
        self.answer = answer

    def syscall(self, *args: int) -> int:
        self.calls.append(args)
        return self.answer


def _run_child(monkeypatch: pytest.MonkeyPatch, request: bytes) -> tuple[int, bytes, list[object]]:
    """`main` as the child runs it: stdin in, stdout out (and the priority it asks for).

    This test's process keeps its own priority: what the child asks for is recorded.
    """
    stdout = io.BytesIO()
    asked: list[object] = []
    libc = _Libc()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(request)))
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(stdout))
    monkeypatch.setattr(os, "nice", asked.append)
    monkeypatch.setattr(
        os, "sched_setscheduler", lambda pid, policy, _param: asked.append(("sched", pid, policy))
    )
    monkeypatch.setattr(audit_verify_process.ctypes, "CDLL", lambda *_a, **_k: libc)
    monkeypatch.setattr(audit_verify_process.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(audit_verify_process.sys, "platform", "linux")
    code = child_main()
    asked.extend(("syscall", *call) for call in libc.calls)
    return code, stdout.getvalue(), asked


async def test_the_child_reports_an_intact_log_as_intact(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 14)
    end = await hass.async_add_executor_job(log._file.end)

    code, out, asked = _run_child(monkeypatch, _request(log, end, log.head))

    verdict = decode_result(out)
    assert (code, verdict.ok, verdict.count, verdict.head) == (0, True, 14, log.head)
    assert verdict == await _in_thread(hass, log, log.head)
    # An access event comes first: the lowest niceness, the idle scheduling and I/O classes.
    assert asked == [
        CHILD_NICENESS,
        ("sched", 0, os.SCHED_IDLE),
        ("syscall", 251, 1, 0, IOPRIO_CLASS_IDLE << 13),
    ]
    assert granted_priority(out) == ("nice", "sched_idle", "io_idle")
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


def _refuse(*_args: object, **_kwargs: object) -> None:
    raise PermissionError(1, "Operation not permitted")


def test_a_child_refused_every_lower_priority_still_gives_its_verdict(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(os, "nice", _refuse)
    monkeypatch.setattr(os, "sched_setscheduler", _refuse)
    monkeypatch.setattr(audit_verify_process.ctypes, "CDLL", lambda *_a, **_k: _Libc(-1))
    monkeypatch.setattr(audit_verify_process.platform, "machine", lambda: "aarch64")
    monkeypatch.setattr(audit_verify_process.sys, "platform", "linux")
    assert lower_priority() == ()
    # Without the C library, on a machine whose call is unknown, or not on Linux at all.
    monkeypatch.setattr(audit_verify_process.ctypes, "CDLL", _refuse)
    monkeypatch.delattr(os, "SCHED_IDLE")
    assert lower_priority() == ()
    monkeypatch.setattr(audit_verify_process.platform, "machine", lambda: "pdp11")
    assert lower_priority() == ()
    monkeypatch.setattr(audit_verify_process.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(audit_verify_process.sys, "platform", "darwin")
    assert lower_priority() == ()

    stdout = io.BytesIO()
    request = {"live": str(tmp_path / "none.jsonl"), "expected_head": None, "pending": []}
    request["end"] = {"closed": [], "live_number": 1, "live_size": 0, "live_id": None}
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(json.dumps(request).encode())))
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(stdout))
    assert child_main() == 0
    verdict = decode_result(stdout.getvalue())
    assert (verdict.ok, verdict.count) == (True, 0)  # an empty log, verified anyway
    assert granted_priority(stdout.getvalue()) == ()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux's idle classes")
def test_the_idle_classes_are_granted_by_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real system calls, in a thread of its own (Linux sets them per thread)."""
    monkeypatch.setattr(os, "nice", lambda _increment: 19)  # the process's is left alone
    seen: dict[str, object] = {}

    def lowered() -> None:
        seen["granted"] = lower_priority()
        seen["policy"] = os.sched_getscheduler(0)
        libc = ctypes.CDLL(None, use_errno=True)
        seen["io_class"] = libc.syscall(_IOPRIO_GET[platform.machine()], 1, 0) >> 13

    thread = threading.Thread(target=lowered)
    thread.start()
    thread.join()

    assert seen == {
        "granted": ("nice", "sched_idle", "io_idle"),
        "policy": os.SCHED_IDLE,
        "io_class": IOPRIO_CLASS_IDLE,
    }
    assert os.sched_getscheduler(0) != os.SCHED_IDLE  # the test's own thread is untouched


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


async def test_the_parent_logs_the_priority_its_child_was_granted(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """A real child lowers its priority, and the parent says how far (debug)."""
    log = await started(hass, compress=False)
    await written(hass, log, 1, 6)

    with caplog.at_level(logging.DEBUG, audit_verify_process.__name__):
        verified = await log.async_verify(log.head)

    assert (verified.ok, verified.count) == (True, 6)
    granted = "nice, sched_idle, io_idle" if sys.platform.startswith("linux") else "nice"
    assert f"(priority: {granted})" in caplog.text
    await log.async_close()


async def test_the_child_starts_in_a_session_of_its_own(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = await started(hass, compress=False)
    await written(hass, log, 1, 2)
    end = await hass.async_add_executor_job(log._file.end)
    sid_file = tmp_path / "child.sid"
    boot = f"import os, pathlib; pathlib.Path({str(sid_file)!r}).write_text(str(os.getsid(0)))"
    monkeypatch.setattr(audit_verify_process, "BOOT", boot)

    with pytest.raises(audit_verify_process.VerifyProcessError, match="no verdict"):
        await verify_in_process(log.path, end, log.head, ())

    assert int(sid_file.read_text()) not in {os.getsid(0), 0}
    await log.async_close()


def test_a_verdict_that_names_no_priority_names_none() -> None:
    assert granted_priority(b'{"ok": true}') == ()
    assert granted_priority(b'{"priority": "high"}') == ()
