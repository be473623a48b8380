"""A flood of junk requests does not grow the audit log by a record each (issue #14, 8).

Refusals of requests not proven genuine are counted and recorded as one summary per
reason a minute; a genuine courier's refusal in the middle of the flood is recorded on its
own, at once. Over real HTTP, behind a trusted reverse proxy (`X-Forwarded-For` gives each
request its own source address), with the audit log on disk.
"""

import json
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
from custom_components.concierge.core.refusal_tally import MAX_SUMMARIES
from tests.waiting import until

from .delivery_helpers import (
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
FLOOD = 10_000
GENUINE_ADDRESS = "192.0.2.44"


@pytest.fixture
async def home(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Any, real_locks: None
) -> tuple[MockConfigEntry, Carrier]:
    assert await async_setup_component(
        hass, "http", {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1"]}}
    )
    await hass.data[HTTP_SETTINGS].async_promote_pending()
    await setup_house(hass, tmp_path)
    await move_to(hass, freezer, NOW)
    carrier = Carrier()
    entry = await add_site(
        hass, site_data("lock.front_door", None, [CAMERA]), site_options(), carrier
    )
    start, end = window(NOW)
    await call(hass, "create_grant", label="Parcel Co", kind="courier", start=start, end=end,
               remote_token=True)  # fmt: skip
    return entry, carrier


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line)["event"] for line in path.read_text().splitlines() if line]


def _junk(site: str) -> list[str]:
    """What an attacker without a carrier key sends: each kind refused before any signature."""
    attacker = Carrier()  # claims the site's carrier, signs with its own key
    start = int(NOW.timestamp())
    no_issuer = {"aud": site, "sub": "d", "jti": "j", "nbf": start, "exp": start + 60}
    return [
        "junk",
        attacker.token(site, now=NOW),  # bad_signature
        Carrier("evilco").token(site, now=NOW),  # unknown_carrier
        jwt.encode(no_issuer, attacker.key, algorithm="ES256"),  # missing_claim, no issuer
    ]


async def _flood(
    hass: HomeAssistant, client: Any, entry: MockConfigEntry, carrier: Carrier
) -> dict[int, int]:
    """10,000 junk requests; half way, a courier's correctly signed but expired token."""
    junk, url = _junk(entry.entry_id), courier_url(entry)
    answers: dict[int, int] = {}
    for n in range(FLOOD):
        if n == FLOOD // 2:
            stale = carrier.token(entry.entry_id, now=NOW - timedelta(minutes=10))
            response = await client.post(
                url, json={"token": stale}, headers={"X-Forwarded-For": GENUINE_ADDRESS}
            )
            assert (response.status, (await response.json())["error"]) == (403, "expired")
        # Every tenth from one address (rate limited), the rest each from its own.
        address = "203.0.113.7" if n % 10 == 9 else f"198.18.{n // 256 % 256}.{n % 256}"
        target = guest_url(entry) if n % 100 == 50 else url
        response = await client.post(
            target, json={"token": junk[n % 4]}, headers={"X-Forwarded-For": address}
        )
        answers[response.status] = answers.get(response.status, 0) + 1
    return answers


async def test_a_flood_adds_a_few_summaries_and_the_genuine_attempt_on_its_own(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
    access_events: list[dict[str, Any]],
) -> None:
    entry, carrier = home
    path = log_path(hass, entry.entry_id)
    await until("the grant's records are on disk", lambda: len(_records(path)) >= 2)
    before, size_before = len(_records(path)), path.stat().st_size
    seen_before = len(access_events)
    client = await hass_client_no_auth()

    answers = await _flood(hass, client, entry, carrier)

    assert set(answers) == {401, 403, 429}  # 403: missing_claim; nothing was let in
    assert sum(answers.values()) == FLOOD
    assert hass.states.get("lock.front_door").state == "locked"
    # Until the minute is over, only the genuine attempt is recorded: on its own, at once.
    await until("the genuine refusal is on disk", lambda: len(_records(path)) == before + 1)
    (genuine,) = _records(path)[before:]
    assert (genuine["reason"], genuine["source"], genuine["data"]) == (
        "expired", "courier_token", {},
    )  # fmt: skip
    assert [e["reason"] for e in access_events[seen_before:]] == ["expired"]

    await move_to(hass, freezer, NOW + timedelta(seconds=61))  # the minute is over
    summaries = await until(
        "the minute's summaries are on disk",
        lambda: [r for r in _records(path)[before:] if "refusals" in r["data"]],
        want=lambda found: sum(r["data"]["refusals"] for r in found) == FLOOD,
    )
    kinds = {(r["source"], r["reason"]): r["data"]["refusals"] for r in summaries}
    assert set(kinds) == {
        ("courier_token", "malformed"), ("courier_token", "bad_signature"),
        ("courier_token", "unknown_carrier"), ("courier_token", "missing_claim"),
        ("courier_token", "rate_limited"), ("guest_link", "malformed"),
    }  # fmt: skip
    assert len(summaries) == len(kinds) <= MAX_SUMMARIES
    assert kinds["courier_token", "rate_limited"] == answers[429]
    malformed = next(r for r in summaries if r["reason"] == "malformed" and
                     r["source"] == "courier_token")  # fmt: skip
    assert malformed["data"]["clients"] > 1000  # counted, up to the cap
    assert malformed["data"]["first_at"] <= malformed["data"]["last_at"]
    written = path.read_text()
    assert "junk" not in written
    assert "198.18." not in written  # addresses are counted, never written
    added = path.stat().st_size - size_before
    assert len(_records(path)) - before == 1 + len(summaries)
    assert added < 12 * 1024  # was 4.4 MB: a record (~440 bytes) per request


async def test_counted_refusals_are_recorded_when_the_site_unloads(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, _ = home
    path = log_path(hass, entry.entry_id)
    client = await hass_client_no_auth()
    for n in range(30):
        response = await client.post(
            courier_url(entry), json={"token": "junk"}, headers={"X-Forwarded-For": f"10.0.0.{n}"}
        )
        assert response.status == 401
    assert entry.runtime_data.gate.pending_refusals == 30
    assert not [r for r in _records(path) if r["type"] == "access_denied"]
    assert await hass.config_entries.async_unload(entry.entry_id)
    (summary,) = [r for r in _records(path) if r["type"] == "access_denied"]
    assert (summary["reason"], summary["data"]["refusals"], summary["data"]["clients"]) == (
        "malformed", 30, 30,
    )  # fmt: skip
