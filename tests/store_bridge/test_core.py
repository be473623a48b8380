"""The bridge's plain parts: operator keys, card tokens, retention, reader signals."""

import errno
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from store_bridge import bridge as bridge_module
from store_bridge.core.credentials import (
    CredentialRejected,
    QrCheckIn,
    check_card_token,
    load_operator_key,
    looks_like_card_number,
    verify_qr,
)
from store_bridge.core.store import occupancy_data
from store_bridge.gates.base import GateSignal, SignalKind
from store_bridge.storage import StorageUnavailable
from store_bridge.wal_sync import log_path
from tests.waiting import until

from .conftest import ISSUER, SITE, Operator, Store, StoreFactory
from .disk_syncs import Syncs


async def settled(store: Store, count: int) -> None:
    """Wait until the gates' own signals (door opened/closed) are in the outbox too."""
    await until(f"{count} events in the outbox", lambda: len(store.outbox()) >= count)


def _pem(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_operator_keys_fix_their_algorithm() -> None:
    assert load_operator_key(_pem(ed25519.Ed25519PrivateKey.generate()), "a").alg == "EdDSA"
    key = load_operator_key(_pem(ec.generate_private_key(ec.SECP256R1())).decode(), "b")
    assert key.alg == "ES256"
    assert repr(key) == "OperatorKey(kid='b', alg='ES256')"


@pytest.mark.parametrize(
    ("make_pem", "message"),
    [
        (lambda: b"not a key", "not a PEM public key"),
        (
            lambda: _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "only P-256",
        ),
        (lambda: _pem(ec.generate_private_key(ec.SECP384R1())), "only P-256"),
    ],
    ids=["garbage", "rsa", "p384"],
)
def test_other_keys_are_refused(make_pem, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_operator_key(make_pem(), "k")


def test_a_code_without_key_id_works_only_with_a_single_key(operator: Operator) -> None:
    now = datetime.now(UTC)
    payload = {
        "iss": ISSUER,
        "aud": SITE,
        "sub": "acct-1",
        "jti": "j1",
        "iat": int(now.timestamp()),
    }
    payload["exp"] = payload["iat"] + 30
    token = jwt.encode(payload, operator.ed, algorithm="EdDSA")
    only = {"ed": operator.keys["ed"]}
    checked = verify_qr(token, keys=only, issuer=ISSUER, site=SITE, now=now)
    assert (checked.jti, checked.account, checked.party) == ("j1", "acct-1", 1)
    assert "acct-1" not in repr(checked)
    assert isinstance(checked, QrCheckIn)
    with pytest.raises(CredentialRejected, match="unknown_key"):
        verify_qr(token, keys=operator.keys, issuer=ISSUER, site=SITE, now=now)
    with pytest.raises(CredentialRejected, match="malformed"):
        verify_qr(123, keys=only, issuer=ISSUER, site=SITE, now=now)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("4242424242424242", True),
        ("4242-4242-4242-4242", True),
        ("pm 5555 5555 5555 4444 x", True),
        ("378282246310005", True),  # 15-digit card
        ("4242424242424241", False),  # fails Luhn
        ("pm_1Q2w3E4r5T6y7U8i", False),
        ("12345678901", False),  # too short
        ("order 2026-11-23", False),
    ],
)
def test_card_numbers_are_recognised(text: str, *, card: bool) -> None:
    assert looks_like_card_number(text) is card


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "bad_card_token"),
        (42, "bad_card_token"),
        ("short", "bad_card_token"),
        ("has spaces in it", "bad_card_token"),
        ("x" * 129, "bad_card_token"),
        ("tok_4000 0566 5566 5556", "card_number_refused"),
    ],
)
def test_card_tokens_are_checked(token: object, reason: str) -> None:
    with pytest.raises(CredentialRejected, match=reason):
        check_card_token(token)


def test_occupancy_of_a_store_without_capacity() -> None:
    assert occupancy_data(0, 0) == {"occupancy": 0, "capacity": 0, "load": 0.0}


async def test_old_published_events_and_used_codes_are_purged(make_store: StoreFactory) -> None:
    clock = [datetime.now(UTC)]
    store: Store = await make_store(clock=lambda: clock[0])
    _, answer = await store.check_in(qr=store.operator.qr())
    await store.leave(track=answer["track"])
    await settled(store, 10)
    with closing(sqlite3.connect(store.path, isolation_level=None)) as db:
        db.execute("UPDATE outbox SET sent = ?", (time.time(),))
    assert (await store.bridge.purge()).rows == 0  # within the retention (the code too)
    clock[0] += timedelta(days=91)
    published = len(store.outbox())
    assert published == 10
    purged = await store.bridge.purge()
    assert (purged.events, purged.sessions, purged.used_codes) == (published, 1, 1)
    assert store.outbox() == []
    with closing(sqlite3.connect(store.path, isolation_level=None)) as db:
        assert db.execute("SELECT count(*) FROM replay").fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)


async def test_unpublished_events_are_never_purged(make_store: StoreFactory) -> None:
    clock = [datetime.now(UTC) + timedelta(days=400)]
    store: Store = await make_store(clock=lambda: clock[0])
    await store.leave()
    await settled(store, 4)
    assert (await store.bridge.purge()).events == 0
    assert len(store.outbox()) == 4


async def test_the_housekeeping_loop_retries_and_purges(
    make_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bridge_module, "BACKLOG_RETRY_S", 0.01)
    monkeypatch.setattr(bridge_module, "PURGE_EVERY_S", 0.0)
    store: Store = await make_store(clock=lambda: datetime.now(UTC) + timedelta(days=100))
    await store.leave()
    await settled(store, 4)
    with closing(sqlite3.connect(store.path, isolation_level=None)) as db:
        db.execute("UPDATE outbox SET sent = 1")
    await until("the purge empties the outbox of sent events", lambda: not store.outbox())


async def test_the_housekeeping_loop_heals_a_log_that_failed_to_sync_before_a_check_in(
    make_store: StoreFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fails once syncing the log (EIO at ``os.fsync``, the edge): durable changes
    are refused; once it works again, the loop writes the log afresh by itself, so the next
    shopper's check-in is not refused for it."""
    monkeypatch.setattr(bridge_module, "BACKLOG_RETRY_S", 0.01)
    store: Store = await make_store()
    syncs = Syncs(monkeypatch)
    syncs.fail(errno.EIO, log_path(store.path))
    with pytest.raises(StorageUnavailable, match="EIO"):
        await store.bridge.db.change_durable(lambda db: db.total_changes, [])
    assert store.bridge.db.log_failed
    syncs.error = None
    await until("the log is written afresh", lambda: not store.bridge.db.log_failed, seconds=10)
    store.bridge.on_signal(GateSignal("entry_1", SignalKind.CREDENTIAL, store.operator.qr()))
    await until("the shopper is in", lambda: store.bridge.occupancy == 1)


async def test_a_reader_at_the_entry_checks_in_and_one_at_the_exit_lets_out(
    make_store: StoreFactory,
) -> None:
    store: Store = await make_store()
    store.bridge.on_signal(GateSignal("entry_1", SignalKind.CREDENTIAL, store.operator.qr()))
    store.bridge.on_signal(GateSignal("nowhere", SignalKind.OPENED))  # an unknown gate: ignored
    await until("the shopper is in", lambda: store.bridge.occupancy == 1)
    assert store.entry.commands == 1
    store.bridge.on_signal(GateSignal("exit_1", SignalKind.CREDENTIAL, "anything"))
    await until("the exit opens", lambda: store.exit.commands == 1)
    assert "value=<hidden>" in repr(GateSignal("entry_1", SignalKind.CREDENTIAL, "secret-qr"))
