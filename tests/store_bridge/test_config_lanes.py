"""Shelf lanes, the catalogue and the tracker in the bridge's TOML, as an operator writes them.

Each file is written to ``tmp_path`` and read with `load_config`, the way
``store-bridge serve --config`` reads it. A mistake must come back as a `ConfigError`
naming the key, as the operator will read it.
"""

import re
import tomllib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from store_bridge.config import BridgeConfig, ConfigError, load_config
from store_bridge.service import build_bridge
from store_bridge.shelf_config import ShelfConfigError, parse_shelf

HEAD = """[store]
site = "store-042"

[api]
token = "api-token-0123456789-abcdefghijklmnop"

[mqtt]
host = "127.0.0.1"

[checkin]
issuer = "corner-app"
keys = { "k1" = "app.pub.pem" }

[[gates]]
id = "entry_1"
role = "entry"
kind = "simulated"
zone = "entrance"

[[gates]]
id = "exit_1"
role = "exit"
kind = "simulated"
"""

CATALOGUE_TOML = """[[products]]
sku = "4006381333931"
name = "Cola 0.33 l"
price = 129
currency = "EUR"
tax_rate = "0.19"
unit_weight_g = 355.0

[[products]]
sku = "CHIPS-150"
name = "Crisps 150 g"
price = 199
currency = "EUR"
tax_rate = "0.07"
"""

CATALOGUE_CSV = """sku,name,price,currency,tax_rate,unit_weight_g
4006381333931,Cola 0.33 l,129,EUR,0.19,355
CHIPS-150,Crisps 150 g,199,EUR,0.07,
"""

LANES = """[catalogue]
file = "catalogue.toml"

[[lanes]]
id = "lane_cola"
topic = "shelf-1/sensor/lane_cola/state"
sku = "4006381333931"
zone = "aisle_drinks"

[[lanes]]
id = "lane_chips"
topic = "shelf-2/sensor/lane_chips/state"
sku = "CHIPS-150"
zone = "aisle_snacks"
unit_weight_g = 160.0
tolerance_g = 20.0
"""


def _write(tmp_path: Path, body: str, *, head: str = HEAD, csv: bool = False) -> Path:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "app.pub.pem").write_bytes(pem)
    (tmp_path / "catalogue.toml").write_text(CATALOGUE_TOML, encoding="utf-8")
    (tmp_path / "catalogue.csv").write_text(CATALOGUE_CSV, encoding="utf-8")
    if csv:
        body = body.replace('"catalogue.toml"', '"catalogue.csv"')
    path = tmp_path / "store.toml"
    path.write_text(head + body, encoding="utf-8")
    return path


def _load(tmp_path: Path, body: str, **kwargs: object) -> BridgeConfig:
    return load_config(_write(tmp_path, body, **kwargs))  # type: ignore[arg-type]


def _error(tmp_path: Path, body: str, **kwargs: object) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, body, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize("csv", [False, True], ids=["toml", "csv"])
def test_lanes_take_their_unit_weight_from_the_catalogue_unless_they_give_one(
    tmp_path: Path, csv: bool
) -> None:
    shelf = _load(tmp_path, LANES, csv=csv).shelf
    assert shelf is not None
    cola, chips = shelf.lanes["lane_cola"], shelf.lanes["lane_chips"]
    assert (cola.topic, cola.sku, cola.zone) == (
        "shelf-1/sensor/lane_cola/state",
        "4006381333931",
        "aisle_drinks",
    )
    assert cola.unit_weight_g == 355.0
    assert 0 < cola.tolerance_g < 355.0 / 2
    assert (chips.unit_weight_g, chips.tolerance_g) == (160.0, 20.0)
    assert shelf.products["CHIPS-150"].unit_price == 199
    assert shelf.tracker_topic == "frigate/events"
    assert shelf.cameras is None
    assert shelf.entry_zones == {"entry_1": "entrance"}


def test_tracking_and_settling_can_be_tuned(tmp_path: Path) -> None:
    shelf = _load(
        tmp_path,
        LANES
        + """
[shelf]
stale_after_s = 60
settle_s = 1.5
min_readings = 4

[tracking]
topic = "tracker/events"
cameras = ["ceiling_1", "ceiling_2"]
tolerance_s = 3
""",
    ).shelf
    assert shelf is not None
    assert shelf.tracker_topic == "tracker/events"
    assert shelf.cameras == {"ceiling_1", "ceiling_2"}
    assert shelf.lane_tuning.stale_after_s == 60
    assert shelf.lane_tuning.settle_s == 1.5
    assert shelf.lane_tuning.min_readings == 4
    assert shelf.tuning.tolerance_s == 3


def test_a_store_without_lanes_has_no_shelves(tmp_path: Path) -> None:
    assert _load(tmp_path, "").shelf is None


def test_the_bridge_gets_carts_and_a_feed_for_the_lanes(tmp_path: Path) -> None:
    bridge = build_bridge(_load(tmp_path, LANES))
    assert bridge.carts is not None
    assert bridge.shelf_feed is not None
    assert bridge.shelf_feed.lane_topics == {
        "shelf-1/sensor/lane_cola/state",
        "shelf-2/sensor/lane_chips/state",
    }
    assert bridge.shelf_feed.tracker_topic == "frigate/events"
    assert bridge.status()["shelf"] == {
        "carts": 0,
        "review": 0,
        "anomalies": 0,
        "unattributed": 0,
        "stale_lanes": 0,
        "ignored": 0,
        "abandoned": 0,
        "tracker_offset_s": None,
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('topic = "shelf-2/sensor/lane_chips/state"', 'topic = "shelf/+/state"'),
            "lanes[1].topic",
        ),
        (('id = "lane_chips"', 'id = "lane_cola"'), "lanes[1].id"),
        (
            (
                'topic = "shelf-2/sensor/lane_chips/state"',
                'topic = "shelf-1/sensor/lane_cola/state"',
            ),
            "lanes[1].topic",
        ),
        (('sku = "CHIPS-150"', 'sku = "NOPE"'), "lanes[1].sku"),
        (('zone = "aisle_snacks"', 'zone = ""'), "lanes[1].zone"),
        (("tolerance_g = 20.0", "tolerance_g = 90.0"), "lanes[1].tolerance_g"),
        (("unit_weight_g = 160.0\n", ""), "lanes[1].unit_weight_g"),
        (("unit_weight_g = 160.0", "unit_weight_g = -3"), "lanes[1].unit_weight_g"),
        (('file = "catalogue.toml"', 'file = "missing.toml"'), "catalogue.file: cannot read"),
        (("[catalogue]\nfile", "[catalogue]\nfiles"), "catalogue.file"),
    ],
)
def test_a_wrong_lane_names_its_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    assert change[0] in LANES
    assert message in _error(tmp_path, LANES.replace(*change))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[tracking]\ntopic = "frigate/#"\n', "tracking.topic"),
        ('[tracking]\ntopic = "shelf-1/sensor/lane_cola/state"\n', "tracking.topic"),
        ('[tracking]\ncameras = "ceiling"\n', "tracking.cameras"),
        ("[tracking]\ncameras = []\n", "tracking.cameras"),
        ("[tracking]\nwhatever_s = 3\n", "tracking.whatever_s: unknown key"),
        ("[tracking]\ntolerance_s = -1\n", "tracking.tolerance_s: must be a number above 0"),
        ('[tracking]\ntolerance_s = "2"\n', "tracking.tolerance_s"),
        ("[shelf]\nstale_after_s = 0\n", "shelf.stale_after_s"),
        ("[shelf]\nnoise = 3\n", "shelf.noise: unknown key"),
        ("[shelf]\nmin_readings = 2.5\n", "shelf.min_readings: must be a whole number"),
        ("[shelf]\nnoise_g = 150\n", "lanes[1]: lane lane_chips: a unit"),
    ],
)
def test_a_wrong_tuning_names_its_key(tmp_path: Path, extra: str, message: str) -> None:
    assert message in _error(tmp_path, LANES + extra)


def test_a_tuning_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "")
    raw = tomllib.loads(LANES)
    with pytest.raises(ShelfConfigError, match="shelf: must be a table"):
        parse_shelf({**raw, "shelf": 3}, tmp_path)


def test_a_broken_catalogue_says_which_file_product_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, LANES)
    (tmp_path / "catalogue.toml").write_text(
        CATALOGUE_TOML.replace("price = 199", 'price = "1.99"'), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"catalogue\.file: catalogue\.toml: products\[1\]"):
        load_config(path)


def test_a_catalogue_that_is_not_text_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, LANES)
    (tmp_path / "catalogue.toml").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(ConfigError, match=r"catalogue\.file: .* is not UTF-8 text"):
        load_config(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[catalogue]\nfile = "catalogue.toml"\n', "[catalogue]: needs shelf lanes"),
        ("[tracking]\ncameras = ['a']\n", "[tracking]: needs shelf lanes"),
        ("[[lanes]]" + LANES.split("[[lanes]]", 1)[1], "[catalogue]: the table is missing"),
    ],
)
def test_lanes_and_their_tables_belong_together(tmp_path: Path, body: str, message: str) -> None:
    assert message in _error(tmp_path, body)


@pytest.mark.parametrize(
    ("lanes", "message"), [([], "lanes: use [[lanes]] tables"), ([3], "lanes[0]: must be a table")]
)
def test_lanes_are_tables(tmp_path: Path, lanes: list[object], message: str) -> None:
    _write(tmp_path, "")
    raw = {"catalogue": {"file": "catalogue.toml"}, "lanes": lanes}
    with pytest.raises(ShelfConfigError, match=re.escape(message)):
        parse_shelf(raw, tmp_path)


def test_lanes_need_the_broker(tmp_path: Path) -> None:
    head = HEAD.replace('[mqtt]\nhost = "127.0.0.1"\n', "")
    assert "lanes: shelf lanes and the tracker report over MQTT" in _error(
        tmp_path, LANES, head=head
    )


def test_only_an_entry_gate_has_a_zone(tmp_path: Path) -> None:
    head = HEAD + 'zone = "exit"\n'
    assert "gates[1].zone: only an entry gate has a zone" in _error(tmp_path, LANES, head=head)


def test_a_gate_zone_is_not_a_gate_option(tmp_path: Path) -> None:
    config = _load(tmp_path, LANES)
    entry = config.gates[0]
    assert entry.zone == "entrance"
    assert "zone" not in entry.options
