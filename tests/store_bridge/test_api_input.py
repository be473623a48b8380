"""Bad input on every endpoint of the bridge's HTTP API: a clear JSON error, nothing changed.

A real bridge runs here (`store_bridge.service.running`: SQLite in ``tmp_path``, simulated
turnstiles, the aiohttp API on 127.0.0.1) and is reached over real sockets. Before the bad
requests, one shopper checks in, so that there is a session, occupancy and events that a
mistaken request could disturb. After each bad request the test compares everything the
bridge keeps: occupancy and sessions in memory, the counters, the SQLite tables (sessions,
outbox, replay, occupancy) and the open commands the turnstiles received.
"""

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from store_bridge.bridge import Bridge, GateInfo, StoreSettings
from store_bridge.core.credentials import OperatorKey
from store_bridge.database import Database
from store_bridge.gates.base import GateRole
from store_bridge.gates.simulator import SimulatedGate
from store_bridge.outbox import BrokerConfig, Publisher
from store_bridge.service import running
from store_bridge.storage import Store
from store_bridge.web import MAX_BODY
from tests.mosquitto import Mosquitto
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("socket_enabled")

WAIT = 10.0
TOKEN = "api-token-0123456789-abcdefghijklmnop"
CARD = "pm_test_0123456789abcdef"
STORE_NAME = 'Corner <script>alert("store")</script> & Co'
GATE_NAME = "Entry <b>north</b>"
GOOD = {"Authorization": f"Bearer {TOKEN}"}
JSON_TYPE = "application/json"

UNAUTHORIZED = "a valid 'Authorization: Bearer <api token>' header is required"
NOT_JSON = "send a JSON object with Content-Type: application/json"
BAD_JSON = "the body is not valid JSON"
NOT_OBJECT = "the body must be a JSON object"
TOO_LARGE = f"the body may be at most {MAX_BODY} bytes"
UNKNOWN_GATE = "no gate with this id"
EXACTLY_ONE = "send exactly one of 'qr' or 'card_token'"
QR_TEXT = "'qr' must be a text of 1-4096 characters"
CARD_TEXT = "'card_token' must be a text of 1-256 characters"
VISIT_TEXT = "'visit' must be a text of 1-64 characters"
TRACK_TEXT = "'track' must be a text of 1-64 characters"
SIGNAL_KIND = "'kind' must be 'opened' or 'closed'"


@dataclass
class Shop:
    """A running bridge, its API address, an HTTP client and the shopper inside."""

    bridge: Bridge
    url: str
    http: aiohttp.ClientSession
    database: Path
    visit: str = ""
    track: str = ""

    def gate(self, gate_id: str) -> SimulatedGate:
        gate = self.bridge.gates[gate_id].gate
        assert isinstance(gate, SimulatedGate)
        return gate

    async def post(
        self,
        path: str,
        data: bytes,
        *,
        headers: dict[str, str] | None = None,
        content_type: str | None = JSON_TYPE,
    ) -> tuple[int, str, Any]:
        sent = dict(GOOD if headers is None else headers)
        if content_type is not None:
            sent["Content-Type"] = content_type
        async with self.http.post(f"{self.url}{path}", data=data, headers=sent) as answer:
            text = await answer.text()
            body = json.loads(text) if answer.content_type == JSON_TYPE else text
            return answer.status, answer.content_type, body

    async def outbox(self) -> list[str]:
        """The types of the events in the outbox, in order."""

        def read(store: Store) -> list[str]:
            rows = store.db.execute("SELECT payload FROM outbox ORDER BY seq")
            return [json.loads(row["payload"])["type"] for row in rows]

        return await self.bridge.db.call(read)

    async def state(self) -> dict[str, Any]:
        """Everything a request could change."""

        def read(store: Store) -> dict[str, Any]:
            def rows(sql: str) -> list[tuple[Any, ...]]:
                return [tuple(row) for row in store.db.execute(sql)]

            return {
                "outbox": rows("SELECT seq, event_id, payload, sent FROM outbox ORDER BY seq"),
                "sessions": rows("SELECT * FROM sessions ORDER BY visit_id"),
                "replay": rows("SELECT * FROM replay ORDER BY id"),
                "meta": rows("SELECT * FROM meta ORDER BY key"),
            }

        bridge = self.bridge
        return {
            "db": await bridge.db.call(read),
            "occupancy": bridge.occupancy,
            "inside": sorted(bridge.inside),
            "counters": dict(bridge.counters),
            "denials": dict(bridge.denials),
            "commands": {gate_id: self.gate(gate_id).commands for gate_id in bridge.gates},
            "tasks": len(bridge._tasks),
            "backlog": len(bridge.backlog),
        }


@contextlib.asynccontextmanager
async def open_shop(
    folder: Path, broker: BrokerConfig | None = None, publisher: type[Publisher] = Publisher
) -> AsyncIterator[Shop]:
    """The running bridge, once its first shopper went in."""
    gates = {
        "entry_1": GateInfo(
            SimulatedGate("entry_1", GateRole.ENTRY, passage_seconds=0), GATE_NAME, "simulated"
        ),
        "exit_1": GateInfo(
            SimulatedGate("exit_1", GateRole.EXIT, passage_seconds=0), "Exit", "simulated"
        ),
    }
    key = OperatorKey("k1", "EdDSA", ed25519.Ed25519PrivateKey.generate().public_key())
    settings = StoreSettings(
        site="store-042", name=STORE_NAME, capacity=10, issuer="corner-app", keys={"k1": key}
    )
    database = folder / "bridge.sqlite3"
    bridge = Bridge(settings, Database(database), gates)
    if broker is not None:
        bridge.publisher = publisher(
            bridge.db, broker, settings.site, bridge.status, bridge.backlog
        )
    async with (
        running(bridge, "127.0.0.1", 0, TOKEN) as url,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT)) as http,
    ):
        shop = Shop(bridge, url, http, database)
        status, _, body = await shop.post(
            "/v1/gates/entry_1/check-in", json.dumps({"card_token": CARD}).encode()
        )
        assert (status, body["opened"]) == (200, True), body
        shop.visit, shop.track = body["visit"], body["track"]

        async def settled() -> bool:  # the turnstile reported the passage; it is recorded
            return (await shop.outbox())[-1:] == ["door_closed"] and not bridge._tasks

        await until("the first shopper's passage", settled)
        yield shop


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    async with open_shop(tmp_path) as shop:
        yield shop


# --- the control: good requests work on this bridge ---------------------------------------


async def test_good_requests_are_answered(shop: Shop) -> None:
    assert shop.bridge.occupancy == 1
    assert await shop.outbox() == [
        "check_in",
        "occupancy_changed",
        "gate_opened",
        "door_opened",
        "door_closed",
    ]

    # A body of exactly MAX_BODY bytes is accepted (whitespace is valid JSON padding).
    closed = b'{"kind": "closed"}'
    padded = closed + b" " * (MAX_BODY - len(closed))
    assert await shop.post("/v1/gates/entry_1/signal", padded) == (
        202,
        JSON_TYPE,
        {"gate": "entry_1", "kind": "closed"},
    )
    status, _, body = await shop.post(
        "/v1/gates/exit_1/exit", json.dumps({"track": shop.track}).encode()
    )
    assert (status, body["opened"], body["visit"]) == (200, True, shop.visit)
    assert shop.bridge.occupancy == 0
    assert shop.bridge.inside == {}
    # lower-case scheme and an empty body (an anonymous exit) are fine
    status, _, body = await shop.post(
        "/v1/gates/exit_1/exit", b"", headers={"Authorization": f"bearer {TOKEN}"}
    )
    assert (status, body["opened"], body["reason"]) == (200, True, "egress")


# --- bad requests, endpoint by endpoint ----------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One bad request and the answer it must get."""

    gate: str
    data: bytes
    status: int
    code: str
    message: str
    headers: dict[str, str] | None = None
    content_type: str | None = JSON_TYPE


CHECK_IN_OK = json.dumps({"card_token": f"{CARD}9"}).encode()  # a new hold: one per visit
EXIT_OK = b'{"visit": "VISIT"}'  # VISIT: the id of the shopper inside
SIGNAL_OK = b'{"kind": "opened"}'


def _common(entry: str, ok: bytes) -> list[tuple[str, Bad]]:
    """What every write endpoint refuses the same way (`ok` is a good body for it)."""
    return [
        ("no auth header", Bad(entry, ok, 401, "unauthorized", UNAUTHORIZED, headers={})),
        (
            "wrong token",
            Bad(entry, ok, 401, "unauthorized", UNAUTHORIZED, {"Authorization": "Bearer nope"}),
        ),
        (
            "token with one more character",
            Bad(
                entry, ok, 401, "unauthorized", UNAUTHORIZED, {"Authorization": f"Bearer {TOKEN}x"}
            ),
        ),
        (
            "token without scheme",
            Bad(entry, ok, 401, "unauthorized", UNAUTHORIZED, {"Authorization": TOKEN}),
        ),
        (
            "basic scheme",
            Bad(entry, ok, 401, "unauthorized", UNAUTHORIZED, {"Authorization": f"Basic {TOKEN}"}),
        ),
        (
            "empty bearer",
            Bad(entry, ok, 401, "unauthorized", UNAUTHORIZED, {"Authorization": "Bearer "}),
        ),
        (
            "token in another header",
            Bad(entry, ok, 401, "unauthorized", UNAUTHORIZED, {"X-Api-Token": TOKEN}),
        ),
        (
            "no auth and unknown gate",
            Bad("nope", ok, 401, "unauthorized", UNAUTHORIZED, headers={}),
        ),
        (
            "no auth and too large",
            Bad(entry, b" " * (MAX_BODY + 1), 401, "unauthorized", UNAUTHORIZED, headers={}),
        ),
        ("text/plain", Bad(entry, ok, 415, "not_json", NOT_JSON, content_type="text/plain")),
        (
            "form",
            Bad(
                entry,
                b"kind=opened",
                415,
                "not_json",
                NOT_JSON,
                content_type="application/x-www-form-urlencoded",
            ),
        ),
        ("no content type", Bad(entry, ok, 415, "not_json", NOT_JSON, content_type=None)),
        ("truncated json", Bad(entry, ok[:-1], 400, "bad_json", BAD_JSON)),
        ("single quotes", Bad(entry, ok.replace(b'"', b"'"), 400, "bad_json", BAD_JSON)),
        ("not utf-8", Bad(entry, b'{"kind": "\xff"}', 400, "bad_json", BAD_JSON)),
        ("two documents", Bad(entry, ok + ok, 400, "bad_json", BAD_JSON)),
        ("json array", Bad(entry, b"[" + ok + b"]", 400, "bad_request", NOT_OBJECT)),
        ("json text", Bad(entry, b'"open"', 400, "bad_request", NOT_OBJECT)),
        ("json number", Bad(entry, b"1", 400, "bad_request", NOT_OBJECT)),
        ("json null", Bad(entry, b"null", 400, "bad_request", NOT_OBJECT)),
        (
            "unknown field",
            Bad(entry, ok[:-1] + b', "pin": "1234"}', 400, "bad_request", "unknown field(s): pin"),
        ),
        (
            "two unknown fields",
            Bad(
                entry,
                ok[:-1] + b', "zone": 1, "door": 2}',
                400,
                "bad_request",
                "unknown field(s): door, zone",
            ),
        ),
        (
            "too large",
            Bad(entry, ok + b" " * (MAX_BODY + 1 - len(ok)), 413, "too_large", TOO_LARGE),
        ),
        (
            "much too large",
            Bad(entry, b'{"x": "' + b"a" * 200_000 + b'"}', 413, "too_large", TOO_LARGE),
        ),
        ("unknown gate", Bad("nope", ok, 404, "unknown_gate", UNKNOWN_GATE)),
        ("gate id in capitals", Bad(entry.upper(), ok, 404, "unknown_gate", UNKNOWN_GATE)),
    ]


def _check_in(data: dict[str, Any], message: str) -> Bad:
    return Bad("entry_1", json.dumps(data).encode(), 400, "bad_request", message)


def _exit(data: dict[str, Any], message: str) -> Bad:
    return Bad("exit_1", json.dumps(data).encode(), 400, "bad_request", message)


def _signal(data: dict[str, Any], message: str) -> Bad:
    return Bad("entry_1", json.dumps(data).encode(), 400, "bad_request", message)


CHECK_IN: list[tuple[str, Bad]] = [
    *_common("entry_1", CHECK_IN_OK),
    ("neither", _check_in({}, EXACTLY_ONE)),
    ("empty body", Bad("entry_1", b"", 400, "bad_request", EXACTLY_ONE)),
    ("both", _check_in({"qr": "a.b.c", "card_token": CARD}, EXACTLY_ONE)),
    ("both null", _check_in({"qr": None, "card_token": None}, EXACTLY_ONE)),
    ("qr a number", _check_in({"qr": 12345}, QR_TEXT)),
    ("qr a list", _check_in({"qr": ["a.b.c"]}, QR_TEXT)),
    ("qr an object", _check_in({"qr": {"jwt": "a.b.c"}}, QR_TEXT)),
    ("qr true", _check_in({"qr": True}, QR_TEXT)),
    ("qr empty", _check_in({"qr": ""}, QR_TEXT)),
    ("qr too long", _check_in({"qr": "a" * 4097}, QR_TEXT)),
    ("card a number", _check_in({"card_token": 4111111111111111}, CARD_TEXT)),
    ("card empty", _check_in({"card_token": ""}, CARD_TEXT)),
    ("card too long", _check_in({"card_token": "p" * 257}, CARD_TEXT)),
    ("card and a bad qr", _check_in({"card_token": CARD, "qr": 1}, QR_TEXT)),
    ("exit fields", _check_in({"card_token": CARD, "visit": "v"}, "unknown field(s): visit")),
]

EXIT: list[tuple[str, Bad]] = [
    *_common("exit_1", EXIT_OK),
    ("visit a number", _exit({"visit": 5}, VISIT_TEXT)),
    ("visit empty", _exit({"visit": ""}, VISIT_TEXT)),
    ("visit too long", _exit({"visit": "v" * 65}, VISIT_TEXT)),
    ("visit a list", _exit({"visit": ["VISIT"]}, VISIT_TEXT)),
    ("track a number", _exit({"track": 7}, TRACK_TEXT)),
    ("track too long", _exit({"track": "t" * 65}, TRACK_TEXT)),
    ("good visit, bad track", _exit({"visit": "VISIT", "track": False}, TRACK_TEXT)),
    ("a credential", _exit({"visit": "VISIT", "qr": "a.b.c"}, "unknown field(s): qr")),
]

SIGNAL: list[tuple[str, Bad]] = [
    *_common("entry_1", SIGNAL_OK),
    ("no kind", _signal({}, SIGNAL_KIND)),
    ("empty body", Bad("entry_1", b"", 400, "bad_request", SIGNAL_KIND)),
    ("kind credential", _signal({"kind": "credential"}, SIGNAL_KIND)),
    ("kind in capitals", _signal({"kind": "OPENED"}, SIGNAL_KIND)),
    ("kind passed", _signal({"kind": "passed"}, SIGNAL_KIND)),
    ("kind a number", _signal({"kind": 1}, SIGNAL_KIND)),
    ("kind null", _signal({"kind": None}, SIGNAL_KIND)),
    ("with a value", _signal({"kind": "opened", "value": "a.b.c"}, "unknown field(s): value")),
    ("signal at an unknown gate", Bad("exit_9", SIGNAL_OK, 404, "unknown_gate", UNKNOWN_GATE)),
]


SIGNAL_KINDS_NOT_TEXT: list[tuple[str, Bad]] = [
    ("kind a list", _signal({"kind": ["opened"]}, SIGNAL_KIND)),
    ("kind an object", _signal({"kind": {"opened": True}}, SIGNAL_KIND)),
]


def _params(endpoint: str, cases: list[tuple[str, Bad]], *marks: pytest.MarkDecorator) -> list[Any]:
    return [
        pytest.param(endpoint, bad, id=f"{endpoint}: {name}", marks=marks) for name, bad in cases
    ]


@pytest.mark.parametrize(
    ("endpoint", "bad"),
    [
        *_params("check-in", CHECK_IN),
        *_params("exit", EXIT),
        *_params("signal", SIGNAL),
        *_params("signal", SIGNAL_KINDS_NOT_TEXT),
    ],
)
async def test_a_bad_request_gets_a_json_error_and_changes_nothing(
    shop: Shop, endpoint: str, bad: Bad
) -> None:
    before = await shop.state()

    answer = await shop.post(
        f"/v1/gates/{bad.gate}/{endpoint}",
        bad.data.replace(b"VISIT", shop.visit.encode()),
        headers=bad.headers,
        content_type=bad.content_type,
    )

    assert answer == (bad.status, JSON_TYPE, {"error": bad.code, "message": bad.message})
    assert await shop.state() == before
    assert shop.visit in shop.bridge.inside


async def test_the_good_bodies_of_the_cases_are_good(shop: Shop) -> None:
    """The bodies the bad cases start from are accepted as they are (so each case tests
    only what it changes)."""
    status, _, body = await shop.post("/v1/gates/entry_1/signal", SIGNAL_OK)
    assert status == 202, body
    status, _, body = await shop.post("/v1/gates/entry_1/check-in", CHECK_IN_OK)
    assert (status, body["opened"]) == (200, True), body
    status, _, body = await shop.post(
        "/v1/gates/exit_1/exit", EXIT_OK.replace(b"VISIT", shop.visit.encode())
    )
    assert (status, body["visit"]) == (200, shop.visit), body


async def test_a_check_in_at_the_exit_is_refused_without_opening(shop: Shop) -> None:
    """A credential at the wrong gate is a refusal (recorded), not an open."""
    before = await shop.state()
    status, _, body = await shop.post("/v1/gates/exit_1/check-in", CHECK_IN_OK)
    assert (status, body["opened"], body["outcome"], body["reason"]) == (
        403,
        False,
        "denied",
        "wrong_gate",
    )
    after = await shop.state()
    assert after["commands"] == before["commands"]
    assert after["occupancy"] == before["occupancy"] == 1
    assert after["db"]["sessions"] == before["db"]["sessions"]
    assert (await shop.outbox())[len(before["db"]["outbox"]) :] == ["access_denied"]


async def test_an_exit_at_the_entry_gate_does_not_open_it(shop: Shop) -> None:
    before = await shop.state()
    status, _, _ = await shop.post("/v1/gates/entry_1/exit", b"{}")
    assert status != 200
    after = await shop.state()
    assert after["commands"] == before["commands"]
    assert after["occupancy"] == before["occupancy"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/v1/gates/entry_1/check-in", 405, id="GET check-in"),
        pytest.param("PUT", "/v1/gates/exit_1/exit", 405, id="PUT exit"),
        pytest.param("POST", "/v1/gates/entry_1/open", 404, id="unknown action"),
    ],
)
async def test_a_wrong_method_or_path_gets_a_json_error(
    shop: Shop, method: str, path: str, status: int
) -> None:
    before = await shop.state()
    async with shop.http.request(method, f"{shop.url}{path}", headers=GOOD, json={}) as answer:
        assert answer.status == status
        assert await shop.state() == before
        assert answer.content_type == JSON_TYPE
        assert set(await answer.json()) == {"error", "message"}


# --- the read endpoints ----------------------------------------------------------------------


async def test_status_json(shop: Shop) -> None:
    await shop.post("/v1/gates/exit_1/check-in", CHECK_IN_OK)  # refused: wrong gate
    async with shop.http.get(f"{shop.url}/v1/status") as answer:  # no token needed
        assert answer.status == 200
        assert answer.content_type == JSON_TYPE
        text = await answer.text()
    shown = json.loads(text)
    assert {key: shown.pop(key) for key in ("gate_states", "recent_events", "updated")}
    assert shown == {
        "v": 1,
        "site": "store-042",
        "name": STORE_NAME,
        "online": True,
        "capacity": 10,
        "occupancy": 1,
        "gates": [
            {"id": "entry_1", "name": GATE_NAME, "role": "entry"},
            {"id": "exit_1", "name": "Exit", "role": "exit"},
        ],
        "inside_sessions": 1,
        "counters": {
            "checked_in": 1,
            "checked_out": 0,
            "denied": 1,
            "inside_at_start": 0,
            "people_in": 1,
            "people_checked_out": 0,
            "people_unrecognised": 0,
        },
        "denials": {"wrong_gate": 1},
        "refusals_last_hour": {"wrong_gate": 1},
        "broker": None,
        "outbox_pending": None,
        "outbox": {"waiting": 6, "oldest": shown["outbox"]["oldest"]},
    }
    for secret in (TOKEN, CARD, shop.visit, shop.track):
        assert secret not in text


async def test_status_page_escapes_what_it_shows(shop: Shop) -> None:
    async with shop.http.get(f"{shop.url}/") as answer:
        assert answer.status == 200
        assert answer.content_type == "text/html"
        page = await answer.text()
    assert "<script>" not in page
    assert "<b>north" not in page
    assert "&lt;script&gt;alert(&quot;store&quot;)&lt;/script&gt; &amp; Co" in page
    assert f"<title>{'Corner &lt;script&gt;'}" in page
    assert "Entry &lt;b&gt;north&lt;/b&gt;" in page
    assert "Inside now: <b>1</b> of 10" in page
    assert "came in 1 (1 check-in) · left 0 (0 checked out, 0 not recognised" in page
    assert "no broker configured: 5 events kept here, not sent anywhere" in page
    for secret in (TOKEN, CARD, shop.visit, shop.track):
        assert secret not in page


async def test_status_with_a_broker_that_comes_and_goes(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    async with open_shop(tmp_path, BrokerConfig(mosquitto.host, mosquitto.port)) as shop:
        publisher = shop.bridge.publisher
        assert publisher is not None

        async def status() -> dict[str, Any]:
            async with shop.http.get(f"{shop.url}/v1/status") as answer:
                return await answer.json()  # type: ignore[no-any-return]

        async def page() -> str:
            async with shop.http.get(f"{shop.url}/") as answer:
                return await answer.text()

        async def all_sent() -> bool:
            return (await status())["outbox_pending"] == 0 and publisher.connected

        await until("the outbox sent to the broker", all_sent)
        shown = await status()
        assert shown["broker"] == {"connected": True, "published": publisher.published}
        assert publisher.published >= 5  # the first shopper's events
        assert "broker connected · all sent" in await page()

        mosquitto.stop()
        await shop.post("/v1/gates/exit_1/exit", b"{}")  # its events wait in the outbox

        async def disconnected() -> bool:
            return (await status())["broker"]["connected"] is False

        await until("the bridge to notice the broker is gone", disconnected)
        shown = await status()
        assert shown["outbox_pending"] >= 2
        assert (
            f"BROKER NOT CONNECTED · {shown['outbox_pending']} waiting to be sent, the oldest for"
        ) in await page()


class CountingPublisher(Publisher):
    """A publisher that knows whether a publish is on its way (to tell when it is idle)."""

    in_flight = 0

    def _client(self) -> aiomqtt.Client:
        client = super()._client()
        publish = client.publish

        async def counted(*args: Any, **kwargs: Any) -> None:
            self.in_flight += 1
            try:
                await publish(*args, **kwargs)
            finally:
                self.in_flight -= 1

        client.publish = counted  # type: ignore[method-assign]
        return client


async def test_status_shows_a_lost_broker_while_idle(tmp_path: Path, mosquitto: Mosquitto) -> None:
    broker = BrokerConfig(mosquitto.host, mosquitto.port)
    async with open_shop(tmp_path, broker, CountingPublisher) as shop:
        publisher = shop.bridge.publisher
        assert isinstance(publisher, CountingPublisher)

        async def idle() -> bool:  # connected, everything sent, nothing on its way
            return (
                publisher.connected
                and await publisher.pending() == 0
                and not len(shop.bridge.backlog)
                and not publisher._status_dirty
                and not publisher._wake.is_set()
                and publisher.in_flight == 0
            )

        await until("the publisher to be idle", idle)
        mosquitto.stop()

        async def disconnected() -> bool:
            async with shop.http.get(f"{shop.url}/v1/status") as answer:
                return (await answer.json())["broker"]["connected"] is False

        await until("the bridge to notice the broker is gone", disconnected)
        async with shop.http.get(f"{shop.url}/") as answer:
            assert "BROKER NOT CONNECTED" in await answer.text()


async def test_status_reads_change_nothing(shop: Shop) -> None:
    before = await shop.state()
    for path in ("/", "/v1/status", "/?refresh=1"):
        async with shop.http.get(f"{shop.url}{path}") as answer:
            assert answer.status == 200
    assert await shop.state() == before


async def test_the_database_file_holds_what_the_bridge_says(shop: Shop) -> None:
    """The checks above read through the bridge's own connection; a second one agrees."""
    before = await shop.state()
    with closing(sqlite3.connect(shop.database, isolation_level=None)) as db:
        outbox = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
        sessions = db.execute("SELECT visit_id, state FROM sessions").fetchall()
    db.close()
    assert outbox == len(before["db"]["outbox"]) == 5
    assert sessions == [(shop.visit, "inside")]
