"""A receipt end to end: a configured bridge charges at localstripe and mails through aiosmtpd.

The bridge is built from a `store.toml` exactly as ``store-bridge serve`` builds it
(`service.build_bridge`, `service.running`): `[payments]` with Stripe pointed at a real
localstripe, `[mail]` pointed at a real aiosmtpd (STARTTLS, a login), a real Mosquitto.
An app shopper's visit is closed with a final cart (put in the bridge's SQLite file as the
cart owner stores it; the carts have their own tests); the bridge charges it; the app's
backend asks for a receipt through the API. The mail server receives exactly one, with the
total and the card as the processor reported it; the address is then nowhere in the
database file, its write-ahead log included.
"""

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from store_bridge import store_schema
from store_bridge.config import load_config
from store_bridge.service import build_bridge, running

from ..localstripe_server import LocalStripe, add_customer
from ..mosquitto import Mosquitto
from ..waiting import until
from .checkout_rig import PRICE, Closed, seed, write_config
from .receipt_helpers import mail_server, mail_table  # noqa: F401 - the mail server fixture
from .smtp_rig import MailServer

TOKEN = "t" * 40
ADDRESS = "erika.mustermann@example.org"
VISIT = "trip-receipt-00001"
CANS = 3


def _toml(table: dict[str, Any]) -> str:
    def value(item: object) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float):
            return str(item)
        return '"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join(f"{key} = {value(item)}" for key, item in table.items())


def _config(tmp: Path, stripe_url: str, broker: Mosquitto, mail: MailServer) -> Path:
    return write_config(
        tmp,
        stripe_url=stripe_url,
        mqtt_port=broker.port,
        store_name="Corner store",
        mail=_toml(mail_table(mail, tmp)),
    )


def _seed(db_path: Path, customer: str) -> None:
    """An app shopper's closed visit with a final cart, as the bridge stores them."""
    seed(
        db_path,
        [
            Closed(
                VISIT,
                customer,
                CANS,
                account="acct-receipt",
                track="t-receipt",
                charge="chg-receipt-1",
            )
        ],
    )


async def _charged_and_receipt_asked(api: aiohttp.ClientSession, seconds: float = 10.0) -> None:
    """Wait until the visit's cart is charged (`seconds` at most), then ask for its receipt."""

    async def checkout() -> dict[str, Any]:
        async with api.get(f"/v1/visits/{VISIT}/checkout") as answer:
            return dict(await answer.json()) if answer.status == 200 else {}

    charged = await until(
        "the cart is charged", checkout, want=lambda c: c.get("phase") == "done", seconds=seconds
    )
    assert charged["captured"] == CANS * PRICE
    async with api.post(f"/v1/visits/{VISIT}/receipt", json={"email": ADDRESS}) as answer:
        assert answer.status == 202, await answer.text()


def _holding(folder: Path, text: str) -> list[str]:
    """The files of the database (its write-ahead log included) that hold `text`."""
    return [
        path.name
        for path in sorted(folder.glob("bridge.sqlite3*"))
        if text.encode() in path.read_bytes()
    ]


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


@pytest.mark.parametrize("look_while_running", [False, True], ids=["after_stop", "while_running"])
async def test_a_shopper_asks_for_a_receipt_and_gets_exactly_one_and_the_address_is_gone(
    tmp_path: Path,
    localstripe: LocalStripe,
    stripe_client: Any,
    mosquitto: Mosquitto,
    mail_server: Any,  # noqa: F811 - the fixture imported above
    look_while_running: bool,
) -> None:
    customer, _method = await add_customer(stripe_client)
    server: MailServer = mail_server()
    config = load_config(_config(tmp_path, localstripe.url, mosquitto, server))
    db_path = tmp_path / "bridge.sqlite3"
    store_schema.connect(db_path).close()
    _seed(db_path, customer)
    bridge = build_bridge(config)
    auth = {"Authorization": f"Bearer {TOKEN}"}

    async with (
        running(bridge, "127.0.0.1", 0, TOKEN) as url,
        aiohttp.ClientSession(url, headers=auth) as api,
    ):
        await _charged_and_receipt_asked(api)

        [mail] = await until("the receipt arrives", lambda: list(server.received))
        assert mail["To"] == ADDRESS
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "3.87" in text
        assert "4242" in text

        await until(
            "the request is marked sent and its address erased",
            lambda: _rows(db_path, "SELECT state, address FROM receipt_requests"),
            want=lambda found: found == [("sent", None)],
        )
        async with api.get("/v1/status") as answer:
            status = await answer.json()
        assert status["checkout"]["receipts_waiting"] == 0
        events = "\n".join(p for (p,) in _rows(db_path, "SELECT payload FROM outbox"))
        assert "receipt_sent" in events
        assert ADDRESS not in events
        assert customer not in events
        if look_while_running:
            await until(
                "no file of the database holds the address while the bridge runs",
                lambda: _holding(tmp_path, ADDRESS),
                want=lambda files: files == [],
                seconds=3,
            )

    assert _holding(tmp_path, ADDRESS) == []
    assert len(server.received) == 1
