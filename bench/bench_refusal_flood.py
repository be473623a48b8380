"""A flood of junk courier requests: what it adds to the audit log, and how many fsyncs.

Run: .venv/bin/python -m pytest bench/bench_refusal_flood.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

Everything is real and in one process: Home Assistant's HTTP server behind a trusted
reverse proxy (`X-Forwarded-For` gives each request its source address), the site's
audit log on disk. 10,000 junk requests, as an attacker without a carrier key can send
them: garbage, a forged signature, an unknown carrier, a token without `iss`, each from
a fresh address, and a burst from one address (rate limited). In the middle, one courier
presents a correctly signed token that has expired: a genuine attempt, which must be in
the log on its own. The site is then unloaded (pending summaries written).

Reported: the audit log's bytes and records added, and the fsyncs (of any file) during
the flood. The baseline, measured in the same run, is one genuine refusal's record:
the ratio says how many such records the whole flood costs.
"""

import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.http.config import DATA_STORE as HTTP_SETTINGS
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.audit_file import log_path
from tests.components.conftest import real_locks  # noqa: F401 - the fixture
from tests.components.delivery_helpers import (
    CAMERA,
    Carrier,
    add_site,
    courier_url,
    setup_house,
    site_data,
    site_options,
    window,
)
from tests.components.helpers import at, call, move_to
from tests.storage_helpers import real_storage

FLOOD = 10_000
NOW = at("2026-11-24 10:00")


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts every `os.fsync` (the audit log's durable appends among them)."""
    calls: list[int] = []
    real: Callable[[int], None] = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def _junk(n: int, attacker: Carrier, site: str) -> str:
    start = int(NOW.timestamp())
    match n % 4:
        case 0:
            return f"junk-{n}"
        case 1:  # signed by the attacker, claiming the registered carrier
            return attacker.token(site, now=NOW, jti=f"forged-{n}")
        case 2:
            return Carrier("evilco").token(site, now=NOW, jti=f"x-{n}")
        case _:  # no issuer at all
            claims = {"aud": site, "sub": "d", "jti": f"n-{n}", "nbf": start, "exp": start + 60}
            return jwt.encode(claims, attacker.key, algorithm="ES256")


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


@pytest.mark.usefixtures("real_locks")
async def test_a_flood_of_junk_requests(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    tmp_path: Path,
    hass_client_no_auth: ClientSessionGenerator,
    fsyncs: list[int],
) -> None:
    """Report the audit log's growth and the fsyncs of 10,000 junk requests."""
    counted = fsyncs
    hass.config.config_dir = str(tmp_path)  # the audit log, on a real disk (fsync)
    assert await async_setup_component(
        hass, "http", {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1"]}}
    )
    await hass.data[HTTP_SETTINGS].async_promote_pending()
    await move_to(hass, freezer, NOW)
    carrier, attacker = Carrier(), Carrier()
    with real_storage():
        await setup_house(hass, tmp_path)
        entry: MockConfigEntry = await add_site(
            hass, site_data("lock.front_door", None, [CAMERA]), site_options(), carrier
        )
        start, end = window(NOW)
        await call(hass, "create_grant", label="Parcel Co", kind="courier", start=start,
                   end=end, remote_token=True)  # fmt: skip
        await hass.async_block_till_done()
        path = log_path(hass, entry.entry_id)
        client = await hass_client_no_auth()
        url = courier_url(entry)

        # The baseline: one genuine refusal (an expired token), recorded on its own.
        size0, count0 = path.stat().st_size, len(_records(path))
        stale = carrier.token(entry.entry_id, now=NOW - timedelta(minutes=10), jti="stale-0")
        response = await client.post(
            url, json={"token": stale}, headers={"X-Forwarded-For": "192.0.2.1"}
        )
        assert response.status == 403
        await hass.async_block_till_done()
        one_record = path.stat().st_size - size0
        assert len(_records(path)) == count0 + 1

        size1, count1, fsync1 = path.stat().st_size, len(_records(path)), len(counted)
        statuses: dict[int, int] = {}
        for n in range(FLOOD):
            if n == FLOOD // 2:
                late = carrier.token(entry.entry_id, now=NOW - timedelta(minutes=9), jti="stale-1")
                response = await client.post(
                    url, json={"token": late}, headers={"X-Forwarded-For": "192.0.2.2"}
                )
                assert response.status == 403
            address = "203.0.113.7" if n % 10 == 9 else f"198.18.{n // 256 % 256}.{n % 256}"
            token = _junk(n, attacker, entry.entry_id)
            response = await client.post(
                url, json={"token": token}, headers={"X-Forwarded-For": address}
            )
            statuses[response.status] = statuses.get(response.status, 0) + 1
        await hass.async_block_till_done()
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        records = _records(path)[count1:]
        added, fsync_added = path.stat().st_size - size1, len(counted) - fsync1

    genuine = [r for r in records if r.get("event", r).get("reason") == "expired"]
    print(
        f"\n{FLOOD} junk requests (answers {dict(sorted(statuses.items()))}) plus one genuine "
        f"refusal:\n  audit log +{added} bytes, +{len(records)} records, {fsync_added} fsyncs"
        f"\n  baseline (one genuine refusal's record): {one_record} bytes"
        f"\n  ratio: the flood costs {added / one_record:.1f} such records"
    )
    assert len(genuine) == 1
