"""Receipts on request, end to end: a real mail server (aiosmtpd, STARTTLS, a login), a real
SQLite file, the addresses erased as soon as the server accepted (or gave up)."""

import logging
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from store_bridge.core.email_address import AddressProblem
from store_bridge.core.receipt import Language
from store_bridge.database import Database
from store_bridge.mail_config import parse_mail
from store_bridge.mailer import Mailer
from store_bridge.receipt_store import (
    add_code,
    add_request,
    counts,
    create_tables,
    mark_failed,
    mark_sent,
    purge,
)
from store_bridge.receipts import (
    InvalidAddressError,
    Pending,
    ReceiptNews,
    Receipts,
    UnknownVisitError,
)
from tests.waiting import until

from .receipt_helpers import (
    ADDRESS,
    PURCHASE,
    VISIT,
    Checkouts,
    database,
    mail_server,
    mail_table,
    rows,
)
from .smtp_rig import USER, MailServer

__all__ = ["database", "mail_server"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 16, 6, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def make_receipts(
    database: Database,
    server: MailServer,
    tmp_path: Path,
    checkouts: Checkouts,
    news: list[ReceiptNews] | None = None,
    clock: Clock | None = None,
    **mail: object,
) -> Receipts:
    spec = parse_mail(mail_table(server, tmp_path, **mail), tmp_path)
    receipts = Receipts(
        database,
        spec,
        Mailer(spec),
        checkouts,
        store="Corner store",
        news=None if news is None else lambda n: news.append(n) or (),  # type: ignore[func-returns-value]
        clock=clock or (lambda: datetime.now(UTC)),
        pending_poll_s=0.05,
    )
    receipts.start()
    return receipts


def db_path(database: Database) -> Path:
    return Path(database.path)


def addresses(database: Database) -> list[tuple[object, ...]]:
    return rows(db_path(database), "SELECT address FROM receipt_requests WHERE address IS NOT NULL")


def leaked(caplog: pytest.LogCaptureFixture, address: str) -> list[str]:
    """Log lines of the bridge (not of the test's mail server) that name the address."""
    return [
        r.getMessage()
        for r in caplog.records
        if not r.name.startswith("mail.log") and address.lower() in r.getMessage().lower()
    ]


async def test_receipt_arrives_as_text_and_html_and_the_address_is_erased(
    database, mail_server, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    server = mail_server()
    news: list[ReceiptNews] = []
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: PURCHASE}), news)
    try:
        await receipts.request(VISIT, ADDRESS, Language.EN)
        await until("the receipt is sent", receipts.counts, want=lambda c: c["sent"] == 1)
    finally:
        await receipts.close()

    [message] = server.received
    assert server.handler.envelopes == [("receipts@corner.example", [ADDRESS])]
    assert server.handler.logins[0][1] == USER  # logged in, after STARTTLS (the rig checks)
    assert message["To"] == ADDRESS
    assert message["Subject"] == "Your receipt from Corner store"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "2 x Cola 0.33 l @ 1.29 EUR = 2.58 EUR" in text
    assert "3 x Brezel <frisch> & warm @ 0.79 EUR = 2.37 EUR" in text
    assert "Total: 4.95 EUR" in text
    assert "incl. 7 % VAT: 0.16 EUR (net 2.21 EUR)" in text
    assert "incl. 19 % VAT: 0.41 EUR (net 2.17 EUR)" in text
    assert "Paid by card: visa ending in 4242" in text
    assert "2026-12-04 17:05 CET" in text  # the store's time zone (Europe/Berlin)
    assert "Brezel &lt;frisch&gt; &amp; warm" in html
    assert "<frisch>" not in html
    assert "4.95 EUR" in html
    assert "visa ending in 4242" in html

    # Gone from the database the moment the server accepted: on disk too.
    assert addresses(database) == []
    await database.call(lambda store: store.checkpoint())
    assert ADDRESS.encode() not in db_path(database).read_bytes()
    assert [(n.kind, n.visit, n.attempts) for n in news] == [("receipt_sent", VISIT, 1)]
    assert not any(ADDRESS in repr(n) for n in news)
    assert leaked(caplog, ADDRESS) == []


async def test_german_receipt(database, mail_server, tmp_path):
    server = mail_server()
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: PURCHASE}))
    try:
        await receipts.request(VISIT, ADDRESS, Language.DE)
        await until("the receipt is sent", lambda: server.received)
    finally:
        await receipts.close()
    text = server.received[0].get_body(("plain",)).get_content()
    assert server.received[0]["Subject"] == "Ihr Beleg von Corner store"
    assert "Summe: 4,95 EUR" in text
    assert "inkl. 19 % MwSt.: 0,41 EUR (netto 2,17 EUR)" in text
    assert "Bezahlt mit Karte: visa mit Endziffern 4242" in text
    assert "04.12.2026 17:05 CET" in text


async def test_refused_for_good_is_erased_and_counted(database, mail_server, tmp_path, caplog):
    server = mail_server()
    server.handler.refuse = "550 5.1.1 mailbox unavailable"
    news: list[ReceiptNews] = []
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: PURCHASE}), news)
    try:
        await receipts.request(VISIT, ADDRESS, None)
        counts = await until("it is given up", receipts.counts, want=lambda c: c["failed"] == 1)
    finally:
        await receipts.close()
    assert counts == {"waiting": 0, "sent": 0, "failed": 1}
    assert server.received == []
    assert addresses(database) == []
    assert [(n.kind, n.attempts) for n in news] == [("receipt_failed", 1)]  # not retried
    assert leaked(caplog, ADDRESS) == []


async def test_server_down_is_retried_then_sent_when_back(database, mail_server, tmp_path):
    server = mail_server(start=False)
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: PURCHASE}))
    path = db_path(database)
    try:
        await receipts.request(VISIT, ADDRESS, None)
        await until(
            "the send is retried",
            lambda: rows(path, "SELECT attempts FROM receipt_requests")[0][0] >= 2,
        )
        assert addresses(database) == [(ADDRESS,)]  # kept while it waits
        server.start()
        await until("the receipt is sent", receipts.counts, want=lambda c: c["sent"] == 1)
    finally:
        await receipts.close()
    assert len(server.received) == 1
    assert addresses(database) == []


async def test_given_up_after_the_last_attempt(database, mail_server, tmp_path):
    server = mail_server(start=False)
    receipts = make_receipts(
        database, server, tmp_path, Checkouts({VISIT: PURCHASE}), max_attempts=3
    )
    try:
        await receipts.request(VISIT, ADDRESS, None)
        await until("it is given up", receipts.counts, want=lambda c: c["failed"] == 1)
    finally:
        await receipts.close()
    assert rows(db_path(database), "SELECT attempts, address FROM receipt_requests") == [(3, None)]


async def test_a_request_before_the_checkout_waits_for_it(database, mail_server, tmp_path):
    server = mail_server()
    checkouts = Checkouts({VISIT: Pending()})
    receipts = make_receipts(database, server, tmp_path, checkouts)
    try:
        await receipts.request(VISIT, ADDRESS, None)
        await until("the queue looked at it", lambda: checkouts.asked.count(VISIT) >= 2)
        assert server.received == []
        assert await receipts.counts() == {"waiting": 1, "sent": 0, "failed": 0}
        checkouts.visits[VISIT] = PURCHASE
        receipts.wake()  # the checkout is done
        await until("the receipt is sent", receipts.counts, want=lambda c: c["sent"] == 1)
    finally:
        await receipts.close()
    assert len(server.received) == 1
    assert addresses(database) == []


async def test_line_breaks_and_bad_addresses_are_refused_and_nothing_is_stored(
    database, mail_server, tmp_path
):
    server = mail_server()
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: PURCHASE}))
    try:
        for address, problem in [
            (f"{ADDRESS}\r\nBcc: everyone@evil.example", AddressProblem.LINE_BREAK),
            ("someone@evil.example\nX-Header: 1", AddressProblem.LINE_BREAK),
            ("a@b@c.example", AddressProblem.NOT_AN_ADDRESS),
            ("two@a.example, three@b.example", AddressProblem.NOT_AN_ADDRESS),
            ("x" * 250 + "@a.de", AddressProblem.TOO_LONG),
            ("", AddressProblem.EMPTY),
            (None, AddressProblem.EMPTY),
        ]:
            with pytest.raises(InvalidAddressError) as err:
                await receipts.request(VISIT, address, None)
            assert err.value.problem is problem
            assert not address or address not in str(err.value)
        with pytest.raises(UnknownVisitError):
            await receipts.request("no-such-visit", ADDRESS, None)
    finally:
        await receipts.close()
    assert rows(db_path(database), "SELECT count(*) FROM receipt_requests") == [(0,)]


async def test_a_retention_keeps_the_address_until_it_passes(database, mail_server, tmp_path):
    server = mail_server()
    clock = Clock()
    receipts = make_receipts(
        database,
        server,
        tmp_path,
        Checkouts({VISIT: PURCHASE}),
        clock=clock,
        address_retention_days=2,
    )
    try:
        await receipts.request(VISIT, ADDRESS, None)
        await until("the receipt is sent", receipts.counts, want=lambda c: c["sent"] == 1)
        assert addresses(database) == [(ADDRESS,)]
        clock.now += timedelta(days=2, seconds=1)
        receipts.wake()
        await until("the address is erased", lambda: not addresses(database))
    finally:
        await receipts.close()


async def test_a_request_whose_visit_is_gone_is_given_up(database, mail_server, tmp_path):
    server = mail_server()
    checkouts = Checkouts({VISIT: Pending()})
    clock = Clock()
    receipts = make_receipts(database, server, tmp_path, checkouts, clock=clock)
    try:
        await receipts.request(VISIT, ADDRESS, None)
        await receipts.request(VISIT, "second@mail.example", None)
        await until("the queue looked at it", lambda: len(checkouts.asked) >= 4)
        del checkouts.visits[VISIT]  # purged with the store's retention
        clock.now += timedelta(seconds=10)
        receipts.wake()
        await until("both are given up", receipts.counts, want=lambda c: c["failed"] == 2)
    finally:
        await receipts.close()
    assert addresses(database) == []
    assert server.received == []


async def test_no_checkout_within_the_code_lifetime_is_given_up(database, mail_server, tmp_path):
    server = mail_server()
    clock = Clock()
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: Pending()}), clock=clock)
    try:
        await receipts.request(VISIT, ADDRESS, None)
        clock.now += timedelta(hours=24)
        receipts.wake()
        await until("it is given up", receipts.counts, want=lambda c: c["failed"] == 1)
    finally:
        await receipts.close()
    assert addresses(database) == []


async def test_a_stored_address_that_cannot_be_written_is_given_up(database, mail_server, tmp_path):
    server = mail_server()
    # Written by hand (an older bridge's row): the API would have refused it.
    await database.call(
        lambda store: store.change(
            lambda db: add_request(db, VISIT, "a@b.example\r\nBcc: c@d.example", "en", 0.0), ()
        )
    )
    receipts = make_receipts(database, server, tmp_path, Checkouts({VISIT: PURCHASE}))
    try:
        await until("it is given up", receipts.counts, want=lambda c: c["failed"] == 1)
    finally:
        await receipts.close()
    assert server.received == []
    assert addresses(database) == []


async def test_a_database_that_cannot_be_used_is_waited_for(mail_server, tmp_path, caplog):
    server = mail_server()
    closed = Database(tmp_path / "closed.sqlite3")
    await closed.open()
    await closed.close()
    receipts = make_receipts(closed, server, tmp_path, Checkouts({VISIT: PURCHASE}))
    try:
        await until(
            "the receipts say they wait",
            lambda: any("cannot be used right now" in r.getMessage() for r in caplog.records),
        )
    finally:
        await receipts.close()


def test_purge_deletes_finished_requests_and_expired_codes_only():
    with closing(sqlite3.connect(":memory:")) as db:
        create_tables(db)
        old, new = (
            add_request(db, "v1", ADDRESS, "en", 0.0),
            add_request(db, "v2", ADDRESS, "en", 0.0),
        )
        waiting = add_request(db, "v3", ADDRESS, "en", 0.0)
        mark_failed(db, old, 100.0, attempted=True)
        mark_sent(db, new, 300.0, None)
        add_code(db, "h1", "v1", "t", 100.0)
        add_code(db, "h2", "v2", "t", 300.0)
        assert purge(db, 200.0, 10) == 2  # one request, one code
        assert [r[0] for r in db.execute("SELECT id FROM receipt_requests ORDER BY id")] == [
            new,
            waiting,
        ]
        assert [r[0] for r in db.execute("SELECT code_hash FROM receipt_codes")] == ["h2"]
        assert purge(db, 1000.0, 1) == 1  # a batch is bounded
        assert counts(db) == {"waiting": 1, "sent": 0, "failed": 0}
