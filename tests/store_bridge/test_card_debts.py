"""A card's debts follow the card: its fingerprint, keyed, never stored as it is.

The bridge's own SQLite file and the embedded processor (a card's fingerprint reported as
Stripe reports it); the key file as the bridge keeps it.
"""

import asyncio
import stat
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from store_bridge import checkout_store
from store_bridge.card_debts import (
    KEY_BYTES,
    CardDebts,
    CardKeyError,
    card_key,
    key_path,
    load_key,
)
from store_bridge.config import ConfigError
from store_bridge.database import Database
from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments import Answer

NOW = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)


def test_the_key_is_made_once_readable_by_its_owner_only_and_kept(tmp_path: Path) -> None:
    path = key_path(tmp_path / "bridge.sqlite3")
    assert path.name == "bridge.sqlite3.card_key"
    key = load_key(path)
    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == key
    path.write_text("not a key\n", encoding="ascii")
    fresh = load_key(path)  # damaged: kept aside, a new one
    assert fresh not in {key, b""}
    assert path.with_name(path.name + ".damaged").read_text(encoding="ascii") == "not a key\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path) == fresh


def test_a_key_that_cannot_be_read_is_never_replaced(tmp_path: Path) -> None:
    path = key_path(tmp_path / "bridge.sqlite3")
    path.mkdir()  # there, but unreadable as a file (as after a permissions or I/O fault)
    with pytest.raises(CardKeyError, match="cannot be read"):
        load_key(path)
    assert path.is_dir()
    assert not path.with_name(path.name + ".damaged").exists()
    assert isinstance(CardKeyError("x"), ConfigError)  # serve reports it as a setup error


def test_a_fingerprint_is_kept_only_as_its_keyed_hash() -> None:
    one, other = b"\x01" * KEY_BYTES, b"\x02" * KEY_BYTES
    assert card_key(one, "fp_abc") == card_key(one, "fp_abc")
    assert card_key(one, "fp_abc") != card_key(other, "fp_abc")
    assert "fp_abc" not in card_key(one, "fp_abc")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "bridge.sqlite3")
    await database.open()
    try:
        yield database
    finally:
        await database.close()


def _debts(db: Database, processor: FakeProcessor, **kwargs: float) -> CardDebts:
    return CardDebts(db, processor, b"\x07" * KEY_BYTES, NOW.timestamp, **kwargs)


async def test_a_card_owes_while_any_of_its_holds_owes(db: Database) -> None:
    processor = FakeProcessor()
    debts = _debts(db, processor)
    first = processor.authorise_hold(300, "EUR", fingerprint="fp_card_a")
    assert not await debts.owes(first)
    await db.call(lambda s: s.change(lambda c: checkout_store.owe(c, first, 216, "EUR", NOW), []))

    again = processor.authorise_hold(1000, "EUR", fingerprint="fp_card_a")
    other = processor.authorise_hold(1000, "EUR", fingerprint="fp_card_b")
    assert await debts.owes(again)
    assert not await debts.owes(other)

    await db.call(lambda s: s.change(lambda c: checkout_store.settle(c, first), []))
    assert not await debts.owes(processor.authorise_hold(1000, "EUR", fingerprint="fp_card_a"))
    rows = await db.call(lambda s: s.db.execute("SELECT card FROM card_holds").fetchall())
    assert all("fp_card" not in row[0] for row in rows)


async def test_a_card_that_cannot_be_recognised_in_time_is_admitted(db: Database) -> None:
    processor = FakeProcessor()
    debts = _debts(db, processor)
    unnamed = processor.authorise_hold(300, "EUR")  # the processor names no fingerprint
    assert not await debts.owes(unnamed)
    processor.down = True
    assert not await debts.owes(processor.authorise_hold(300, "EUR", fingerprint="fp"))

    class Slow(FakeProcessor):
        async def retrieve(self, payment: str) -> Answer:
            await asyncio.Event().wait()  # never answers
            raise AssertionError(payment)

    slow = Slow()
    hold = slow.authorise_hold(300, "EUR", fingerprint="fp")
    assert not await _debts(db, slow, timeout_s=0.01).owes(hold)


async def test_a_database_that_cannot_be_read_leaves_the_refusal_to_the_check_in(
    tmp_path: Path,
) -> None:
    database = Database(tmp_path / "bridge.sqlite3")  # never opened: unavailable
    processor = FakeProcessor()
    hold = processor.authorise_hold(300, "EUR", fingerprint="fp")
    try:
        assert not await _debts(database, processor).owes(hold)
    finally:
        await database.close()


async def test_a_cards_taps_are_purged_after_the_retention_unless_they_owe(db: Database) -> None:
    processor = FakeProcessor()
    debts = _debts(db, processor)
    owing = processor.authorise_hold(300, "EUR", fingerprint="fp_a")
    paid = processor.authorise_hold(300, "EUR", fingerprint="fp_b")
    for hold in (owing, paid):
        await debts.owes(hold)
    await db.call(lambda s: s.change(lambda c: checkout_store.owe(c, owing, 1, "EUR", NOW), []))

    later = NOW.timestamp() + 1
    purged = await db.call(
        lambda s: s.change(lambda c: checkout_store.purge_batch(c, later, 10), [])
    )

    assert purged == 1
    assert await debts.owes(processor.authorise_hold(300, "EUR", fingerprint="fp_a"))


def test_keys_made_at_once_agree_and_none_is_taken_for_damaged(tmp_path: Path) -> None:
    """Parts of the bridge asking for the first key at the same moment all get the same one."""
    for n in range(20):
        path = key_path(tmp_path / f"bridge-{n}.sqlite3")
        start = threading.Barrier(4)

        def load(path: Path = path, start: threading.Barrier = start) -> bytes:
            start.wait()
            return load_key(path)

        with ThreadPoolExecutor(4) as pool:
            keys = set(pool.map(lambda _n: load(), range(4)))
        assert len(keys) == 1
        assert keys == {load_key(path)}
    assert not list(tmp_path.glob("*.damaged"))
    assert not list(tmp_path.glob("*.new"))  # no scratch file left behind
