"""A site's fingerprint key file that cannot be used: a new key, never the old PIN's trace.

The key file is real (`real_storage`) and damaged on disk, as a failing disk or a manual
edit would leave it.
"""

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import UnsupportedStorageVersionError

from custom_components.concierge.fingerprint_key import (
    KEY_BYTES,
    async_load_key,
    key_store,
)
from tests.storage_helpers import real_storage

ENTRY = "site1"
GOOD = bytes(range(KEY_BYTES))


@pytest.fixture
def disk(hass: HomeAssistant) -> Iterator[None]:
    with real_storage():
        yield


def key_path(hass: HomeAssistant) -> Path:
    return Path(key_store(hass, ENTRY).path)


def write(hass: HomeAssistant, content: object) -> None:
    path = key_path(hass)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content), encoding="utf-8")


def on_disk(hass: HomeAssistant) -> bytes:
    return bytes.fromhex(json.loads(key_path(hass).read_text(encoding="utf-8"))["data"]["key"])


@pytest.mark.usefixtures("disk")
async def test_a_good_key_is_kept(hass: HomeAssistant) -> None:
    write(hass, {"version": 1, "key": "k", "data": {"key": GOOD.hex()}})

    assert await async_load_key(key_store(hass, ENTRY)) == GOOD


@pytest.mark.usefixtures("disk")
@pytest.mark.parametrize(
    "data",
    [
        {"key": "not hex at all"},
        {"key": GOOD.hex()[:-2]},  # a byte short
        {"key": 12},
        ["a list"],
    ],
)
async def test_a_damaged_key_is_replaced_by_a_new_one_on_disk(
    hass: HomeAssistant, data: object
) -> None:
    write(hass, {"version": 1, "key": "k", "data": data})

    key = await async_load_key(key_store(hass, ENTRY))

    assert len(key) == KEY_BYTES
    assert key != GOOD
    assert on_disk(hass) == key  # the next start uses the same new key
    assert await async_load_key(key_store(hass, ENTRY)) == key


@pytest.mark.usefixtures("disk")
async def test_an_unreadable_key_file_is_replaced_and_logged_without_the_key(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    write(hass, {"version": 1, "key": "k"})  # its data cut off

    with caplog.at_level(logging.DEBUG, "custom_components.concierge.fingerprint_key"):
        key = await async_load_key(key_store(hass, ENTRY))

    assert len(key) == KEY_BYTES
    assert on_disk(hass) == key
    assert f"Could not read {key_path(hass)}" in caplog.text
    assert key.hex() not in caplog.text


@pytest.mark.usefixtures("disk")
async def test_a_key_file_from_a_newer_version_is_left_alone(hass: HomeAssistant) -> None:
    before = {"version": 2, "key": "k", "data": {"key": GOOD.hex(), "more": 1}}
    write(hass, before)

    with pytest.raises(UnsupportedStorageVersionError):
        await async_load_key(key_store(hass, ENTRY))

    assert json.loads(key_path(hass).read_text(encoding="utf-8")) == before
