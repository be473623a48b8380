"""The checkout's setup as an operator writes it, its retention, and the privacy commands.

Configuration files are written to ``tmp_path`` and read with `load_config` (a mistake
comes back as a `ConfigError` naming the key); the privacy commands run through
`store-bridge`'s own `main` against a database a real bridge wrote.
"""

import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from store_bridge import retention
from store_bridge.cli import main
from store_bridge.config import ConfigError, load_config
from store_bridge.fake_processor import FakeProcessor
from store_bridge.payments_config import PaymentsConfigError, parse_payments
from store_bridge.service import build_bridge
from store_bridge.store_schema import connect

from ..waiting import until
from .cart_shop import COLA_TOPIC, Clock, Shop, start_shop, stop_shop
from .charging_shop import (
    ACCOUNT,
    CUSTOMER,
    UNIT,
    attach,
    payment_events,
    settle_time,
    shop_and_leave,
)
from .conftest import Operator
from .test_config_lanes import LANES, _write

PAYMENTS = '\n[payments]\nprocessor = "fake"\ndemo = true\n'


def _error(tmp_path: Path, body: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, LANES + body))
    return str(caught.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('\n[payments]\nprocessor = "fake"\n', 'payments.processor: "fake" charges nobody'),
        ('\n[payments]\nprocessor = "fake"\ndemo = "yes"\n', "payments.demo: must be true"),
        ('\n[payments]\nprocessor = "paypal"\n', 'payments.processor: must be "stripe"'),
        ("\n[payments]\n", "payments.secret_key_file: is required for Stripe"),
        ("\n[payments]\nsettle = 5\n", "payments: unknown key(s) settle"),
        (
            PAYMENTS + 'api_base = "http://stripe.example.com"\n',
            "payments.api_base: plain http:// only to this machine",
        ),
        (PAYMENTS + 'api_base = "ftp://127.0.0.1"\n', "payments.api_base: an http:// or"),
        (PAYMENTS + "settle_s = -1\n", "payments.settle_s: must be a number of seconds"),
        (
            PAYMENTS + "settle_s = 60\nreview_deadline_s = 30\n",
            "payments.review_deadline_s: must not be shorter",
        ),
        (PAYMENTS + "concurrency = 0\n", "payments.concurrency: must be a whole number"),
        (PAYMENTS + 'secret_key_file = ""\n', "payments.secret_key_file: must be a non-empty"),
        (PAYMENTS + '\n[mail]\nhost = "smtp.example.com"\n', "mail."),
        (
            '\n[mail]\nhost = "smtp.example.com"\nfrom = "r@corner.example"\n',
            "mail: receipts are sent for paid checkouts",
        ),
    ],
)
def test_a_payments_or_mail_mistake_names_the_key(tmp_path: Path, body: str, message: str) -> None:
    assert message in _error(tmp_path, body)


def test_a_payments_table_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(PaymentsConfigError, match="payments: must be a table"):
        parse_payments(5)


def test_the_store_time_zone_is_checked_and_shown_on_receipts(tmp_path: Path) -> None:
    head_zone = '[store]\nsite = "store-042"\ntimezone = "Mars/Olympus"\n'
    path = _write(tmp_path, LANES + PAYMENTS)
    text = path.read_text().replace('[store]\nsite = "store-042"\n', head_zone)
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"store\.timezone: 'Mars/Olympus' is not a time zone"):
        load_config(path)
    path.write_text(text.replace("Mars/Olympus", "Europe/Berlin"))
    (tmp_path / "smtp-password").write_text("pw\n")
    mail = (
        '\n[mail]\nhost = "127.0.0.1"\nport = 2525\nfrom = "r@corner.example"\n'
        'username = "r"\npassword_file = "smtp-password"\n'
    )
    path.write_text(path.read_text() + mail)
    config = load_config(path)
    assert config.timezone == ZoneInfo("Europe/Berlin")
    assert config.mail is not None
    assert config.mail.timezone == ZoneInfo("Europe/Berlin")
    assert config.payments is not None
    assert config.payments.demo
    bridge = build_bridge(config)
    assert bridge.receipts is not None
    assert bridge.checkout_status is not None
    assert bridge.checkout is not None
    assert bridge.checkout.settings.timezone == ZoneInfo("Europe/Berlin")


def test_plain_http_to_this_machine_is_allowed_for_tests(tmp_path: Path) -> None:
    for base in (
        "http://127.0.0.1:12111",
        "http://[::1]:12111",
        "http://localhost:1",
        "https://x.io",
    ):
        config = load_config(_write(tmp_path, LANES + PAYMENTS + f'api_base = "{base}"\n'))
        assert config.payments is not None
        assert config.payments.api_base == base


# --- a schema 4 file of an unreleased bridge ---------------------------------------------


def test_an_unreleased_schema_4_file_gets_the_ready_cart_index_and_the_receipts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    connect(path).close()
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("DROP INDEX carts_ready")
        db.execute("ALTER TABLE carts DROP COLUMN taken")
        db.execute("DROP TABLE receipt_requests")
        db.execute(
            "INSERT INTO carts (visit, lines, held, bound, updated, closed) "
            "VALUES ('v1', '[]', 0, 0, 1, 2), ('v2', '[]', 0, 0, 1, 2)"
        )
        db.execute(
            "INSERT INTO checkouts (id, visit, kind, account, total, currency, items, "
            "phase, look, attempts, captured, outstanding, created, updated) VALUES "
            "('co-v1', 'v1', 'app', 'a', 0, 'EUR', 0, 'done', 0, 0, 0, 0, 1, 1)"
        )
    connect(path).close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT visit, taken FROM carts ORDER BY visit").fetchall() == [
            ("v1", 1),
            ("v2", 0),
        ]
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"carts_ready", "receipt_requests", "receipt_codes", "daily_totals"} <= names


# --- retention and privacy on a real bridge's file ----------------------------------------


@pytest.fixture
async def charged(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[tuple[Shop, FakeProcessor, list[str]]]:
    """A shop where the account bought twice (charged) and another was declined."""
    shop = await start_shop(tmp_path / "bridge.sqlite3", operator, Clock())
    processor = FakeProcessor()
    await attach(shop, processor)
    shop.shelf.stock(COLA_TOPIC, 10, UNIT)
    shop.shelf.walk(2)
    visits = [
        await shop_and_leave(shop, "frigate-a", 1, cus=CUSTOMER),
        await shop_and_leave(shop, "frigate-b", 2, cus=CUSTOMER),
    ]
    processor.decline("cus_other")
    visits.append(await shop_and_leave(shop, "frigate-c", 1, cus="cus_other", sub="acct-other"))
    settle_time(shop)
    await until(
        "all three are paid or failed", lambda: payment_events(shop), want=lambda e: len(e) == 6
    )
    try:
        yield shop, processor, visits
    finally:
        await stop_shop(shop)


def _sql(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql, args).fetchall()


async def test_finished_checkouts_leave_with_the_retention_but_debts_and_totals_stay(
    charged: tuple[Shop, FakeProcessor, list[str]],
) -> None:
    shop, _, visits = charged
    visit = visits[0]
    assert (await shop.post(f"/v1/visits/{visit}/refund", {"amount": 100}))[0] == 200
    with closing(sqlite3.connect(shop.path, isolation_level=None)) as db:
        db.execute(
            "INSERT INTO receipt_requests (visit, language, state, next_try, created, "
            "done) VALUES (?, 'en', 'sent', 0, 0, 1), (?, 'en', 'waiting', 0, 0, NULL)",
            (visit, visit),
        )
    later = shop.clock.now + timedelta(days=91)
    purged = await retention.purge(shop.bridge.db, retention.due(later, 90), batch=1)
    assert purged.checkouts == 3  # two done, one refund; the failed one still owes
    assert purged.receipts == 1  # the waiting request stays
    assert _sql(shop.path, "SELECT visit, phase FROM checkouts") == [(visits[2], "failed")]
    assert _sql(shop.path, "SELECT state FROM receipt_requests") == [("waiting",)]
    assert _sql(shop.path, "SELECT amount, count, refunded FROM daily_totals") == [(387, 2, 100)]
    await shop.post("/v1/accounts/settle", {"account": "acct-other"})
    purged = await retention.purge(shop.bridge.db, retention.due(later, 90))
    assert purged.checkouts == 1
    assert _sql(shop.path, "SELECT count(*) FROM checkouts") == [(0,)]


def _config(tmp_path: Path, database: Path) -> Path:
    path = _write(tmp_path, LANES + PAYMENTS)
    text = path.read_text().replace(
        '[store]\nsite = "store-042"\n', f'[store]\nsite = "store-042"\ndatabase = "{database}"\n'
    )
    path.write_text(text)
    return path


async def test_an_account_is_exported_then_erased_once_and_its_reference_leaves_the_file(
    charged: tuple[Shop, FakeProcessor, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop, _, visits = charged
    (tmp_path / "cfg").mkdir()
    config = _config(tmp_path / "cfg", shop.path)
    await stop_shop(shop)

    assert main(["privacy", "export", "--config", str(config), "--account", ACCOUNT]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert sorted(s["visit_id"] for s in exported["sessions"]) == sorted(visits[:2])
    captured = {c["visit"]: c["captured"] for c in exported["checkouts"]}
    assert captured == {visits[0]: 129, visits[1]: 258}
    assert {c["customer"] for c in exported["checkouts"]} == {CUSTOMER}
    assert "erases an address" in exported["notes"][0]

    assert main(["privacy", "erase", "--config", str(config), "--account", "acct-other"]) == 3
    assert "the account owes money" in capsys.readouterr().err

    assert main(["privacy", "erase", "--config", str(config), "--account", ACCOUNT]) == 0
    assert "erased" in capsys.readouterr().out
    assert main(["privacy", "erase", "--config", str(config), "--account", ACCOUNT]) == 0
    assert "nothing to erase" in capsys.readouterr().out
    erased = [e for e in shop.outbox() if e["type"] == "account_erased"]
    assert [(e["visit"], e["data"]) for e in erased] == [(None, {"visits": 2})]
    raw = b"".join(p.read_bytes() for p in shop.path.parent.glob(f"{shop.path.name}*"))
    assert ACCOUNT.encode() not in raw
    assert CUSTOMER.encode() not in raw
    assert b"acct-other" in raw  # the other account is untouched
    assert main(["privacy", "export", "--config", str(config), "--account", ACCOUNT]) == 0
    assert json.loads(capsys.readouterr().out)["sessions"] == []


async def test_an_account_inside_the_store_is_not_erased(
    tmp_path: Path, operator: Operator, socket_enabled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    shop = await start_shop(tmp_path / "bridge.sqlite3", operator, Clock())
    try:
        await shop.check_in("frigate-a")
    finally:
        await stop_shop(shop)
    (tmp_path / "cfg").mkdir()
    config = _config(tmp_path / "cfg", shop.path)
    assert main(["privacy", "erase", "--config", str(config), "--account", ACCOUNT]) == 3
    err = capsys.readouterr().err
    assert "still inside the store" in err
    assert "run the erasure again" in err
    assert ACCOUNT not in err
    (tmp_path / "cfg" / "store.toml").write_text("[store]\n")
    assert main(["privacy", "export", "--config", str(config), "--account", ACCOUNT]) == 2
