"""Verifying a segmented audit log in a process of its own, so an access event never waits.

A verification in a thread competes with the event loop for the interpreter (the GIL):
an access event recorded meanwhile waits for it. `verify_in_process` hands the same
verification to a child process instead: `python -I -c BOOT <this folder>`. BOOT makes
this folder importable as a package of its own, without running the integration's
`__init__` (no Home Assistant import, and nothing else of the integration runs), then
`main` reads one request as JSON on stdin — the live segment's path, the `LogEnd` fixed
when the verification started, the head kept by the site and the records still waiting
(as JSON lines) — verifies exactly what a thread would (`audit_scan.LogVerifier` over
`audit_segments.read_lines`, unpaced) and writes the `ChainVerification` as JSON on
stdout. The child only reads; it imports nothing but the standard library and the core.

The child gives way to everything else on the machine. It starts in a session of its
own: Linux groups the processes of a session for scheduling (autogroup), and a child in
Home Assistant's group, however low its own priority, keeps that group busy, so an
access event's wake-up no longer pre-empts other programs and waits for their time
slices (measured on a loaded 2-core machine: an event loop's wake-up p99 several times
the quiet one with such a child, near the quiet one with the child in a session of its
own). Then it lowers its own priority (`lower_priority`): niceness
19, the idle scheduling class (SCHED_IDLE: a CPU that runs only it counts as free for
anyone who wakes up, and without autogroup it runs only when nothing else wants a CPU)
and the idle I/O class; what the system refuses is skipped. Its verdict says what it was
granted, and the parent logs it (debug). On a machine busy all the time a verification
therefore takes longer; an access event does not wait for it.

`VerifyProcessError`: the process could not start or gave no verdict (the caller then
verifies in a thread).
"""

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import platform
import sys
from pathlib import Path

from .audit_segments import LogEnd, read_lines
from .core.audit import (
    AuditRecord,
    ChainProblem,
    ChainVerification,
    SeqRange,
    from_json_line,
    to_json_line,
)
from .core.audit_scan import LogVerifier

PACKAGE = "concierge_audit_verify"
"""The name this folder is imported under in the child."""
BOOT = (
    "import sys, types\n"
    f"package = types.ModuleType({PACKAGE!r})\n"
    "package.__path__ = [sys.argv[1]]\n"
    f"sys.modules[{PACKAGE!r}] = package\n"
    f"from {PACKAGE}.audit_verify_process import main\n"
    "sys.exit(main())\n"
)
CHILD_NICENESS = 19
"""How much lower the child's scheduling priority is than Home Assistant's (at most 19)."""
IOPRIO_CLASS_IDLE = 3
"""Linux's I/O class that gets the disk only when no one else uses it."""
_IOPRIO_CLASS_SHIFT = 13
_IOPRIO_WHO_PROCESS = 1
_SYS_IOPRIO_SET = {
    "x86_64": 251,
    "amd64": 251,
    "i386": 289,
    "i686": 289,
    "aarch64": 30,
    "arm64": 30,
    "riscv64": 30,
    "armv7l": 314,
    "armv6l": 314,
    "ppc64le": 273,
    "s390x": 282,
}
"""The `ioprio_set` system call's number by machine (Python has no wrapper for it)."""
_FOLDER = str(Path(__file__).resolve().parent)
_LOGGER = logging.getLogger(__name__)


class VerifyProcessError(Exception):
    """The verification process could not start or gave no verdict."""


async def verify_in_process(
    live: Path, end: LogEnd, expected_head: str | None, pending: tuple[AuditRecord, ...]
) -> ChainVerification:
    """Verify the log up to `end`, then `pending`, in a child process.

    Raises VerifyProcessError when it cannot start or gives no verdict. Cancelled, the
    child is killed.
    """
    request = json.dumps(
        {
            "live": str(live),
            "end": {
                "closed": list(end.closed),
                "live_number": end.live_number,
                "live_size": end.live_size,
                "live_id": None if end.live_id is None else list(end.live_id),
            },
            "expected_head": expected_head,
            "pending": [to_json_line(record) for record in pending],
        },
        ensure_ascii=False,
    ).encode("utf-8", "surrogatepass")
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-I", "-c", BOOT, _FOLDER,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # a scheduling group of its own (see above)
        )  # fmt: skip
    except (OSError, ValueError) as err:
        msg = f"could not start: {type(err).__name__}: {err}"
        raise VerifyProcessError(msg) from err
    try:
        out, err_out = await process.communicate(request)
    except BaseException:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            with contextlib.suppress(asyncio.CancelledError):
                await process.wait()
        raise
    if process.returncode != 0:
        last = err_out.decode("utf-8", "replace").strip().splitlines()[-1:]
        msg = f"exit code {process.returncode}: {''.join(last)[:200]}"
        raise VerifyProcessError(msg)
    try:
        verdict = decode_result(out)
    except (ValueError, KeyError, TypeError) as err:
        msg = f"no verdict: {type(err).__name__}"
        raise VerifyProcessError(msg) from err
    _LOGGER.debug(
        "Audit log verified in process %s (priority: %s)",
        process.pid,
        ", ".join(granted_priority(out)) or "unchanged",
    )
    return verdict


def encode_result(result: ChainVerification, priority: tuple[str, ...] = ()) -> bytes:
    """A verification as the child writes it (and the priority the child was granted)."""
    return json.dumps(
        {
            "priority": list(priority),
            "ok": result.ok,
            "count": result.count,
            "head": result.head,
            "first_bad_seq": result.first_bad_seq,
            "problem": None if result.problem is None else result.problem.value,
            "missing": [[gap.first, gap.last] for gap in result.missing],
            "damaged_lines": list(result.damaged_lines),
            "pending": result.pending,
        }
    ).encode()


def decode_result(data: bytes) -> ChainVerification:
    """A verification as the child wrote it (ValueError, KeyError or TypeError if not)."""
    raw = json.loads(data)
    ok, count, head, first_bad, problem = (
        raw["ok"], raw["count"], raw["head"], raw["first_bad_seq"], raw["problem"],
    )  # fmt: skip
    if type(ok) is not bool or type(count) is not int or type(head) is not str:
        raise TypeError
    if first_bad is not None and type(first_bad) is not int:
        raise TypeError
    return ChainVerification(
        ok=ok,
        count=count,
        head=head,
        first_bad_seq=first_bad,
        problem=None if problem is None else ChainProblem(problem),
        missing=tuple(SeqRange(int(first), int(last)) for first, last in raw["missing"]),
        damaged_lines=tuple(int(line) for line in raw["damaged_lines"]),
        pending=int(raw["pending"]),
    )


def granted_priority(data: bytes) -> tuple[str, ...]:
    """The priority a child said it was granted (none if it did not say)."""
    raw = json.loads(data).get("priority")
    return tuple(str(name) for name in raw) if isinstance(raw, list) else ()


def verify_request(request: dict[str, object]) -> ChainVerification:
    """The child's work: verify what a request names (blocking)."""
    end = request["end"]
    pending = request["pending"]
    if not isinstance(end, dict) or not isinstance(pending, list):
        raise TypeError
    live_id = end["live_id"]
    log_end = LogEnd(
        closed=tuple(int(number) for number in end["closed"]),
        live_number=int(end["live_number"]),
        live_size=int(end["live_size"]),
        live_id=None if live_id is None else (int(live_id[0]), int(live_id[1])),
    )
    head = request["expected_head"]
    verifier = LogVerifier()
    for raw in read_lines(Path(str(request["live"])), log_end, paced=False):
        verifier.line(raw)
    records = tuple(from_json_line(str(line)) for line in pending)
    return verifier.result(None if head is None else str(head), records)


def lower_priority() -> tuple[str, ...]:
    """Give way to everything else on the machine; return what was granted.

    Niceness 19, then (Linux) the idle scheduling class and the idle I/O class, each
    skipped if refused. The calling thread's, which in the child is the process's.
    """
    granted: list[str] = []
    with contextlib.suppress(OSError):
        os.nice(CHILD_NICENESS)
        granted.append("nice")
    if _sched_idle():
        granted.append("sched_idle")
    if _io_idle():
        granted.append("io_idle")
    return tuple(granted)


def _sched_idle() -> bool:
    policy = getattr(os, "SCHED_IDLE", None)
    if policy is None or not hasattr(os, "sched_setscheduler"):
        return False  # not Linux
    try:
        os.sched_setscheduler(0, policy, os.sched_param(0))
    except OSError:
        return False
    return True


def _io_idle() -> bool:
    number = _SYS_IOPRIO_SET.get(platform.machine())
    if number is None or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        done = libc.syscall(
            number, _IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_IDLE << _IOPRIO_CLASS_SHIFT
        )
    except OSError, AttributeError:
        return False
    return bool(done == 0)


def main() -> int:
    """The child: one request on stdin, its verification on stdout.

    Gives way first (`lower_priority`): on a busy machine the event loop's process (an
    access event) comes first.
    """
    granted = lower_priority()
    request = json.loads(sys.stdin.buffer.read().decode("utf-8", "surrogatepass"))
    sys.stdout.buffer.write(encode_result(verify_request(request), granted))
    sys.stdout.buffer.flush()
    return 0
