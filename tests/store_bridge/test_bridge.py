"""The store as shoppers and the operator meet it: check-in, shopping sessions, the exit.

Everything runs for real (the bridge, its HTTP API, SQLite, simulated turnstiles); only
the operator's app backend, which signs QR codes, is played by the test.
"""

import asyncio
import json
import logging
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import jwt
import pytest

from store_bridge.events import validate
from tests.waiting import until

from .conftest import SITE, Store, StoreFactory, stop


def sessions(path: Path) -> list[tuple[str, str, int]]:
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        return db.execute("SELECT visit_id, state, party FROM sessions ORDER BY entered").fetchall()


async def test_a_shopper_checks_in_with_the_app_and_leaves(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    status, answer = await store.check_in(qr=store.operator.qr(party=2))
    assert status == 200
    assert answer["opened"] is True
    assert answer["occupancy"] == 2
    assert answer["visit"].startswith("trip-")
    assert answer["track"].startswith("t-")
    assert store.entry.commands == 1
    await until(lambda: "door_closed" in store.types())

    status, left = await store.leave(track=answer["track"])
    assert status == 200
    assert left == {
        "gate": "exit_1",
        "opened": True,
        "outcome": "ok",
        "reason": None,
        "visit": answer["visit"],
        "track": answer["track"],
        "occupancy": 0,
    }
    await until(lambda: store.types().count("door_closed") == 2)
    events = store.outbox()
    for event in events:
        validate(event)
        assert event["site"] == SITE
    assert [e["type"] for e in events] == [
        "check_in",
        "occupancy_changed",
        "gate_opened",
        "door_opened",
        "door_closed",
        "gate_opened",
        "check_out",
        "occupancy_changed",
        "door_opened",
        "door_closed",
    ]
    visit = answer["visit"]
    assert all(e["visit"] == visit for e in events if e["type"] != "occupancy_changed")
    check_in = events[0]
    assert check_in["source"] == "store_app"
    assert check_in["portal"] == "entry_1"
    assert check_in["data"] == {"track": answer["track"], "party_size": 2}
    assert events[1]["data"] == {"occupancy": 2, "capacity": 5, "load": 0.4}
    assert events[6]["portal"] == "exit_1"
    assert events[-3]["data"]["occupancy"] == 0
    assert sessions(store.path) == [(visit, "left", 2)]
    # The shopper's account reference stays in storage for payment, never in an event.
    assert "acct-7f3a" not in json.dumps(events)


async def test_a_card_tap_checks_in_and_no_card_number_is_ever_taken(
    make_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store: Store = await make_store()
    status, answer = await store.check_in(card_token="pm_1Q2w3E4r5T6y7U8i")
    assert (status, answer["opened"]) == (200, True)
    assert store.outbox()[0]["source"] == "payment_card"

    pan = "4242 4242 4242 4242"
    status, refused = await store.check_in(card_token=pan)
    assert (status, refused["reason"]) == (403, "card_number_refused")
    status, refused = await store.check_in(card_token="tok_4000056655665556")
    assert (status, refused["reason"]) == (403, "card_number_refused")
    assert store.entry.commands == 1
    await store.bridge.stop()
    store.stopped = True
    await store.client.close()
    raw = store.path.read_bytes() + b"".join(
        p.read_bytes() for p in store.path.parent.glob("*.sqlite3-*")
    )
    for secret in ("4242424242424242", "4242 4242 4242 4242", "4000056655665556"):
        assert secret.encode() not in raw
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("make_qr", "reason"),
    [
        (lambda op: op.qr(now=time.time() - 120), "expired"),
        (lambda op: op.qr(now=time.time() + 120), "not_yet_valid"),
        (lambda op: op.qr(lifetime=61), "lifetime_too_long"),
        (lambda op: op.qr(aud="store-999"), "wrong_store"),
        (lambda op: op.qr(iss="someone-else"), "wrong_issuer"),
        (lambda op: op.qr(party=9), "bad_party"),
        (lambda op: op.qr(party=True), "bad_party"),
        (lambda op: op.qr(jti=None), "missing_claim"),
        (lambda op: op.qr(sub=None), "missing_claim"),
        (lambda op: op.qr(exp=None), "missing_claim"),
        (lambda op: op.qr(sub="a b"), "malformed"),
        (lambda op: op.qr(exp="soon"), "malformed"),
        (lambda op: op.qr(kid="nope-key", headers={"kid": "unknown"}), "unknown_key"),
        (lambda op: op.qr(kid="p256", headers={"kid": "ed"}), "alg_not_allowed"),
        (lambda op: op.qr()[:-6] + "AAAAAA", "bad_signature"),
        (lambda op: _tampered(op.qr()), "bad_signature"),
        (
            lambda _: jwt.encode({"iss": "corner-app"}, "k" * 32, algorithm="HS256"),
            "alg_not_allowed",
        ),
        (lambda _: _alg_none(), "alg_not_allowed"),
        (lambda _: "not.a.jwt", "malformed"),
        (lambda _: "x" * 3000, "malformed"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_a_bad_qr_code_keeps_the_entry_shut(
    make_store: StoreFactory, make_qr, reason: str
) -> None:
    store: Store = await make_store()
    status, answer = await store.check_in(qr=make_qr(store.operator))
    assert status == 403
    assert answer["reason"] == reason
    assert answer["opened"] is False
    assert store.entry.commands == 0
    assert store.bridge.occupancy == 0
    denied = store.outbox()
    assert [(e["type"], e["reason"], e["source"], e["portal"]) for e in denied] == [
        ("access_denied", reason, "store_app", "entry_1")
    ]
    assert sessions(store.path) == []


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["party"] = 4
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    return f"{header}.{forged}.{signature}"


def _alg_none() -> str:
    header = jwt.utils.base64url_encode(b'{"alg":"none","kid":"ed"}').decode()
    body = jwt.utils.base64url_encode(b'{"iss":"corner-app","aud":"store-042"}').decode()
    return f"{header}.{body}."


async def test_a_qr_code_works_once_even_after_a_restart(
    make_store: StoreFactory, tmp_path: Path
) -> None:
    store: Store = await make_store()
    code = store.operator.qr()
    assert (await store.check_in(qr=code))[0] == 200
    status, again = await store.check_in(qr=code)
    assert (status, again["reason"]) == (403, "replayed")
    assert store.bridge.occupancy == 1
    await stop(store)

    restarted: Store = await make_store(path=store.path)
    assert restarted.bridge.occupancy == 1
    assert len(restarted.bridge.inside) == 1
    status, again = await restarted.check_in(qr=code)
    assert (status, again["reason"]) == (403, "replayed")
    assert restarted.entry.commands == 0


async def test_two_shoppers_presenting_the_same_code_at_once_let_one_in(
    make_store: StoreFactory,
) -> None:
    store: Store = await make_store()
    code = store.operator.qr()
    answers = await asyncio.gather(*(store.check_in(qr=code) for _ in range(5)))
    assert sorted(status for status, _ in answers) == [200, 403, 403, 403, 403]
    assert store.entry.commands == 1
    assert store.bridge.occupancy == 1


async def test_the_occupancy_limit_holds_at_the_entry(make_store: StoreFactory) -> None:
    store: Store = await make_store(capacity=3)
    answers = await asyncio.gather(*(store.check_in(qr=store.operator.qr()) for _ in range(6)))
    assert sorted(status for status, _ in answers) == [200, 200, 200, 403, 403, 403]
    assert {a["reason"] for s, a in answers if s == 403} == {"store_full"}
    assert store.entry.commands == 3
    status, party = await store.check_in(qr=store.operator.qr(party=2))
    assert (status, party["reason"]) == (403, "store_full")

    visit = next(a["visit"] for s, a in answers if s == 200)
    assert (await store.leave(visit=visit))[0] == 200
    assert store.bridge.occupancy == 2
    assert (await store.check_in(card_token="pm_after_someone_left"))[0] == 200
    assert store.bridge.occupancy == 3
    assert store.bridge.denials == {"store_full": 4}


async def test_check_in_at_the_exit_gate_is_refused(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    status, answer = await store.post("/v1/gates/exit_1/check-in", {"qr": store.operator.qr()})
    assert (status, answer["reason"]) == (403, "wrong_gate")
    assert store.exit.commands == 0


async def test_the_exit_opens_for_anyone_and_occupancy_never_goes_negative(
    make_store: StoreFactory,
) -> None:
    store: Store = await make_store()
    status, answer = await store.leave()
    assert status == 200
    assert (answer["opened"], answer["reason"], answer["visit"]) == (True, "egress", None)
    status, answer = await store.leave(track="t-unknown")
    assert (status, answer["reason"]) == (200, "egress")
    assert store.exit.commands == 2
    assert store.bridge.occupancy == 0
    opened = [e for e in store.outbox() if e["type"] == "gate_opened"]
    assert [(e["reason"], e["visit"]) for e in opened] == [("egress", None), ("egress", None)]


async def test_a_broken_entry_gate_aborts_the_check_in(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    store.entry.broken = True
    status, answer = await store.check_in(qr=store.operator.qr())
    assert status == 502
    assert (answer["opened"], answer["outcome"], answer["reason"]) == (
        False,
        "failed",
        "gate_unreachable",
    )
    assert store.bridge.occupancy == 0
    assert store.bridge.inside == {}
    assert store.types() == ["check_in", "occupancy_changed", "visit_aborted", "occupancy_changed"]
    assert store.outbox()[-1]["data"]["occupancy"] == 0
    assert [state for _, state, _ in sessions(store.path)] == ["aborted"]


async def test_a_broken_exit_gate_raises_a_safety_alert(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    _, answer = await store.check_in(qr=store.operator.qr())
    store.exit.broken = True
    status, left = await store.leave(visit=answer["visit"])
    assert (status, left["reason"]) == (502, "gate_unreachable")
    alert = store.outbox()[-1]
    assert (alert["type"], alert["outcome"], alert["portal"]) == (
        "safety_alert",
        "failed",
        "exit_1",
    )
    assert store.bridge.occupancy == 1  # still inside: the gate never opened


def _lock(path: Path) -> sqlite3.Connection:
    """Another process holds the database (a stuck backup, a full disk...)."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


async def test_the_exit_opens_with_the_database_unavailable(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    _, answer = await store.check_in(qr=store.operator.qr())
    await until(lambda: "door_closed" in store.types())
    before = len(store.outbox())
    holder = _lock(store.path)
    try:
        started = time.perf_counter()
        status, left = await store.leave(track=answer["track"])
        assert status == 200
        assert left["opened"] is True
        assert left["visit"] == answer["visit"]
        assert store.exit.commands == 1
        # The open command went out before the database was even asked.
        assert time.perf_counter() - started < 5
        assert store.bridge.occupancy == 0

        # Entry, on the other hand, fails secure: nobody comes in unrecorded.
        status, refused = await store.check_in(qr=store.operator.qr())
        assert (status, refused["reason"]) == (403, "storage_unavailable")
        assert store.entry.commands == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # The database is back: what waited in memory is written, in order, nothing lost.
    await until(lambda: len(store.bridge.backlog) == 0)
    types = store.types()[before:]
    assert types == [
        "gate_opened",
        "check_out",
        "occupancy_changed",
        "door_opened",
        "door_closed",
        "access_denied",
    ]
    assert [state for _, state, _ in sessions(store.path)] == ["left"]
    for event in store.outbox():
        validate(event)
