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
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from store_bridge import store_schema
from store_bridge.config import load_config
from store_bridge.service import build_bridge, running

from ..localstripe_server import SECRET_KEY, LocalStripe, add_customer
from ..mosquitto import Mosquitto
from ..waiting import until
from .receipt_helpers import mail_server, mail_table  # noqa: F401 - the mail server fixture
from .smtp_rig import MailServer

TOKEN = "t" * 40
ADDRESS = "erika.mustermann@example.org"
VISIT = "trip-receipt-00001"
CANS = 3
PRICE = 129


def _toml(table: dict[str, Any]) -> str:
    def value(item: object) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float):
            return str(item)
        return '"' + str(item).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "\n".join(f"{key} = {value(item)}" for key, item in table.items())


def _config(tmp: Path, stripe_url: str, broker: Mosquitto, mail: MailServer) -> Path:
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    (tmp / "app.pem").write_bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp / "stripe-key").write_text(SECRET_KEY)
    (tmp / "stripe-key").chmod(0o600)
    (tmp / "catalogue.toml").write_text(
        'currency = "EUR"\ntax_rate = "0.19"\n\n[[products]]\nsku = "COLA"\nname = "Cola"\n'
        f"price = {PRICE}\nunit_weight_g = 355.0\n"
    )
    (tmp / "store.toml").write_text(f"""\
[store]
site = "store-042"
name = "Corner store"
database = "bridge.sqlite3"

[api]
port = 8787  # not used: the test serves on a free port
token = "{TOKEN}"

[mqtt]
host = "127.0.0.1"
port = {broker.port}

[checkin]
issuer = "corner-app"
keys = {{ "ed" = "app.pem" }}

[[gates]]
id = "entry_1"
role = "entry"
kind = "simulated"

[[gates]]
id = "exit_1"
role = "exit"
kind = "simulated"

[catalogue]
file = "catalogue.toml"

[[lanes]]
id = "lane_cola"
topic = "shelf-1/sensor/lane_cola/state"
sku = "COLA"
zone = "aisle"

[payments]
processor = "stripe"
secret_key_file = "stripe-key"
api_base = "{stripe_url}"
settle_s = 0

[mail]
{_toml(mail_table(mail, tmp))}
""")
    return tmp / "store.toml"


def _seed(db_path: Path, customer: str) -> None:
    """An app shopper's closed visit with a final cart, as the bridge stores them."""
    now = time.time()
    stamp = datetime.now(UTC).isoformat()
    lines = (
        f'[{{"sku":"COLA","name":"Cola","quantity":{CANS},"unit_price":{PRICE},'
        '"currency":"EUR","tax_rate":"0.19","sources":["chg-receipt-1"]}]'
    )
    with closing(sqlite3.connect(db_path, isolation_level=None)) as db:
        db.execute(
            "INSERT INTO sessions (visit_id, track_id, source, entry_gate, party, entered, "
            "account, state, exit_gate, left_at, ended, customer) VALUES "
            "(?, 't-receipt', 'store_app', 'entry_1', 1, ?, 'acct-receipt', 'left', 'exit_1', "
            "?, ?, ?)",
            (VISIT, stamp, stamp, now, customer),
        )
        db.execute(
            "INSERT INTO carts (visit, lines, held, bound, updated, closed, final) "
            "VALUES (?, ?, 0, 1, ?, ?, 1)",
            (VISIT, lines, now, now),
        )


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

        async def checkout() -> dict[str, Any]:
            async with api.get(f"/v1/visits/{VISIT}/checkout") as answer:
                return dict(await answer.json()) if answer.status == 200 else {}

        charged = await until(
            "the cart is charged", checkout, want=lambda c: c.get("phase") == "done"
        )
        assert charged["captured"] == CANS * PRICE

        async with api.post(f"/v1/visits/{VISIT}/receipt", json={"email": ADDRESS}) as answer:
            assert answer.status == 202, await answer.text()

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
