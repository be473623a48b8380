"""The audit log: a hash chain of access events that nobody can quietly alter.

Record `n` stores the event (wire form), the hash of record `n-1` (`GENESIS` for the
first record, whose `seq` is 1) and its own hash: SHA-256 over the canonical JSON of
`{"event": ..., "prev": ..., "seq": ...}` (sorted keys, no whitespace, UTF-8).

`verify_chain` finds an edited record (`hash_mismatch`), an edited record whose hash
was recomputed (`broken_link` at the next record), a deleted or reordered record
(`sequence_gap`) and, given the head hash kept elsewhere, a truncated or rewritten
tail (`head_mismatch`). Records are stored as JSON lines (`to_json_line`).
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from . import _parse
from .errors import ConciergeError
from .events import AccessEvent, to_wire

GENESIS = "0" * 64
"""The `prev` of the first record."""

BUNDLE_FORMAT = "concierge.visit_bundle"
BUNDLE_VERSION = 1

_HEX64 = re.compile(r"[0-9a-f]{64}")
_WHAT = "audit_record"


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


class ChainProblem(StrEnum):
    """What `verify_chain` found wrong."""

    HASH_MISMATCH = "hash_mismatch"
    BROKEN_LINK = "broken_link"
    SEQUENCE_GAP = "sequence_gap"
    HEAD_MISMATCH = "head_mismatch"


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """The result of `verify_chain`.

    `count` is the number of records verified before the first problem (all of them
    when `ok`), `head` the hash of the last verified record (`GENESIS` if none).
    `first_bad_seq` is the `seq` of the first bad record (None when ok, and for
    `head_mismatch`, which concerns the chain as a whole).
    """

    ok: bool
    count: int
    head: str
    first_bad_seq: int | None = None
    problem: ChainProblem | None = None

    def to_dict(self) -> dict[str, object]:
        """Serialise (for bundles and diagnostics)."""
        return {
            "ok": self.ok,
            "count": self.count,
            "head": self.head,
            "first_bad_seq": self.first_bad_seq,
            "problem": None if self.problem is None else self.problem.value,
        }


def verify_chain(
    records: Sequence[AuditRecord], expected_head: str | None = None
) -> ChainVerification:
    """Verify a whole chain, in order; stop at the first problem.

    Pass `expected_head` (the last hash, kept apart from the log) to detect records
    removed from or replaced at the end.
    """
    head = GENESIS
    for count, record in enumerate(records):
        problem: ChainProblem | None = None
        if not _recomputes(record):
            problem = ChainProblem.HASH_MISMATCH
        elif record.seq != count + 1:
            problem = ChainProblem.SEQUENCE_GAP
        elif record.prev != head:
            problem = ChainProblem.BROKEN_LINK
        if problem is not None:
            return ChainVerification(
                ok=False, count=count, head=head, first_bad_seq=record.seq, problem=problem
            )
        head = record.hash
    if expected_head is not None and expected_head != head:
        return ChainVerification(
            ok=False, count=len(records), head=head, problem=ChainProblem.HEAD_MISMATCH
        )
    return ChainVerification(ok=True, count=len(records), head=head)


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

    True only when the chain itself verifies, the bundle holds at least one record,
    every bundled record's hash recomputes and equals the chain's record at that seq,
    and the bundle holds every chain record of its visit (nothing left out).
    """
    try:
        obj = _parse.as_mapping(bundle, "bundle")
        visit_id = _parse.get_str(obj, "visit", "bundle")
        bundled = [AuditRecord.from_dict(r) for r in _parse.get_list(obj, "records", "bundle")]
    except ConciergeError:
        return False
    if not bundled or not verify_chain(records).ok:
        return False
    by_seq = {r.seq: r for r in records}
    for record in bundled:
        if not _recomputes(record) or by_seq.get(record.seq) != record:
            return False
    expected = {r.seq for r in records if r.event.get("visit") == visit_id}
    return expected == {r.seq for r in bundled}
