"""Reading a segmented audit log without reading it whole (blocking; run in the executor).

A site's chain is kept in segments. The live one, written to, is
`.storage/concierge.<entry>.audit.jsonl` (where a log of one file always was: an older
log simply is the first live segment). When it has grown past a size it is closed: moved
unchanged to `.storage/concierge.<entry>.audit/NNNNNN.jsonl` (numbered from 000001), and
a new live segment starts with the next record. The chain runs on across segments (the
first record of a segment links to the last of the one before), so verification covers
everything and a segment removed, reordered or edited breaks it. A closed segment may be
gzip-compressed (`NNNNNN.jsonl.gz`, same content): it is read as the plain one.

Readers never hold the writer up: a `LogEnd` names the files and the live segment's
length at one moment, and `read_lines` reads exactly that, whatever happens meanwhile
(new records are appended after that length; a live segment closed meanwhile is found
under its new name, plain or compressed). Setup reads only the live segment's tail
(`read_tail`), so its time does not grow with the log.
"""

import gzip
import io
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .core.audit import AuditRecord
from .core.audit_scan import TornTail, first_line_at, last_whole, records_of

SEGMENT_BYTES = 2 * 1024 * 1024
"""The live segment is closed once it holds this many bytes (about 4,000 records)."""
TAIL_WINDOW = 16 * 1024
"""Bytes read from a segment's end to find its last whole record (doubled until found)."""
PAUSE_AFTER = 0.001
"""Seconds of reading between two short pauses, so that the event loop gets the
interpreter (Python's own switch interval, 5 ms, would keep an access event waiting)."""
PAUSE_SECONDS = 0.0002
_CHECK_EVERY = 16

_SEGMENT = re.compile(r"(\d{6,})\.jsonl(\.gz)?")


def archive_folder(live: Path) -> Path:
    """Where the closed segments of the log whose live segment is `live` are kept."""
    return live.with_name(live.name.removesuffix(".jsonl"))


def segment_path(folder: Path, number: int) -> Path:
    """The (plain) path of closed segment `number`."""
    return folder / f"{number:06d}.jsonl"


def closed_segments(folder: Path) -> list[int]:
    """The numbers of the closed segments, oldest first."""
    try:
        names = [path.name for path in folder.iterdir()]
    except FileNotFoundError:
        return []
    return sorted({int(m[1]) for name in names if (m := _SEGMENT.fullmatch(name))})


def open_segment(folder: Path, number: int) -> io.BufferedIOBase:
    """Open a closed segment for reading, plain or compressed (compressed meanwhile)."""
    plain = segment_path(folder, number)
    try:
        return plain.open("rb")
    except FileNotFoundError:
        return gzip.open(plain.with_name(f"{plain.name}.gz"), "rb")


@dataclass(frozen=True, slots=True)
class LogEnd:
    """A log's files at one moment: the closed segments and the live one's length."""

    closed: tuple[int, ...]
    live_number: int
    """The number the live segment gets when it is closed."""
    live_size: int
    live_id: tuple[int, int] | None
    """The live segment's (device, inode); None: there was none."""


def log_end(live: Path, cut_to: int | None = None) -> LogEnd:
    """The log as it is now (`cut_to`: the live segment's bytes beyond it do not count)."""
    closed = tuple(closed_segments(archive_folder(live)))
    number = closed[-1] + 1 if closed else 1
    try:
        info = live.stat()
    except FileNotFoundError:
        return LogEnd(closed, number, 0, None)
    size = info.st_size if cut_to is None else min(cut_to, info.st_size)
    return LogEnd(closed, number, size, (info.st_dev, info.st_ino))


def _limited(handle: io.BufferedIOBase, size: int) -> Iterator[bytes]:
    remaining = size
    for raw in handle:
        if remaining <= 0:
            return
        yield raw[:remaining]
        remaining -= len(raw)


def read_lines(live: Path, end: LogEnd, *, paced: bool = True) -> Iterator[bytes]:
    """Every line of the log up to `end`, oldest first (with their newlines).

    Pauses briefly every millisecond, unless not `paced` (read in a process of its own):
    a long read in a thread must not keep the event loop from the interpreter (an access
    event is recorded meanwhile).
    """
    folder = archive_folder(live)
    pace = _paced if paced else iter
    # Closed segments never change (compressed meanwhile, they read the same); the live
    # one is opened first, before it can be closed and followed by a new one.
    with _open_live(live, end) as live_handle:
        for number in end.closed:
            with open_segment(folder, number) as handle:
                yield from pace(handle)
        yield from pace(_limited(live_handle, end.live_size))


def _paced(lines: Iterable[bytes]) -> Iterator[bytes]:
    last = time.perf_counter()
    for count, raw in enumerate(lines, start=1):
        if count % _CHECK_EVERY == 0 and (now := time.perf_counter()) - last >= PAUSE_AFTER:
            time.sleep(PAUSE_SECONDS)
            last = now + PAUSE_SECONDS
        yield raw


def _open_live(live: Path, end: LogEnd) -> io.BufferedIOBase:
    """The live segment as it was at `end` (closed since: under its new name)."""
    if end.live_id is None:
        return io.BytesIO()
    try:
        handle = live.open("rb")
    except FileNotFoundError:
        return open_segment(archive_folder(live), end.live_number)
    info = os.fstat(handle.fileno())
    if (info.st_dev, info.st_ino) == end.live_id:
        return handle
    handle.close()
    return open_segment(archive_folder(live), end.live_number)


@dataclass(frozen=True, slots=True)
class Tail:
    """What setup needs of a log: its last whole record, and torn bytes after it."""

    last: AuditRecord | None
    torn: TornTail | None = None


def _last_in(handle: io.BufferedIOBase, size: int) -> tuple[AuditRecord, int] | None:
    """The last whole record of an open file of `size` bytes, read from its end."""
    window = TAIL_WINDOW
    while True:
        start = max(0, size - window)
        handle.seek(start)
        found = last_whole(handle.read(size - start), starts_file=start == 0)
        if found is not None:
            record, end = found
            return record, start + end
        if start == 0:
            return None
        window *= 2


def _newlines(handle: io.BufferedIOBase, size: int) -> int:
    handle.seek(0)
    count, remaining = 0, size
    while remaining > 0 and (chunk := handle.read(min(remaining, 1 << 20))):
        count += chunk.count(b"\n")
        remaining -= len(chunk)
    return count


def last_closed(live: Path) -> AuditRecord | None:
    """The last whole record of the closed segments (newest first; None: none has one)."""
    folder = archive_folder(live)
    for number in reversed(closed_segments(folder)):
        with open_segment(folder, number) as handle:
            data = handle.read()
        if (found := last_whole(data, starts_file=True)) is not None:
            return found[0]
    return None


def read_tail(live: Path) -> Tail:
    """The last whole record and the torn tail after it, from the live segment's end.

    Only when the live segment holds no whole record (it was just closed, or holds
    nothing but torn bytes) is the newest closed segment read.
    """
    try:
        handle = live.open("rb")
    except FileNotFoundError:
        return Tail(last_closed(live))
    with handle:
        size = os.fstat(handle.fileno()).st_size
        found = _last_in(handle, size)
        last, end = found if found is not None else (last_closed(live), 0)
        handle.seek(end)
        rest = handle.read()
        if not rest.strip():
            return Tail(last)
        line = _newlines(handle, end) + 1 + first_line_at(rest)
    seq = last.seq + 1 if last is not None else 1
    return Tail(last, TornTail(offset=end, data=rest, line=line, seq=seq))


def records_after(live: Path, end: LogEnd, seq: int) -> list[AuditRecord]:
    """The whole records after `seq`, read from the newest segments back to where it is."""
    folder = archive_folder(live)
    start = len(end.closed)
    with _open_live(live, end) as handle:
        first = next(iter(records_of(_limited(handle, end.live_size))), None)
    if first is not None and first.seq <= seq + 1:
        return [r for r in records_of(read_lines(live, replace(end, closed=()))) if r.seq > seq]
    while start > 0:
        with open_segment(folder, end.closed[start - 1]) as handle:
            first = next(iter(records_of(handle)), None)
        start -= 1
        if first is not None and first.seq <= seq + 1:
            break
    tail = replace(end, closed=end.closed[start:])
    return [r for r in records_of(read_lines(live, tail)) if r.seq > seq]
