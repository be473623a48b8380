"""The audit log's files at their edges: a log closed or replaced while read, a full
disk, a folder in the way, torn bytes kept twice, segments without a whole record.

Real files in tmp_path; only the operating system's write is stood in for (a full disk).
"""

import errno
from pathlib import Path

import pytest

from custom_components.concierge import audit_file, audit_segments
from custom_components.concierge.audit_file import LogFile
from custom_components.concierge.audit_segments import (
    archive_folder,
    last_closed,
    log_end,
    read_lines,
    read_tail,
    records_after,
    segment_path,
)
from custom_components.concierge.core.audit import AuditRecord, append, to_json_line

from .test_audit_segments import event


def chain(count: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for n in range(1, count + 1):
        records.append(append(records[-1] if records else None, event(n)))
    return records


def line(record: AuditRecord) -> bytes:
    return (to_json_line(record) + "\n").encode()


def written(path: Path, records: list[AuditRecord]) -> LogFile:
    log = LogFile(path, segment_bytes=1 << 30)
    for record in records:
        log.append(line(record))
    return log


def test_reading_paused_often_still_reads_every_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_segments, "PAUSE_AFTER", 0.0)
    records = chain(40)
    live = tmp_path / "log.jsonl"
    written(live, records)
    assert list(read_lines(live, log_end(live))) == [line(r) for r in records]


def test_a_live_segment_closed_meanwhile_is_read_under_its_new_name(tmp_path: Path) -> None:
    records = chain(3)
    live = tmp_path / "log.jsonl"
    log = written(live, records)
    end = log.end()
    assert log._close_segment()
    assert not live.exists()
    assert list(read_lines(live, end)) == [line(r) for r in records]


def test_a_live_segment_closed_and_followed_by_a_new_one_reads_as_it_was(
    tmp_path: Path,
) -> None:
    records = chain(4)
    live = tmp_path / "log.jsonl"
    log = written(live, records[:3])
    end = log.end()
    assert log._close_segment()
    log.append(line(records[3]))
    assert list(read_lines(live, end)) == [line(r) for r in records[:3]]


def test_a_record_longer_than_the_tail_window_is_still_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit_segments, "TAIL_WINDOW", 8)
    records = chain(3)
    live = tmp_path / "log.jsonl"
    written(live, records)
    tail = read_tail(live)
    assert tail.last == records[-1]
    assert tail.torn is None


def test_a_live_segment_of_only_torn_bytes_follows_the_closed_ones(tmp_path: Path) -> None:
    records = chain(2)
    live = tmp_path / "log.jsonl"
    log = written(live, records)
    assert log._close_segment()
    live.write_bytes(b'{"seq": 3, "torn')
    tail = read_tail(live)
    assert tail.last == records[-1]
    assert tail.torn is not None
    assert tail.torn.seq == 3
    assert tail.torn.data == b'{"seq": 3, "torn'


def test_a_newest_closed_segment_without_a_record_gives_way_to_the_one_before(
    tmp_path: Path,
) -> None:
    records = chain(2)
    live = tmp_path / "log.jsonl"
    log = written(live, records)
    assert log._close_segment()
    segment_path(archive_folder(live), 2).write_bytes(b"not a record\n")
    assert last_closed(live) == records[-1]


def test_records_after_a_damaged_oldest_segment_are_all_found(tmp_path: Path) -> None:
    records = chain(6)
    live = tmp_path / "log.jsonl"
    folder = archive_folder(live)
    folder.mkdir()
    segment_path(folder, 1).write_bytes(b"garbage\n")
    written(live, records[3:])
    assert [r.seq for r in records_after(live, log_end(live), 0)] == [4, 5, 6]


def test_a_full_disk_refuses_the_append_and_leaves_the_log_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = chain(2)
    live = tmp_path / "log.jsonl"
    log = written(live, records[:1])
    before = live.read_bytes()
    monkeypatch.setattr(audit_file.os, "write", lambda _fd, _data: 0)
    with pytest.raises(OSError, match="No space left") as raised:
        log.append(line(records[1]))
    assert raised.value.errno == errno.ENOSPC
    assert live.read_bytes() == before


def test_a_cut_left_for_later_is_not_applied_to_a_new_live_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = chain(3)
    live = tmp_path / "log.jsonl"
    log = written(live, records[:1])
    with monkeypatch.context() as patched:
        patched.setattr(audit_file.os, "write", lambda _fd, _data: 0)

        def no_truncate(_fd: int, _size: int) -> None:
            raise OSError(errno.EIO, "cannot cut")

        patched.setattr(audit_file.os, "ftruncate", no_truncate)
        with pytest.raises(OSError, match="No space left"):
            log.append(line(records[1]))
    live.rename(tmp_path / "moved.jsonl")  # the live segment is gone (moved by hand)
    assert log.end().live_size == 0
    live.write_bytes(line(records[0]) + line(records[1]))  # a new file in its place
    assert log.end().live_size == len(live.read_bytes())
    log.append(line(records[2]))
    assert live.read_bytes() == b"".join(line(r) for r in records)


def test_a_file_in_the_way_of_the_segment_folder_keeps_the_live_segment_going(
    tmp_path: Path,
) -> None:
    records = chain(2)
    live = tmp_path / "log.jsonl"
    archive_folder(live).write_bytes(b"in the way")
    log = LogFile(live, segment_bytes=1)
    assert log.append(line(records[0])) is False
    assert log.append(line(records[1])) is False
    assert live.read_bytes() == line(records[0]) + line(records[1])


def test_cutting_a_log_that_is_gone_does_nothing(tmp_path: Path) -> None:
    records = chain(1)
    live = tmp_path / "log.jsonl"
    log = LogFile(live)
    log.cut(0)
    log.append(line(records[0]))
    assert live.read_bytes() == line(records[0])


def test_torn_bytes_kept_twice_in_one_second_go_to_two_files(tmp_path: Path) -> None:
    log = LogFile(tmp_path / "log.jsonl")
    first = log.set_aside(b"one", "20261206T050000Z")
    second = log.set_aside(b"two", "20261206T050000Z")
    assert first != second
    assert second.name.endswith("-2")
    assert (first.read_bytes(), second.read_bytes()) == (b"one", b"two")


def test_torn_bytes_are_refused_when_every_name_is_taken(tmp_path: Path) -> None:
    log = LogFile(tmp_path / "log.jsonl")
    for _ in range(100):
        log.set_aside(b"x", "20261206T050000Z")
    with pytest.raises(FileExistsError):
        log.set_aside(b"lost", "20261206T050000Z")
    assert not any(p.read_bytes() == b"lost" for p in tmp_path.iterdir() if p.is_file())
    assert (tmp_path / "log.jsonl.torn-20261206T050000Z-100").exists()
