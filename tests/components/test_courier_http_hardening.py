"""The courier and guest endpoints against the attack run of issue #14, over real HTTP.

Home Assistant sits behind a reverse proxy here (as a home reachable from outside
usually does), so each request's source address comes from `X-Forwarded-For`. The
site's storage is Home Assistant's test storage: what it holds is what is on disk.
"""

import base64
import copy
import gzip
import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.http.config import DATA_STORE as HTTP_SETTINGS
from homeassistant.config_entries import ConfigEntryState, ConfigSubentry
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.core.courier_tokens import replay_key
from custom_components.concierge.core.replay_cache import ReplayCache
from custom_components.concierge.http import MAX_BODY
from custom_components.concierge.site_storage import storage_key
from tests.storage_helpers import real_storage

from .delivery_helpers import (
    ALARM,
    CAMERA,
    Carrier,
    add_site,
    courier_url,
    guest_url,
    setup_house,
    site_data,
    site_options,
    window,
)
from .helpers import at, call, move_to

NOW = at("2026-11-24 10:00")
_MINUTE = timedelta(minutes=1)
FRONT = "lock.front_door"
IDENTITY = bytes.fromhex("01" + "00" * 31)
"""The identity point: an Ed25519 "public key" with which nobody's signature verifies."""


def _from(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


@pytest.fixture
async def behind_proxy(hass: HomeAssistant) -> None:
    """Home Assistant's HTTP server trusting the local reverse proxy's X-Forwarded-For."""
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1", "::1"]}},
    )
    # The owner confirms the new settings (Home Assistant would revert them otherwise).
    await hass.data[HTTP_SETTINGS].async_promote_pending()


async def _home(hass: HomeAssistant, tmp_path: Any, carrier: Carrier | None) -> MockConfigEntry:
    await setup_house(hass, tmp_path)
    entry = await add_site(
        hass,
        site_data(FRONT, "binary_sensor.front_door_contact", [CAMERA]),
        site_options(),
        carrier,
    )
    start, end = window(NOW)
    await call(hass, "create_grant", label="Parcel Co", kind="courier", start=start, end=end,
               remote_token=True)  # fmt: skip
    return entry


@pytest.fixture
async def home(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Any,
    real_locks: None,
    behind_proxy: None,
) -> tuple[MockConfigEntry, Carrier]:
    await move_to(hass, freezer, NOW)
    carrier = Carrier()
    return await _home(hass, tmp_path, carrier), carrier


async def _post(
    client: Any, url: str, token: str, address: str = "203.0.113.10"
) -> tuple[int, dict[str, Any]]:
    response = await client.post(url, json={"token": token}, headers=_from(address))
    return response.status, await response.json()


# --- 5. bodies are limited by the bytes read ------------------------------------------


async def _guest_token(hass: HomeAssistant) -> str:
    start, end = window(NOW)
    grant = (await call(hass, "create_grant", label="Aunt Ida", kind="guest", start=start,
                        end=end, guest_link=True))["grant_id"]  # fmt: skip
    link = await call(hass, "create_guest_link", grant_id=grant)
    return str(link["url"].split("#")[1])


async def _endpoint(
    hass: HomeAssistant, entry: MockConfigEntry, carrier: Carrier, endpoint: str
) -> tuple[str, str]:
    """The endpoint's URL and a token it accepts."""
    if endpoint == "courier":
        return courier_url(entry), carrier.token(entry.entry_id, now=NOW)
    return guest_url(entry), await _guest_token(hass)


def _padded(token: str, size: int) -> bytes:
    """A JSON body holding a valid token, padded to `size` bytes."""
    return json.dumps({"pad": "x" * size, "token": token}).encode()


@pytest.mark.parametrize("endpoint", ["courier", "guest"])
async def test_a_chunked_10_mb_body_is_refused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
    access_events: list[dict[str, Any]],
    endpoint: str,
) -> None:
    entry, carrier = home
    url, token = await _endpoint(hass, entry, carrier, endpoint)
    body = _padded(token, 10 * 1024 * 1024)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: Transfer-Encoding chunked
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    client = await hass_client_no_auth()
    response = await client.post(
        url, data=chunks(), headers={"Content-Type": "application/json", **_from("203.0.113.10")}
    )
    assert response.status == 413
    answer = await response.json()
    assert (answer["status"], answer["error"]) == ("denied", "body_too_large")
    await move_to(hass, freezer, NOW + timedelta(seconds=61))  # the minute's summary
    await hass.async_block_till_done()
    assert access_events[-1]["type"] == "access_denied"
    assert access_events[-1]["reason"] == "body_too_large"
    assert access_events[-1]["data"]["refusals"] == 1
    assert hass.states.get(FRONT).state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"


@pytest.mark.parametrize("endpoint", ["courier", "guest"])
async def test_a_small_gzip_body_that_inflates_to_7_5_mb_is_refused(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
    endpoint: str,
) -> None:
    entry, carrier = home
    url, token = await _endpoint(hass, entry, carrier, endpoint)
    bomb = gzip.compress(_padded(token, 7_500_000))
    assert len(bomb) <= MAX_BODY  # its Content-Length says it is small
    client = await hass_client_no_auth()
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = await client.post(url, data=bomb, headers={**headers, **_from("203.0.113.10")})
    assert response.status == 413
    assert hass.states.get(FRONT).state == "locked"
    # A compressed body of the usual size is read as before.
    response = await client.post(
        url, data=gzip.compress(_padded(token, 10)), headers={**headers, **_from("203.0.113.11")}
    )
    assert response.status == 200, await response.text()
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "unlocked"


# --- 6. the replay record is on disk before the door is asked to open -----------------


def _on_disk(hass_storage: dict[str, Any], entry: MockConfigEntry) -> dict[str, Any]:
    """Every file of the site in Home Assistant's storage, as it is now."""
    site = f"concierge.{entry.entry_id}"
    return {
        key: copy.deepcopy(value)
        for key, value in hass_storage.items()
        if key == site or key.startswith(f"{site}.")
    }


async def _start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def test_a_token_used_just_before_a_crash_stays_used(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
    hass_storage: dict[str, Any],
) -> None:
    entry, carrier = home
    on_disk_at_unlock: list[dict[str, Any]] = []

    @callback
    def _unlock_asked(event: Event[dict[str, Any]]) -> None:
        if (event.data["domain"], event.data["service"]) == ("lock", "unlock"):
            on_disk_at_unlock.append(_on_disk(hass_storage, entry))

    hass.bus.async_listen(EVENT_CALL_SERVICE, _unlock_asked)
    token = carrier.token(entry.entry_id, now=NOW)
    client = await hass_client_no_auth()
    status, body = await _post(client, courier_url(entry), token)
    assert status == 200, body
    (disk,) = on_disk_at_unlock

    # Home Assistant is killed as the lock opens: nothing written after that survives.
    assert await hass.config_entries.async_unload(entry.entry_id)
    for key in _on_disk(hass_storage, entry):
        del hass_storage[key]
    hass_storage.update(disk)
    await _start(hass, entry)
    assert hass.states.get(FRONT).state == "locked"  # the restart found the visit, locked

    status, body = await _post(client, courier_url(entry), token)
    assert (status, body["error"]) == (403, "replayed")
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"

    # Deleting the site deletes its record of used tokens with the rest of its data.
    assert f"{storage_key(entry.entry_id)}.replay" in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert f"{storage_key(entry.entry_id)}.replay" not in hass_storage


async def test_a_token_an_earlier_version_recorded_stays_used(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
    hass_storage: dict[str, Any],
) -> None:
    entry, carrier = home
    token = carrier.token(entry.entry_id, now=NOW, jti="used-before-the-update")
    assert await hass.config_entries.async_unload(entry.entry_id)
    # An earlier version kept the used tokens in the site's data.
    earlier = ReplayCache()
    earlier.seen(replay_key(carrier.carrier_id, "used-before-the-update"), NOW + _MINUTE, NOW)
    hass_storage[storage_key(entry.entry_id)]["data"]["replay"] = earlier.to_dict()
    hass_storage.pop(f"{storage_key(entry.entry_id)}.replay", None)
    await _start(hass, entry)
    client = await hass_client_no_auth()
    assert await _post(client, courier_url(entry), token) == (
        403, {"status": "denied", "error": "replayed"}
    )  # fmt: skip
    assert hass.states.get(FRONT).state == "locked"


async def _tokens_from_before_the_start_are_refused(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    client: Any,
    entry: MockConfigEntry,
    carrier: Carrier,
) -> None:
    earlier = carrier.token(entry.entry_id, now=NOW)  # may have been used before the start
    assert (await _post(client, courier_url(entry), earlier))[1]["error"] == "replayed"
    assert hass.states.get(FRONT).state == "locked"
    later = NOW + _MINUTE
    await move_to(hass, freezer, later)
    status, body = await _post(client, courier_url(entry), carrier.token(entry.entry_id, now=later))
    assert status == 200, body


async def test_a_damaged_record_of_used_tokens_fails_secure(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
    hass_storage: dict[str, Any],
) -> None:
    entry, carrier = home
    key = f"{storage_key(entry.entry_id)}.replay"

    assert await hass.config_entries.async_unload(entry.entry_id)
    # Readable JSON, but not a record Concierge wrote.
    hass_storage[key] = {"version": 1, "minor_version": 1, "key": key,
                         "data": {"version": 7, "entries": "?"}}  # fmt: skip
    await _start(hass, entry)
    client = await hass_client_no_auth()
    await _tokens_from_before_the_start_are_refused(hass, freezer, client, entry, carrier)


async def test_a_corrupt_file_of_used_tokens_fails_secure(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Any,
    real_locks: None,
    behind_proxy: None,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    await move_to(hass, freezer, NOW)
    carrier = Carrier()
    with real_storage():
        entry = await _home(hass, tmp_path, carrier)
        replay_file = Path(hass.config.path(".storage", f"concierge.{entry.entry_id}.replay"))
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_add_executor_job(replay_file.write_text, '{"version": 1, "data": {"v')
        await _start(hass, entry)
        client = await hass_client_no_auth()
        await _tokens_from_before_the_start_are_refused(hass, freezer, client, entry, carrier)
        written = await hass.async_add_executor_job(replay_file.read_text)
        assert json.loads(written)["data"]["entries"]  # written anew


async def test_a_disk_that_refuses_the_record_of_used_tokens_opens_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Any,
    real_locks: None,
    behind_proxy: None,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await move_to(hass, freezer, NOW)
    carrier = Carrier()
    with real_storage():
        entry = await _home(hass, tmp_path, carrier)
        replay_file = Path(hass.config.path(".storage", f"concierge.{entry.entry_id}.replay"))
        # The disk refuses the write for real: a folder stands where the file must go.
        await hass.async_add_executor_job(lambda: replay_file.unlink(missing_ok=True))
        await hass.async_add_executor_job(replay_file.mkdir)
        client = await hass_client_no_auth()
        token = carrier.token(entry.entry_id, now=NOW)
        status, body = await _post(client, courier_url(entry), token)
        assert (status, body["error"]) == (503, "storage_unavailable")
        await hass.async_block_till_done()
        assert hass.states.get(FRONT).state == "locked"  # no door opens for an unrecorded use
        assert "could not be written" in caplog.text
        assert token not in caplog.text
        # The disk is back: the same token stays used (never opened for), a new one gets in.
        await hass.async_add_executor_job(replay_file.rmdir)
        status, body = await _post(client, courier_url(entry), token)
        assert (status, body["error"]) == (403, "replayed")
        fresh = carrier.token(entry.entry_id, now=NOW)
        status, body = await _post(client, courier_url(entry), fresh)
        assert status == 200, body
        await hass.async_block_till_done()
        assert hass.states.get(FRONT).state == "unlocked"
        assert await hass.async_add_executor_job(replay_file.is_file)
        assert await hass.config_entries.async_unload(entry.entry_id)


# --- 7. a flood of addresses does not lock a courier out ------------------------------


async def test_a_courier_gets_in_after_2000_junk_addresses(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, carrier = home
    client = await hass_client_no_auth()
    for n in range(2000):
        status, _ = await _post(client, courier_url(entry), "junk", f"198.18.{n // 256}.{n % 256}")
        assert status == 401
    status, body = await _post(client, courier_url(entry), carrier.token(entry.entry_id, now=NOW),
                               "203.0.113.99")  # fmt: skip
    assert status == 200, body
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "unlocked"


async def test_genuine_tokens_do_not_spend_the_budget_of_unproven_requests(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, carrier = home
    url = courier_url(entry)
    client = await hass_client_no_auth()
    # A courier's address (a carrier's gateway) that has also sent three bad requests.
    assert [(await _post(client, url, "junk"))[0] for _ in range(3)] == [401] * 3
    first = carrier.token(entry.entry_id, now=NOW)
    status, body = await _post(client, url, first)
    assert status == 200, body
    await call(hass, "end_visit", visit_id=body["visit"])
    assert await _post(client, url, first) == (403, {"status": "denied", "error": "replayed"})
    status, body = await _post(client, url, carrier.token(entry.entry_id, now=NOW))
    assert status == 200, body
    await call(hass, "end_visit", visit_id=body["visit"])
    # Of the five, the three bad requests and the replay were counted: one is left.
    assert (await _post(client, url, "junk"))[0] == 401
    assert (await _post(client, url, "junk"))[0] == 429


# --- 1. a weak carrier key stored by an earlier version -------------------------------


async def test_a_stored_small_order_key_opens_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Any,
    real_locks: None,
    behind_proxy: None,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await move_to(hass, freezer, NOW)
    carrier = Carrier()
    pem = (
        ed25519.Ed25519PublicKey.from_public_bytes(IDENTITY)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    # What an earlier version stored when the owner pasted that key.
    stored = ConfigSubentry(
        data={"carrier_id": carrier.carrier_id, "name": "Parcel Co",
              "keys": [{"kid": "k1", "alg": "EdDSA", "public_key_pem": pem}]},
        subentry_type="carrier", title="Parcel Co", unique_id=carrier.carrier_id,
    )  # fmt: skip
    entry = await _home(hass, tmp_path, None)
    hass.config_entries.async_add_subentry(entry, stored)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED  # the site runs
    # Signed by nobody: R is the identity point and S is zero.
    start = int(NOW.timestamp())
    claims = {"iss": carrier.carrier_id, "aud": entry.entry_id, "sub": "delivery-1",
              "jti": "nobody-1", "nbf": start, "exp": start + 120}  # fmt: skip
    forged = ".".join(
        _b64(part)
        for part in (
            json.dumps({"alg": "EdDSA", "kid": "k1"}).encode(),
            json.dumps(claims).encode(),
            IDENTITY + bytes(32),
        )
    )
    client = await hass_client_no_auth()
    with caplog.at_level(logging.WARNING):
        status, body = await _post(client, courier_url(entry), forged)
    assert (status, body["error"]) == (401, "invalid_token")
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"
    assert "'Parcel Co' is ignored" in caplog.text
    assert "weak_public_key" in caplog.text


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- 12. the guest page is never framed -----------------------------------------------


async def test_the_guest_page_forbids_every_frame(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, _ = home
    client = await hass_client_no_auth()
    page = await client.get(guest_url(entry), headers=_from("203.0.113.10"))
    assert page.status == 200
    # Home Assistant answers X-Frame-Options: SAMEORIGIN for every page; the policy that
    # browsers follow first says no frame at all, not even one of Home Assistant's own.
    policy = [p.strip() for p in page.headers["Content-Security-Policy"].split(";")]
    assert "frame-ancestors 'none'" in policy
