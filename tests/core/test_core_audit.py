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
    BUNDLE_FORMAT,
    GENESIS,
    AuditRecord,
    ChainProblem,
    ChainVerification,
    append,
    canonical_json,
    export_visit_bundle,
    from_json_line,
    record_hash,
    to_json_line,
    verify_bundle,
    verify_chain,
)
from custom_components.concierge.core.errors import StoredDataError
from custom_components.concierge.core.events import (
    AccessEvent,
    AccessEventType,
    EvidenceKind,
    EvidenceRef,
    Outcome,
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
