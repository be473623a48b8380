"""Where a PIN or the alarm code could end up: the bus, the recorder's database, the log.

The Z-Wave and Zigbee secret tests (tests/zwave/test_zwave_secrets.py,
tests/zha/test_zha_secrets.py) run a whole keypad visit on their rig with Home Assistant's
real recorder writing to an SQLite file, as `home-assistant_v2.db` is written at home,
and then look for the planted secrets everywhere a user could find them:

- every event fired on the bus (`MATCH_ALL`, plus `state_reported`, which `MATCH_ALL`
  leaves out), as text;
- every value of every row of every table of the recorder's database, and the raw bytes
  of the database file and its write-ahead log (rows the recorder deleted included: what
  the alarm code, which must be nowhere, is checked against);
- every log record at DEBUG, with Home Assistant told its log level changed (so its bus
  logs each event, as it does when a user turns debug logging on);
- the diagnostics a user downloads.

The secrets are 8 digits long, so they cannot turn up by chance in a timestamp's 6-digit
fraction of a second.
"""

import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from homeassistant.components.recorder import Recorder
from homeassistant.const import EVENT_LOGGING_CHANGED, EVENT_STATE_REPORTED, MATCH_ALL
from homeassistant.core import Event, HomeAssistant, State, callback
from homeassistant.helpers.json import json_dumps
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry, mock_restore_cache
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from tests.components.delivery_helpers import ALARM, CAMERA, JPEG, PETS

SECRET_PIN = "48291375"
"""The cleaner's keypad PIN."""
SECRET_ALARM_CODE = "80447316"
"""The alarm panel's code, which the owner gave Concierge."""
SECRETS = (SECRET_PIN, SECRET_ALARM_CODE)


@dataclass(frozen=True, slots=True)
class Sighting:
    """Where a secret was seen, and the text around it."""

    where: str
    text: str


def _event_text(event: Event[Any]) -> str:
    try:
        return json_dumps(event.as_dict())
    except TypeError:  # something the recorder could not store either: its repr
        return repr(event.as_dict())


@callback
def _every(_data: Any) -> bool:
    return True


class BusWatch:
    """Every event fired on Home Assistant's bus from now on, as text."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Start listening (callbacks: in firing order, nothing missed)."""
        self.events: list[tuple[str, str]] = []
        self._unsubs = [
            hass.bus.async_listen(MATCH_ALL, self._seen),
            hass.bus.async_listen(EVENT_STATE_REPORTED, self._seen, event_filter=_every),
        ]

    @callback
    def _seen(self, event: Event[Any]) -> None:
        self.events.append((str(event.event_type), _event_text(event)))

    def sightings(self, secret: str) -> list[Sighting]:
        """The events whose text holds `secret`."""
        return [Sighting(kind, text) for kind, text in self.events if secret in text]

    def stop(self) -> None:
        """Stop listening."""
        for unsub in self._unsubs:
            unsub()


def _cell_text(value: object) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _scan_database(path: Path, secrets: tuple[str, ...]) -> dict[str, list[Sighting]]:
    """Every cell of every table holding a secret, and the raw files' hits (blocking)."""
    found: dict[str, list[Sighting]] = {s: [] for s in secrets}
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        assert {"events", "event_data", "states", "state_attributes"} <= set(tables), tables
        for table in tables:
            cursor = connection.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - a table name
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    text = _cell_text(value)
                    for secret in secrets:
                        if secret in text:
                            found[secret].append(Sighting(f"{table}.{column}", text))
    finally:
        connection.close()
    for file in (path, path.with_name(path.name + "-wal")):
        raw = file.read_bytes() if file.exists() else b""
        for secret in secrets:
            if secret.encode() in raw:
                found[secret].append(Sighting(f"file {file.name}", "raw bytes"))
    return found


async def async_scan_database(
    hass: HomeAssistant, recorder: Recorder, secrets: tuple[str, ...] = SECRETS
) -> dict[str, list[Sighting]]:
    """Wait until the recorder wrote everything, then scan its database file."""
    await async_wait_recording_done(hass)
    database = recorder.engine.url.database if recorder.engine is not None else None
    assert database, "the recorder writes no database file"
    return await hass.async_add_executor_job(_scan_database, Path(database), secrets)


def log_sightings(records: list[logging.LogRecord], secret: str) -> list[Sighting]:
    """The log records (message or traceback) that hold `secret`."""
    found = []
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        if secret in text:
            found.append(Sighting(record.name, text))
    return found


def is_the_owners_grant_action(sighting: Sighting) -> bool:
    """The owner's own `concierge.create_grant` action, PIN included, as Home Assistant
    fires (and logs, and records) every action it is asked to carry out.
    """
    return '"domain":"concierge","service":"create_grant"' in sighting.text.replace(" ", "") or (
        "call_service" in sighting.text and "service=create_grant" in sighting.text
    )


HARNESS_LOGGER = "pytest_homeassistant_custom_component"
"""The test harness: its stand-in for Home Assistant's storage logs what it is given to
write (a site's data holds its grants' PINs, README: "What is stored about a PIN").
Home Assistant's own storage does not log it."""


def allowed_log(sighting: Sighting) -> bool:
    """A log record that may hold the PIN on every rig: the owner's action, the harness."""
    return is_the_owners_grant_action(sighting) or sighting.where.startswith(HARNESS_LOGGER)


def database_row_is_the_owners_grant_action(sighting: Sighting) -> bool:
    """A database row that is the data of the owner's `create_grant` action."""
    if sighting.where != "event_data.shared_data":
        return False
    data = json.loads(sighting.text)
    return (data.get("domain"), data.get("service")) == ("concierge", "create_grant")


async def setup_quiet_house(hass: HomeAssistant, tmp_path: Path) -> None:
    """The house of tests/components/delivery_helpers.py, its panel's code `SECRET_ALARM_CODE`.

    The panel was armed (away) before Home Assistant started: it restores that state, so
    no action with the code is needed to arm it for the test.
    """
    mock_restore_cache(hass, [State(ALARM, "armed_away")])
    assert await async_setup_component(
        hass,
        "alarm_control_panel",
        {
            "alarm_control_panel": [
                {
                    "platform": "manual",
                    "name": "House",
                    "code": SECRET_ALARM_CODE,
                    "arming_time": 0,
                    "delay_time": 0,
                    "trigger_time": 60,
                    "disarm_after_trigger": False,
                }
            ]
        },
    )
    hass.states.async_set(PETS, "off", {"device_class": "presence"})
    picture = tmp_path / "porch.jpg"
    await hass.async_add_executor_job(picture.write_bytes, JPEG)
    camera = MockConfigEntry(
        domain="local_file", title="Porch", options={"name": "Porch", "file_path": str(picture)}
    )
    camera.add_to_hass(hass)
    assert await hass.config_entries.async_setup(camera.entry_id)
    await hass.async_block_till_done()
    panel = hass.states.get(ALARM)
    assert panel is not None
    assert panel.state == "armed_away"
    assert hass.states.get(CAMERA) is not None


@pytest.fixture
def persistent_database() -> bool:
    """The recorder writes an SQLite file (not an in-memory database) that can be read."""
    return True


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """Prepare the recorder's database before Home Assistant starts (`recorder_mock`)."""


@pytest.fixture
def bus_watch(hass: HomeAssistant) -> Iterator[BusWatch]:
    """Every bus event from the start of the test (before the rig and the site are set up)."""
    watch = BusWatch(hass)
    yield watch
    watch.stop()


@pytest.fixture
async def debug_log(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, as a user turns on debug logging (Home Assistant is told).

    The test harness's own console handler keeps its level: the records are captured,
    not printed (SQLAlchemy alone logs every statement).
    """
    console = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    levels = [h.level for h in console]
    for handler in console:
        handler.setLevel(max(handler.level, logging.WARNING))
    caplog.set_level(logging.DEBUG)
    hass.bus.async_fire(EVENT_LOGGING_CHANGED)
    await hass.async_block_till_done()
    yield caplog
    for handler, level in zip(console, levels, strict=True):
        handler.setLevel(level)
