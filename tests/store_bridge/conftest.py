"""A store for the bridge tests: simulated turnstiles, a real SQLite file, the real API.

The operator's app backend (who signs QR codes) is the edge of the world here: `Operator`
signs with keys made per test, as the real backend would with its private key.
"""

import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from store_bridge.bridge import Bridge, GateInfo, StoreSettings
from store_bridge.core.credentials import OperatorKey
from store_bridge.database import Database
from store_bridge.gates.base import GateRole
from store_bridge.gates.simulator import SimulatedGate
from store_bridge.web import make_app

from ..localstripe_server import AnswerDroppingProxy, LocalStripe

SITE = "store-042"
ISSUER = "corner-app"
API_TOKEN = "t" * 40
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


class Operator:
    """The app backend: signs QR codes with its private keys (the edge of the world)."""

    def __init__(self) -> None:
        self.ed = ed25519.Ed25519PrivateKey.generate()
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.keys = {
            "ed": OperatorKey("ed", "EdDSA", self.ed.public_key()),
            "p256": OperatorKey("p256", "ES256", self.ec.public_key()),
        }

    def qr(
        self,
        *,
        now: float | None = None,
        lifetime: int = 30,
        kid: str = "ed",
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        issued = time.time() if now is None else now
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": SITE,
            "sub": "acct-7f3a",
            "jti": secrets.token_hex(8),
            "iat": int(issued),
            "exp": int(issued) + lifetime,
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        key, alg = (self.ed, "EdDSA") if kid == "ed" else (self.ec, "ES256")
        return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, **(headers or {})})


@dataclass
class Store:
    """A running bridge with its API client and gates."""

    bridge: Bridge
    client: TestClient[Any, Any]
    entry: SimulatedGate
    exit: SimulatedGate
    operator: Operator
    path: Path
    stopped: bool = False

    async def post(
        self, path: str, body: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        answer = await self.client.post(
            path, json=body, headers=AUTH if headers is None else headers
        )
        return answer.status, await answer.json()

    async def check_in(self, **body: Any) -> tuple[int, Any]:
        return await self.post("/v1/gates/entry_1/check-in", body)

    async def leave(self, **body: Any) -> tuple[int, Any]:
        return await self.post("/v1/gates/exit_1/exit", body)

    def outbox(self) -> list[dict[str, Any]]:
        """Every event in the outbox, in order (read with a second connection)."""
        import json  # noqa: PLC0415

        with closing(sqlite3.connect(self.path, isolation_level=None)) as db:
            rows = db.execute("SELECT payload FROM outbox ORDER BY seq").fetchall()
        return [json.loads(r[0]) for r in rows]

    def types(self) -> list[str]:
        return [e["type"] for e in self.outbox()]


StoreFactory = Callable[..., Any]


@pytest.fixture
async def proxy(localstripe: LocalStripe) -> AsyncIterator[AnswerDroppingProxy]:
    """Between the bridge and localstripe: drops the answers the test tells it to."""
    between = AnswerDroppingProxy(localstripe.port)
    await between.start()
    try:
        yield between
    finally:
        await between.close()


@pytest.fixture
def operator() -> Operator:
    return Operator()


@pytest.fixture
async def make_store(
    tmp_path: Path, operator: Operator, socket_enabled: None
) -> AsyncIterator[StoreFactory]:
    """Start stores (several may share one database file, one after the other)."""
    running: list[Store] = []

    async def factory(
        *,
        capacity: int = 5,
        path: Path | None = None,
        clock: Callable[[], datetime] | None = None,
        publisher: Callable[[Bridge], Any] | None = None,
        before_start: Callable[[Bridge], None] | None = None,
    ) -> Store:
        db_path = path or tmp_path / "bridge.sqlite3"
        entry = SimulatedGate("entry_1", GateRole.ENTRY, passage_seconds=0)
        exit_ = SimulatedGate("exit_1", GateRole.EXIT, passage_seconds=0)
        settings = StoreSettings(
            site=SITE, name="Corner store", capacity=capacity, issuer=ISSUER, keys=operator.keys
        )
        bridge = Bridge(
            settings,
            Database(db_path),
            {
                "entry_1": GateInfo(entry, "Entry", "simulated"),
                "exit_1": GateInfo(exit_, "Exit", "simulated"),
            },
            clock=clock or (lambda: datetime.now(UTC)),
        )
        if publisher is not None:
            bridge.publisher = publisher(bridge)
        if before_start is not None:
            before_start(bridge)
        await bridge.start()
        client = TestClient(TestServer(make_app(bridge, API_TOKEN)))
        await client.start_server()
        store = Store(bridge, client, entry, exit_, operator, db_path)
        running.append(store)
        return store

    yield factory
    for store in running:
        await stop(store)


async def stop(store: Store) -> None:
    """Stop a store's API and bridge (idempotent)."""
    if store.stopped:
        return
    store.stopped = True
    await store.client.close()
    await store.bridge.stop()
