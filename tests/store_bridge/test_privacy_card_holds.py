"""An account's export and erasure cover its card taps and its saved payment method.

A card shopper's taps are kept in `card_holds` (the hold, the card's keyed fingerprint) and an
app shopper's session keeps the saved payment method found at check-in: both are the
account's, so the export shows them and the erasure removes them from the file, leaving other
accounts' rows alone. The rows are written as the bridge writes them (`card_debts.remember`,
`saved_methods.store_method`) into a file of the current schema.
"""

import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from store_bridge import privacy
from store_bridge.card_debts import remember
from store_bridge.saved_methods import store_method
from store_bridge.store_schema import connect

CARD_ACCOUNT = "pi_hold_tap_one_000001"
OTHER_TAP = "pi_hold_tap_two_000002"
CARD = "c" * 64
APP_ACCOUNT = "acct-7f3a"
METHOD = "pm_saved_at_check_in_01"


def _session(db: sqlite3.Connection, visit: str, account: str, source: str, **more: Any) -> None:
    db.execute(
        "INSERT INTO sessions (visit_id, track_id, source, entry_gate, party, entered, account, "
        "state, exit_gate, left_at, ended, customer) VALUES "
        "(?, ?, ?, 'entry_1', 1, '2026-12-01T10:00:00+00:00', ?, 'left', 'exit_1', "
        "'2026-12-01T10:05:00+00:00', ?, ?)",
        (visit, f"t-{visit}", source, account, time.time(), more.get("customer")),
    )


def _checkout(db: sqlite3.Connection, visit: str, account: str, kind: str, payment: str) -> None:
    db.execute(
        "INSERT INTO checkouts (id, visit, kind, account, total, currency, items, phase, "
        "payment, look, attempts, captured, outstanding, created, updated) VALUES "
        "(?, ?, ?, ?, 129, 'EUR', 1, 'done', ?, 0, 0, 129, 0, 1, 1)",
        (f"co-{visit}", visit, kind, account, payment),
    )


def _store(path: Path) -> None:
    with closing(connect(path)) as db:
        db.execute("BEGIN")
        _session(db, "v-card", CARD_ACCOUNT, "payment_card")
        _checkout(db, "v-card", CARD_ACCOUNT, "card", CARD_ACCOUNT)
        remember(db, CARD_ACCOUNT, CARD, 1000.0)
        _session(db, "v-card-2", OTHER_TAP, "payment_card")  # the same card, another visit
        remember(db, OTHER_TAP, CARD, 2000.0)
        _session(db, "v-app", APP_ACCOUNT, "store_app", customer="cus_A")
        assert store_method(db, "v-app", "cus_A", METHOD)
        _checkout(db, "v-app", APP_ACCOUNT, "app", "pi_app_payment_0001")
        db.execute("COMMIT")


def _erase(path: Path, account: str) -> privacy.Erased:
    events: list[Any] = []
    with closing(connect(path)) as db:
        erased = privacy.erase(db, account, lambda n: {"id": f"e-{n}", "visits": n}, events.extend)
    assert len(events) == (1 if erased.rows else 0)
    return erased


def _file(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(f"{path.name}*"))


def test_a_card_shoppers_export_shows_its_taps_and_its_erasure_removes_only_them(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bridge.sqlite3"
    _store(path)
    with closing(connect(path)) as db:
        exported = privacy.export(db, CARD_ACCOUNT)
    assert exported["card_holds"] == [{"hold": CARD_ACCOUNT, "card": CARD, "seen": 1000.0}]
    assert any("keyed hash" in note for note in exported["notes"])

    erased = _erase(path, CARD_ACCOUNT)

    assert erased.visits == 1
    assert CARD_ACCOUNT.encode() not in _file(path)
    with closing(sqlite3.connect(path)) as db:
        left = db.execute("SELECT hold, card FROM card_holds").fetchall()
    assert left == [(OTHER_TAP, CARD)]  # another tap's account is not this one's
    with closing(connect(path)) as db:
        assert privacy.export(db, CARD_ACCOUNT)["card_holds"] == []
        assert len(privacy.export(db, OTHER_TAP)["card_holds"]) == 1
    assert _erase(path, CARD_ACCOUNT).rows == 0  # idempotent


def test_an_app_shoppers_saved_method_is_exported_and_erased(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    _store(path)
    with closing(connect(path)) as db:
        exported = privacy.export(db, APP_ACCOUNT)
    assert [s["payment_method"] for s in exported["sessions"]] == [METHOD]
    assert exported["card_holds"] == []

    assert _erase(path, APP_ACCOUNT).visits == 1

    assert METHOD.encode() not in _file(path)
    assert CARD_ACCOUNT.encode() in _file(path)  # the other accounts stay
