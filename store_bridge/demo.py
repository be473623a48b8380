"""`store-bridge demo`: a simulated store on the real bridge, with nothing else to install.

An entry and an exit turnstile (simulated gates), a SQLite file in a temporary folder (or
`--data`), the real HTTP API on 127.0.0.1, and a stream of simulated shoppers who check in
(most with the app's QR code, signed with a demo operator key made at start; some with a
card tap from a simulated card terminal; now and then one with an expired code), walk
around, and leave through the exit (recognised by their anonymous track id). The person
tracker sees them too (`demo_walkers.py`: one at a time through the turnstile, bound to their
tracks at the gate, never at a shelf); they leave room for the tracked entry's shoppers and
stay away while only that is free, and a full store refuses them with `store_full`.

The store has shelves too (`demo_shelves.py`): a dozen lanes on load cells and a person
tracker, simulated by `shop_sim` in real time. Tracked shoppers come in through a second
entry gate, pick, hesitate, put back, crowd at one shelf and lose their track now and then:
the status page shows their carts filling, the picks waiting for review, the anomalies.
The first gate's shoppers only walk the hall: a pick at a shelf is never theirs.

The tracked shoppers pay (`demo_checkout.py`): their carts are charged after they leave by
an embedded fake processor, with the app's saved card or a card tapped at the tracked
entry's terminal, and receipts asked for arrive as `.eml` files in the demo's folder
(``receipts/``, `demo_mail.py`); a card shopper's receipt page is printed.

A status line shows what happens; the status page and JSON are on the printed address.
With `--mqtt HOST:PORT` the events are published to that broker as in production.
"""

import asyncio
import contextlib
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519

from . import words
from .bridge import Bridge, GateInfo, StoreSettings
from .core.card_numbers import looks_like_card_number
from .core.credentials import OperatorKey
from .database import Database
from .demo_checkout import DemoPayments, DemoShoppers, attach_demo_payments, summary
from .demo_shelves import SHELF_GATE, demo_shelf, demo_simulation, play
from .demo_walkers import Walkers
from .gates.base import GateRole
from .gates.simulator import SimulatedGate
from .outbox import BrokerConfig, Publisher
from .service import running
from .terminals import SimulatedTerminal

SITE = "demo-store"
ISSUER = "demo-app"
TERMINALS = {"terminal_1": "entry_1", "terminal_2": SHELF_GATE}
"""The card terminals: one at the untracked entry, one at the tracked shoppers'."""


@dataclass(slots=True)
class DemoOptions:
    """What the command line chose."""

    port: int = 8787
    capacity: int = 12
    duration: float | None = None
    shoppers: int | None = None
    speed: float = 1.0
    data: Path | None = None
    mqtt: tuple[str, int] | None = None
    seed: int | None = None
    out: TextIO = field(default_factory=lambda: sys.stdout)


@dataclass(slots=True)
class Tally:
    """What the shoppers saw."""

    started: int = 0
    finished: int = 0


def _account() -> str:
    """A random pseudonymous account reference (never one that looks like a card number)."""
    account = f"acct-{secrets.token_hex(6)}"
    while looks_like_card_number(account):
        account = f"acct-{secrets.token_hex(6)}"
    return account


class QrSigner:
    """The operator's app backend, in miniature: signs 30-second QR codes."""

    def __init__(self) -> None:
        """Make a demo key pair."""
        self._private = ed25519.Ed25519PrivateKey.generate()
        self.public = OperatorKey("demo", "EdDSA", self._private.public_key())

    def sign(
        self, *, now: float, lifetime: int = 30, party: int = 1, customer: str | None = None
    ) -> str:
        """A QR code for a random pseudonymous account (paying as `customer`, if given)."""
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": SITE,
            "sub": _account(),
            "jti": secrets.token_hex(12),
            "iat": int(now),
            "exp": int(now) + lifetime,
            "party": party,
        }
        if customer is not None:
            claims["cus"] = customer
        return jwt.encode(claims, self._private, algorithm="EdDSA", headers={"kid": "demo"})


def demo_bridge(options: DemoOptions, folder: Path) -> tuple[Bridge, QrSigner]:
    """The demo store's bridge, not started (`demo_checkout` adds its payments)."""
    signer = QrSigner()
    db = Database(folder / "store-bridge.sqlite3")
    passage = 0.4 / options.speed
    gates = {
        "entry_1": GateInfo(
            SimulatedGate("entry_1", GateRole.ENTRY, passage_seconds=passage), "Entry", "simulated"
        ),
        SHELF_GATE: GateInfo(
            SimulatedGate(SHELF_GATE, GateRole.ENTRY, passage_seconds=0.4),
            "Entry (tracked)",
            "simulated",
        ),
        "exit_1": GateInfo(
            SimulatedGate("exit_1", GateRole.EXIT, passage_seconds=passage), "Exit", "simulated"
        ),
    }
    settings = StoreSettings(
        site=SITE,
        name="Demo store",
        capacity=options.capacity,
        issuer=ISSUER,
        keys={"demo": signer.public},
    )
    bridge = Bridge(settings, db, gates, shelf=demo_shelf())
    if options.mqtt is not None:
        bridge.publisher = Publisher(
            db, BrokerConfig(*options.mqtt), SITE, bridge.status, bridge.backlog
        )
    return bridge, signer


@dataclass(slots=True)
class DemoApi:
    """The shoppers' side of the bridge's HTTP API (the kiosk, the exit, the card terminal)."""

    http: aiohttp.ClientSession
    url: str
    headers: dict[str, str]

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body; the JSON answer."""
        async with self.http.post(f"{self.url}{path}", json=body, headers=self.headers) as answer:
            result: dict[str, Any] = await answer.json()
            return result


async def _shopper(  # noqa: PLR0913, PLR0917 - a shopper's world
    api: DemoApi,
    terminal: SimulatedTerminal,
    signer: QrSigner,
    walkers: Walkers,
    rng: random.Random,
    speed: float,
) -> None:
    if walkers.stays_away():
        return  # a long queue at the gate, or a busy store: they come another time
    roll = rng.random()
    party = rng.choice((1, 1, 1, 2)) if roll < 0.7 else 1  # noqa: PLR2004 - the demo's mix
    async with walkers.at_gate(party) as walk:
        if walk is None:
            return
        now = time.time()
        if roll < 0.7:  # noqa: PLR2004 - the app's QR code
            qr = signer.sign(now=now, party=party)
            result = await api.post("/v1/gates/entry_1/check-in", {"qr": qr})
        elif roll < 0.95:  # noqa: PLR2004 - a card tap at the entry's terminal
            answer = await terminal.tap()
            result = answer if isinstance(answer, dict) else {}
        else:  # an old screenshot of a code: expired
            old = signer.sign(now=now - 600)
            result = await api.post("/v1/gates/entry_1/check-in", {"qr": old})
        walk.admitted = bool(result.get("opened"))
    if not walk.admitted:
        return
    try:
        await asyncio.sleep(rng.uniform(3, 12) / speed)
        leave = {"track": result["track"]}
        await walk.leave(lambda: api.post("/v1/gates/exit_1/exit", leave))
    finally:
        walk.forget()


def tally(bridge: Bridge) -> str:
    """Who came and went, adding up to who is inside (`words.tally`)."""
    return words.tally(bridge.counters, bridge.occupancy, bridge.settings.capacity)


def _most_first(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def status_line(bridge: Bridge, elapsed: float, published: str) -> str:
    """One line about the store, for the terminal."""
    counts = _most_first(bridge.denials)
    refused = ", ".join(f"{words.reason(code)} {count}" for code, count in counts)
    return (
        f"[{elapsed:5.0f}s] {tally(bridge)}"
        f" · refused {bridge.counters['denied']}{f' ({refused})' if refused else ''} · {published}"
    )


async def run_demo(options: DemoOptions, on_ready: Callable[[str], None] | None = None) -> int:
    """Run the demo until the duration or shopper count is reached (or Ctrl+C)."""
    rng = random.Random(options.seed)  # noqa: S311 - a simulation, not security
    with contextlib.ExitStack() as stack:
        folder = options.data or Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="store-bridge-demo-"))
        )
        folder.mkdir(parents=True, exist_ok=True)
        out = options.out
        bridge, signer = demo_bridge(options, folder)
        payments = attach_demo_payments(bridge, folder, out)
        token = secrets.token_urlsafe(32)
        headers = {"Authorization": f"Bearer {token}"}
        async with running(bridge, "127.0.0.1", options.port, token, TERMINALS) as url:
            payments.url = url
            print(
                f"store-bridge demo: {bridge.settings.name}, {options.capacity} people at most",
                file=out,
            )
            print(f"  status page   {url}/", file=out)
            print(f"  status JSON   {url}/v1/status", file=out)
            print(f"  API token     {token}", file=out)
            print(f"  database      {folder / 'store-bridge.sqlite3'}", file=out)
            kept = "" if options.data else " (gone when the demo ends: keep them with --data)"
            print(f"  receipts      {payments.mailbox.folder}/{kept}", file=out)
            print("  Ctrl+C stops.", file=out, flush=True)
            if on_ready is not None:
                on_ready(url)
            shelves = asyncio.create_task(
                _shelves(bridge, signer, options, (url, headers), payments)
            )
            try:
                await _simulate(bridge, signer, options, url, headers, rng, payments)
            finally:
                shelves.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await shelves
            pending = await bridge.publisher.pending() if bridge.publisher else None
            print(file=out)
            refused = bridge.counters["denied"]
            print(
                f"store-bridge demo: done. {tally(bridge)} · refused {refused}"
                f" · {summary(payments)}"
                + ("" if pending is None else f" · {pending} events not yet published"),
                file=out,
                flush=True,
            )
    return 0


async def _shelves(
    bridge: Bridge,
    signer: QrSigner,
    options: DemoOptions,
    where: tuple[str, dict[str, str]],
    payments: DemoPayments,
) -> None:
    """The tracked shoppers and the shelves (`demo_shelves.play`), through the real API.

    They pay as they leave, and some ask for a receipt (`demo_checkout`).
    """
    if bridge.carts is None:  # pragma: no cover - the demo store always has shelves
        return
    rng = random.Random(options.seed)  # noqa: S311 - a simulation, not security
    async with aiohttp.ClientSession() as http:
        api = DemoApi(http, *where)
        shoppers = DemoShoppers(payments, http, api.post, rng, options.out)

        async def _enter(party: int) -> str | None:
            def qr(customer: str) -> str:
                return signer.sign(now=time.time(), party=party, customer=customer)

            return await shoppers.enter(SHELF_GATE, "terminal_2", qr)

        async def _leave(track: str) -> object:
            result = await api.post("/v1/gates/exit_1/exit", {"track": track})
            await shoppers.after_exit(track)
            return result

        await play(bridge.carts, demo_simulation(options.seed), _enter, _leave)


async def _simulate(  # noqa: PLR0913, PLR0917 - the demo loop's context
    bridge: Bridge,
    signer: QrSigner,
    options: DemoOptions,
    url: str,
    headers: dict[str, str],
    rng: random.Random,
    payments: DemoPayments,
) -> None:
    tally = Tally()
    tasks: set[asyncio.Task[None]] = set()
    started = time.monotonic()
    next_line = 0.0
    assert bridge.carts is not None  # noqa: S101 - the demo store always has shelves
    walkers = Walkers(
        bridge.carts.on_tracker_message,
        random.Random(f"{options.seed}-walkers"),  # noqa: S311 - a simulation
        lambda: (bridge.occupancy, bridge.settings.capacity),
    )
    async with aiohttp.ClientSession() as http:
        api = DemoApi(http, url, headers)
        terminal = SimulatedTerminal(
            "terminal_1",
            # The terminal belongs to the processor: a tap holds an amount, the hold's
            # reference is what the bridge hears (the simulated card's token stays there).
            lambda tap: api.post(
                f"/v1/terminals/{tap.terminal}/tap", {"card_token": payments.hold()}
            ),
        )
        try:
            while True:
                elapsed = time.monotonic() - started
                if options.duration is not None and elapsed >= options.duration:
                    break
                if options.shoppers is not None and tally.started >= options.shoppers:
                    if not tasks:
                        break
                else:
                    task = asyncio.create_task(
                        _shopper(api, terminal, signer, walkers, rng, options.speed)
                    )
                    tally.started += 1
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if elapsed >= next_line:
                    published = (
                        "no broker (events kept in the outbox)"
                        if bridge.publisher is None
                        else f"published {bridge.publisher.published}"
                    )
                    line = f"{status_line(bridge, elapsed, published)} · {summary(payments)}"
                    live = options.out.isatty()  # one updating line on a terminal
                    print(
                        f"\r{line}" if live else line,
                        end="" if live else "\n",
                        file=options.out,
                        flush=True,
                    )
                    next_line = elapsed + 1.0
                await asyncio.sleep(rng.uniform(1.5, 4.5) / options.speed)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
