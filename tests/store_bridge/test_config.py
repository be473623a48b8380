"""The bridge's TOML configuration, as an operator writes it, and what it turns into.

Every file here is written to ``tmp_path`` and read with `load_config`, the way
``store-bridge serve --config`` reads it; keys are real PEM files made with
``cryptography``. Each mistake must come back as a `ConfigError` whose message names the
key and says what is wrong, exactly as the operator will read it.
"""

import tomllib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from store_bridge.config import (
    BridgeConfig,
    ConfigError,
    GateSpec,
    MqttSpec,
    load_config,
    parse_config,
)
from store_bridge.gates.base import GateRole
from store_bridge.gates.http_gate import HttpGate
from store_bridge.gates.mqtt_relay import ShellyGate, TasmotaGate
from store_bridge.gates.simulator import SimulatedGate
from store_bridge.outbox import Publisher
from store_bridge.service import build_bridge, build_gate

API_TOKEN = "api-token-0123456789-abcdefghijklmnop"
MQTT_PASSWORD = "mqtt-pass-4711-secret"
HTTP_GATE_TOKEN = "controller-token-4711"

# --- key files -------------------------------------------------------------------------


def _public_pem(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def ed25519_public() -> bytes:
    return _public_pem(ed25519.Ed25519PrivateKey.generate().public_key())


def p256_public() -> bytes:
    return _public_pem(ec.generate_private_key(ec.SECP256R1()).public_key())


def p384_public() -> bytes:
    return _public_pem(ec.generate_private_key(ec.SECP384R1()).public_key())


def rsa_public() -> bytes:
    return _public_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key())


def ed25519_private() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


# --- a configuration folder ------------------------------------------------------------

STORE = """[store]
site = "store-042"
name = "Corner store"
capacity = 25
database = "data/store.sqlite3"
retention_days = 30
"""
API = """[api]
host = "0.0.0.0"
port = 8788
token_file = "secrets/api-token"
"""
MQTT = """[mqtt]
host = "broker.local"
port = 8883
prefix = "acme/stores"
username = "bridge"
password_file = "secrets/mqtt-password"
"""
CHECKIN = """[checkin]
issuer = "corner-app"
keys = { "2026-11" = "keys/app-2026-11.pub.pem", "p256" = "keys/p256.pub.pem" }
max_party = 6
"""
GATES = """[[gates]]
id = "entry_1"
name = "Main entry"
role = "entry"
kind = "shelly"
device = "shellyplus1-a8032ab12345"
channel = 0
pulse_seconds = 1.5
input_channel = 0

[[gates]]
id = "entry_2"
role = "entry"
kind = "simulated"
passage_seconds = 0.25

[[gates]]
id = "exit_1"
name = "Exit"
role = "exit"
kind = "http"
url = "https://controller.local/execute_actions.fcgi"
method = "PUT"
token = "controller-token-4711"
body = { action = "door", door = 2 }

[[gates]]
id = "exit_2"
name = "Side exit"
role = "exit"
kind = "simulated"
"""
SECTIONS = {"store": STORE, "api": API, "mqtt": MQTT, "checkin": CHECKIN, "gates": GATES}


class Folder:
    """A configuration folder: the TOML file, its secrets and key files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "store.toml"
        (root / "keys").mkdir()
        (root / "secrets").mkdir()
        self.ed25519 = ed25519_public()
        self.p256 = p256_public()
        (root / "keys" / "app-2026-11.pub.pem").write_bytes(self.ed25519)
        (root / "keys" / "p256.pub.pem").write_bytes(self.p256)
        (root / "secrets" / "api-token").write_text(f"  {API_TOKEN}\n", encoding="utf-8")
        (root / "secrets" / "mqtt-password").write_text(f"{MQTT_PASSWORD}\n", encoding="utf-8")

    def write(self, **sections: str | None) -> Path:
        """The configuration with some sections replaced (None leaves one out).

        A replacement that does not start with a table header (``store = 5``) goes first,
        so that TOML reads it as a top-level key.
        """
        chosen = {**SECTIONS, **sections}
        parts = [text for text in chosen.values() if text is not None]
        parts.sort(key=lambda text: text.lstrip().startswith("["))
        self.path.write_text("\n".join(parts), encoding="utf-8")
        return self.path

    def load(self, **sections: str | None) -> BridgeConfig:
        return load_config(self.write(**sections))


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    return Folder(tmp_path)


# --- a complete configuration ----------------------------------------------------------


def test_a_complete_configuration(folder: Folder) -> None:
    config = folder.load()

    assert config.site == "store-042"
    assert config.name == "Corner store"
    assert config.capacity == 25
    assert config.database == folder.root / "data" / "store.sqlite3"
    assert config.database.is_absolute()
    assert config.retention_days == 30
    assert (config.api_host, config.api_port) == ("0.0.0.0", 8788)  # noqa: S104 - as written
    assert config.api_token == API_TOKEN  # read from the file, whitespace stripped
    assert config.mqtt == MqttSpec(
        host="broker.local",
        port=8883,
        prefix="acme/stores",
        username="bridge",
        password=MQTT_PASSWORD,
    )
    assert config.issuer == "corner-app"
    assert config.max_party == 6
    assert set(config.keys) == {"2026-11", "p256"}
    ed_key, p256_key = config.keys["2026-11"], config.keys["p256"]
    assert (ed_key.kid, ed_key.alg) == ("2026-11", "EdDSA")
    assert (p256_key.kid, p256_key.alg) == ("p256", "ES256")
    assert _public_pem(ed_key.key) == folder.ed25519
    assert _public_pem(p256_key.key) == folder.p256
    assert config.gates == (
        GateSpec(
            "entry_1",
            "Main entry",
            "entry",
            "shelly",
            {
                "device": "shellyplus1-a8032ab12345",
                "channel": 0,
                "pulse_seconds": 1.5,
                "input_channel": 0,
            },
        ),
        GateSpec("entry_2", "entry_2", "entry", "simulated", {"passage_seconds": 0.25}),
        GateSpec(
            "exit_1",
            "Exit",
            "exit",
            "http",
            {
                "url": "https://controller.local/execute_actions.fcgi",
                "method": "PUT",
                "token": HTTP_GATE_TOKEN,
                "body": {"action": "door", "door": 2},
            },
        ),
        GateSpec("exit_2", "Side exit", "exit", "simulated", {}),
    )


def test_secrets_are_not_in_the_repr(folder: Folder) -> None:
    config = folder.load()
    shown = repr(config)
    assert "store-042" in shown
    assert API_TOKEN not in shown
    assert MQTT_PASSWORD not in shown
    assert MQTT_PASSWORD not in repr(config.mqtt)
    assert "OperatorKey(kid='2026-11', alg='EdDSA')" in shown


def test_gate_secrets_are_not_in_the_repr(folder: Folder) -> None:
    assert HTTP_GATE_TOKEN not in repr(folder.load())


def test_relative_paths_follow_the_configuration_file(
    folder: Folder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder.write()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    config = load_config(Path("..") / "store.toml")

    assert config.database == tmp_path.resolve() / "data" / "store.sqlite3"
    assert config.api_token == API_TOKEN
    assert config.mqtt is not None
    assert config.mqtt.password == MQTT_PASSWORD
    assert set(config.keys) == {"2026-11", "p256"}


def test_an_absolute_database_path_is_kept(folder: Folder, tmp_path: Path) -> None:
    database = tmp_path / "var" / "bridge.sqlite3"
    config = folder.load(store=f'[store]\nsite = "s1"\ndatabase = "{database.as_posix()}"\n')
    assert config.database == database


def test_the_smallest_configuration_takes_the_defaults(folder: Folder) -> None:
    config = folder.load(
        store='[store]\nsite = "store-1"\n',
        api=f'[api]\ntoken = "{API_TOKEN}"\n',
        mqtt=None,
        checkin='[checkin]\nissuer = "app"\nkeys = { k1 = "keys/app-2026-11.pub.pem" }\n',
        gates=(
            '[[gates]]\nid = "in"\nrole = "entry"\nkind = "simulated"\n'
            '[[gates]]\nid = "out"\nrole = "exit"\nkind = "simulated"\n'
        ),
    )
    assert config.name == "store-1"
    assert config.capacity == 30
    assert config.database == folder.root / "store-bridge.sqlite3"
    assert config.retention_days == 90
    assert (config.api_host, config.api_port, config.api_token) == ("127.0.0.1", 8787, API_TOKEN)
    assert config.mqtt is None
    assert config.max_party == 4
    assert [(g.id, g.name, g.options) for g in config.gates] == [
        ("in", "in", {}),
        ("out", "out", {}),
    ]


def test_mqtt_defaults_and_an_inline_password(folder: Folder) -> None:
    config = folder.load(mqtt=f'[mqtt]\nhost = "10.0.0.2"\npassword = "{MQTT_PASSWORD}"\n')
    assert config.mqtt == MqttSpec("10.0.0.2", 1883, "concierge/store", None, MQTT_PASSWORD)
    config = folder.load(mqtt='[mqtt]\nhost = "10.0.0.2"\n')
    assert config.mqtt == MqttSpec("10.0.0.2", 1883, "concierge/store", None, None)


def test_a_username_that_is_not_a_text_is_refused(folder: Folder) -> None:
    with pytest.raises(ConfigError, match=r"^mqtt\.username: "):
        folder.load(mqtt='[mqtt]\nhost = "10.0.0.2"\nusername = 42\n')


def test_parse_config_takes_a_decoded_document(folder: Folder) -> None:
    raw = tomllib.loads(folder.write().read_text(encoding="utf-8"))
    assert parse_config(raw, folder.root) == load_config(folder.path)


# --- every mistake, with its message -----------------------------------------------------

TWO_SIMULATED = (
    '[[gates]]\nid = "in"\nrole = "entry"\nkind = "simulated"\n'
    '[[gates]]\nid = "out"\nrole = "exit"\nkind = "simulated"\n'
)
IDENT = "must be 1-64 characters of A-Z a-z 0-9 . _ : -"
KINDS = "must be one of http, osdp, shelly, simulated, tasmota"
KEYS_REQUIRED = 'checkin.keys: give at least one public key as kid = "file.pem"'
KEY_ID = "the key id must be an identifier and the value a file name"
KEY_TYPE = "only P-256 (ES256) and Ed25519 (EdDSA) public keys are accepted"
PREFIX = "mqtt.prefix: must be a topic without wildcards or a leading /"
NO_ENTRY_OR_EXIT = "gates: a store needs at least one entry and one exit gate"


def _checkin(keys: str) -> str:
    return f'[checkin]\nissuer = "corner-app"\nkeys = {keys}\n'


def _gate(**values: object) -> str:
    lines = "".join(f"{key} = {value}\n" for key, value in values.items())
    return f"[[gates]]\n{lines}"


EXIT_GATE = _gate(id='"out"', role='"exit"', kind='"simulated"')
ENTRY_GATE = _gate(id='"in"', role='"entry"', kind='"simulated"')

MISTAKES: list[tuple[str, dict[str, str | None], str]] = [
    # tables
    ("no store table", {"store": None}, "[store]: the table is missing"),
    ("no checkin table", {"checkin": None}, "[checkin]: the table is missing"),
    ("store is a value", {"store": 'store = "store-042"'}, "store: must be a table"),
    ("api is a value", {"api": "api = 8787"}, "api: must be a table"),
    ("mqtt is a value", {"mqtt": 'mqtt = "broker"'}, "mqtt: must be a table"),
    ("checkin is a value", {"checkin": "checkin = true"}, "checkin: must be a table"),
    # the store table
    ("no site", {"store": "[store]\ncapacity = 5\n"}, "store.site: must be a non-empty text"),
    ("empty site", {"store": '[store]\nsite = ""\n'}, "store.site: must be a non-empty text"),
    ("site a number", {"store": "[store]\nsite = 42\n"}, "store.site: must be a non-empty text"),
    ("site with a space", {"store": '[store]\nsite = "store 42"\n'}, f"store.site: {IDENT}"),
    ("site with a slash", {"store": '[store]\nsite = "store/42"\n'}, f"store.site: {IDENT}"),
    ("site leading dash", {"store": '[store]\nsite = "-store"\n'}, f"store.site: {IDENT}"),
    ("site of 65", {"store": f'[store]\nsite = "{"s" * 65}"\n'}, f"store.site: {IDENT}"),
    (
        "empty name",
        {"store": '[store]\nsite = "s1"\nname = ""\n'},
        "store.name: must be a non-empty text",
    ),
    (
        "capacity 0",
        {"store": '[store]\nsite = "s1"\ncapacity = 0\n'},
        "store.capacity: must be a whole number from 1 to 100000",
    ),
    (
        "capacity -1",
        {"store": '[store]\nsite = "s1"\ncapacity = -1\n'},
        "store.capacity: must be a whole number from 1 to 100000",
    ),
    (
        "capacity too big",
        {"store": '[store]\nsite = "s1"\ncapacity = 100001\n'},
        "store.capacity: must be a whole number from 1 to 100000",
    ),
    (
        "capacity true",
        {"store": '[store]\nsite = "s1"\ncapacity = true\n'},
        "store.capacity: must be a whole number from 1 to 100000",
    ),
    (
        "capacity 2.5",
        {"store": '[store]\nsite = "s1"\ncapacity = 2.5\n'},
        "store.capacity: must be a whole number from 1 to 100000",
    ),
    (
        "capacity text",
        {"store": '[store]\nsite = "s1"\ncapacity = "30"\n'},
        "store.capacity: must be a whole number from 1 to 100000",
    ),
    (
        "empty database",
        {"store": '[store]\nsite = "s1"\ndatabase = ""\n'},
        "store.database: must be a non-empty text",
    ),
    (
        "retention 0",
        {"store": '[store]\nsite = "s1"\nretention_days = 0\n'},
        "store.retention_days: must be a whole number from 1 to 3650",
    ),
    (
        "retention 3651",
        {"store": '[store]\nsite = "s1"\nretention_days = 3651\n'},
        "store.retention_days: must be a whole number from 1 to 3650",
    ),
    # the api table
    ("no api table", {"api": None}, "api.token or api.token_file: is required"),
    (
        "no token",
        {"api": '[api]\nhost = "127.0.0.1"\n'},
        "api.token or api.token_file: is required",
    ),
    (
        "short token",
        {"api": f'[api]\ntoken = "{"t" * 31}"\n'},
        "api.token: must be at least 32 characters",
    ),
    ("empty token", {"api": '[api]\ntoken = ""\n'}, "api.token: must be a non-empty text"),
    (
        "token a number",
        {"api": "[api]\ntoken = 12345678901234567890123456789012345\n"},
        "api.token: must be a non-empty text",
    ),
    (
        "empty token_file name",
        {"api": '[api]\ntoken_file = ""\n'},
        "api.token_file: must be a non-empty text",
    ),
    (
        "short token in its file",
        {"api": '[api]\ntoken_file = "short-token"\n'},
        "api.token: must be at least 32 characters",
    ),
    (
        "empty host",
        {"api": f'[api]\nhost = ""\ntoken = "{API_TOKEN}"\n'},
        "api.host: must be a non-empty text",
    ),
    (
        "port 0",
        {"api": f'[api]\nport = 0\ntoken = "{API_TOKEN}"\n'},
        "api.port: must be a whole number from 1 to 65535",
    ),
    (
        "port 65536",
        {"api": f'[api]\nport = 65536\ntoken = "{API_TOKEN}"\n'},
        "api.port: must be a whole number from 1 to 65535",
    ),
    (
        "port text",
        {"api": f'[api]\nport = "80"\ntoken = "{API_TOKEN}"\n'},
        "api.port: must be a whole number from 1 to 65535",
    ),
    # the mqtt table
    ("mqtt without host", {"mqtt": "[mqtt]\nport = 1883\n"}, "mqtt.host: must be a non-empty text"),
    (
        "mqtt port 0",
        {"mqtt": '[mqtt]\nhost = "b"\nport = 0\n'},
        "mqtt.port: must be a whole number from 1 to 65535",
    ),
    (
        "mqtt port false",
        {"mqtt": '[mqtt]\nhost = "b"\nport = false\n'},
        "mqtt.port: must be a whole number from 1 to 65535",
    ),
    ("prefix with #", {"mqtt": '[mqtt]\nhost = "b"\nprefix = "acme/#"\n'}, PREFIX),
    ("prefix with +", {"mqtt": '[mqtt]\nhost = "b"\nprefix = "acme/+/stores"\n'}, PREFIX),
    ("prefix leading /", {"mqtt": '[mqtt]\nhost = "b"\nprefix = "/acme/stores"\n'}, PREFIX),
    (
        "empty prefix",
        {"mqtt": '[mqtt]\nhost = "b"\nprefix = ""\n'},
        "mqtt.prefix: must be a non-empty text",
    ),
    (
        "empty password",
        {"mqtt": '[mqtt]\nhost = "b"\npassword = ""\n'},
        "mqtt.password: must be a non-empty text",
    ),
    # the checkin table
    (
        "no issuer",
        {"checkin": '[checkin]\nkeys = { k = "keys/p256.pub.pem" }\n'},
        "checkin.issuer: must be a non-empty text",
    ),
    (
        "bad issuer",
        {"checkin": '[checkin]\nissuer = "corner app"\nkeys = { k = "keys/p256.pub.pem" }\n'},
        f"checkin.issuer: {IDENT}",
    ),
    (
        "max_party 0",
        {"checkin": _checkin('{ k = "keys/p256.pub.pem" }') + "max_party = 0\n"},
        "checkin.max_party: must be a whole number from 1 to 20",
    ),
    (
        "max_party 21",
        {"checkin": _checkin('{ k = "keys/p256.pub.pem" }') + "max_party = 21\n"},
        "checkin.max_party: must be a whole number from 1 to 20",
    ),
    ("no keys", {"checkin": '[checkin]\nissuer = "app"\n'}, KEYS_REQUIRED),
    ("empty keys", {"checkin": _checkin("{}")}, KEYS_REQUIRED),
    ("keys a file name", {"checkin": _checkin('"keys/p256.pub.pem"')}, KEYS_REQUIRED),
    ("keys a list", {"checkin": _checkin('["keys/p256.pub.pem"]')}, KEYS_REQUIRED),
    (
        "kid with a space",
        {"checkin": _checkin('{ "key 1" = "keys/p256.pub.pem" }')},
        f"checkin.keys.key 1: {KEY_ID}",
    ),
    ("key file a number", {"checkin": _checkin("{ k1 = 5 }")}, f"checkin.keys.k1: {KEY_ID}"),
    (
        "not a key",
        {"checkin": _checkin('{ k1 = "keys/notes.pem" }')},
        "checkin.keys.k1: not a PEM public key",
    ),
    (
        "private key",
        {"checkin": _checkin('{ k1 = "keys/private.pem" }')},
        "checkin.keys.k1: not a PEM public key",
    ),
    (
        "rsa key",
        {"checkin": _checkin('{ k1 = "keys/rsa.pub.pem" }')},
        f"checkin.keys.k1: {KEY_TYPE}",
    ),
    (
        "p384 key",
        {"checkin": _checkin('{ k1 = "keys/p384.pub.pem" }')},
        f"checkin.keys.k1: {KEY_TYPE}",
    ),
    (
        "second key bad",
        {"checkin": _checkin('{ k1 = "keys/p256.pub.pem", k2 = "keys/rsa.pub.pem" }')},
        f"checkin.keys.k2: {KEY_TYPE}",
    ),
    # the gates
    ("no gates", {"gates": None}, "gates: add at least one [[gates]] table"),
    ("gates empty list", {"gates": "gates = []"}, "gates: add at least one [[gates]] table"),
    ("gates a text", {"gates": 'gates = "entry_1"'}, "gates: add at least one [[gates]] table"),
    ("gates a table", {"gates": '[gates]\nid = "in"\n'}, "gates: add at least one [[gates]] table"),
    ("gate a number", {"gates": "gates = [1, 2]"}, "gates[0]: must be a table"),
    (
        "second gate a text",
        {"gates": 'gates = [{ id = "in", role = "entry", kind = "simulated" }, "out"]'},
        "gates[1]: must be a table",
    ),
    (
        "gate without id",
        {"gates": _gate(role='"entry"', kind='"simulated"') + EXIT_GATE},
        "gates[0].id: must be a non-empty text",
    ),
    (
        "gate id a number",
        {"gates": _gate(id="1", role='"entry"', kind='"simulated"') + EXIT_GATE},
        "gates[0].id: must be a non-empty text",
    ),
    (
        "gate id with a space",
        {"gates": ENTRY_GATE + _gate(id='"side exit"', role='"exit"', kind='"simulated"')},
        f"gates[1].id: {IDENT}",
    ),
    (
        "gate without role",
        {"gates": ENTRY_GATE + _gate(id='"out"', kind='"simulated"')},
        'gates[1].role: must be "entry" or "exit"',
    ),
    (
        "gate role both",
        {"gates": ENTRY_GATE + _gate(id='"out"', role='"both"', kind='"simulated"')},
        'gates[1].role: must be "entry" or "exit"',
    ),
    (
        "gate role Entry",
        {"gates": _gate(id='"in"', role='"Entry"', kind='"simulated"') + EXIT_GATE},
        'gates[0].role: must be "entry" or "exit"',
    ),
    (
        "gate without kind",
        {"gates": _gate(id='"in"', role='"entry"') + EXIT_GATE},
        f"gates[0].kind: {KINDS}",
    ),
    (
        "gate kind zigbee",
        {"gates": ENTRY_GATE + _gate(id='"out"', role='"exit"', kind='"zigbee"')},
        f"gates[1].kind: {KINDS}",
    ),
    (
        "gate name empty",
        {"gates": _gate(id='"in"', name='""', role='"entry"', kind='"simulated"') + EXIT_GATE},
        "gates[0].name: must be a non-empty text",
    ),
    (
        "duplicate gate id",
        {"gates": ENTRY_GATE + EXIT_GATE + _gate(id='"in"', role='"exit"', kind='"simulated"')},
        "gates[2].id: 'in' is used by another gate",
    ),
    (
        "no exit gate",
        {"gates": ENTRY_GATE + _gate(id='"in2"', role='"entry"', kind='"http"')},
        NO_ENTRY_OR_EXIT,
    ),
    ("no entry gate", {"gates": EXIT_GATE}, NO_ENTRY_OR_EXIT),
]


@pytest.mark.parametrize(
    ("sections", "message"),
    [pytest.param(sections, message, id=name) for name, sections, message in MISTAKES],
)
def test_a_mistake_is_named(folder: Folder, sections: dict[str, str | None], message: str) -> None:
    (folder.root / "short-token").write_text("t" * 31 + "\n", encoding="utf-8")
    (folder.root / "keys" / "notes.pem").write_text("my keys are elsewhere\n", encoding="utf-8")
    (folder.root / "keys" / "private.pem").write_bytes(ed25519_private())
    (folder.root / "keys" / "rsa.pub.pem").write_bytes(rsa_public())
    (folder.root / "keys" / "p384.pub.pem").write_bytes(p384_public())

    with pytest.raises(ConfigError) as error:
        folder.load(**sections)

    assert str(error.value) == message


MISSING_FILES: list[tuple[str, dict[str, str], str, str]] = [
    (
        "token file missing",
        {"api": '[api]\ntoken_file = "nowhere/api-token"\n'},
        "api.token_file",
        "nowhere/api-token",
    ),
    (
        "token file a folder",
        {"api": '[api]\ntoken_file = "secrets"\n'},
        "api.token_file",
        "secrets",
    ),
    (
        "password file missing",
        {"mqtt": '[mqtt]\nhost = "b"\npassword_file = "secrets/nope"\n'},
        "mqtt.password_file",
        "secrets/nope",
    ),
    (
        "key file missing",
        {"checkin": _checkin('{ "2026-12" = "keys/app-2026-12.pub.pem" }')},
        "checkin.keys.2026-12",
        "keys/app-2026-12.pub.pem",
    ),
    ("key file a folder", {"checkin": _checkin('{ k1 = "keys" }')}, "checkin.keys.k1", "keys"),
]


@pytest.mark.parametrize(
    ("sections", "where", "file"),
    [pytest.param(sections, where, file, id=name) for name, sections, where, file in MISSING_FILES],
)
def test_a_file_that_cannot_be_read_is_named(
    folder: Folder, sections: dict[str, str], where: str, file: str
) -> None:
    path = folder.root / file
    reason = "Is a directory" if path.is_dir() else "No such file or directory"

    with pytest.raises(ConfigError) as error:
        folder.load(**sections)

    assert str(error.value) == f"{where}: cannot read {path} ({reason})"


def test_a_configuration_file_that_is_not_there(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}: cannot read it (No such file or directory)"


def test_a_configuration_file_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(tmp_path)
    assert str(error.value) == f"{tmp_path}: cannot read it (Is a directory)"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('[store]\nsite = "s1\n', id="unclosed string"),
        pytest.param("[store\nsite = 1\n", id="unclosed header"),
        pytest.param("[store]\nsite = s1\n", id="bare value"),
        pytest.param('[store]\nsite = "a"\nsite = "b"\n', id="duplicate key"),
    ],
)
def test_not_toml(tmp_path: Path, text: str) -> None:
    path = tmp_path / "store.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(tomllib.TOMLDecodeError) as decode_error:
        tomllib.loads(text)

    with pytest.raises(ConfigError) as error:
        load_config(path)

    assert str(error.value) == f"{path}: not valid TOML ({decode_error.value})"
    assert "line" in str(error.value)


def test_a_configuration_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "store.toml"
    path.write_bytes('[store]\nsite = "s1"\nname = "Café"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"^" + str(path)):
        load_config(path)


def test_a_token_file_that_is_not_utf8(folder: Folder) -> None:
    (folder.root / "binary-token").write_bytes(b"\xff\xfe" + b"x" * 40)
    with pytest.raises(ConfigError, match=r"^api\.token_file: "):
        folder.load(api='[api]\ntoken_file = "binary-token"\n')


# --- gates built from the configuration (service.build_gate) -----------------------------


def _spec(kind: str, role: str = "entry", **options: object) -> GateSpec:
    return GateSpec("gate_1", "Gate 1", role, kind, dict(options))


BROKER = MqttSpec("broker.local", 1884, "acme/stores", "bridge", MQTT_PASSWORD)


def test_build_gate_makes_each_kind() -> None:
    simulated = build_gate(_spec("simulated", "exit", passage_seconds=2), None)
    assert isinstance(simulated, SimulatedGate)
    assert (simulated.gate_id, simulated.role) == ("gate_1", GateRole.EXIT)
    assert simulated._passage_seconds == 2

    shelly = build_gate(
        _spec("shelly", device="shelly-1", channel=1, pulse_seconds=2, input_channel=0), BROKER
    )
    assert isinstance(shelly, ShellyGate)
    assert (shelly.gate_id, shelly.role) == ("gate_1", GateRole.ENTRY)
    assert (shelly._host, shelly._port, shelly._credentials) == (
        "broker.local",
        1884,
        ("bridge", MQTT_PASSWORD),
    )
    assert (shelly._device, shelly._channel, shelly._pulse, shelly._input) == ("shelly-1", 1, 2, 0)

    tasmota = build_gate(_spec("tasmota", "exit", device="tasmota_gate"), BROKER)
    assert isinstance(tasmota, TasmotaGate)
    assert (tasmota._device, tasmota._channel, tasmota.role) == ("tasmota_gate", 1, GateRole.EXIT)

    http = build_gate(
        _spec(
            "http",
            url="http://10.0.0.9/open",
            method="put",
            body={"door": 1},
            token=HTTP_GATE_TOKEN,
        ),
        None,
    )
    assert isinstance(http, HttpGate)
    assert (http._url, http._method, http._body) == ("http://10.0.0.9/open", "PUT", {"door": 1})
    assert http._headers == {"Authorization": f"Bearer {HTTP_GATE_TOKEN}"}


def test_build_bridge_wires_the_configuration(folder: Folder) -> None:
    config = folder.load()
    bridge = build_bridge(config)
    assert bridge.settings.site == "store-042"
    assert bridge.settings.capacity == 25
    assert bridge.settings.keys == config.keys
    assert bridge.db.path == config.database
    assert {gate_id: (info.name, info.kind) for gate_id, info in bridge.gates.items()} == {
        "entry_1": ("Main entry", "shelly"),
        "entry_2": ("entry_2", "simulated"),
        "exit_1": ("Exit", "http"),
        "exit_2": ("Side exit", "simulated"),
    }
    assert isinstance(bridge.publisher, Publisher)
    assert bridge.publisher.broker.prefix == "acme/stores"
    assert bridge.publisher.broker.password == MQTT_PASSWORD

    without_broker = build_bridge(folder.load(mqtt=None, gates=TWO_SIMULATED))
    assert without_broker.publisher is None


GATE_MISTAKES: list[tuple[str, GateSpec, MqttSpec | None, str]] = [
    (
        "shelly without mqtt",
        _spec("shelly", device="shelly-1"),
        None,
        "gates.gate_1: a shelly relay needs the [mqtt] table",
    ),
    (
        "tasmota without mqtt",
        _spec("tasmota", device="t1"),
        None,
        "gates.gate_1: a tasmota relay needs the [mqtt] table",
    ),
    (
        "shelly without device",
        _spec("shelly"),
        BROKER,
        "gates.gate_1.device: the relay's device id (Shelly) or topic (Tasmota) is required",
    ),
    (
        "tasmota empty device",
        _spec("tasmota", device=""),
        BROKER,
        "gates.gate_1.device: the relay's device id (Shelly) or topic (Tasmota) is required",
    ),
    ("device a number", _spec("shelly", device=7), BROKER, "gates.gate_1.device: must be a text"),
    (
        "channel a text",
        _spec("shelly", device="s", channel="0"),
        BROKER,
        "gates.gate_1.channel: must be a whole number",
    ),
    (
        "channel true",
        _spec("shelly", device="s", channel=True),
        BROKER,
        "gates.gate_1.channel: must be a whole number",
    ),
    (
        "channel 1.0",
        _spec("tasmota", device="t", channel=1.0),
        BROKER,
        "gates.gate_1.channel: must be a whole number",
    ),
    (
        "pulse a text",
        _spec("shelly", device="s", pulse_seconds="1"),
        BROKER,
        "gates.gate_1.pulse_seconds: must be a number",
    ),
    (
        "pulse true",
        _spec("shelly", device="s", pulse_seconds=True),
        BROKER,
        "gates.gate_1.pulse_seconds: must be a number",
    ),
    (
        "input a text",
        _spec("tasmota", device="t", input_channel="1"),
        BROKER,
        "gates.gate_1.input_channel: must be a whole number",
    ),
    (
        "http without url",
        _spec("http"),
        None,
        "gates.gate_1.url: an http:// or https:// address is required",
    ),
    (
        "http empty url",
        _spec("http", url=""),
        None,
        "gates.gate_1.url: an http:// or https:// address is required",
    ),
    (
        "http ftp url",
        _spec("http", url="ftp://10.0.0.9/open"),
        None,
        "gates.gate_1.url: an http:// or https:// address is required",
    ),
    (
        "http url without scheme",
        _spec("http", url="10.0.0.9/open"),
        None,
        "gates.gate_1.url: an http:// or https:// address is required",
    ),
    ("http url a number", _spec("http", url=80), None, "gates.gate_1.url: must be a text"),
    (
        "http method a number",
        _spec("http", url="http://h/o", method=1),
        None,
        "gates.gate_1.method: must be a text",
    ),
    (
        "http body a text",
        _spec("http", url="http://h/o", body="open"),
        None,
        "gates.gate_1.body: must be a table",
    ),
    (
        "http body a list",
        _spec("http", url="http://h/o", body=["open"]),
        None,
        "gates.gate_1.body: must be a table",
    ),
    (
        "http token a number",
        _spec("http", url="http://h/o", token=1234),
        None,
        "gates.gate_1.token: must be a text",
    ),
    (
        "simulated passage a text",
        _spec("simulated", passage_seconds="0.5"),
        None,
        "gates.gate_1.passage_seconds: must be a number",
    ),
    (
        "simulated passage false",
        _spec("simulated", passage_seconds=False),
        None,
        "gates.gate_1.passage_seconds: must be a number",
    ),
]


@pytest.mark.parametrize(
    ("spec", "mqtt", "message"),
    [pytest.param(spec, mqtt, message, id=name) for name, spec, mqtt, message in GATE_MISTAKES],
)
def test_a_gate_mistake_is_named(spec: GateSpec, mqtt: MqttSpec | None, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_gate(spec, mqtt)
    assert str(error.value) == message


def test_build_bridge_reports_a_gate_mistake(folder: Folder) -> None:
    config = folder.load(mqtt=None)  # entry_1 is a Shelly relay
    with pytest.raises(ConfigError) as error:
        build_bridge(config)
    assert str(error.value) == "gates.entry_1: a shelly relay needs the [mqtt] table"


@pytest.mark.parametrize(
    ("spec", "mqtt", "key"),
    [
        pytest.param(_spec("simulated", passage_seconds=-1), None, "passage_seconds", id="sim"),
        pytest.param(
            _spec("shelly", device="s", pulse_seconds=0), BROKER, "pulse_seconds", id="sh"
        ),
        pytest.param(_spec("http", url="http://"), None, "url", id="http-no-host"),
    ],
)
def test_an_out_of_range_gate_option_is_named(
    spec: GateSpec, mqtt: MqttSpec | None, key: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^gates\.gate_1(\.{key}: |: .*\b{key}\b)"):
        build_gate(spec, mqtt)
