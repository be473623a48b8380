"""The audit log: a hash chain of access events that nobody can quietly alter.

Record `n` stores the event (wire form), the hash of record `n-1` (`GENESIS` for the
first record, whose `seq` is 1) and its own hash: SHA-256 over the canonical JSON of
`{"event": ..., "prev": ..., "seq": ...}` (sorted keys, no whitespace, UTF-8).

`verify_chain` finds an edited record (`hash_mismatch`), an edited record whose hash
was recomputed (`broken_link` at the next record), a deleted or reordered record
(`sequence_gap`) and, given the head hash kept elsewhere, a truncated or rewritten
tail (`head_mismatch`). Records are stored as JSON lines (`to_json_line`).

Records can be lost: a process that stops while records wait for a full disk, a tail cut
off. The head kept elsewhere then counts more records than the log holds, and the log
gets a *gap record* (`audit_gap` event, `data.missing_from`/`missing_to`) that takes the
next sequence number after the missing ones and links to the last record still present.
A chain with a gap record keeps its links intact (`intact`), but is never `ok`: the
verification names the missing records (`records_missing`, `missing`), forever.

`scan_log` reads a log file's bytes without raising: a torn tail (a last line cut short,
or trailing bytes that are not a record) is returned apart so the shell can cut it off;
a damaged line before the last whole record is reported, and verification fails on it
(`damaged_record`).
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from . import _parse
from .errors import ConciergeError
from .events import AccessEvent, AccessEventType, Outcome, Source, to_wire

GENESIS = "0" * 64
"""The `prev` of the first record."""

BUNDLE_FORMAT = "concierge.visit_bundle"
BUNDLE_VERSION = 1

RETRY_DELAYS: tuple[float, ...] = (1, 5, 30, 60, 300)
"""Seconds before the n-th retry of a failed write; the last one repeats."""

_HEX64 = re.compile(r"[0-9a-f]{64}")
_WHAT = "audit_record"
_GAP = AccessEventType.AUDIT_GAP.value


def canonical_json(value: object) -> bytes:
    """Encode `value` as canonical JSON bytes (sorted keys, compact, UTF-8)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8", "surrogatepass")


def record_hash(seq: int, prev: str, event: Mapping[str, object]) -> str:
    """Return the SHA-256 (hex) of a record's canonical content."""
    content = {"seq": seq, "prev": prev, "event": event}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def _recomputes(record: AuditRecord) -> bool:
    """Return whether the record's stored hash matches its content (False if unhashable)."""
    try:
        return record_hash(record.seq, record.prev, record.event) == record.hash
    except ValueError, TypeError:
        return False


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One link of the chain. `event` is the event's wire form; do not mutate it."""

    seq: int
    event: dict[str, object]
    prev: str
    hash: str

    def to_dict(self) -> dict[str, object]:
        """Serialise for storage or export."""
        return {"seq": self.seq, "prev": self.prev, "hash": self.hash, "event": self.event}

    @classmethod
    def from_dict(cls, data: object) -> AuditRecord:
        """Rebuild from `to_dict` output (shape only; `verify_chain` checks content)."""
        obj = _parse.as_mapping(data, _WHAT)
        event = _parse.as_mapping(obj.get("event"), _WHAT)
        seq = _parse.get_int(obj, "seq", _WHAT)
        prev = _parse.get_str(obj, "prev", _WHAT)
        digest = _parse.get_str(obj, "hash", _WHAT)
        for name, value in (("prev", prev), ("hash", digest)):
            if _HEX64.fullmatch(value) is None:
                raise _parse.fail(_WHAT, name)
        return cls(seq=seq, event=dict(event), prev=prev, hash=digest)


def to_json_line(record: AuditRecord) -> str:
    """Serialise a record as one line of JSON (no trailing newline)."""
    return canonical_json(record.to_dict()).decode("utf-8", "surrogatepass")


def from_json_line(line: str) -> AuditRecord:
    """Parse one JSON line written by `to_json_line`."""
    try:
        data: object = json.loads(line)
    except ValueError:
        raise _parse.fail(_WHAT, "<json>") from None
    return AuditRecord.from_dict(data)


def append(prev_record: AuditRecord | None, event: AccessEvent) -> AuditRecord:
    """Return the record that follows `prev_record` (None: start a chain) for `event`."""
    seq = 1 if prev_record is None else prev_record.seq + 1
    prev = GENESIS if prev_record is None else prev_record.hash
    wire = to_wire(event)
    return AuditRecord(seq=seq, event=wire, prev=prev, hash=record_hash(seq, prev, wire))


def retry_delay(failures: int) -> float:
    """Seconds to wait after `failures` failed writes in a row (1 or more) before the next."""
    return RETRY_DELAYS[min(max(failures, 1), len(RETRY_DELAYS)) - 1]


class ChainProblem(StrEnum):
    """What `verify_chain` found wrong."""

    HASH_MISMATCH = "hash_mismatch"
    BROKEN_LINK = "broken_link"
    SEQUENCE_GAP = "sequence_gap"
    HEAD_MISMATCH = "head_mismatch"
    DAMAGED_RECORD = "damaged_record"
    """A line of the log file is not a record (disk damage or tampering)."""
    RECORDS_MISSING = "records_missing"
    """The links hold, but gap records say records were lost."""


@dataclass(frozen=True, slots=True)
class SeqRange:
    """Sequence numbers `first` to `last` (inclusive)."""

    first: int
    last: int

    @property
    def count(self) -> int:
        """How many sequence numbers the range holds."""
        return self.last - self.first + 1

    def to_dict(self) -> dict[str, int]:
        """Serialise (for verification results)."""
        return {"from": self.first, "to": self.last, "count": self.count}


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of `verify_chain`.

    `count` is the number of records verified before the first problem (all of them
    when the links hold), `head` the hash of the last verified record (`GENESIS` if none).
    `first_bad_seq` is the `seq` of the first bad record (None when ok, and for
    `head_mismatch`, which concerns the chain as a whole); for `records_missing` it is the
    first missing one.

    `ok` means the log holds every record, unaltered. `intact` means only that no record
    present was altered, removed unannounced or put out of order: a chain whose gap
    records declare lost records is `intact` but not `ok`, and `missing` names the lost
    ones. `damaged_lines` are the line numbers of the log file that hold no record;
    `pending` counts records chained in memory that wait to be written.
    """

    ok: bool
    count: int
    head: str
    first_bad_seq: int | None = None
    problem: ChainProblem | None = None
    missing: tuple[SeqRange, ...] = ()
    damaged_lines: tuple[int, ...] = ()
    pending: int = 0

    @property
    def intact(self) -> bool:
        """Whether the records present are unaltered and linked (lost ones aside)."""
        return self.problem in {None, ChainProblem.RECORDS_MISSING}

    @property
    def missing_count(self) -> int:
        """How many records gap records declare lost."""
        return sum(gap.count for gap in self.missing)

    def to_dict(self) -> dict[str, object]:
        """Serialise (for bundles and diagnostics)."""
        return {
            "ok": self.ok,
            "intact": self.intact,
            "count": self.count,
            "head": self.head,
            "first_bad_seq": self.first_bad_seq,
            "problem": None if self.problem is None else self.problem.value,
            "missing": [gap.to_dict() for gap in self.missing],
            "missing_count": self.missing_count,
            "damaged_lines": list(self.damaged_lines),
            "pending": self.pending,
        }


def declared_gap(record: AuditRecord) -> SeqRange | None:
    """The records a gap record declares lost (None for any other record).

    A gap record's `seq` follows the last missing one: `missing_to == seq - 1`.
    """
    if record.event.get("type") != _GAP:
        return None
    data = record.event.get("data")
    if not isinstance(data, dict):
        return None
    first, last = data.get("missing_from"), data.get("missing_to")
    if type(first) is not int or type(last) is not int:
        return None
    if not 1 <= first <= last or last != record.seq - 1:
        return None
    return SeqRange(first, last)


def verify_chain(
    records: Sequence[AuditRecord], expected_head: str | None = None
) -> ChainVerification:
    """Verify a whole chain, in order; stop at the first problem.

    Pass `expected_head` (the last hash, kept apart from the log) to detect records
    removed from or replaced at the end. A gap record may skip the sequence numbers it
    declares missing (its link to the record before it is checked as any other); the
    result then lists them and is not `ok`.
    """
    head = GENESIS
    expected_seq = 1
    gaps: list[SeqRange] = []
    for count, record in enumerate(records):
        problem: ChainProblem | None = None
        gap = declared_gap(record) if record.seq != expected_seq else None
        if not _recomputes(record):
            problem = ChainProblem.HASH_MISMATCH
        elif record.seq != expected_seq and (gap is None or gap.first != expected_seq):
            problem = ChainProblem.SEQUENCE_GAP
        elif record.prev != head:
            problem = ChainProblem.BROKEN_LINK
        if problem is not None:
            return ChainVerification(
                ok=False,
                count=count,
                head=head,
                first_bad_seq=record.seq,
                problem=problem,
                missing=tuple(gaps),
            )
        if gap is not None:
            gaps.append(gap)
        head = record.hash
        expected_seq = record.seq + 1
    if expected_head is not None and expected_head != head:
        return ChainVerification(
            ok=False,
            count=len(records),
            head=head,
            problem=ChainProblem.HEAD_MISMATCH,
            missing=tuple(gaps),
        )
    if gaps:
        return ChainVerification(
            ok=False,
            count=len(records),
            head=head,
            first_bad_seq=gaps[0].first,
            problem=ChainProblem.RECORDS_MISSING,
            missing=tuple(gaps),
        )
    return ChainVerification(ok=True, count=len(records), head=head)


# --- the log file ------------------------------------------------------------------------


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


def missing_at_load(last: AuditRecord | None, stored_count: int) -> SeqRange | None:
    """The records the log lost: those the head kept elsewhere counts beyond its last."""
    present = last.seq if last is not None else 0
    return SeqRange(present + 1, stored_count) if stored_count > present else None


def gap_record(  # noqa: PLR0913 - a gap record names what it stands for
    prev_record: AuditRecord | None,
    missing: SeqRange,
    *,
    site: str,
    time: datetime,
    reason: str,
    lost_head: str | None = None,
) -> AuditRecord:
    """The record that says `missing` were lost; it takes the `seq` after them.

    It links to `prev_record` (the last record still present), so that link is checked
    like any other. `lost_head`, the hash the last missing record had (if known), lets a
    copy of the lost records found later be checked against it.
    """
    data: dict[str, str | int | float | bool] = {
        "missing_from": missing.first,
        "missing_to": missing.last,
        "missing_count": missing.count,
    }
    if lost_head is not None:
        data["lost_head"] = lost_head
    event = AccessEvent(
        time=time,
        site=site,
        type=AccessEventType.AUDIT_GAP,
        outcome=Outcome.FAILED,
        reason=reason,
        source=Source.SYSTEM,
        data=data,
    )
    seq = missing.last + 1
    prev = GENESIS if prev_record is None else prev_record.hash
    wire = to_wire(event)
    return AuditRecord(seq=seq, event=wire, prev=prev, hash=record_hash(seq, prev, wire))


def _collect_evidence(records: Sequence[AuditRecord]) -> list[object]:
    """Return the distinct evidence items referenced by the records' events, in order."""
    found: list[object] = []
    for record in records:
        items = record.event.get("evidence")
        for item in items if isinstance(items, list) else []:
            if item not in found:
                found.append(item)
    return found


def export_visit_bundle(records: Sequence[AuditRecord], visit_id: str) -> dict[str, object]:
    """Build a self-contained export of one visit's audit records.

    The bundle holds the visit's records (seq, prev, hash, event), the evidence they
    reference, the full chain's head and length, and the full chain's verification.
    Check it later against the chain with `verify_bundle`.
    """
    mine = [r for r in records if r.event.get("visit") == visit_id]
    return {
        "format": BUNDLE_FORMAT,
        "v": BUNDLE_VERSION,
        "visit": visit_id,
        "records": [r.to_dict() for r in mine],
        "evidence": _collect_evidence(mine),
        "chain": {"head": records[-1].hash if records else GENESIS, "count": len(records)},
        "verified": verify_chain(records).to_dict(),
    }


def verify_bundle(bundle: object, records: Sequence[AuditRecord]) -> bool:
    """Check an exported bundle against the full chain; never raises.

    True only when the chain's links hold (`intact`), the bundle holds at least one
    record, every bundled record's hash recomputes and equals the chain's record at that
    seq, and the bundle holds every chain record of its visit (nothing left out). Records
    the chain lost elsewhere do not matter; a gap between the visit's first and last
    record may have held some of its records, so then it is False.
    """
    try:
        obj = _parse.as_mapping(bundle, "bundle")
        visit_id = _parse.get_str(obj, "visit", "bundle")
        bundled = [AuditRecord.from_dict(r) for r in _parse.get_list(obj, "records", "bundle")]
    except ConciergeError:
        return False
    chain = verify_chain(records)
    if not bundled or not chain.intact:
        return False
    by_seq = {r.seq: r for r in records}
    for record in bundled:
        if not _recomputes(record) or by_seq.get(record.seq) != record:
            return False
    expected = {r.seq for r in records if r.event.get("visit") == visit_id}
    if expected != {r.seq for r in bundled}:
        return False
    first, last = min(expected), max(expected)
    return not any(gap.first < last and gap.last > first for gap in chain.missing)
