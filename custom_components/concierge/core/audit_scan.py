"""Reading an audit log file's bytes without raising, and verifying what they hold.

`scan_log` splits a log file (JSON lines, see `core.audit`) into its whole records, the
lines before the last whole record that hold no record (damaged: disk damage or
tampering), and a torn tail (a last line cut short, or trailing bytes that are not a
record), returned apart so the shell can cut it off. `verify_log` verifies the records
read and those still waiting to be written; a damaged line or a torn tail fails it
(`damaged_record`).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .audit import (
    AuditRecord,
    ChainProblem,
    ChainVerification,
    ChainVerifier,
    from_json_line,
    verify_chain,
)
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
    return _with_damage(result, [(b.line, b.seq) for b in bad], len(pending))


def _with_damage(
    result: ChainVerification, bad: Sequence[tuple[int, int]], pending: int
) -> ChainVerification:
    """`result`, failed at the first bad line (line, seq) unless an earlier record did."""
    if bad:
        first_seq = bad[0][1]
        earlier = (
            result.first_bad_seq is not None
            and not result.intact
            and result.first_bad_seq < first_seq
        )
        if not earlier:
            result = replace(
                result, ok=False, problem=ChainProblem.DAMAGED_RECORD, first_bad_seq=first_seq
            )
        result = replace(result, damaged_lines=tuple(line for line, _seq in bad))
    return replace(result, pending=pending)


class LineReader:
    """A log's lines, one at a time, as `scan_log` sees them (constant memory).

    `line` takes the next line (with its newline, if it has one) and returns its record,
    if it holds a whole one. Lines that hold no record and come before a whole record
    are `damaged`; those after the last one (a torn tail) are not, and only the first of
    them is kept (`torn`). Line numbers run on across the files of a segmented log.
    """

    def __init__(self, seq_before: int = 0, line_before: int = 0) -> None:
        """Start after record `seq_before`, at line `line_before` + 1."""
        self.damaged: list[DamagedLine] = []
        self.records = 0
        self._line = line_before
        self._seq = seq_before
        self._bad: DamagedLine | None = None
        self._bad_after: list[DamagedLine] = []

    @property
    def torn(self) -> DamagedLine | None:
        """The first line of the bytes after the last whole record, if any hold no record."""
        return self._bad

    def line(self, raw: bytes) -> AuditRecord | None:
        """Read the next line."""
        self._line += 1
        if not raw.strip():
            return None
        record = _parse_line(raw) if raw.endswith(b"\n") else None
        if record is None:
            bad = DamagedLine(self._line, self._seq + 1)
            if self._bad is None:
                self._bad = bad
            else:
                self._bad_after.append(bad)
            return None
        if self._bad is not None:
            self.damaged.append(self._bad)
            self.damaged.extend(self._bad_after)
            self._bad = None
            self._bad_after.clear()
        self._seq = record.seq
        self.records += 1
        return record


class LogVerifier(LineReader):
    """`verify_log` for a log read line by line: the chain is verified as it is read."""

    def __init__(self) -> None:
        """Start at the first line of the first file."""
        super().__init__()
        self._chain = ChainVerifier()

    def line(self, raw: bytes) -> AuditRecord | None:
        """Read and verify the next line."""
        record = super().line(raw)
        if record is not None:
            self._chain.add(record)
        return record

    def result(
        self, expected_head: str | None = None, pending: Sequence[AuditRecord] = ()
    ) -> ChainVerification:
        """The verification of every line read, then of the records waiting after them."""
        for record in pending:
            self._chain.add(record)
        result = self._chain.result(expected_head)
        bad = [*self.damaged, *([self.torn] if self.torn else [])]
        return _with_damage(result, [(b.line, b.seq) for b in bad], len(pending))


def last_whole(window: bytes, *, starts_file: bool) -> tuple[AuditRecord, int] | None:
    """The last whole record in bytes read from a file's end, and where its line ends.

    `window` is the end of a file; unless it `starts_file`, its first line may be cut and
    is not read. None: no whole record in it (read a larger window).
    """
    lines = window.split(b"\n")
    pos = len(window) - len(lines[-1])  # where the last (unterminated) piece starts
    stop = -1 if starts_file else 0
    for index in range(len(lines) - 2, stop, -1):
        raw = lines[index]
        end = pos
        pos -= len(raw) + 1
        if raw.strip() and (record := _parse_line(raw)) is not None:
            return record, end
    return None


def first_line_at(data: bytes) -> int:
    """How many lines into `data` its first line that is not blank starts (0: the first)."""
    for index, raw in enumerate(data.split(b"\n")):
        if raw.strip():
            return index
    return 0


def records_of(lines: Iterable[bytes]) -> Iterable[AuditRecord]:
    """The whole records among `lines` (damaged lines skipped)."""
    reader = LineReader()
    for raw in lines:
        if (record := reader.line(raw)) is not None:
            yield record
