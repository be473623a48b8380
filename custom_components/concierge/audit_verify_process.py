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
stdout. The child runs at the lowest priority and only reads; it imports nothing but
the standard library and the core.

`VerifyProcessError`: the process could not start or gave no verdict (the caller then
verifies in a thread).
"""

import asyncio
import contextlib
import json
import os
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
_FOLDER = str(Path(__file__).resolve().parent)


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
        return decode_result(out)
    except (ValueError, KeyError, TypeError) as err:
        msg = f"no verdict: {type(err).__name__}"
        raise VerifyProcessError(msg) from err


def encode_result(result: ChainVerification) -> bytes:
    """A verification as the child writes it."""
    return json.dumps(
        {
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


def main() -> int:
    """The child: one request on stdin, its verification on stdout.

    Runs at the lowest priority: on a busy machine the event loop's process (an access
    event) comes first.
    """
    with contextlib.suppress(OSError):
        os.nice(CHILD_NICENESS)
    request = json.loads(sys.stdin.buffer.read().decode("utf-8", "surrogatepass"))
    sys.stdout.buffer.write(encode_result(verify_request(request)))
    sys.stdout.buffer.flush()
    return 0
