"""A card tap's replay record is a keyed digest, and no hold tapped before becomes usable again.

A bridge before the keyed digest stored a plain SHA-256 of each tapped hold, which anyone
with the database could check a guessed reference against. Now the `replay` table keeps an
HMAC with a key next to the database (`card_replay.py`); the holds an older bridge recorded
stay refused after the upgrade, and so do the holds the database still names if the key
file is lost and a new one made.
"""

import asyncio
import hashlib
import logging
import os
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from store_bridge.bridge import Bridge
from store_bridge.card_debts import CardDebts, key_path, load_key
from store_bridge.card_replay import KEY_MARK, CardReplay, card_replay_id, prepare, replay_key
from store_bridge.database import Database
from store_bridge.fake_processor import FakeProcessor
from store_bridge.store_schema import connect

from .conftest import Store, StoreFactory, stop

OLD_HOLD = "pi_3OldHoldBeforeUpgrade"
FAR = 4_000_000_000.0  # an expiry far ahead


def _plain(reference: str) -> str:
    """What a bridge before the keyed digest stored for a card tap."""
    return hashlib.sha256(f"card\x00{reference}".encode()).hexdigest()


def _replay_ids(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        return {row[0] for row in db.execute("SELECT id FROM replay")}


def _as_an_older_bridge_left_it(path: Path, *digests: str) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.executemany("INSERT INTO replay VALUES (?, ?)", [(d, FAR) for d in digests])


async def _upgraded(make_store: StoreFactory, **options: Any) -> Store:
    """A store whose older bridge recorded `OLD_HOLD`'s tap, started by this bridge."""
    old: Store = await make_store()
    await stop(old)
    _as_an_older_bridge_left_it(old.path, _plain(OLD_HOLD))
    store: Store = await make_store(path=old.path, **options)
    return store


async def test_a_hold_recorded_before_the_upgrade_stays_refused_and_new_ones_are_keyed(
    make_store: StoreFactory,
) -> None:
    store = await _upgraded(make_store)
    status, again = await store.check_in(card_token=OLD_HOLD)
    assert (status, again["reason"]) == (403, "replayed")
    assert (await store.check_in(card_token="pi_3NewHoldAfterUpgrade"))[0] == 200
    status, again = await store.check_in(card_token="pi_3NewHoldAfterUpgrade")
    assert (status, again["reason"]) == (403, "replayed")
    assert store.entry.commands == 1

    stored = _replay_ids(store.path)
    assert _plain("pi_3NewHoldAfterUpgrade") not in stored  # nothing a guess can be checked on
    assert not any("pi_3" in row for row in stored)
    key = replay_key(load_key(key_path(store.path)))
    assert card_replay_id(key, "pi_3NewHoldAfterUpgrade") in stored
    assert card_replay_id(replay_key(b"\x01" * 32), "pi_3NewHoldAfterUpgrade") not in stored


async def test_a_lost_card_key_keeps_the_holds_the_database_names_refused(
    make_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    store: Store = await make_store()
    assert (await store.check_in(card_token="pi_3TappedBeforeKeyLoss"))[0] == 200
    await stop(store)
    key_path(store.path).unlink()  # a restore without the key file: a new key is made

    again: Store = await make_store(path=store.path)
    with caplog.at_level(logging.WARNING, "store_bridge"):
        status, answer = await again.check_in(card_token="pi_3TappedBeforeKeyLoss")

    assert (status, answer["reason"]) == (403, "replayed")
    assert "card key changed" in caplog.text
    assert "pi_3" not in caplog.text
    assert (await again.check_in(card_token="pi_3AnotherHold"))[0] == 200


async def test_a_card_key_that_cannot_be_kept_refuses_the_tap_until_it_can(
    make_store: StoreFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_path(tmp_path / "bridge.sqlite3").mkdir()  # neither readable nor writable as a key file
    with caplog.at_level(logging.WARNING, "store_bridge"):
        store: Store = await make_store(before_start=_takes_cards)  # starts all the same
    assert "not keyed at start" in caplog.text

    status, answer = await store.check_in(card_token="pi_3WhileNoKey")
    assert (status, answer["reason"]) == (403, "storage_unavailable")
    assert store.entry.commands == 0

    shutil.rmtree(key_path(store.path))
    assert (await store.check_in(card_token="pi_3WhileNoKey"))[0] == 200


def test_the_table_is_keyed_once_per_key(tmp_path: Path) -> None:
    db = connect(tmp_path / "bridge.sqlite3")
    try:
        qr_row = hashlib.sha256(b"issuer\x00jti-1").hexdigest()  # looks like a card tap's
        db.executemany("INSERT INTO replay VALUES (?, ?)", [(qr_row, 1.0), (_plain("pi_a"), 2.0)])
        key = replay_key(b"\x02" * 32)

        assert prepare(db, key, FAR) == 2
        assert prepare(db, key, FAR) == 0  # the next start: nothing to do
        rows = dict(db.execute("SELECT id, expires FROM replay").fetchall())
        assert rows[card_replay_id(key, "pi_a")] == 2.0  # the plain row's expiry
        assert rows[qr_row] == 1.0  # the plain rows stay until the retention takes them
        other = replay_key(b"\x03" * 32)  # a new key: the plain rows twinned again
        assert prepare(db, other, FAR) == 2
        assert db.execute("SELECT count(*) FROM meta WHERE key = ?", (KEY_MARK,)).fetchone()[0] == 1
    finally:
        db.close()


async def test_a_database_in_memory_keys_with_a_key_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = Database(":memory:")
    await db.open()
    try:
        replay = CardReplay(db)
        first = await replay.replay_id("pi_m", FAR)
        assert first == await replay.replay_id("pi_m", FAR)
        assert first != await replay.replay_id("pi_n", FAR)
        assert first.startswith("card:")
        assert await asyncio.to_thread(os.listdir, tmp_path) == []  # no key file made
    finally:
        await db.close()


def _takes_cards(bridge: Bridge) -> None:
    """A store with payments: card taps' debts are looked up (`card_debts.py`)."""
    bridge.card_debts = CardDebts(bridge.db, FakeProcessor(), b"\x01" * 32, lambda: 0.0)


async def test_a_store_that_takes_cards_keys_the_table_at_start_not_at_a_tap(
    make_store: StoreFactory,
) -> None:
    store = await _upgraded(make_store, before_start=_takes_cards)

    key = replay_key(load_key(key_path(store.path)))
    assert card_replay_id(key, OLD_HOLD) in _replay_ids(store.path)  # before any tap
    status, again = await store.check_in(card_token=OLD_HOLD)
    assert (status, again["reason"]) == (403, "replayed")
