"""Visit bundles: one visit's audit records, exported so they can be checked later.

A bundle holds the visit's records, the evidence they reference, the whole chain's head
and length and its verification (`export_visit_bundle`). `verify_bundle` checks a bundle
against the whole chain: nothing edited, nothing of the visit left out.
"""

from collections.abc import Sequence

from . import _parse
from .audit import GENESIS, AuditRecord, recomputes, verify_chain
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
        if not recomputes(record) or by_seq.get(record.seq) != record:
            return False
    expected = {r.seq for r in records if r.event.get("visit") == visit_id}
    if expected != {r.seq for r in bundled}:
        return False
    first, last = min(expected), max(expected)
    return not any(gap.first < last and gap.last > first for gap in chain.missing)
