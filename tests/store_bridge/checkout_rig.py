"""A store's files for the tests that charge through `serve`'s parts: its configuration, its carts.

`write_config` writes what ``store-bridge serve`` reads: a ``store.toml`` with one cola lane,
Stripe (pointed at the test's localstripe or a proxy before it) with its key in a file of its
own, the app's public key, the catalogue. `seed` puts closed visits with final carts into the
bridge's SQLite file as the bridge stores them (the carts have their own tests).
"""

import sqlite3
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ..localstripe_server import SECRET_KEY

PRICE = 129
"""A can of cola, in cents."""
CATALOGUE = f"""\
currency = "EUR"
tax_rate = "0.19"

[[products]]
sku = "COLA"
name = "Cola"
price = {PRICE}
unit_weight_g = 355.0
"""


def write_config(
    folder: Path,
    *,
    stripe_url: str,
    mqtt_port: int,
    api_port: int = 8787,
    site: str = "store-042",
    store_name: str | None = None,
    database: str | Path = "bridge.sqlite3",
    issuer: str = "corner-app",
    concurrency: int | None = None,
    mail: str | None = None,
    file: str = "store.toml",
) -> Path:
    """The store's configuration and the files it names, in `folder`: its path.

    `mail`: the ``[mail]`` table's lines (None: no mail). `concurrency`: the payments' (None:
    the bridge's default).
    """
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (folder / "app.pem").write_bytes(pem)
    (folder / "stripe-key").write_text(SECRET_KEY)
    (folder / "stripe-key").chmod(0o600)
    (folder / "catalogue.toml").write_text(CATALOGUE)
    name = "" if store_name is None else f'name = "{store_name}"\n'
    limit = "" if concurrency is None else f"concurrency = {concurrency}\n"
    mail_table = "" if mail is None else f"\n[mail]\n{mail}\n"
    (folder / file).write_text(f"""\
[store]
site = "{site}"
{name}database = "{database}"

[api]
port = {api_port}
token = "{"t" * 40}"

[mqtt]
host = "127.0.0.1"
port = {mqtt_port}

[checkin]
issuer = "{issuer}"
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
{limit}{mail_table}""")
    return folder / file


@dataclass(frozen=True)
class Closed:
    """A visit that came in and left, with its final cart of `cans` cans of cola.

    `account`, `track` and `charge` (the shelf change the cart's line comes from) default to
    names made of the visit's.
    """

    visit: str
    customer: str | None = None
    cans: int = 1
    source: str = "store_app"
    account: str = ""
    track: str = ""
    charge: str = ""


def cart_lines(closed: Closed) -> str:
    """The final cart's lines as the bridge stores them (an empty cart: none)."""
    if not closed.cans:
        return "[]"
    charge = closed.charge or f"chg-{closed.visit}"
    return (
        f'[{{"sku":"COLA","name":"Cola","quantity":{closed.cans},"unit_price":{PRICE},'
        f'"currency":"EUR","tax_rate":"0.19","sources":["{charge}"]}}]'
    )


def seed(db_path: Path, visits: Iterable[Closed], *, sessions: bool = True) -> None:
    """Put `visits` and their final carts in the bridge's file (`sessions` False: carts only).

    In one transaction, waiting for a bridge that writes at the same time.
    """
    now = time.time()
    stamp = datetime.now(UTC).isoformat()
    with closing(sqlite3.connect(db_path, timeout=10, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")
        for closed in visits:
            if sessions:
                db.execute(
                    "INSERT INTO sessions (visit_id, track_id, source, entry_gate, party, "
                    "entered, account, state, exit_gate, left_at, ended, customer) VALUES "
                    "(?, ?, ?, 'entry_1', 1, ?, ?, 'left', 'exit_1', ?, ?, ?)",
                    (
                        closed.visit,
                        closed.track or f"t-{closed.visit}",
                        closed.source,
                        stamp,
                        closed.account or f"acct-{closed.visit}",
                        stamp,
                        now,
                        closed.customer,
                    ),
                )
            db.execute(
                "INSERT INTO carts (visit, lines, held, bound, updated, closed, final) "
                "VALUES (?, ?, 0, 1, ?, ?, 1)",
                (closed.visit, cart_lines(closed), now, now),
            )
        db.execute("COMMIT")


def seed_app_carts(db_path: Path, carts: Iterable[tuple[str, str, int]]) -> None:
    """App shoppers' closed visits with final carts: (visit, customer, cans) each."""
    seed(db_path, (Closed(visit, customer, cans) for visit, customer, cans in carts))
