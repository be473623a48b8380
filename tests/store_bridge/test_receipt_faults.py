"""Receipts when things go wrong in ways the mail server or the bridge cannot rule out.

A real aiosmtpd (STARTTLS, a login) that keeps a message and hangs up before answering; a
purchase source that fails unexpectedly; a real SQLite file whose write-ahead log is read.
"""

import logging
import sqlite3
from contextlib import closing
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from store_bridge import store_schema
from store_bridge.core.receipt import Language
from store_bridge.mail_config import parse_mail
from store_bridge.mailer import Accepted, Mailer, Unknown
from store_bridge.receipts import Pending, Purchase
from store_bridge.store_schema import fold_log
from tests.waiting import until

from .receipt_helpers import ADDRESS, PURCHASE, VISIT, Checkouts, database, mail_server, mail_table
from .test_receipts import addresses, db_path, leaked, make_receipts

__all__ = ["database", "mail_server"]


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "receipts@corner.example"
    message["To"] = ADDRESS
    message["Subject"] = "test"
    message.set_content("hello")
    return message


async def test_a_server_that_hangs_up_after_the_message_is_unknown_not_unavailable(
    mail_server, tmp_path
):
    server = mail_server()
    server.handler.drop_after_data = 1
    spec = parse_mail(mail_table(server, tmp_path), tmp_path)
    answer = await Mailer(spec).send(_message())
    assert isinstance(answer, Unknown)
    assert len(server.received) == 1  # it did arrive: resending blindly would duplicate it


async def test_a_message_accepted_is_accepted_whatever_the_goodbye_says(mail_server, tmp_path):
    server = mail_server()
    server.handler.quit_answer = "421 going away"
    spec = parse_mail(mail_table(server, tmp_path), tmp_path)
    assert isinstance(await Mailer(spec).send(_message()), Accepted)
    assert len(server.received) == 1


async def test_a_lost_answer_is_sent_again_with_the_same_message_id(
    database, mail_server, tmp_path
):
    server = mail_server()
    server.handler.drop_after_data = 1
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: PURCHASE}))
    try:
        await receipts.request(VISIT, ADDRESS, Language.EN)
        await until("the receipt is sent", receipts.counts, want=lambda c: c["sent"] == 1)
    finally:
        await receipts.close()
    first, second = server.received
    assert first["Message-ID"] == second["Message-ID"]  # the mail system can drop the second
    assert VISIT not in first["Message-ID"]
    assert ADDRESS.split("@", maxsplit=1)[0] not in first["Message-ID"]
    assert addresses(database) == []


async def test_two_requests_get_different_message_ids(database, mail_server, tmp_path):
    server = mail_server()
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: PURCHASE}))
    try:
        await receipts.request(VISIT, ADDRESS, Language.EN)
        await receipts.request(VISIT, ADDRESS, Language.DE)
        await until("both are sent", receipts.counts, want=lambda c: c["sent"] == 2)
    finally:
        await receipts.close()
    assert len({m["Message-ID"] for m in server.received}) == 2


class Flaky(Checkouts):
    """A purchase source that fails unexpectedly the first `failures` times."""

    def __init__(self, visits: dict[str, Purchase | Pending], failures: int) -> None:
        super().__init__(visits)
        self.failures = failures

    async def purchase(self, visit: str) -> Purchase | Pending | None:
        if self.asked and self.failures > 0:  # the request's own check passes
            self.failures -= 1
            self.asked.append(visit)
            message = f"boom for {ADDRESS}"  # an exception may name the address
            raise RuntimeError(message)
        return await super().purchase(visit)


async def test_an_unexpected_failure_does_not_stop_the_receipts(
    database, mail_server, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    server = mail_server()
    source = Flaky({VISIT: PURCHASE}, failures=2)
    receipts = make_receipts(database, server, tmp_path, source)
    try:
        await receipts.request(VISIT, ADDRESS, Language.EN)
        await until("the receipt is sent", receipts.counts, want=lambda c: c["sent"] == 1)
    finally:
        await receipts.close()
    assert source.failures == 0
    assert len(server.received) == 1
    assert any("unexpected failure (RuntimeError)" in r.getMessage() for r in caplog.records)
    assert leaked(caplog, ADDRESS) == []


def _holding(folder: Path, text: str) -> list[str]:
    return [
        p.name for p in sorted(folder.glob("bridge.sqlite3*")) if text.encode() in p.read_bytes()
    ]


async def test_the_address_leaves_the_write_ahead_log_once_a_reader_lets_go(
    database, mail_server, tmp_path
):
    server = mail_server()
    path = db_path(database)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM receipt_requests").fetchone()  # holds a snapshot
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: PURCHASE}))
    try:
        await receipts.request(VISIT, ADDRESS, Language.EN)
        await until("the receipt is sent", receipts.counts, want=lambda c: c["sent"] == 1)
        assert "bridge.sqlite3-wal" in _holding(tmp_path, ADDRESS)  # the reader keeps the log
        reader.execute("COMMIT")
        await until(
            "no file of the database holds the address",
            lambda: _holding(tmp_path, ADDRESS),
            want=lambda files: files == [],
        )
    finally:
        reader.close()
        await receipts.close()


def test_secure_delete_is_on_for_every_connection(tmp_path, monkeypatch):
    """Even where SQLite is built with secure_delete off (this machine's has it on)."""
    plain = sqlite3.connect

    def without_secure_delete(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        db = plain(*args, **kwargs)
        db.execute("PRAGMA secure_delete=OFF")
        return db

    monkeypatch.setattr(store_schema.sqlite3, "connect", without_secure_delete)
    path = tmp_path / "bridge.sqlite3"
    store_schema.connect(path).close()
    marker = "secret-reference-0123456789"
    with closing(store_schema.connect(path)) as db:  # a new connection, no receipt yet
        db.execute("INSERT INTO outbox (event_id, payload, created) VALUES ('e1', ?, 0)", (marker,))
        db.execute("DELETE FROM outbox WHERE event_id = 'e1'")
        assert fold_log(db)
    assert marker.encode() not in path.read_bytes()


def test_a_busy_log_is_reported_not_waited_for(tmp_path):
    path = tmp_path / "bridge.sqlite3"
    with (
        closing(store_schema.connect(path)) as db,
        closing(sqlite3.connect(path, isolation_level=None)) as other,
    ):
        db.execute("INSERT INTO outbox (event_id, payload, created) VALUES ('e1', 'x', 0)")
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM outbox").fetchone()
        assert not fold_log(db)
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] > 0  # restored
        other.execute("COMMIT")
        assert fold_log(db)
