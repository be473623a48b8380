"""Reading an audit log file's bytes without raising, and verifying what they hold.

`scan_log` splits a log file (JSON lines, see `core.audit`) into its whole records, the
lines before the last whole record that hold no record (damaged: disk damage or
tampering), and a torn tail (a last line cut short, or trailing bytes that are not a
record), returned apart so the shell can cut it off. `verify_log` verifies the records
read and those still waiting to be written; a damaged line or a torn tail fails it
(`damaged_record`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .audit import AuditRecord, ChainProblem, ChainVerification, from_json_line, verify_chain
from .errors import ConciergeError


@dataclass(frozen=True, slots=True)
class DamagedLine:
    """A line of the log, before its last whole record, that holds no record."""

    line: int
    """Its line number (1 is the first)."""
    seq: int
    """The `seq` the record there would have had (the one before it, plus one)."""


@dataclass(frozen=True, slots=True)
class TornTail:
    """Bytes after the last whole record that are not a record (a write cut short)."""

    offset: int
    """Where they start: the end of the last whole record's line."""
    data: bytes
    line: int
    """The line number they start on."""
    seq: int
    """The `seq` the torn record would have had."""


@dataclass(frozen=True, slots=True)
class LogScan:
    """What a log file holds: its whole records, damaged lines and a torn tail."""

    records: tuple[AuditRecord, ...]
    damaged: tuple[DamagedLine, ...] = ()
    torn: TornTail | None = None

    @property
    def last(self) -> AuditRecord | None:
        """The last whole record (the one to chain onto)."""
        return self.records[-1] if self.records else None


def _parse_line(raw: bytes) -> AuditRecord | None:
    try:
        return from_json_line(raw.decode("utf-8", "surrogatepass"))
    except ConciergeError, UnicodeDecodeError:
        return None


def scan_log(data: bytes) -> LogScan:
    """Read a log file's content; never raises.

    A record counts as whole when its line parses and ends with a newline. Everything
    after the last whole record (unless only whitespace) is the torn tail; lines before
    it that are not records are damaged. Blank lines are ignored.
    """
    parsed: list[tuple[int, int, AuditRecord | None]] = []  # (line, end offset, record)
    offset = 0
    whole = -1  # index in `parsed` of the last whole record
    segments = data.split(b"\n")
    for number, raw in enumerate(segments, start=1):
        complete = number < len(segments)
        offset += len(raw) + complete
        if not raw.strip():
            continue
        record = _parse_line(raw)
        parsed.append((number, offset, record))
        if record is not None and complete:
            whole = len(parsed) - 1
    records: list[AuditRecord] = []
    damaged: list[DamagedLine] = []
    for number, _end, record in parsed[: whole + 1]:
        if record is None:
            damaged.append(DamagedLine(number, records[-1].seq + 1 if records else 1))
        else:
            records.append(record)
    torn: TornTail | None = None
    if whole + 1 < len(parsed):
        cut = parsed[whole][1] if whole >= 0 else 0
        seq = records[-1].seq + 1 if records else 1
        torn = TornTail(offset=cut, data=data[cut:], line=parsed[whole + 1][0], seq=seq)
    return LogScan(records=tuple(records), damaged=tuple(damaged), torn=torn)


def verify_log(
    scan: LogScan, expected_head: str | None = None, pending: Sequence[AuditRecord] = ()
) -> ChainVerification:
    """Verify a scanned log file and the records waiting to be written after it.

    A damaged line or a torn tail fails the verification (`damaged_record`) unless an
    earlier record already did.
    """
    result = verify_chain([*scan.records, *pending], expected_head)
    bad: list[DamagedLine | TornTail] = [*scan.damaged, *([scan.torn] if scan.torn else [])]
    if bad:
        first = bad[0]
        earlier = (
            result.first_bad_seq is not None
            and not result.intact
            and result.first_bad_seq < first.seq
        )
        if not earlier:
            result = replace(
                result, ok=False, problem=ChainProblem.DAMAGED_RECORD, first_bad_seq=first.seq
            )
        result = replace(result, damaged_lines=tuple(b.line for b in bad))
    return replace(result, pending=len(pending))
