"""Tests for the hash-chained audit log and visit bundles."""

import copy
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.audit import (
    GENESIS,
    RETRY_DELAYS,
    AuditRecord,
    ChainProblem,
    ChainVerification,
    SeqRange,
    append,
    canonical_json,
    declared_gap,
    from_json_line,
    gap_record,
    missing_at_load,
    record_hash,
    retry_delay,
    to_json_line,
    verify_chain,
)
from custom_components.concierge.core.audit_bundle import (
    BUNDLE_FORMAT,
    VisitBundler,
    export_visit_bundle,
    verify_bundle,
)
from custom_components.concierge.core.audit_scan import (
    DamagedLine,
    LogScan,
    LogVerifier,
    TornTail,
    first_line_at,
    last_whole,
    records_of,
    scan_log,
    verify_log,
)
from custom_components.concierge.core.errors import StoredDataError
from custom_components.concierge.core.events import (
    AccessEvent,
    AccessEventType,
    EvidenceKind,
    EvidenceRef,
    Outcome,
    from_wire,
    to_wire,
)

T0 = datetime(2025, 6, 12, 10, tzinfo=UTC)
SNAP = EvidenceRef(EvidenceKind.SNAPSHOT, "/media/a.jpg", "d" * 64)


def make_event(n: int, visit: str | None = None, **extra: object) -> AccessEvent:
    return AccessEvent(
        id=f"e{n}",
        time=T0 + timedelta(seconds=n),
        site="home",
        visit=visit,
        type=AccessEventType.DOOR_OPENED,
        outcome=Outcome.INFO,
        data={"n": n},
        **extra,  # type: ignore[arg-type]
    )


def chain(events: list[AccessEvent]) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for event in events:
        records.append(append(records[-1] if records else None, event))
    return records


def sample() -> list[AuditRecord]:
    return chain(
        [
            make_event(1),
            make_event(2, "v1"),
            make_event(3, "v1", evidence=(SNAP,)),
            make_event(4, "v2"),
            make_event(5, "v1", evidence=(SNAP,)),
        ]
    )


def test_append_and_hash() -> None:
    records = sample()
    first = records[0]
    assert first.seq == 1
    assert first.prev == GENESIS
    assert first.event == to_wire(make_event(1))
    content = {"seq": 1, "prev": GENESIS, "event": first.event}
    expected = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert first.hash == expected == record_hash(1, GENESIS, first.event)
    assert records[1].prev == first.hash
    assert records[4].seq == 5


def test_verify_ok() -> None:
    records = sample()
    result = verify_chain(records, expected_head=records[-1].hash)
    assert result == ChainVerification(ok=True, count=5, head=records[-1].hash)
    assert verify_chain([]) == ChainVerification(ok=True, count=0, head=GENESIS)


def test_edited_record() -> None:
    records = sample()
    event = copy.deepcopy(records[2].event)
    event["outcome"] = "denied"
    records[2] = replace(records[2], event=event)
    result = verify_chain(records)
    assert (result.ok, result.problem, result.first_bad_seq, result.count) == (
        False,
        ChainProblem.HASH_MISMATCH,
        3,
        2,
    )
    assert result.head == records[1].hash


def test_edited_and_rehashed_record_breaks_the_next_link() -> None:
    records = sample()
    event = copy.deepcopy(records[2].event)
    event["outcome"] = "denied"
    records[2] = replace(records[2], event=event, hash=record_hash(3, records[2].prev, event))
    result = verify_chain(records)
    assert (result.problem, result.first_bad_seq) == (ChainProblem.BROKEN_LINK, 4)


def test_deleted_and_swapped_records() -> None:
    records = sample()
    result = verify_chain(records[:2] + records[3:])
    assert (result.problem, result.first_bad_seq) == (ChainProblem.SEQUENCE_GAP, 4)
    assert verify_chain(records[1:]).problem is ChainProblem.SEQUENCE_GAP
    swapped = [records[0], records[2], records[1], *records[3:]]
    result = verify_chain(swapped)
    assert (result.problem, result.first_bad_seq) == (ChainProblem.SEQUENCE_GAP, 3)


def test_truncation_needs_the_expected_head() -> None:
    records = sample()
    assert verify_chain(records[:-1]).ok
    result = verify_chain(records[:-1], expected_head=records[-1].hash)
    assert (result.ok, result.problem, result.first_bad_seq, result.count) == (
        False,
        ChainProblem.HEAD_MISMATCH,
        None,
        4,
    )
    assert result.to_dict()["problem"] == "head_mismatch"


def test_unhashable_record_is_a_mismatch() -> None:
    records = sample()
    records[1] = replace(records[1], event={**records[1].event, "data": {"x": float("nan")}})
    assert verify_chain(records).problem is ChainProblem.HASH_MISMATCH


def test_json_lines_round_trip() -> None:
    records = sample()
    lines = [to_json_line(r) for r in records]
    assert all("\n" not in line for line in lines)
    assert [from_json_line(line) for line in lines] == records
    assert json.loads(lines[0])["seq"] == 1
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()


@pytest.mark.parametrize(
    "line",
    [
        "{",
        "[]",
        '{"seq": 1, "prev": "0", "hash": "' + "0" * 64 + '", "event": {}}',
        '{"seq": 1, "prev": "' + "0" * 64 + '", "hash": "' + "A" * 64 + '", "event": {}}',
        '{"seq": "1", "prev": "' + "0" * 64 + '", "hash": "' + "0" * 64 + '", "event": {}}',
        '{"seq": 1, "prev": "' + "0" * 64 + '", "hash": "' + "0" * 64 + '", "event": []}',
    ],
)
def test_from_json_line_rejects(line: str) -> None:
    with pytest.raises(StoredDataError):
        from_json_line(line)


def test_visit_bundle() -> None:
    records = sample()
    bundle = export_visit_bundle(records, "v1")
    assert bundle["format"] == BUNDLE_FORMAT
    assert bundle["visit"] == "v1"
    assert [r["seq"] for r in bundle["records"]] == [2, 3, 5]  # type: ignore[attr-defined,union-attr]
    assert bundle["evidence"] == [SNAP.to_wire()]
    assert bundle["chain"] == {"head": records[-1].hash, "count": 5}
    assert bundle["verified"] == verify_chain(records).to_dict()
    assert verify_bundle(bundle, records)
    # The bundle survives a JSON round trip.
    assert verify_bundle(json.loads(json.dumps(bundle)), records)


def test_visit_bundle_detects_tampering() -> None:
    records = sample()
    bundle = export_visit_bundle(records, "v1")
    edited = copy.deepcopy(bundle)
    edited["records"][0]["event"]["outcome"] = "denied"  # type: ignore[index]
    assert not verify_bundle(edited, records)
    rehashed = copy.deepcopy(bundle)
    first = rehashed["records"][0]  # type: ignore[index]
    first["event"]["outcome"] = "denied"
    first["hash"] = record_hash(first["seq"], first["prev"], first["event"])
    assert not verify_bundle(rehashed, records)
    incomplete = copy.deepcopy(bundle)
    incomplete["records"].pop()  # type: ignore[attr-defined]
    assert not verify_bundle(incomplete, records)
    assert not verify_bundle(export_visit_bundle(records, "nobody"), records)
    assert not verify_bundle({"visit": "v1", "records": "x"}, records)
    assert not verify_bundle(None, records)
    broken = records[:2] + records[3:]
    assert not verify_bundle(bundle, broken)
    empty = export_visit_bundle([], "v1")
    assert empty["chain"] == {"head": GENESIS, "count": 0}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.sampled_from([None, "v1", "v2"]), min_size=2, max_size=12),
    st.data(),
)
def test_any_single_change_is_detected(visits: list[str | None], data: st.DataObject) -> None:
    records = chain([make_event(n, v) for n, v in enumerate(visits)])
    head = records[-1].hash
    assert verify_chain(records, expected_head=head).ok
    for visit in {"v1", "v2"} & set(visits):  # type: ignore[operator]
        assert verify_bundle(export_visit_bundle(records, visit), records)
    index = data.draw(st.integers(0, len(records) - 1))
    kind = data.draw(st.sampled_from(["edit", "rehash", "delete", "swap", "truncate"]))
    tampered = list(records)
    if kind == "edit":
        event = {**tampered[index].event, "outcome": "failed"}
        tampered[index] = replace(tampered[index], event=event)
    elif kind == "rehash":
        event = {**tampered[index].event, "outcome": "failed"}
        digest = record_hash(tampered[index].seq, tampered[index].prev, event)
        tampered[index] = replace(tampered[index], event=event, hash=digest)
    elif kind == "delete":
        del tampered[index]
    elif kind == "swap":
        other = data.draw(st.integers(0, len(records) - 1).filter(lambda i: i != index))
        tampered[index], tampered[other] = tampered[other], tampered[index]
    else:
        tampered = tampered[:index]
    result = verify_chain(tampered, expected_head=head)
    assert not result.ok
    at_tail = index == len(records) - 1
    # Only the kept head reveals a shortened or rewritten tail.
    tail_only = kind == "truncate" or (kind in {"delete", "rehash"} and at_tail)
    assert (result.problem is ChainProblem.HEAD_MISMATCH) == tail_only


# --- retries, gaps, damaged files ------------------------------------------------------


def test_retry_delays_grow_then_repeat() -> None:
    assert [retry_delay(n) for n in range(1, 8)] == [1, 5, 30, 60, 300, 300, 300]
    assert retry_delay(0) == 1
    assert RETRY_DELAYS[-1] == 300


def lost(prev: AuditRecord | None, first: int, last: int, **extra: str) -> AuditRecord:
    return gap_record(
        prev, SeqRange(first, last), site="home", time=T0, reason="records_lost", **extra
    )


def with_gap() -> list[AuditRecord]:
    """Records 1-3, records 4-6 lost (the gap record is 7), then records 8 and 9."""
    records = sample()[:3]
    records.append(lost(records[-1], 4, 6, lost_head="a" * 64))
    records.append(append(records[-1], make_event(8, "v2")))
    records.append(append(records[-1], make_event(9, "v1")))
    return records


def test_a_gap_record_says_what_is_missing() -> None:
    records = with_gap()
    gap = records[3]
    assert (gap.seq, gap.prev) == (7, records[2].hash)
    assert gap.event["type"] == "audit_gap"
    assert gap.event["outcome"] == "failed"
    assert gap.event["reason"] == "records_lost"
    assert gap.event["data"] == {
        "missing_from": 4, "missing_to": 6, "missing_count": 3, "lost_head": "a" * 64,
    }  # fmt: skip
    assert from_wire(gap.event).type is AccessEventType.AUDIT_GAP
    assert [r.seq for r in records] == [1, 2, 3, 7, 8, 9]
    assert declared_gap(gap) == SeqRange(4, 6)
    assert declared_gap(records[0]) is None
    assert "lost_head" not in lost(None, 1, 2).event["data"]  # type: ignore[operator]


def test_a_chain_with_a_gap_keeps_its_links_but_is_never_ok() -> None:
    records = with_gap()
    for result in (verify_chain(records), verify_chain(records, expected_head=records[-1].hash)):
        assert not result.ok
        assert result.intact
        assert result.problem is ChainProblem.RECORDS_MISSING
        assert (result.first_bad_seq, result.count, result.head) == (4, 6, records[-1].hash)
        assert result.missing == (SeqRange(4, 6),)
        assert result.missing_count == 3
    assert verify_chain(records).to_dict() == {
        "ok": False, "intact": True, "count": 6, "head": records[-1].hash,
        "first_bad_seq": 4, "problem": "records_missing",
        "missing": [{"from": 4, "to": 6, "count": 3}], "missing_count": 3,
        "damaged_lines": [], "pending": 0,
    }  # fmt: skip
    # A shortened tail still shows as such, with what is known missing.
    result = verify_chain(records[:-1], expected_head=records[-1].hash)
    assert (result.problem, result.missing, result.intact) == (
        ChainProblem.HEAD_MISMATCH, (SeqRange(4, 6),), False,
    )  # fmt: skip


def test_a_chain_can_begin_with_a_gap() -> None:
    gap = lost(None, 1, 4)
    assert (gap.seq, gap.prev) == (5, GENESIS)
    records = [gap, append(gap, make_event(6))]
    result = verify_chain(records)
    assert (result.intact, result.missing, result.count) == (True, (SeqRange(1, 4),), 2)


def _rehashed(record: AuditRecord, **changes: object) -> AuditRecord:
    event = copy.deepcopy(record.event)
    data = event["data"]
    assert isinstance(data, dict)
    data.update(changes)
    return replace(record, event=event, hash=record_hash(record.seq, record.prev, event))


def test_forged_or_edited_gap_records_are_detected() -> None:
    records = with_gap()
    # Edited without rehashing: the hash no longer matches.
    edited = replace(records[3], event={**records[3].event, "reason": "nothing_lost"})
    assert verify_chain([*records[:3], edited, *records[4:]]).problem is (
        ChainProblem.HASH_MISMATCH
    )
    # A gap that does not start right after the record before it, or does not end
    # right before itself, is no gap: the sequence breaks.
    for changes in ({"missing_from": 5}, {"missing_to": 5}, {"missing_from": True}):
        forged = _rehashed(records[3], **changes)
        result = verify_chain([*records[:3], forged, *records[4:]])
        assert (result.problem, result.first_bad_seq) == (ChainProblem.SEQUENCE_GAP, 7)
    no_data = replace(records[3], event={**records[3].event, "data": []})
    assert declared_gap(no_data) is None
    # A gap record cannot hide a deleted record before it: its link breaks.
    result = verify_chain([*records[:2], records[3], *records[4:]])
    assert (result.problem, result.first_bad_seq) == (ChainProblem.SEQUENCE_GAP, 7)
    moved = lost(records[1], 3, 6)
    result = verify_chain([*records[:2], moved, *records[4:]])
    assert (result.problem, result.first_bad_seq) == (ChainProblem.BROKEN_LINK, 8)
    # Deleting the gap record itself shows as a plain gap in the sequence.
    result = verify_chain([*records[:3], *records[4:]])
    assert (result.problem, result.first_bad_seq) == (ChainProblem.SEQUENCE_GAP, 8)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 5), st.integers(1, 3), st.data())
def test_any_deletion_around_a_gap_is_detected(at: int, size: int, data: st.DataObject) -> None:
    records = chain([make_event(n) for n in range(at)])
    records.append(lost(records[-1] if records else None, at + 1, at + size))
    for n in range(3):
        records.append(append(records[-1], make_event(100 + n)))
    head = records[-1].hash
    assert verify_chain(records, expected_head=head).intact
    index = data.draw(st.integers(0, len(records) - 1))
    tampered = records[:index] + records[index + 1 :]
    assert not verify_chain(tampered, expected_head=head).intact


def test_missing_at_load_compares_the_stored_count() -> None:
    records = sample()
    assert missing_at_load(None, 0) is None
    assert missing_at_load(records[-1], 5) is None
    assert missing_at_load(records[-1], 3) is None  # the stored head was saved late
    assert missing_at_load(records[-1], 8) == SeqRange(6, 8)
    assert missing_at_load(None, 4) == SeqRange(1, 4)
    assert SeqRange(6, 8).to_dict() == {"from": 6, "to": 8, "count": 3}


def lines_of(records: list[AuditRecord]) -> bytes:
    return b"".join(to_json_line(r).encode() + b"\n" for r in records)


def test_scan_a_whole_log() -> None:
    records = sample()
    assert scan_log(b"") == LogScan(records=())
    assert scan_log(b"").last is None
    scan = scan_log(lines_of(records))
    assert scan == LogScan(records=tuple(records))
    assert scan.last == records[-1]
    # Blank lines and trailing whitespace are no damage.
    spaced = lines_of(records[:2]) + b"\n  \n" + lines_of(records[2:]) + b" \n\t"
    assert scan_log(spaced) == LogScan(records=tuple(records))


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(b'{"event":{"data":{},"evid', id="half-a-line"),
        pytest.param(b"\x00\x00\x00\x00", id="zero-bytes"),
        pytest.param(b"garbage\n", id="garbage-line"),
        pytest.param(b"garbage\n\nmore garbage", id="garbage-lines"),
    ],
)
def test_scan_finds_a_torn_tail(tail: bytes) -> None:
    records = sample()
    whole = lines_of(records)
    scan = scan_log(whole + tail)
    assert scan.records == tuple(records)
    assert scan.damaged == ()
    assert scan.torn == TornTail(offset=len(whole), data=tail, line=6, seq=6)


def test_a_last_record_without_its_newline_is_torn() -> None:
    records = sample()
    whole = lines_of(records[:4])
    last = to_json_line(records[4]).encode()
    scan = scan_log(whole + last)
    assert scan.records == tuple(records[:4])
    assert scan.torn == TornTail(offset=len(whole), data=last, line=5, seq=5)


def test_a_log_of_nothing_but_garbage_is_all_torn() -> None:
    scan = scan_log(b"\nnot a record\n")
    assert scan == LogScan(records=(), torn=TornTail(0, b"\nnot a record\n", line=2, seq=1))


def test_scan_reports_damaged_lines_before_the_last_record() -> None:
    records = sample()
    lines = lines_of(records).split(b"\n")
    lines[1] = b'{"event": "edited by hand"'
    lines[3] = b"\xff\xfe not utf-8"
    scan = scan_log(b"\n".join(lines))
    assert scan.records == (records[0], records[2], records[4])
    assert scan.damaged == (DamagedLine(line=2, seq=2), DamagedLine(line=4, seq=4))
    assert scan.torn is None
    first = scan_log(b"garbage\n" + lines_of(records))
    assert first.damaged == (DamagedLine(line=1, seq=1),)


def test_verify_log_reports_damage_torn_bytes_and_pending_records() -> None:
    records = sample()
    head = records[-1].hash
    clean = verify_log(LogScan(records=tuple(records)), head)
    assert clean == ChainVerification(ok=True, count=5, head=head)
    # Records waiting to be written count as the chain's end.
    waiting = verify_log(LogScan(records=tuple(records[:3])), head, records[3:])
    assert waiting == ChainVerification(ok=True, count=5, head=head, pending=2)
    damaged = verify_log(scan_log(lines_of(records[:2]) + b"x\n" + lines_of(records[2:])), head)
    assert (damaged.ok, damaged.intact, damaged.problem) == (
        False, False, ChainProblem.DAMAGED_RECORD,
    )  # fmt: skip
    assert (damaged.first_bad_seq, damaged.damaged_lines) == (3, (3,))
    assert damaged.to_dict()["damaged_lines"] == [3]
    torn = verify_log(scan_log(lines_of(records[:4]) + b"{"), head, records[4:])
    assert (torn.problem, torn.first_bad_seq, torn.damaged_lines, torn.pending) == (
        ChainProblem.DAMAGED_RECORD, 5, (5,), 1,
    )  # fmt: skip
    # An earlier problem stays the one reported; the damaged line is still named.
    edited = [replace(records[0], event={**records[0].event, "outcome": "denied"}), *records[1:]]
    both = verify_log(scan_log(lines_of(edited[:3]) + b"x\n" + lines_of(edited[3:])), head)
    assert (both.problem, both.first_bad_seq, both.damaged_lines) == (
        ChainProblem.HASH_MISMATCH, 1, (4,),
    )  # fmt: skip


def test_a_bundle_verifies_unless_a_gap_lies_within_its_visit() -> None:
    records = sample()[:2]  # seq 1 (no visit), 2 (v1)
    records.append(lost(records[-1], 3, 4))
    records.append(append(records[-1], make_event(6, "v1")))
    records.append(append(records[-1], make_event(7, "v2")))
    records.append(append(records[-1], make_event(8, "v3")))
    records.append(lost(records[-1], 9, 9))
    records.append(append(records[-1], make_event(11, "v3")))
    v1 = export_visit_bundle(records, "v1")
    assert v1["verified"]["missing"] == [  # type: ignore[index]
        {"from": 3, "to": 4, "count": 2}, {"from": 9, "to": 9, "count": 1},
    ]  # fmt: skip
    assert not verify_bundle(v1, records)  # records 3 and 4 may have been v1's
    assert verify_bundle(export_visit_bundle(records, "v2"), records)
    assert not verify_bundle(export_visit_bundle(records, "v3"), records)


# --- read line by line (a segmented log) -----------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda w: w, id="whole"),
        pytest.param(lambda w: w + b'{"event":{"da', id="torn"),
        pytest.param(lambda w: w + b"garbage\n\nmore garbage", id="torn-lines"),
        pytest.param(lambda w: w[: len(w) // 2] + b"x\n" + w[len(w) // 2 :], id="damaged"),
        pytest.param(lambda w: b"x\n" + w + b"\n\n", id="damaged-first"),
        pytest.param(lambda w: w.replace(b'"outcome":"ok"', b'"outcome":"no"', 1), id="edited"),
        pytest.param(lambda w: b"".join(w.splitlines(keepends=True)[1:]), id="first-gone"),
        pytest.param(lambda _w: b"\n \n", id="blank"),
        pytest.param(lambda _w: b"", id="empty"),
    ],
)
@pytest.mark.parametrize("pending", [0, 2])
def test_a_log_verified_line_by_line_finds_what_a_whole_read_finds(
    make: object, pending: int
) -> None:
    records = sample()
    data = make(lines_of(records[: len(records) - pending]))  # type: ignore[operator]
    waiting = records[len(records) - pending :]
    head = records[-1].hash
    verifier = LogVerifier()
    for raw in data.splitlines(keepends=True):
        verifier.line(raw)
    assert verifier.result(head, waiting) == verify_log(scan_log(data), head, waiting)
    assert list(records_of(data.splitlines(keepends=True))) == list(scan_log(data).records)


def test_the_last_whole_record_is_found_from_a_file_end() -> None:
    records = sample()
    whole = lines_of(records)
    assert last_whole(whole, starts_file=True) == (records[-1], len(whole))
    assert last_whole(whole + b'{"seq"', starts_file=True) == (records[-1], len(whole))
    assert last_whole(whole + b"\n\n", starts_file=True) == (records[-1], len(whole))
    # A window that starts mid-line does not read its first line.
    one = lines_of(records[:1])
    assert last_whole(one, starts_file=False) is None
    assert last_whole(b"\n" + one, starts_file=False) == (records[0], len(one) + 1)
    assert last_whole(b"garbage\n", starts_file=True) is None
    assert first_line_at(b"\n \nx\n") == 2


def test_a_bundle_built_record_by_record_is_the_bundle_of_the_whole_chain() -> None:
    records = sample()
    bundler = VisitBundler("v1")
    for record in records:
        bundler.add(record)
    assert bundler.bundle() == export_visit_bundle(records, "v1")
    assert verify_bundle(bundler.bundle(), records)
