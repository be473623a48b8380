"""The bridge's configuration file (TOML) and what it turns into.

Example (every key shown; `store-bridge serve --config store.toml`)::

    [store]
    site = "store-042"            # the site id in every access event
    name = "Corner store"
    capacity = 30                 # people inside at most (checked at entry)
    database = "store-bridge.sqlite3"
    retention_days = 90           # events, sessions, carts, checkouts, receipts kept this long
    timezone = "Europe/Berlin"    # the store's day (sales today, daily totals); default UTC

    [api]
    host = "127.0.0.1"
    port = 8787
    token_file = "api-token"      # or token = "..." (at least 32 characters)

    [mqtt]                        # leave out to run without a broker (events stay queued)
    host = "127.0.0.1"
    port = 1883
    prefix = "concierge/store"
    username = "bridge"           # optional
    password_file = "mqtt-password"  # optional (or password = "...")

    [checkin]
    issuer = "corner-app"         # the app backend's id (`iss` of its QR codes)
    keys = { "2026-11" = "keys/app-2026-11.pub.pem" }   # kid → public key file
    max_party = 4

    [[gates]]
    id = "entry_1"
    name = "Entry"
    role = "entry"                # entry | exit
    kind = "shelly"               # shelly | tasmota | http | osdp | simulated
    zone = "entrance"             # optional, entry gates: the tracker's zone in front of it
    # kind-specific keys, see README ("store bridge gates")

    [[terminals]]                 # card terminals; taps arrive at /v1/terminals/<id>/tap
    id = "terminal_1"
    gate = "entry_1"              # the entry gate it stands at

    [payments]                    # leave out: no checkout (carts are kept, nobody is charged)
    processor = "stripe"          # stripe | fake (the embedded one: only with demo = true)
    secret_key_file = "stripe-key"  # stripe: the secret key (sk_… / rk_…), never in the TOML
    api_base = "http://127.0.0.1:12111"  # optional (tests): https://, or http:// to loopback
    demo = false                  # true: a demonstration store (allows processor = "fake")
    settle_s = 5                  # a closed session's cart is charged this long after it left
    review_deadline_s = 600       # … or, with picks waiting for review, this long (not charged)
    concurrency = 8               # checkouts at the processor at once

Shelf lanes, their catalogue and the person tracker: `shelf_config.py`. Receipts by e-mail,
the `[mail]` table: `mail_config.py` (its time zone defaults to the store's).

Relative paths are relative to the configuration file. Every problem is reported as
`ConfigError` naming the key (``gates[2].role: must be "entry" or "exit"``).
"""

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .core.credentials import OperatorKey, load_operator_key
from .mail_config import MailConfigError, MailSpec, parse_mail
from .payments_config import PaymentsConfigError, PaymentsSpec, parse_payments
from .shelf_config import ShelfConfig, ShelfConfigError, parse_shelf
from .vocabulary import DEFAULT_TOPIC_PREFIX

IDENTIFIER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
GATE_KINDS: Final = frozenset({"shelly", "tasmota", "http", "osdp", "simulated"})
MIN_TOKEN: Final = 32


class ConfigError(ValueError):
    """The configuration cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class GateSpec:
    """One `[[gates]]` table."""

    id: str
    name: str
    role: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict, repr=False)
    """Kind-specific keys (may hold a controller's token: not shown)."""
    zone: str | None = None
    """An entry gate's tracker zone (where a shopper stands as it opens)."""


@dataclass(frozen=True, slots=True)
class MqttSpec:
    """The `[mqtt]` table."""

    host: str
    port: int
    prefix: str
    username: str | None
    password: str | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """A whole, checked configuration."""

    site: str
    name: str
    capacity: int
    database: Path
    retention_days: int
    api_host: str
    api_port: int
    api_token: str = field(repr=False)
    mqtt: MqttSpec | None
    issuer: str
    keys: dict[str, OperatorKey]
    max_party: int
    gates: tuple[GateSpec, ...]
    terminals: dict[str, str] = field(default_factory=dict)
    """Card terminal id → the entry gate it stands at."""
    shelf: ShelfConfig | None = None
    """Shelf lanes, catalogue and tracker (None: the store has no shelf sensors)."""
    payments: PaymentsSpec | None = None
    """The checkout's processor (None: nobody is charged)."""
    mail: MailSpec | None = None
    """Receipts by e-mail (None: no receipts)."""
    timezone: tzinfo = field(default_factory=lambda: ZoneInfo("UTC"))
    """The store's time zone: its day for sales today and the daily totals."""


def _table(raw: dict[str, Any], name: str, *, required: bool = True) -> dict[str, Any]:
    value = raw.get(name)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"[{name}]: the table is missing" if value is None else f"{name}: must be a table"
        )
    return value


def _str(table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}.{key}: must be a non-empty text")
    return value


def _int(  # noqa: PLR0913, PLR0917 - a bounded number's description
    table: dict[str, Any], key: str, where: str, default: int, low: int, high: int
) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where}.{key}: must be a whole number from {low} to {high}")
    return value


def _ident(table: dict[str, Any], key: str, where: str) -> str:
    value = _str(table, key, where)
    if IDENTIFIER.fullmatch(value) is None:
        raise ConfigError(f"{where}.{key}: must be 1-64 characters of A-Z a-z 0-9 . _ : -")
    return value


def _secret(
    table: dict[str, Any], key: str, where: str, base: Path, *, required: bool
) -> str | None:
    if f"{key}_file" in table:
        path = base / _str(table, f"{key}_file", where)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise ConfigError(f"{where}.{key}_file: cannot read {path} ({err.strerror})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{where}.{key}_file: {path} is not UTF-8 text") from None
    elif key in table:
        value = _str(table, key, where)
    elif required:
        raise ConfigError(f"{where}.{key} or {where}.{key}_file: is required")
    else:
        return None
    return value


def _keys(table: dict[str, Any], base: Path) -> dict[str, OperatorKey]:
    raw = table.get("keys")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError('checkin.keys: give at least one public key as kid = "file.pem"')
    keys: dict[str, OperatorKey] = {}
    for kid, file in raw.items():
        where = f"checkin.keys.{kid}"
        if IDENTIFIER.fullmatch(kid) is None or not isinstance(file, str):
            raise ConfigError(
                f"{where}: the key id must be an identifier and the value a file name"
            )
        path = base / file
        try:
            keys[kid] = load_operator_key(path.read_bytes(), kid)
        except OSError as err:
            raise ConfigError(f"{where}: cannot read {path} ({err.strerror})") from None
        except ValueError as err:
            raise ConfigError(f"{where}: {err}") from None
    return keys


def _gates(raw: object) -> tuple[GateSpec, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError("gates: add at least one [[gates]] table")
    gates: list[GateSpec] = []
    for index, table in enumerate(raw):
        where = f"gates[{index}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table")
        gate_id = _ident(table, "id", where)
        role = table.get("role")
        if role not in {"entry", "exit"}:
            raise ConfigError(f'{where}.role: must be "entry" or "exit"')
        kind = table.get("kind")
        if kind not in GATE_KINDS:
            raise ConfigError(f"{where}.kind: must be one of {', '.join(sorted(GATE_KINDS))}")
        if any(g.id == gate_id for g in gates):
            raise ConfigError(f"{where}.id: {gate_id!r} is used by another gate")
        zone = _str(table, "zone", where) if "zone" in table else None
        if zone is not None and role != "entry":
            raise ConfigError(f"{where}.zone: only an entry gate has a zone")
        fixed = {"id", "name", "role", "kind", "zone"}
        options = {k: v for k, v in table.items() if k not in fixed}
        name = _str(table, "name", where, gate_id)
        gates.append(GateSpec(gate_id, name, role, kind, options, zone))
    if not any(g.role == "entry" for g in gates) or not any(g.role == "exit" for g in gates):
        raise ConfigError("gates: a store needs at least one entry and one exit gate")
    return tuple(gates)


def _terminals(raw: object, gates: tuple[GateSpec, ...]) -> dict[str, str]:
    if not isinstance(raw, list):
        raise ConfigError("terminals: use [[terminals]] tables")
    entries = {g.id for g in gates if g.role == "entry"}
    terminals: dict[str, str] = {}
    for index, table in enumerate(raw):
        where = f"terminals[{index}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table")
        if unknown := set(table) - {"id", "gate"}:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        terminal, gate = _ident(table, "id", where), _ident(table, "gate", where)
        if terminal in terminals:
            raise ConfigError(f"{where}.id: {terminal!r} is used by another terminal")
        if gate not in entries:
            raise ConfigError(f"{where}.gate: {gate!r} is not an entry gate")
        terminals[terminal] = gate
    return terminals


def _payments(raw: dict[str, Any], base: Path) -> PaymentsSpec | None:
    if "payments" not in raw:
        return None
    try:
        return parse_payments(raw["payments"], base)
    except PaymentsConfigError as err:
        raise ConfigError(str(err)) from None


def _zone(store: dict[str, Any]) -> tzinfo:
    name = _str(store, "timezone", "store", "UTC")
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError, ValueError:
        raise ConfigError(
            f'store.timezone: {name!r} is not a time zone (e.g. "Europe/Berlin")'
        ) from None


def _mail(raw: dict[str, Any], base: Path, zone: tzinfo) -> MailSpec | None:
    if "mail" not in raw:
        return None
    try:
        spec = parse_mail(raw["mail"], base)
    except MailConfigError as err:
        raise ConfigError(str(err)) from None
    table = raw["mail"]
    if isinstance(table, dict) and "timezone" not in table:  # receipts show the store's time
        spec = dataclasses.replace(spec, timezone=zone)
    return spec


def parse_config(raw: dict[str, Any], base: Path) -> BridgeConfig:
    """Check a decoded TOML document; `base` resolves relative paths."""
    store, api, checkin = (
        _table(raw, "store"),
        _table(raw, "api", required=False),
        _table(raw, "checkin"),
    )
    mqtt_table = _table(raw, "mqtt", required=False)
    token = _secret(api, "token", "api", base, required=True)
    assert token is not None  # noqa: S101 - required above
    if len(token) < MIN_TOKEN:
        raise ConfigError(f"api.token: must be at least {MIN_TOKEN} characters")
    mqtt = None
    if "mqtt" in raw:  # an empty [mqtt] table is a mistake, not "no broker"
        mqtt = MqttSpec(
            host=_str(mqtt_table, "host", "mqtt"),
            port=_int(mqtt_table, "port", "mqtt", 1883, 1, 65535),
            prefix=_str(mqtt_table, "prefix", "mqtt", DEFAULT_TOPIC_PREFIX),
            username=_str(mqtt_table, "username", "mqtt") if "username" in mqtt_table else None,
            password=_secret(mqtt_table, "password", "mqtt", base, required=False),
        )
        if any(c in mqtt.prefix for c in "#+") or mqtt.prefix.startswith("/"):
            raise ConfigError("mqtt.prefix: must be a topic without wildcards or a leading /")
    try:
        shelf = parse_shelf(raw, base)
    except ShelfConfigError as err:
        raise ConfigError(str(err)) from None
    if shelf is not None and mqtt is None:
        raise ConfigError("lanes: shelf lanes and the tracker report over MQTT: add [mqtt]")
    if "payments" in raw and shelf is None:
        raise ConfigError("payments: checkout charges the virtual carts: add shelf lanes")
    zone = _zone(store)
    mail = _mail(raw, base, zone)
    if mail is not None and "payments" not in raw:
        raise ConfigError("mail: receipts are sent for paid checkouts: add [payments]")
    return BridgeConfig(
        site=_ident(store, "site", "store"),
        name=_str(
            store,
            "name",
            "store",
            store.get("site") if isinstance(store.get("site"), str) else None,
        ),
        capacity=_int(store, "capacity", "store", 30, 1, 100_000),
        database=base / _str(store, "database", "store", "store-bridge.sqlite3"),
        retention_days=_int(store, "retention_days", "store", 90, 1, 3650),
        api_host=_str(api, "host", "api", "127.0.0.1"),
        api_port=_int(api, "port", "api", 8787, 1, 65535),
        api_token=token,
        mqtt=mqtt,
        issuer=_ident(checkin, "issuer", "checkin"),
        keys=_keys(checkin, base),
        max_party=_int(checkin, "max_party", "checkin", 4, 1, 20),
        gates=(gates := _gates(raw.get("gates"))),
        terminals=_terminals(raw.get("terminals", []), gates),
        shelf=None
        if shelf is None
        else dataclasses.replace(
            shelf, entry_zones={g.id: g.zone for g in gates if g.zone is not None}
        ),
        payments=_payments(raw, base),
        mail=mail,
        timezone=zone,
    )


def load_config(path: Path) -> BridgeConfig:
    """Read and check a configuration file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read it ({err.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    return parse_config(raw, path.resolve().parent)
