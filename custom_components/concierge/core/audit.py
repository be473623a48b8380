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

Reading a log file's bytes (torn tails, damaged lines) is `core.audit_scan`'s job;
exporting one visit's records as a bundle is `core.audit_bundle`'s.
"""

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from . import _parse
from .events import AccessEvent, AccessEventType, Outcome, Source, to_wire

GENESIS = "0" * 64
"""The `prev` of the first record."""

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


def recomputes(record: AuditRecord) -> bool:
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
    if type(data) is dict:  # the usual case, checked quickly (JSON keys are strings)
        event, seq, prev, digest = (
            data.get("event"),
            data.get("seq"),
            data.get("prev"),
            data.get("hash"),
        )
        if (
            type(event) is dict
            and type(seq) is int
            and type(prev) is str
            and type(digest) is str
            and _HEX64.fullmatch(prev) is not None
            and _HEX64.fullmatch(digest) is not None
        ):
            return AuditRecord(seq=seq, event=event, prev=prev, hash=digest)
    return AuditRecord.from_dict(data)  # says what is wrong


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


class ChainVerifier:
    """`verify_chain`, one record at a time: a long chain is verified while it is read.

    `add` each record in order (it answers False once a problem was found, and ignores
    what follows), then ask for the `result`. Holds only the head, the next sequence
    number and the gaps declared so far.
    """

    __slots__ = ("_count", "_expected_seq", "_failed", "_gaps", "_head")

    def __init__(self) -> None:
        """Start before the first record."""
        self._head = GENESIS
        self._expected_seq = 1
        self._gaps: list[SeqRange] = []
        self._count = 0
        self._failed: ChainVerification | None = None

    @property
    def failed(self) -> bool:
        """Whether a problem was found (records added after it are not verified)."""
        return self._failed is not None

    @property
    def last_seq(self) -> int:
        """The `seq` of the last record verified (0: none)."""
        return self._expected_seq - 1

    def add(self, record: AuditRecord) -> bool:
        """Verify the next record; False once the chain has a problem."""
        if self._failed is not None:
            return False
        problem: ChainProblem | None = None
        expected_seq = self._expected_seq
        gap = declared_gap(record) if record.seq != expected_seq else None
        if not recomputes(record):
            problem = ChainProblem.HASH_MISMATCH
        elif record.seq != expected_seq and (gap is None or gap.first != expected_seq):
            problem = ChainProblem.SEQUENCE_GAP
        elif record.prev != self._head:
            problem = ChainProblem.BROKEN_LINK
        if problem is not None:
            self._failed = ChainVerification(
                ok=False,
                count=self._count,
                head=self._head,
                first_bad_seq=record.seq,
                problem=problem,
                missing=tuple(self._gaps),
            )
            return False
        if gap is not None:
            self._gaps.append(gap)
        self._head = record.hash
        self._expected_seq = record.seq + 1
        self._count += 1
        return True

    def result(self, expected_head: str | None = None) -> ChainVerification:
        """The verification of the records added, against the head kept elsewhere."""
        if self._failed is not None:
            return self._failed
        total = self._count
        gaps = tuple(self._gaps)
        if expected_head is not None and expected_head != self._head:
            return ChainVerification(
                ok=False, count=total, head=self._head,
                problem=ChainProblem.HEAD_MISMATCH, missing=gaps,
            )  # fmt: skip
        if gaps:
            return ChainVerification(
                ok=False, count=total, head=self._head, first_bad_seq=gaps[0].first,
                problem=ChainProblem.RECORDS_MISSING, missing=gaps,
            )  # fmt: skip
        return ChainVerification(ok=True, count=total, head=self._head)


def verify_chain(
    records: Iterable[AuditRecord], expected_head: str | None = None
) -> ChainVerification:
    """Verify a whole chain, in order; stop at the first problem.

    Pass `expected_head` (the last hash, kept apart from the log) to detect records
    removed from or replaced at the end. A gap record may skip the sequence numbers it
    declares missing (its link to the record before it is checked as any other); the
    result then lists them and is not `ok`. `ChainVerifier` does the same while a chain
    is read.
    """
    verifier = ChainVerifier()
    for record in records:
        if not verifier.add(record):
            break
    return verifier.result(expected_head)


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
