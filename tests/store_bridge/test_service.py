"""Building an OSDP gate from the configuration (the reader itself is not contacted here)."""

import pytest

from store_bridge.config import ConfigError, GateSpec
from store_bridge.gates.osdp_gate import OsdpGate
from store_bridge.service import build_gate

KEY = "00112233445566778899aabbccddeeff"


def _osdp(**options: object) -> GateSpec:
    return GateSpec("reader_1", "Reader", "entry", "osdp", dict(options))


def test_an_osdp_gate_is_built_from_its_options() -> None:
    gate = build_gate(_osdp(serial_port="/dev/ttyUSB0", scbk=KEY, output=1, pulse_seconds=2), None)
    assert isinstance(gate, OsdpGate)
    assert (gate.gate_id, gate.role.value) == ("reader_1", "entry")
    assert KEY not in repr(gate)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "gates.reader_1.serial_port: the reader's RS-485 port is required"),
        ({"serial_port": 5}, "gates.reader_1.serial_port: must be a text"),
        ({"serial_port": "/dev/ttyUSB0", "scbk": "short"}, "gates.reader_1: scbk: "),
        (
            {"serial_port": "/dev/ttyUSB0", "scbk": KEY, "baud_rate": "fast"},
            "gates.reader_1: baud_rate",
        ),
    ],
    ids=["no port", "port a number", "short key", "baud rate a text"],
)
def test_osdp_mistakes_are_named(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        build_gate(_osdp(**options), None)
    assert str(error.value).startswith(message)
    assert KEY not in str(error.value)
