"""Running a bridge: build the parts from a configuration, serve the API, stop cleanly."""

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from . import single_bridge
from .bridge import Bridge, GateInfo, StoreSettings
from .card_debts import CardDebts, key_path, load_key
from .checkout_parts import build_processor, checkout_settings, make_receipts, settings_for
from .checkout_remote import CheckoutRemote
from .checkout_runner import CheckoutRunner
from .checkout_status import CheckoutStatus, CountSource
from .config import BridgeConfig, ConfigError, GateSpec, MqttSpec
from .database import Database
from .gates.base import Gate, GateRole
from .mail_config import MailSpec
from .outbox import BrokerConfig, Publisher
from .payments import Processor
from .payments_config import PaymentsSpec
from .receipts import Receipts
from .saved_methods import SavedMethods
from .shelf_feed import ShelfFeed
from .web import make_app

_LOGGER = logging.getLogger(__name__)


def _opt(options: dict[str, Any], key: str, kind: type, where: str, default: Any = None) -> Any:  # noqa: ANN401
    value = options.get(key, default)
    if value is None or (kind is float and isinstance(value, int) and not isinstance(value, bool)):
        return value
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ConfigError(f"{where}.{key}: must be {_KIND_NAMES.get(kind, kind.__name__)}")
    return value


_KIND_NAMES: dict[type, str] = {
    str: "a text",
    int: "a whole number",
    float: "a number",
    bool: "true or false",
    dict: "a table",
}


def build_gate(spec: GateSpec, mqtt: MqttSpec | None) -> Gate:
    """The adapter for one configured gate; a bad option raises `ConfigError` naming it."""
    try:
        return _build_gate(spec, mqtt)
    except ConfigError:
        raise
    except ValueError as err:  # the adapter refused a value (out of range, malformed)
        raise ConfigError(f"gates.{spec.id}: {err}") from None


def _build_gate(spec: GateSpec, mqtt: MqttSpec | None) -> Gate:
    where = f"gates.{spec.id}"
    role = GateRole(spec.role)
    options = dict(spec.options)
    if spec.kind == "simulated":
        from .gates.simulator import SimulatedGate  # noqa: PLC0415

        return SimulatedGate(
            spec.id, role, passage_seconds=_opt(options, "passage_seconds", float, where, 0.5)
        )
    if spec.kind in {"shelly", "tasmota"}:
        if mqtt is None:
            raise ConfigError(f"{where}: a {spec.kind} relay needs the [mqtt] table")
        from .gates.mqtt_relay import ShellyGate, TasmotaGate  # noqa: PLC0415

        device = _opt(options, "device", str, where)
        if not device:
            raise ConfigError(
                f"{where}.device: the relay's device id (Shelly) or topic (Tasmota) is required"
            )
        cls = ShellyGate if spec.kind == "shelly" else TasmotaGate
        extra: dict[str, Any] = {
            key: _opt(options, key, kind, where)
            for key, kind in (("channel", int), ("pulse_seconds", float), ("input_channel", int))
            if key in options
        }
        return cls(
            spec.id,
            role,
            host=mqtt.host,
            port=mqtt.port,
            username=mqtt.username,
            password=mqtt.password,
            device=device,
            **extra,
        )
    if spec.kind == "http":
        from .gates.http_gate import HttpGate  # noqa: PLC0415

        url = _opt(options, "url", str, where)
        if not url or not url.startswith(("http://", "https://")) or not urlsplit(url).hostname:
            raise ConfigError(f"{where}.url: an http:// or https:// address is required")
        return HttpGate(
            spec.id,
            role,
            url=url,
            method=_opt(options, "method", str, where, "POST"),
            body=_opt(options, "body", dict, where),
            token=_opt(options, "token", str, where),
        )
    from .gates.osdp_gate import OsdpGate  # noqa: PLC0415

    port = _opt(options, "serial_port", str, where)
    if not port:
        raise ConfigError(f"{where}.serial_port: the reader's RS-485 port is required")
    return OsdpGate.from_options(spec.id, role, options)


def build_checkout_process(bridge: Bridge, config: BridgeConfig, path: Path) -> CheckoutRemote:
    """`serve`'s checkout: in a process of its own (`checkout_process.py`), run from `path`.

    The parent keeps what a check-in asks (the card debts' lookups, the saved methods) with
    a processor of its own, and the status; the child charges, refunds and sends receipts.
    """
    assert config.payments is not None  # noqa: S101 - asked only with payments
    remote = CheckoutRemote(
        bridge.db, checkout_settings(config), path, on_committed=bridge.ledger.wake_publisher
    )
    remote.spawn()  # its start (imports, the database) overlaps the rest of serve's
    try:
        processor = build_processor(config.payments)
    except ConfigError:
        remote.discard()
        raise
    remote.on_stop = processor.close
    bridge.checkout_remote = remote
    _attach_checkout_parts(bridge, processor, remote)
    return remote


def build_checkout(
    bridge: Bridge, spec: PaymentsSpec, config: BridgeConfig | None = None
) -> CheckoutRunner:
    """The checkout runner of a bridge with `[payments]`, and its part of the status."""
    shelf = None if bridge.carts is None else bridge.carts.shelf
    settings = settings_for(spec, shelf, config)
    processor = build_processor(spec)
    runner = CheckoutRunner(bridge.ledger, processor, settings)
    bridge.checkout = runner
    _attach_checkout_parts(bridge, processor, runner)
    return runner


def _attach_checkout_parts(bridge: Bridge, processor: Processor, counts: CountSource) -> None:
    """What a check-in asks of the checkout (card debts, saved methods) and its status.

    `processor` answers the check-in's lookups; `counts` (the runner, or the child's facade)
    gives the status its counts.
    """
    if str(bridge.db.path) != ":memory:":  # a card's debts follow the card (`card_debts.py`)
        key = load_key(key_path(Path(bridge.db.path)))
        bridge.card_debts = CardDebts(bridge.db, processor, key, lambda: bridge.clock().timestamp())
    bridge.saved_methods = SavedMethods(bridge.db, processor)  # found at check-in
    bridge.checkout_status = CheckoutStatus(
        bridge.db, counts, bridge.ledger.wake_publisher, bridge.clock
    )


def build_receipts(bridge: Bridge, spec: MailSpec) -> Receipts:
    """Receipts on request for a bridge with `[payments]` and `[mail]`: sent through SMTP."""
    receipts = make_receipts(bridge.db, spec, bridge.ledger, bridge.settings.name)
    attach_receipts(bridge, receipts)
    return receipts


def attach_receipts(bridge: Bridge, receipts: Receipts) -> None:
    """Make `receipts` the bridge's: woken when a checkout is done, counted in its status."""
    bridge.receipts = receipts
    if bridge.checkout is not None:
        bridge.checkout.on_done = receipts.checkout_done
    status, remote = bridge.checkout_status, bridge.checkout_remote
    if remote is not None:  # requests queued here, sent by the checkout process

        def changed() -> None:
            if status is not None:
                status.changed()
            remote.wake_receipts()

        receipts.on_change = changed
    elif status is not None:
        receipts.on_change = status.changed


def build_bridge(
    config: BridgeConfig,
    clock: Callable[[], datetime] | None = None,
    *,
    checkout_process: Path | None = None,
) -> Bridge:
    """All parts of a configured bridge, not started.

    `checkout_process`: the configuration file, for `serve`: the checkouts then run in a
    process of their own (`build_checkout_process`); without it, on the bridge's loop.
    """
    db = Database(config.database)
    gates = {
        spec.id: GateInfo(build_gate(spec, config.mqtt), spec.name, spec.kind)
        for spec in config.gates
    }
    settings = StoreSettings(
        site=config.site,
        name=config.name,
        capacity=config.capacity,
        issuer=config.issuer,
        keys=config.keys,
        max_party=config.max_party,
        retention_days=config.retention_days,
    )
    bridge = Bridge(
        settings, db, gates, clock=clock or (lambda: datetime.now(UTC)), shelf=config.shelf
    )
    if config.payments is not None and bridge.carts is not None:
        if checkout_process is not None:
            build_checkout_process(bridge, config, checkout_process)
        else:
            build_checkout(bridge, config.payments, config)
        if config.mail is not None:
            build_receipts(bridge, config.mail)
    if config.mqtt is not None:
        broker = BrokerConfig(
            config.mqtt.host,
            config.mqtt.port,
            config.mqtt.username,
            config.mqtt.password,
            config.mqtt.prefix,
        )
        bridge.publisher = Publisher(db, broker, config.site, bridge.status, bridge.backlog)
        if bridge.carts is not None:
            bridge.shelf_feed = ShelfFeed(
                broker,
                config.site,
                lane_topics=(lane.topic for lane in bridge.carts.shelf.lanes.values()),
                tracker_topic=bridge.carts.shelf.tracker_topic,
                sink=bridge.carts,
                clock=bridge.clock,
            )
    return bridge


@contextlib.asynccontextmanager
async def running(
    bridge: Bridge,
    host: str,
    port: int,
    api_token: str,
    terminals: Mapping[str, str] | None = None,
) -> AsyncIterator[str]:
    """Start the bridge, its receipts and its HTTP API; yield the API's base URL; stop all."""
    await bridge.start()
    receipts, remote = bridge.receipts, bridge.checkout_remote
    if receipts is not None and remote is None:  # else the checkout process sends them
        receipts.start()
    runner = web.AppRunner(make_app(bridge, api_token, terminals, receipts), access_log=None)
    try:
        if remote is not None:
            await remote.start()
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        yield f"http://{bound[0]}:{bound[1]}"
    finally:
        await runner.cleanup()
        if receipts is not None:
            await receipts.close()
        if remote is not None:  # stopped before the database closes
            await remote.stop()
        await bridge.stop()


async def serve(
    config: BridgeConfig, bridge: Bridge | None = None, path: Path | None = None
) -> None:
    """Run until SIGINT or SIGTERM; `AlreadyServingError` if a bridge serves the database already.

    The database's lock (`single_bridge.py`) is held for the whole run, before anything
    starts: a second bridge on the same file never takes a cart. `path`: the configuration's
    file, for a bridge built here: its checkouts run in a process of their own.
    """
    with single_bridge.held(config.database):
        bridge = bridge or build_bridge(config, checkout_process=path)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with running(
            bridge, config.api_host, config.api_port, config.api_token, config.terminals
        ) as url:
            _LOGGER.info("Store bridge for %s serving on %s", config.site, url)
            print(
                f"store-bridge: {config.name} ({config.site}) on {url} — Ctrl+C stops", flush=True
            )
            await stop.wait()
