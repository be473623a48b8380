"""The receipts over HTTP: the app backend's API, the exit's receipt code and the receipt page
(en and de), on the bridge's real application, with a real mail server behind it."""

import logging
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from store_bridge.bridge import Bridge, GateInfo, StoreSettings
from store_bridge.database import Database
from store_bridge.gates.base import GateRole
from store_bridge.gates.simulator import SimulatedGate
from store_bridge.mail_config import parse_mail
from store_bridge.mailer import Mailer
from store_bridge.receipt_store import create_tables
from store_bridge.receipt_web import add_routes
from store_bridge.receipts import Receipts
from store_bridge.web import make_app
from tests.waiting import until

from .conftest import API_TOKEN, AUTH, ISSUER, SITE
from .receipt_helpers import ADDRESS, PURCHASE, VISIT, Checkouts, mail_server, mail_table, rows
from .smtp_rig import MailServer

__all__ = ["mail_server"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


class Shop:
    def __init__(
        self,
        client: TestClient[Any, Any],
        server: MailServer,
        path: Path,
        receipts: Receipts,
        checkouts: Checkouts,
        clock: Clock,
    ) -> None:
        self.client, self.server, self.path = client, server, path
        self.receipts, self.checkouts, self.clock = receipts, checkouts, clock

    async def code(self, visit: str = VISIT) -> dict[str, Any]:
        answer = await self.client.post(f"/v1/visits/{visit}/receipt-code", json={}, headers=AUTH)
        assert answer.status == 201
        return await answer.json()  # type: ignore[no-any-return]

    async def form(self, url: str, language: str = "en") -> tuple[int, str, str]:
        answer = await self.client.get(url, headers={"Accept-Language": language})
        text = await answer.text()
        token = re.search(r'name="token" value="([^"]+)"', text)
        return answer.status, text, "" if token is None else token.group(1)

    async def send(
        self, url: str, email: str, token: str, lang: str = "en", **headers: str
    ) -> tuple[int, str]:
        origin = {"Origin": f"http://{self.client.host}:{self.client.port}"}
        answer = await self.client.post(
            url, data={"email": email, "token": token, "lang": lang}, headers=origin | headers
        )
        return answer.status, await answer.text()

    def requests(self) -> list[tuple[Any, ...]]:
        return rows(self.path, "SELECT visit, address, state FROM receipt_requests")


@pytest.fixture
async def shop(
    tmp_path: Path, mail_server: Callable[..., MailServer], socket_enabled: None
) -> AsyncIterator[Shop]:
    server = mail_server()
    path = tmp_path / "bridge.sqlite3"
    gates = {
        "entry_1": GateInfo(
            SimulatedGate("entry_1", GateRole.ENTRY, passage_seconds=0), "Entry", "simulated"
        ),
        "exit_1": GateInfo(
            SimulatedGate("exit_1", GateRole.EXIT, passage_seconds=0), "Exit", "simulated"
        ),
    }
    settings = StoreSettings(site=SITE, name="Corner store", capacity=5, issuer=ISSUER, keys={})
    bridge = Bridge(settings, Database(path), gates)
    await bridge.start()
    await bridge.db.call(lambda store: create_tables(store.db))  # until schema v4 has them
    spec = parse_mail(mail_table(server, tmp_path, page_url="https://shop.example"), tmp_path)
    checkouts, clock = Checkouts({VISIT: PURCHASE}), Clock()
    receipts = Receipts(bridge.db, spec, Mailer(spec), checkouts, store="Corner store", clock=clock)
    client = TestClient(TestServer(make_app(bridge, API_TOKEN, receipts=receipts)))
    shop = Shop(client, server, path, receipts, checkouts, clock)
    await client.start_server()
    shop.receipts.start()
    yield shop
    await shop.receipts.close()
    await client.close()
    await bridge.stop()


def page_url(code: dict[str, Any]) -> str:
    assert code["url"].startswith("https://shop.example/r/")
    return code["url"].removeprefix("https://shop.example")


async def test_the_receipt_page_in_english_and_german_and_a_code_works_once(shop, caplog):
    caplog.set_level(logging.DEBUG)
    code = await shop.code()
    url = page_url(code)
    assert len(code["code"]) >= 22  # 128 random bits
    status, english, _ = await shop.form(url, "en-GB,en;q=0.9")
    assert status == 200
    assert "Enter your e-mail address" in english
    status, german, token = await shop.form(url, "de-DE,de;q=0.9,en;q=0.5")
    assert "Geben Sie Ihre E-Mail-Adresse ein" in german
    assert '<html lang="de">' in german

    status, thanks = await shop.send(url, ADDRESS, token, "de")
    assert status == 200
    assert "Vielen Dank. Ihr Beleg ist unterwegs" in thanks
    await until("the receipt is sent", shop.receipts.counts, want=lambda c: c["sent"] == 1)
    [message] = shop.server.received
    assert message["Subject"] == "Ihr Beleg von Corner store"
    assert message["To"] == ADDRESS
    assert shop.requests() == [(VISIT, None, "sent")]

    status, again = await shop.send(url, "other@mail.example", token, "de")
    assert status == 410
    assert "Mit diesem Code wurde bereits ein Beleg angefordert" in again
    status, used, _ = await shop.form(url)
    assert status == 410
    assert "already been requested" in used
    assert len(shop.requests()) == 1

    # The address is nowhere: not in the file (events included), not in the log.
    await shop.receipts._db.call(lambda store: store.checkpoint())
    assert ADDRESS.encode() not in shop.path.read_bytes()
    assert not [
        r for r in caplog.records if not r.name.startswith("mail.log") and ADDRESS in r.getMessage()
    ]


async def test_the_page_is_locked_down(shop):
    code = await shop.code()
    answer = await shop.client.get(page_url(code))
    csp = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-store"


async def test_a_form_from_elsewhere_is_refused_and_the_code_stays_usable(shop):
    url = page_url(await shop.code())
    _, _, token = await shop.form(url)
    status, text = await shop.send(url, ADDRESS, token, Origin="https://evil.example")
    assert status == 403
    assert "The form has expired" in text
    status, _ = await shop.send(url, ADDRESS, token, **{"Sec-Fetch-Site": "cross-site"})
    assert status == 403
    status, _ = await shop.send(url, ADDRESS, "not-the-token")
    assert status == 403
    answer = await shop.client.post(url, data={"email": ADDRESS})  # no token at all
    assert answer.status == 403
    assert shop.requests() == []
    status, _ = await shop.send(url, ADDRESS, token)
    assert status == 200
    await until("the receipt is sent", shop.receipts.counts, want=lambda c: c["sent"] == 1)
    assert len(shop.server.received) == 1


async def test_a_bad_address_on_the_page_shows_the_form_again_and_stores_nothing(shop):
    url = page_url(await shop.code())
    _, _, token = await shop.form(url)
    status, text = await shop.send(url, f"{ADDRESS}\r\nBcc: all@evil.example", token, "de")
    assert status == 400
    assert "Eine Adresse darf keinen Zeilenumbruch enthalten." in text
    assert 'name="token"' in text  # the form again
    status, text = await shop.send(url, "nobody", token)
    assert status == 400
    assert "This does not look like an e-mail address." in text
    assert shop.requests() == []


async def test_unknown_and_expired_codes_get_a_clear_page(shop):
    status, text, _ = await shop.form("/r/not-a-code")
    assert status == 404
    assert "This receipt code is not valid (any more)." in text
    status, _, _ = await shop.form("/r/" + "x" * 100)
    assert status == 404
    url = page_url(await shop.code())
    _, _, token = await shop.form(url, "de")
    shop.clock.now += timedelta(hours=24)
    status, text, _ = await shop.form(url, "de")
    assert status == 404
    assert "Dieser Beleg-Code ist nicht (mehr) gültig." in text
    status, text = await shop.send(url, ADDRESS, token, "de")
    assert status == 410
    status, text = await shop.send(url, "bad", token, "de")  # expired beats a bad address
    assert status == 410
    assert shop.requests() == []


async def test_the_app_backend_asks_for_a_receipt(shop, caplog):
    caplog.set_level(logging.DEBUG)
    post = shop.client.post
    answer = await post(
        f"/v1/visits/{VISIT}/receipt", json={"email": ADDRESS, "language": "de"}, headers=AUTH
    )
    assert answer.status == 202
    assert await answer.json() == {"visit": VISIT, "receipt": "queued"}
    await until("the receipt is sent", shop.receipts.counts, want=lambda c: c["sent"] == 1)
    assert shop.server.received[0]["Subject"] == "Ihr Beleg von Corner store"
    assert shop.requests() == [(VISIT, None, "sent")]
    assert not [
        r for r in caplog.records if not r.name.startswith("mail.log") and ADDRESS in r.getMessage()
    ]


@pytest.mark.parametrize(
    ("path", "kwargs", "status", "error"),
    [
        (
            f"/v1/visits/{VISIT}/receipt",
            {"json": {"email": "a@b.de\r\nBcc: c@d.de"}},
            400,
            "invalid_address",
        ),
        (
            f"/v1/visits/{VISIT}/receipt",
            {"json": {"email": ADDRESS, "language": "fr"}},
            400,
            "bad_request",
        ),
        (
            f"/v1/visits/{VISIT}/receipt",
            {"json": {"email": ADDRESS, "cc": "x"}},
            400,
            "bad_request",
        ),
        (f"/v1/visits/{VISIT}/receipt", {"json": [ADDRESS]}, 400, "bad_request"),
        (
            f"/v1/visits/{VISIT}/receipt",
            {"data": "{nope", "headers": {**AUTH, "Content-Type": "application/json"}},
            400,
            "bad_json",
        ),
        (f"/v1/visits/{VISIT}/receipt", {"data": "email=x", "headers": AUTH}, 415, "not_json"),
        (
            f"/v1/visits/{VISIT}/receipt",
            {"json": {"email": ADDRESS}, "headers": {}},
            401,
            "unauthorized",
        ),
        (
            f"/v1/visits/{VISIT}/receipt",
            {"json": {"email": ADDRESS}, "headers": {"Authorization": "Bearer wrong"}},
            401,
            "unauthorized",
        ),
        ("/v1/visits/nobody/receipt", {"json": {"email": ADDRESS}}, 404, "unknown_visit"),
        (f"/v1/visits/{'v' * 65}/receipt", {"json": {"email": ADDRESS}}, 404, "unknown_visit"),
        ("/v1/visits/nobody/receipt-code", {"json": {}}, 404, "unknown_visit"),
        (
            f"/v1/visits/{VISIT}/receipt",
            {"json": {"email": ADDRESS, "pad": "x" * 20_000}},
            413,
            "too_large",
        ),
        (f"/v1/visits/{VISIT}/receipt-code", {"json": {}, "headers": {}}, 401, "unauthorized"),
    ],
)
async def test_the_api_refuses_what_it_cannot_use_and_stores_nothing(
    shop, path, kwargs, status, error
):
    kwargs = {"headers": AUTH} | kwargs
    answer = await shop.client.post(path, **kwargs)
    assert answer.status == status
    body = await answer.json()
    assert body["error"] == error
    assert ADDRESS not in str(body)
    if error == "invalid_address":
        assert body["problem"] == "line_break"
    assert shop.requests() == []


async def test_a_database_that_cannot_be_used_answers_503(tmp_path, socket_enabled):
    closed = Database(tmp_path / "closed.sqlite3")
    await closed.open()
    await closed.close()
    spec = parse_mail({"host": "127.0.0.1", "from": "r@corner.example"}, tmp_path)
    receipts = Receipts(
        closed, spec, Mailer(spec), Checkouts({VISIT: PURCHASE}), store="Corner store"
    )
    app = web.Application()
    add_routes(app, receipts, API_TOKEN)
    async with TestClient(TestServer(app)) as client:
        answer = await client.post(
            f"/v1/visits/{VISIT}/receipt", json={"email": ADDRESS}, headers=AUTH
        )
        assert (answer.status, (await answer.json())["error"]) == (503, "storage_unavailable")
        answer = await client.post(f"/v1/visits/{VISIT}/receipt-code", json={}, headers=AUTH)
        assert (answer.status, (await answer.json())["error"]) == (503, "storage_unavailable")
        answer = await client.get("/r/some-code")
        assert answer.status == 503
        answer = await client.post("/r/some-code", data={"email": ADDRESS, "token": "t"})
        assert answer.status == 503
