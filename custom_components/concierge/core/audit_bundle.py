"""Visit bundles: one visit's audit records, exported so they can be checked later.

A bundle holds the visit's records, the evidence they reference, the whole chain's head
and length and its verification (`export_visit_bundle`). `verify_bundle` checks a bundle
against the whole chain: nothing edited, nothing of the visit left out. `VisitBundler`
builds the same bundle from a chain read one record at a time (it keeps only the
visit's records).
"""

from collections.abc import Iterable, Sequence

from . import _parse
from .audit import GENESIS, AuditRecord, ChainVerifier, recomputes, verify_chain
from .errors import ConciergeError

BUNDLE_FORMAT = "concierge.visit_bundle"
BUNDLE_VERSION = 1


def _collect_evidence(records: Sequence[AuditRecord]) -> list[object]:
    """Return the distinct evidence items referenced by the records' events, in order."""
    found: list[object] = []
    for record in records:
        items = record.event.get("evidence")
        for item in items if isinstance(items, list) else []:
            if item not in found:
                found.append(item)
    return found


class VisitBundler:
    """Builds one visit's bundle while the whole chain passes by, record by record."""

    def __init__(self, visit_id: str) -> None:
        """Collect the records of visit `visit_id`."""
        self.visit_id = visit_id
        self._mine: list[AuditRecord] = []
        self._chain = ChainVerifier()
        self._count = 0
        self._head = GENESIS

    def add(self, record: AuditRecord) -> None:
        """The chain's next record."""
        self._chain.add(record)
        self._count += 1
        self._head = record.hash
        if record.event.get("visit") == self.visit_id:
            self._mine.append(record)

    def bundle(self) -> dict[str, object]:
        """The bundle of the records added so far (see `export_visit_bundle`)."""
        return {
            "format": BUNDLE_FORMAT,
            "v": BUNDLE_VERSION,
            "visit": self.visit_id,
            "records": [r.to_dict() for r in self._mine],
            "evidence": _collect_evidence(self._mine),
            "chain": {"head": self._head, "count": self._count},
            "verified": self._chain.result().to_dict(),
        }


def export_visit_bundle(records: Iterable[AuditRecord], visit_id: str) -> dict[str, object]:
    """Build a self-contained export of one visit's audit records.

    The bundle holds the visit's records (seq, prev, hash, event), the evidence they
    reference, the full chain's head and length, and the full chain's verification.
    Check it later against the chain with `verify_bundle`.
    """
    bundler = VisitBundler(visit_id)
    for record in records:
        bundler.add(record)
    return bundler.bundle()


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
        if not recomputes(record) or by_seq.get(record.seq) != record:
            return False
    expected = {r.seq for r in records if r.event.get("visit") == visit_id}
    if expected != {r.seq for r in bundled}:
        return False
    first, last = min(expected), max(expected)
    return not any(gap.first < last and gap.last > first for gap in chain.missing)
