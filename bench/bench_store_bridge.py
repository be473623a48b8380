"""Store bridge: gate decisions with 200 shoppers inside, and the outbox's throughput to MQTT.

Run: .venv/bin/python -m pytest bench/bench_store_bridge.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

Everything is real and in one process except the brokers and the subscriber: the `Bridge`
with its SQLite file (WAL, its own thread), simulated turnstiles (4 entry, 4 exit, a
passage reported 0.25 s after each open), its aiohttp API on 127.0.0.1, its `Publisher`
connected to a real Mosquitto on 127.0.0.1 (`tests.mosquitto.Mosquitto`, configured as the
tests configure it), app QR codes signed by an `Operator` (EdDSA and ES256) and verified
for real. Headquarters is a durable QoS 1 subscriber (paho, persistent session) in its own
process, offline while anything is timed: the broker queues for it, and it collects
afterwards, so that its work does not compete for the CPU. The event loop runs without
debug mode (Home Assistant's harness turns it on; a production bridge runs without it).

1. Gate decisions. Capacity 1000, 200 sessions checked in before anything is measured.
   Each round presents waves of 200 credentials at once (all "presented" at the same
   instant, spread over the gates) and, after each check-in wave, lets the 200 oldest
   shoppers out at once, so that 200 stay inside. The interval is what `Decision.decided_ms`
   stands for, measured from outside: from the moment the wave is presented to the moment
   the gate's `open()` is called for that credential (the gate method is wrapped to take the
   time; the request is recognised by the asyncio task that serves it). Requests of a wave
   queue behind one another on the event loop, as at a busy store: the p99 is about the time
   to serve the whole wave. `decided_ms` itself starts when a request's coroutine first
   runs, so it leaves that queueing out; it is reported next to the answer times. Before
   each wave the bridge is quiet (passages reported, outbox published); its publisher runs.

   Baselines, measured the same way in the same rounds on a spare simulated gate: the bare
   `SimulatedGate.open()` call, and `verify_qr` (EdDSA / ES256 tokens like the check-ins')
   followed by `open()`, the floor for 200 check-ins that each verify a signature on one
   event loop. Also: refused check-ins (replayed, bad signature, expired, another store: 50
   each; presented -> refusal answered), exits (the gate opens first), and open commands per
   accepted (exactly 1) and per refused (0) credential, asserted on every wave.

2. Outbox throughput. 5,000 events (copies, with new ids, of the events part 1 wrote) are
   put in the outbox in one transaction; the publisher, connected and idle, is woken and
   timed until the last batch is marked sent (each event acknowledged by the broker). The
   baseline is raw publishing of the same payloads with the same library and settings
   (aiomqtt, QoS 1, `max_inflight_messages=BATCH`, batches of `BATCH` awaited together),
   alternating which goes first, after an unrecorded warm-up round. Twice: against the
   broker as the tests configure it (Mosquitto's defaults: Nagle's algorithm on its
   sockets, which holds back PUBACKs) and against a second one with `set_tcp_nodelay true`.
   The subscriber must have every id of every run; duplicates are counted.

aiomqtt warns on every QoS 1 publish made while more than 10 are unacknowledged (about 190
times per batch of 200): those warnings are counted and dropped (`PendingWarnings`).

Only correctness is asserted; times are reported, never asserted.
"""

import asyncio
import contextlib
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt
import pytest
from aiohttp.test_utils import TestServer

from store_bridge.bridge import Bridge, Decision, GateInfo, StoreSettings
from store_bridge.core.credentials import verify_qr
from store_bridge.database import Database
from store_bridge.events import Wire, to_json
from store_bridge.gates.base import GateRole
from store_bridge.gates.simulator import SimulatedGate
from store_bridge.outbox import BATCH, BrokerConfig, Publisher
from store_bridge.storage import Store
from store_bridge.vocabulary import events_topic, new_id
from store_bridge.web import make_app
from tests.mosquitto import Mosquitto, find_mosquitto
from tests.store_bridge.conftest import API_TOKEN, AUTH, ISSUER, SITE, Operator

CAPACITY = 1000
INSIDE = 200
WAVE = 200
ROUNDS = 5
WARMUP = 1
GATES = 4  # entry gates, and as many exit gates
PASSAGE_S = 0.25
LIFETIME_S = 60  # the longest a QR code may live: replayed tokens must not expire first
OUTBOX_EVENTS = 5000
OUTBOX_ROUNDS = 3
OUTBOX_WARMUP = 1000  # events per path in an unrecorded first round, per broker
PREFIX = "concierge/store"
TOPIC = events_topic(PREFIX, SITE)
REFUSALS = ("replayed", "bad_signature", "expired", "wrong_store")

SUBSCRIBER = """
import json, sys, threading, time
import paho.mqtt.client as mqtt

host, port, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3]
got, lock, subscribed = [], threading.Lock(), threading.Event()

def on_connect(client, userdata, flags, reason, properties):
    client.subscribe(topic, qos=1)

def on_subscribe(client, userdata, mid, reasons, properties):
    subscribed.set()

def on_message(client, userdata, message):
    with lock:
        got.append(message.payload)

client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-hq", clean_session=False)
client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message

def online():
    subscribed.clear()
    client.connect(host, port)
    client.loop_start()
    return subscribed.wait(10)

def offline():
    client.disconnect()
    client.loop_stop()

print("ready" if online() else "not subscribed", flush=True)
offline()  # the broker queues for the session while runs are timed
for line in sys.stdin:  # "<n>": online until n arrived (60 s at most) and 0.2 s quiet
    online()
    deadline = time.monotonic() + 60
    while len(got) < int(line) and time.monotonic() < deadline:
        time.sleep(0.005)
    seen = -1
    while seen != len(got):
        seen = len(got)
        time.sleep(0.2)
    offline()
    with lock:
        batch, got[:] = list(got), []
    print(json.dumps([json.loads(p)["id"] for p in batch]), flush=True)
"""


class PendingWarnings(logging.Filter):
    """Counts and drops aiomqtt's "There are %d pending publish calls." warnings.

    aiomqtt warns on every QoS 1 publish made while more than 10 are unacknowledged: about
    190 times per batch of 200, for the `Publisher` and the raw baseline alike (same client
    settings). They are counted (see the tables) and kept off the terminal.
    """

    def __init__(self) -> None:
        """Start counting."""
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop (and count) the pending-calls warning; let anything else through."""
        if record.msg == "There are %d pending publish calls.":
            self.count += 1
            return False
        return True


PENDING = PendingWarnings()


# The shared bench conftest starts Home Assistant for every benchmark (through these two
# autouse fixtures); the store bridge is a standalone service: no Home Assistant here.
@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Nothing to enable: no Home Assistant in this benchmark."""


@pytest.fixture(autouse=True)
def config_dir_in_tmp() -> None:
    """No Home Assistant config folder in this benchmark."""


def _p50(samples: list[float]) -> float:
    return statistics.median(samples)


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


@contextlib.contextmanager
def _broker(*, nodelay: bool = False) -> Iterator[Mosquitto]:
    """A Mosquitto as the tests configure it; `nodelay`: with `set_tcp_nodelay true` added."""
    binary = find_mosquitto()
    if binary is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    with tempfile.TemporaryDirectory(prefix="bench-mosquitto-") as workdir:
        Path(workdir).chmod(0o777)  # mosquitto started as root writes here as "mosquitto"
        broker = Mosquitto(binary, Path(workdir))
        if nodelay:
            with broker.config.open("a", encoding="utf-8") as config:
                config.write("set_tcp_nodelay true\n")
        broker.start()
        try:
            yield broker
        finally:
            broker.stop()


class Subscriber:
    """Headquarters: a durable QoS 1 subscriber in its own process, reporting the ids it got.

    It is offline while anything is timed (the broker queues for its persistent session),
    so that its work does not compete for the CPU; `collect` brings it online to drain.
    """

    def __init__(self, broker: Mosquitto) -> None:
        """Start the process (see `ready`)."""
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", SUBSCRIBER, broker.host, str(broker.port), TOPIC],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    async def ready(self) -> None:
        """Wait until it is subscribed."""
        assert self.process.stdout is not None
        line = await asyncio.to_thread(self.process.stdout.readline)
        assert line.strip() == "ready", line

    async def collect(self, expected: int) -> list[str]:
        """The ids received since the last call (once `expected` arrived, or after 60 s)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{expected}\n")
        self.process.stdin.flush()
        ids: list[str] = json.loads(await asyncio.to_thread(self.process.stdout.readline))
        return ids

    def close(self) -> None:
        """End the process (it disconnects when its input closes)."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a hung subscriber
            self.process.kill()
            self.process.wait(5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def _delivery(ids: list[str], expected: list[str]) -> tuple[int, int, int]:
    """(unique received, duplicates, missing) for a run."""
    unique = set(ids)
    missing = len(set(expected) - unique)
    assert unique <= set(expected), "the subscriber got events nobody published in this run"
    return len(unique), len(ids) - len(unique), missing


@dataclass
class Row:
    """One measured path: its samples (seconds) over all rounds."""

    name: str
    verify: str | None = None
    """Which verify+open baseline the ratios compare to (None: only the bare open)."""
    opened: list[float] = field(default_factory=list)
    """Presented -> open() called (for refusals: presented -> refusal answered)."""
    answered: list[float] = field(default_factory=list)
    decided: list[float] = field(default_factory=list)
    """`Decision.decided_ms` (in-process paths only), in seconds."""
    opens_per_request: set[int] = field(default_factory=set)


@dataclass
class Wave:
    """What a wave of concurrent requests gave."""

    opened: dict[str, list[float]]
    answered: dict[str, float]
    results: dict[str, Any]


@dataclass
class Rig:
    """The store, its gates, its API client, and the instruments on them."""

    bridge: Bridge
    operator: Operator
    entries: list[SimulatedGate]
    exits: list[SimulatedGate]
    spare: SimulatedGate
    http: aiohttp.ClientSession
    server: TestServer
    tags: dict[asyncio.Task[Any], str] = field(default_factory=dict)
    opens: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    recent: list[str] = field(default_factory=list)
    """EdDSA tokens accepted in the latest wave (to be replayed)."""

    @property
    def gates(self) -> list[SimulatedGate]:
        """Every simulated gate, the spare one included."""
        return [*self.entries, *self.exits, self.spare]

    def tag(self, key: str) -> None:
        """The current task serves the request `key`."""
        task = asyncio.current_task()
        assert task is not None
        self.tags[task] = key

    def instrument(self) -> None:
        """Time each `open()` per request; tag the tasks that serve check-ins and exits."""
        for gate in self.gates:

            async def timed_open(original: Callable[[], Awaitable[None]] = gate.open) -> None:
                task = asyncio.current_task()
                self.opens[self.tags.get(task, "") if task else ""].append(time.perf_counter())
                await original()

            gate.open = timed_open  # type: ignore[method-assign]
        check_in, leave = self.bridge.check_in_qr, self.bridge.exit

        async def tagged_check_in(gate_id: str, token: str) -> Decision:
            self.tag(token)
            return await check_in(gate_id, token)

        async def tagged_exit(
            gate_id: str, *, visit_id: str | None = None, track_id: str | None = None
        ) -> Decision:
            self.tag(visit_id or track_id or "")
            return await leave(gate_id, visit_id=visit_id, track_id=track_id)

        self.bridge.check_in_qr = tagged_check_in  # type: ignore[method-assign]
        self.bridge.exit = tagged_exit  # type: ignore[method-assign]

    async def wave(self, calls: dict[str, Callable[[], Awaitable[Any]]]) -> Wave:
        """Present every call at once; when was each gate opened and each answer given."""
        self.tags.clear()
        self.opens.clear()
        answered: dict[str, float] = {}

        async def one(key: str, call: Callable[[], Awaitable[Any]]) -> Any:  # noqa: ANN401
            result = await call()
            answered[key] = time.perf_counter()
            return result

        start = time.perf_counter()
        results = await asyncio.gather(*(one(key, call) for key, call in calls.items()))
        opened = {key: [t - start for t in self.opens.get(key, [])] for key in calls}
        assert set(self.opens) <= set(calls), "an open command nobody asked for"
        return Wave(
            opened,
            {key: t - start for key, t in answered.items()},
            dict(zip(calls, results, strict=True)),
        )

    async def settle(self) -> None:
        """Wait until every passage was reported, its events written and all published."""
        bridge, publisher = self.bridge, self.bridge.publisher
        assert publisher is not None
        while True:
            if all(g.passages == g.commands for g in self.gates) and not bridge._tasks:  # noqa: SLF001
                pending = await publisher.pending()
                if pending == 0:
                    return
            await asyncio.sleep(0.01)

    def tokens(self, kid: str) -> list[str]:
        """A wave of fresh app QR codes."""
        return [self.operator.qr(kid=kid, lifetime=LIFETIME_S) for _ in range(WAVE)]

    def entry(self, n: int) -> str:
        """The entry gate for the n-th credential of a wave."""
        return self.entries[n % len(self.entries)].gate_id

    def exit_gate(self, n: int) -> str:
        """The exit gate for the n-th shopper of a wave."""
        return self.exits[n % len(self.exits)].gate_id

    def commands(self, gates: list[SimulatedGate]) -> int:
        """Open commands these gates received so far."""
        return sum(g.commands for g in gates)


def _record(row: Row, wave: Wave, *, opens: int, decided: bool, keep: bool) -> None:
    """Check that every request had exactly `opens` open commands; keep the samples."""
    seen = {len(times) for times in wave.opened.values()}
    assert seen == {opens}, (row.name, seen)
    if not keep:
        return
    row.opens_per_request |= seen
    if opens:
        row.opened.extend(times[0] for times in wave.opened.values())
    else:
        row.opened.extend(wave.answered.values())
    row.answered.extend(wave.answered.values())
    if decided:
        row.decided.extend(r.decided_ms / 1000 for r in wave.results.values())


async def bare_open(rig: Rig) -> Wave:
    """Baseline: 200 tasks call the spare gate's `open()` at once."""

    def call(key: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            rig.tag(key)
            await rig.spare.open()

        return run

    before = rig.spare.commands
    wave = await rig.wave({f"bare-{n}": call(f"bare-{n}") for n in range(WAVE)})
    assert rig.spare.commands - before == WAVE
    return wave


async def bare_verify(rig: Rig, kid: str) -> Wave:
    """Baseline: 200 tasks verify a token each (as the bridge does), then call `open()`."""
    settings = rig.bridge.settings

    def call(token: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            rig.tag(token)
            verify_qr(
                token, keys=settings.keys, issuer=settings.issuer, site=settings.site,
                now=datetime.now(UTC), max_party=settings.max_party,
            )  # fmt: skip
            await rig.spare.open()

        return run

    return await rig.wave({token: call(token) for token in rig.tokens(kid)})


async def check_in_direct(rig: Rig, kid: str) -> Wave:
    """200 check-ins through `Bridge.check_in_qr`, at once."""
    bridge = rig.bridge
    tokens = rig.tokens(kid)
    before = rig.commands(rig.entries)
    wave = await rig.wave(
        {token: partial(bridge.check_in_qr, rig.entry(n), token) for n, token in enumerate(tokens)}
    )
    assert all(d.opened for d in wave.results.values()), wave.results
    assert rig.commands(rig.entries) - before == WAVE
    assert bridge.occupancy == INSIDE + WAVE
    if kid == "ed":
        rig.recent = tokens
    return wave


async def one_by_one(rig: Rig, calls: dict[str, Callable[[], Awaitable[Any]]]) -> Wave:
    """The same requests presented one after another (each answered before the next)."""
    opened: dict[str, list[float]] = {}
    answered: dict[str, float] = {}
    results: dict[str, Any] = {}
    for key, call in calls.items():
        single = await rig.wave({key: call})
        opened |= single.opened
        answered |= single.answered
        results |= single.results
    return Wave(opened, answered, results)


async def bare_open_single(rig: Rig) -> Wave:
    """Baseline: the spare gate's `open()`, one call at a time."""

    def call(key: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            rig.tag(key)
            await rig.spare.open()

        return run

    return await one_by_one(rig, {f"single-{n}": call(f"single-{n}") for n in range(WAVE)})


async def check_in_single(rig: Rig, kid: str) -> Wave:
    """200 check-ins through `Bridge.check_in_qr`, one at a time, 200 shoppers inside."""
    bridge = rig.bridge
    tokens = rig.tokens(kid)
    wave = await one_by_one(
        rig,
        {token: partial(bridge.check_in_qr, rig.entry(n), token) for n, token in enumerate(tokens)},
    )
    assert all(d.opened for d in wave.results.values()), wave.results
    assert bridge.occupancy == INSIDE + WAVE
    return wave


async def check_in_http(rig: Rig, kid: str) -> Wave:
    """200 check-ins through the HTTP API (aiohttp's client, 127.0.0.1), at once."""
    tokens = rig.tokens(kid)
    before = rig.commands(rig.entries)

    def call(n: int, token: str) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:  # noqa: ANN401 - the JSON answer
            url = rig.server.make_url(f"/v1/gates/{rig.entry(n)}/check-in")
            async with rig.http.post(url, json={"qr": token}, headers=AUTH) as answer:
                assert answer.status == 200, await answer.text()
                return await answer.json()

        return run

    wave = await rig.wave({token: call(n, token) for n, token in enumerate(tokens)})
    assert all(body["opened"] for body in wave.results.values())
    assert rig.commands(rig.entries) - before == WAVE
    assert rig.bridge.occupancy == INSIDE + WAVE
    return wave


def _tampered(token: str) -> str:
    """The same token with its signature's first character changed."""
    head, payload, signature = token.split(".")
    first = "B" if signature[0] != "B" else "C"
    return f"{head}.{payload}.{first}{signature[1:]}"


async def refused(rig: Rig) -> Wave:
    """200 refused check-ins through `Bridge.check_in_qr`, 50 for each reason, at once."""
    operator, quarter = rig.operator, WAVE // len(REFUSALS)
    assert len(rig.recent) >= quarter, "an accepted EdDSA wave comes first"
    expected = {
        "replayed": rig.recent[:quarter],
        "bad_signature": [_tampered(t) for t in rig.tokens("ed")[:quarter]],
        "expired": [operator.qr(now=time.time() - 3 * LIFETIME_S) for _ in range(quarter)],
        "wrong_store": [operator.qr(aud="store-999") for _ in range(quarter)],
    }
    tokens = [token for reason in REFUSALS for token in expected[reason]]
    before = rig.commands(rig.entries)
    occupancy = rig.bridge.occupancy
    wave = await rig.wave(
        {token: partial(rig.bridge.check_in_qr, rig.entry(n), token)
         for n, token in enumerate(tokens)}
    )  # fmt: skip
    for reason, refused_tokens in expected.items():
        assert {wave.results[t].reason for t in refused_tokens} == {reason}
    assert not any(d.opened for d in wave.results.values())
    assert rig.commands(rig.entries) == before
    assert rig.bridge.occupancy == occupancy
    return wave


async def leave_direct(rig: Rig) -> Wave:
    """The 200 oldest shoppers leave through `Bridge.exit` (by visit id), at once."""
    bridge = rig.bridge
    leaving = list(bridge.inside)[:WAVE]
    before = rig.commands(rig.exits)
    wave = await rig.wave(
        {visit: partial(bridge.exit, rig.exit_gate(n), visit_id=visit)
         for n, visit in enumerate(leaving)}
    )  # fmt: skip
    assert all(d.opened and d.visit_id == v for v, d in wave.results.items())
    assert rig.commands(rig.exits) - before == WAVE
    assert bridge.occupancy == len(bridge.inside) == INSIDE
    return wave


async def leave_single(rig: Rig) -> Wave:
    """The 200 newest shoppers leave through `Bridge.exit`, one at a time."""
    bridge = rig.bridge
    leaving = list(bridge.inside)[-WAVE:]
    wave = await one_by_one(
        rig,
        {
            visit: partial(bridge.exit, rig.exit_gate(n), visit_id=visit)
            for n, visit in enumerate(leaving)
        },
    )
    assert bridge.occupancy == INSIDE
    return wave


async def leave_http(rig: Rig) -> Wave:
    """The 200 oldest shoppers leave through the HTTP API (by track id), at once."""
    bridge = rig.bridge
    leaving = [(s.track_id, s.visit_id) for s in list(bridge.inside.values())[:WAVE]]
    before = rig.commands(rig.exits)

    def call(n: int, track: str) -> Callable[[], Awaitable[Any]]:
        async def run() -> Any:  # noqa: ANN401 - the JSON answer
            url = rig.server.make_url(f"/v1/gates/{rig.exit_gate(n)}/exit")
            async with rig.http.post(url, json={"track": track}, headers=AUTH) as answer:
                assert answer.status == 200, await answer.text()
                return await answer.json()

        return run

    wave = await rig.wave({track: call(n, track) for n, (track, _) in enumerate(leaving)})
    assert all(wave.results[t]["visit"] == v for t, v in leaving)
    assert rig.commands(rig.exits) - before == WAVE
    assert bridge.occupancy == len(bridge.inside) == INSIDE
    return wave


@dataclass
class Rows:
    """Every row of the decision table."""

    single_bare: Row = field(
        default_factory=lambda: Row("one at a time: bare SimulatedGate.open() (baseline)")
    )
    single_ed: Row = field(
        default_factory=lambda: Row("one at a time: check-in, Bridge API, EdDSA", "ed")
    )
    single_leave: Row = field(default_factory=lambda: Row("one at a time: exit, Bridge API"))
    bare: Row = field(default_factory=lambda: Row("bare SimulatedGate.open() (baseline)"))
    verify_ed: Row = field(default_factory=lambda: Row("verify_qr EdDSA + open() (baseline)"))
    verify_es: Row = field(default_factory=lambda: Row("verify_qr ES256 + open() (baseline)"))
    direct_ed: Row = field(default_factory=lambda: Row("check-in, Bridge API, EdDSA", "ed"))
    direct_es: Row = field(default_factory=lambda: Row("check-in, Bridge API, ES256", "es"))
    http_ed: Row = field(default_factory=lambda: Row("check-in, HTTP API, EdDSA", "ed"))
    refused: Row = field(
        default_factory=lambda: Row("refused check-in, Bridge API (-> answer)", "ed")
    )
    leave_direct: Row = field(default_factory=lambda: Row("exit, Bridge API (visit id)"))
    leave_http: Row = field(default_factory=lambda: Row("exit, HTTP API (track id)"))


def _steps(rig: Rig, rows: Rows, *, record: bool) -> list[Callable[[], Awaitable[None]]]:
    """One round's waves; each check-in wave is followed by the exit wave that undoes it."""

    def keep(row: Row, wave: Wave, *, opens: int = 1, decided: bool = True) -> None:
        _record(row, wave, opens=opens, decided=decided, keep=record)

    async def bare() -> None:
        keep(rows.bare, await bare_open(rig), decided=False)

    async def verify_ed() -> None:
        keep(rows.verify_ed, await bare_verify(rig, "ed"), decided=False)

    async def verify_es() -> None:
        keep(rows.verify_es, await bare_verify(rig, "p256"), decided=False)

    async def direct_ed() -> None:
        keep(rows.direct_ed, await check_in_direct(rig, "ed"))
        await rig.settle()
        keep(rows.leave_direct, await leave_direct(rig))

    async def direct_es() -> None:
        keep(rows.direct_es, await check_in_direct(rig, "p256"))
        await rig.settle()
        keep(rows.leave_direct, await leave_direct(rig))

    async def http_ed() -> None:
        keep(rows.http_ed, await check_in_http(rig, "ed"), decided=False)
        await rig.settle()
        keep(rows.leave_http, await leave_http(rig), decided=False)

    async def refuse() -> None:
        keep(rows.refused, await refused(rig), opens=0)

    async def single() -> None:
        keep(rows.single_bare, await bare_open_single(rig), decided=False)
        keep(rows.single_ed, await check_in_single(rig, "ed"))
        await rig.settle()
        keep(rows.single_leave, await leave_single(rig))

    return [single, bare, verify_ed, verify_es, direct_ed, direct_es, http_ed, refuse]


async def measure_decisions(rig: Rig) -> Rows:
    """WARMUP + ROUNDS rounds of every wave, rotating their order (refusals after EdDSA)."""
    rows = Rows()
    for n in range(WARMUP + ROUNDS):
        steps = _steps(rig, rows, record=n >= WARMUP)
        *rotating, refuse = steps
        shift = n % len(rotating)
        for step in [*rotating[shift:], *rotating[:shift], refuse]:
            await rig.settle()
            await step()
    await rig.settle()
    return rows


def _ms(value: float) -> str:
    return f"{value * 1000:.2f}"


def _print_decisions(rows: Rows, took: float, warnings: int) -> None:
    bases = {"ed": rows.verify_ed, "es": rows.verify_es}
    r50, r99 = _p50(rows.bare.opened), _p99(rows.bare.opened)
    print()
    print(
        f"### Gate decisions: waves of {WAVE} credentials presented at once, {INSIDE} shoppers "
        f"inside, capacity {CAPACITY}, {ROUNDS} rounds, {took:.0f} s"
    )
    print()
    print("presented -> open() called (ms; refusals: -> answered); ratios to the baselines")
    print()
    print("| path | n | p50 | p99 | p50 / open() | p99 / open() | p50 / verify+open "
          "| p99 / verify+open | opens per request |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    s50, s99 = _p50(rows.single_bare.opened), _p99(rows.single_bare.opened)
    for row in vars(rows).values():
        p50, p99 = _p50(row.opened), _p99(row.opened)
        # One-at-a-time rows are measured against the one-at-a-time bare open().
        b50, b99 = (s50, s99) if row.name.startswith("one at a time") else (r50, r99)
        base = bases.get(row.verify) if row.verify and not row.name.startswith("one") else None
        vs = f"{p50 / _p50(base.opened):.2f} | {p99 / _p99(base.opened):.2f}" if base else "- | -"
        opens = ",".join(map(str, sorted(row.opens_per_request)))
        print(f"| {row.name} | {len(row.opened)} | {_ms(p50)} | {_ms(p99)} | {p50 / b50:.1f} "
              f"| {p99 / b99:.1f} | {vs} | {opens} |")  # fmt: skip
    print()
    print("presented -> answered (ms), and the bridge's own Decision.decided_ms")
    print()
    print("| path | answer p50 | answer p99 | decided_ms p50 | decided_ms p99 |")
    print("|---|---:|---:|---:|---:|")
    for row in vars(rows).values():
        decided = f"{_ms(_p50(row.decided))} | {_ms(_p99(row.decided))}" if row.decided else "- | -"
        print(f"| {row.name} | {_ms(_p50(row.answered))} | {_ms(_p99(row.answered))} "
              f"| {decided} |")  # fmt: skip
    print()
    print(f'aiomqtt "pending publish calls" warnings from the bridge\'s publisher: {warnings}')


class MarkedSent:
    """The bridge's `Database` as the publisher sees it, noting when batches are marked sent."""

    def __init__(self, db: Database) -> None:
        """Wrap the database."""
        self.db = db
        self.marked = 0
        self.target = 0
        self.done = asyncio.Event()
        self.finished = 0.0

    async def call[T](self, work: Callable[[Store], T]) -> T:
        """Run `work` as the database would; count what `Store.mark_sent` marked."""
        result = await self.db.call(work)
        if isinstance(work, partial) and work.func is Store.mark_sent:
            self.marked += len(work.keywords["seqs"])
            if self.marked >= self.target and not self.done.is_set():
                self.finished = time.perf_counter()
                self.done.set()
        return result

    def expect(self, count: int) -> None:
        """The next `count` events marked sent end the run."""
        self.target = self.marked + count
        self.done.clear()


@dataclass
class Throughput:
    """One path's runs."""

    name: str
    seconds: list[float] = field(default_factory=list)
    unique: list[int] = field(default_factory=list)
    duplicates: int = 0
    missing: int = 0
    warnings: int = 0

    def add(
        self, seconds: float, warnings: int, unique: int, duplicates: int, missing: int
    ) -> None:
        """Keep one run's figures."""
        self.seconds.append(seconds)
        self.warnings += warnings
        self.unique.append(unique)
        self.duplicates += duplicates
        self.missing += missing

    @property
    def rate(self) -> float:
        """Events per second (median run)."""
        return OUTBOX_EVENTS / statistics.median(self.seconds)


async def measure_outbox(
    bridge: Bridge, broker: Mosquitto, subscriber: Subscriber, templates: list[Wire]
) -> tuple[Throughput, Throughput]:
    """OUTBOX_ROUNDS runs of each: the outbox through a `Publisher`, and raw publishing."""
    db = MarkedSent(bridge.db)
    config = BrokerConfig(broker.host, broker.port, prefix=PREFIX)
    publisher = Publisher(db, config, SITE, bridge.status, bridge.backlog)  # type: ignore[arg-type]
    outbox, raw = Throughput("outbox -> broker (Publisher)"), Throughput("raw aiomqtt publish")
    publisher.start()
    try:
        async with aiomqtt.Client(
            broker.host, broker.port, identifier="bench-raw-publisher",
            max_inflight_messages=BATCH, timeout=10,
        ) as client:  # fmt: skip
            while not publisher.connected:  # noqa: ASYNC110 - a flag, no event to await
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # its first round (status, empty outbox) is over

            async def through_outbox(events: list[Wire]) -> float:
                await bridge.db.call(lambda store: store.add_events(events))
                db.expect(len(events))
                start = time.perf_counter()
                publisher.wake(status_changed=False)
                await asyncio.wait_for(db.done.wait(), 60)
                return db.finished - start

            async def raw_publish(events: list[Wire]) -> float:
                payloads = [to_json(e) for e in events]  # as the outbox stores them
                start = time.perf_counter()
                for n in range(0, len(payloads), BATCH):
                    await asyncio.gather(
                        *(client.publish(TOPIC, p, qos=1) for p in payloads[n : n + BATCH])
                    )
                return time.perf_counter() - start

            for n, count in enumerate([OUTBOX_WARMUP] + [OUTBOX_EVENTS] * OUTBOX_ROUNDS):
                runs = [(outbox, through_outbox), (raw, raw_publish)]
                for result, run in runs if n % 2 == 0 else runs[::-1]:
                    events = [
                        {**templates[i % len(templates)], "id": new_id()} for i in range(count)
                    ]
                    warned = PENDING.count
                    seconds = await run(events)
                    warnings = PENDING.count - warned
                    delivery = _delivery(await subscriber.collect(count), [e["id"] for e in events])
                    if n:
                        result.add(seconds, warnings, *delivery)
    finally:
        await publisher.stop()
    assert await bridge.db.call(lambda store: store.snapshot().pending) == 0
    return outbox, raw


def _print_outbox(
    outbox: dict[str, tuple[Throughput, Throughput]], own: tuple[int, int, int, int], took: float
) -> None:
    print()
    print(
        f"### Outbox throughput: {OUTBOX_EVENTS} events, QoS 1, batches of {BATCH}, "
        f"{OUTBOX_ROUNDS} runs each (median), {took:.0f} s"
    )
    print()
    print("| broker | path | runs (s) | events/s | ratio to raw | unique received | duplicates "
          "| missing | pending-calls warnings |")  # fmt: skip
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for broker, (through, raw) in outbox.items():
        for result in (raw, through):
            runs = " / ".join(f"{t:.2f}" for t in result.seconds)
            print(f"| {broker} | {result.name} | {runs} "
                  f"| {result.rate:,.0f} | {result.rate / raw.rate:.2f} "
                  f"| {min(result.unique)} of {OUTBOX_EVENTS} | {result.duplicates} "
                  f"| {result.missing} | {result.warnings} |")  # fmt: skip
    events, unique, duplicates, missing = own
    print()
    print(
        f"Part 1's own events (published while the waves ran, Mosquitto defaults): {events} in "
        f"the outbox, {unique} unique received, {duplicates} duplicates, {missing} missing"
    )


async def _start_rig(running: contextlib.AsyncExitStack, path: Path, broker: Mosquitto) -> Rig:
    """The store (publishing to `broker`), its API, a spare gate; stopped by `running`."""
    operator = Operator()
    entries = [
        SimulatedGate(f"entry_{n + 1}", GateRole.ENTRY, passage_seconds=PASSAGE_S)
        for n in range(GATES)
    ]
    exits = [
        SimulatedGate(f"exit_{n + 1}", GateRole.EXIT, passage_seconds=PASSAGE_S)
        for n in range(GATES)
    ]
    settings = StoreSettings(
        site=SITE, name="Bench store", capacity=CAPACITY, issuer=ISSUER, keys=operator.keys
    )
    gates = {g.gate_id: GateInfo(g, g.gate_id, "simulated") for g in (*entries, *exits)}
    bridge = Bridge(settings, Database(path), gates)
    config = BrokerConfig(broker.host, broker.port, prefix=PREFIX)
    bridge.publisher = Publisher(bridge.db, config, SITE, bridge.status, bridge.backlog)
    await bridge.start()
    running.push_async_callback(bridge.stop)
    spare = SimulatedGate("spare", GateRole.ENTRY, passage_seconds=PASSAGE_S)
    await spare.start(lambda _: None)
    running.push_async_callback(spare.stop)
    server = TestServer(make_app(bridge, API_TOKEN), host="127.0.0.1")
    await server.start_server()
    running.push_async_callback(server.close)
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=2 * WAVE))
    running.push_async_callback(http.close)
    rig = Rig(bridge, operator, entries, exits, spare, http, server)
    rig.instrument()
    return rig


async def _outbox_ids(bridge: Bridge) -> list[str]:
    rows = await bridge.db.call(
        lambda store: store.db.execute("SELECT event_id FROM outbox ORDER BY seq").fetchall()
    )
    return [row[0] for row in rows]


async def _templates(bridge: Bridge) -> list[Wire]:
    """Part 1's events, as the outbox holds them (a real mix of types and sizes)."""
    rows = await bridge.db.call(
        lambda store: store.db.execute("SELECT payload FROM outbox ORDER BY seq").fetchall()
    )
    return [json.loads(row[0]) for row in rows]


async def test_bench_store_bridge(tmp_path: Path, socket_enabled: None) -> None:  # noqa: ARG001
    """Measure the gate decisions, then the outbox's throughput, against their baselines."""
    loop = asyncio.get_running_loop()
    debug = loop.get_debug()
    loop.set_debug(False)
    mqtt_logger = logging.getLogger("mqtt")  # aiomqtt's logger
    mqtt_logger.addFilter(PENDING)
    try:
        with contextlib.ExitStack() as stack:
            broker = stack.enter_context(_broker())
            fast = stack.enter_context(_broker(nodelay=True))
            subscriber = stack.enter_context(contextlib.closing(Subscriber(broker)))
            fast_subscriber = stack.enter_context(contextlib.closing(Subscriber(fast)))
            await subscriber.ready()
            await fast_subscriber.ready()
            async with contextlib.AsyncExitStack() as running:
                started = time.perf_counter()
                rig = await _start_rig(running, tmp_path / "bridge.sqlite3", broker)
                bridge = rig.bridge
                shoppers = rig.tokens("ed")
                for n, token in enumerate(shoppers):  # 200 inside before anything is measured
                    assert (await bridge.check_in_qr(rig.entry(n), token)).opened
                rig.recent = shoppers
                assert bridge.occupancy == INSIDE
                warned = PENDING.count
                rows = await measure_decisions(rig)
                ids = await _outbox_ids(bridge)
                own = (len(ids), *_delivery(await subscriber.collect(len(ids)), ids))
                own_warnings = PENDING.count - warned
                assert own[3] == 0, "events of part 1 never reached the subscriber"
                assert bridge.publisher is not None
                await bridge.publisher.stop()  # part 2 brings its own publishers
                part_1 = time.perf_counter() - started
                templates = await _templates(bridge)
                outbox = {
                    "Mosquitto defaults": await measure_outbox(
                        bridge, broker, subscriber, templates
                    ),
                    "set_tcp_nodelay true": await measure_outbox(
                        bridge, fast, fast_subscriber, templates
                    ),
                }
                part_2 = time.perf_counter() - started - part_1
    finally:
        mqtt_logger.removeFilter(PENDING)
        loop.set_debug(debug)
    _print_decisions(rows, part_1, own_warnings)
    _print_outbox(outbox, own, part_2)
    assert all(r.missing == 0 for pair in outbox.values() for r in pair)
