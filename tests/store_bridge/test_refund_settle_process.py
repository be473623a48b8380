"""Closing an uncertain refund under `serve`: forwarded to the checkout process, 503 while down.

Real parts as in `test_checkout_process.py`: ``store-bridge serve`` (or its parts in this
process, for coverage) with its checkout process, localstripe behind the real ``stripe``
library, Mosquitto, the SQLite file. The uncertain refund is one the processor cannot say
anything about (its lookups refused: left to the operator), as a crash and a lost refund
would leave it in the database.
"""

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from store_bridge.stripe_processor import SecretKey, StripeProcessor

from ..localstripe_server import SECRET_KEY, LocalStripe
from ..mosquitto import Mosquitto
from ..waiting import until
from .conftest import Operator
from .test_checkout_crash import _seed
from .test_checkout_process import (
    CAN,
    _checkout_held_down,
    _customer,
    _phases,
    _store,
    serving,
    serving_here,
)


def _left_to_the_operator(db_path: Path, visit: str, amount: int) -> None:
    """The visit's refund, uncertain and no longer looked up (the processor would not say)."""
    with closing(sqlite3.connect(db_path, timeout=10, isolation_level=None)) as db:
        [(payment,)] = db.execute("SELECT payment FROM checkouts WHERE visit = ?", (visit,))
        db.execute(
            "INSERT INTO refunds (id, visit, payment, amount, currency, phase, attempts, "
            "reason, created, updated) VALUES (?, ?, ?, ?, 'EUR', 'uncertain', 3, "
            "'resource_missing', 0, 0)",
            (f"rf-{visit}", visit, payment, amount),
        )


def _refunds(db_path: Path) -> dict[str, tuple[str, str, str | None]]:
    with closing(sqlite3.connect(db_path, timeout=10)) as db:
        rows = db.execute("SELECT visit, id, phase, reason FROM refunds").fetchall()
    return {visit: (ident, phase, reason) for visit, ident, phase, reason in rows}


@pytest.mark.parametrize("where", ["serve", "here"])
async def test_closing_a_refund_goes_to_the_checkout_process_and_503_while_it_is_down(
    tmp_path: Path,
    localstripe: LocalStripe,
    mosquitto: Mosquitto,
    operator: Operator,
    where: str,
) -> None:
    config = _store(tmp_path, localstripe, mosquitto, operator)
    db_path = tmp_path / "bridge.sqlite3"
    paying = await _customer(localstripe.url)
    _seed(db_path, [("trip-lost", paying, 4), ("trip-made", paying, 2)])
    async with (serving if where == "serve" else serving_here)(config) as serve:
        await until(
            "both checkouts are charged",
            lambda: _phases(db_path),
            want=lambda p: p.get("trip-lost") == "done" and p.get("trip-made") == "done",
            seconds=30,
        )
        _left_to_the_operator(db_path, "trip-lost", 100)
        _left_to_the_operator(db_path, "trip-made", CAN)
        shown = await until(
            "the status counts both refunds uncertain",
            serve.checkout,
            want=lambda c: c["refunds_uncertain"] == 2,
        )
        assert shown["sales_today"]["refunded"] == 0

        with _checkout_held_down(config):
            await until(
                "the checkout process is down",
                serve.checkout,
                want=lambda c: c["pending"] is None,
            )
            status, answer = await serve.post(
                "/v1/visits/trip-lost/refund/settle", {"outcome": "not_refunded"}
            )
            assert (status, answer["error"]) == (503, "checkout_unavailable")
        assert _refunds(db_path)["trip-lost"] == ("rf-trip-lost", "uncertain", "resource_missing")

        await until(
            "the next checkout process runs",
            serve.checkout,
            want=lambda c: c["pending"] == 0,
            seconds=30,
        )
        status, made = await serve.post(
            "/v1/visits/trip-made/refund/settle", {"outcome": "refunded"}
        )
        assert (status, made["phase"], made["amount"]) == (200, "done", CAN)
        status, lost = await serve.post(
            "/v1/visits/trip-lost/refund/settle", {"outcome": "not_refunded"}
        )
        assert (status, lost["phase"], lost["reason"]) == (200, "failed", "settled_by_operator")
        status, again = await serve.post(
            "/v1/visits/trip-lost/refund/settle", {"outcome": "refunded"}
        )
        assert (status, again["error"], again["phase"]) == (409, "not_uncertain", "failed")
        status, none = await serve.post(
            "/v1/visits/trip-none/refund/settle", {"outcome": "refunded"}
        )
        assert (status, none["error"]) == (404, "unknown_refund")

        # closed as never made: the operator refunds it now, at the processor, once
        status, refunded = await serve.post("/v1/visits/trip-lost/refund", {"amount": 100})
        assert (status, refunded["phase"], refunded["amount"]) == (200, "done", 100)
        assert _refunds(db_path) == {
            "trip-lost": ("rf-trip-lost~2", "done", None),
            "trip-made": ("rf-trip-made", "done", "settled_by_operator"),
        }
        shown = await until(
            "the day's refunds count both, nothing uncertain",
            serve.checkout,
            want=lambda c: (
                c["refunds_uncertain"] == 0 and c["sales_today"]["refunded"] == 100 + CAN
            ),
        )
        assert shown["refunds_stuck"] == 0
    assert await _sent_refunds(localstripe.url, db_path) == {"trip-lost": [100], "trip-made": []}


async def _sent_refunds(url: str, db_path: Path) -> dict[str, list[int]]:
    """What the bridge refunded at the processor, by visit (its keyed refunds)."""
    with closing(sqlite3.connect(db_path, timeout=10)) as db:
        payments = dict(db.execute("SELECT visit, payment FROM checkouts").fetchall())
    adapter = StripeProcessor(SecretKey(SECRET_KEY), api_base=url)
    try:
        sent: dict[str, list[int]] = {}
        for visit, payment in sorted(payments.items()):
            listed = await adapter.list_refunds(payment)
            assert isinstance(listed, list)
            sent[visit] = [item.amount for item in listed if item.key is not None]
        return sent
    finally:
        await adapter.close()
