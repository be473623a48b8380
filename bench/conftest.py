"""Benchmarks reuse the test rigs and Home Assistant's test harness."""

pytest_plugins = ["pytest_homeassistant_custom_component"]

from tests.zha.conftest import *
from tests.zwave.conftest import *
