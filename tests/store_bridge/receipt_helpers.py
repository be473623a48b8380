"""What the receipt tests share: a database with the receipts' tables, a checkout stand-in.

`Checkouts` stands in for the checkout (`checkout_store.py`, issue #19's other half), which
tells the receipts what a visit bought: until it is wired, the tests say it themselves.
"""

import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from store_bridge.core.receipt import Card, ReceiptLine
from store_bridge.database import Database
from store_bridge.receipt_store import create_tables
from store_bridge.receipts import Pending, Purchase

from .smtp_rig import PASSWORD, USER, MailServer

VISIT = "visit-0001"
ADDRESS = "jane.doe@mail.example"
PAID_AT = datetime(2026, 12, 4, 16, 5, tzinfo=UTC)
LINES = (
    ReceiptLine("Cola 0.33 l", 2, 129, Decimal("0.19")),
    ReceiptLine("Brezel <frisch> & warm", 3, 79, Decimal("0.07")),
)
"""2 x 1.29 at 19 % (2.58: tax 0.41) and 3 x 0.79 at 7 % (2.37: tax 0.155 → 0.16)."""
PURCHASE = Purchase(PAID_AT, LINES, "EUR", Card("visa", "4242"))


@dataclass
class Checkouts:
    """Visits and what their checkouts say (a `PurchaseSource`)."""

    visits: dict[str, Purchase | Pending] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def purchase(self, visit: str) -> Purchase | Pending | None:
        self.asked.append(visit)
        return self.visits.get(visit)


def rows(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Read the SQLite file with a connection of its own (what is on disk)."""
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql, args).fetchall()


def mail_table(server: MailServer, folder: Path, **extra: Any) -> dict[str, Any]:
    """A `[mail]` table for the test server (its password in a file)."""
    (folder / "smtp-password").write_text(PASSWORD + "\n", encoding="utf-8")
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "from": "Corner store <receipts@corner.example>",
        "username": USER,
        "password_file": "smtp-password",
        "ca_file": server.cert.name,
        "timeout_s": 5,
        "timezone": "Europe/Berlin",
        "retry_base_s": 0.05,
        "retry_max_s": 0.2,
        **extra,
    }


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(tmp_path / "bridge.sqlite3")
    await db.open()
    await db.call(lambda store: create_tables(store.db))
    yield db
    await db.close()


@pytest.fixture
def mail_server(tmp_path: Path, socket_enabled: None) -> Iterator[Callable[..., MailServer]]:
    servers: list[MailServer] = []

    def factory(*, start: bool = True, **options: bool) -> MailServer:
        server = MailServer(tmp_path, **options)
        if start:
            server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()
