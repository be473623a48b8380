"""Courier entry: Concierge's own time from a valid courier request to the unlock command.

Run: .venv/bin/python -m pytest bench/bench_courier_entry.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

Everything is real and in one process: Home Assistant's HTTP server (reached through
`hass_client_no_auth`), template locks, the `manual` alarm panel (code required, armed
away, no delays), the `local_file` camera, ES256 tokens signed by a carrier key, the audit
log and the site's stored data on disk (fsync; the test harness would keep the stored data
in memory) and the evidence folder. No radio: the interval ends when Home
Assistant receives the `lock.unlock` call (an EVENT_CALL_SERVICE listener), before any
lock integration runs.

Interval: from just before the POST is sent to that `lock.unlock` call. The baseline,
measured in the same run, is the same POST (same body) to a bare view that calls
`lock.unlock` at once, so each ratio shows what Concierge adds: token verification,
rate limits, replay cache (on disk before the unlock), grant lookup, the visit's audit
records (one batch, one fsync, before the unlock) and, for the first site, disarming the
alarm (verified); the first camera snapshot is taken meanwhile, not waited for. Two sites:

- "alarm + camera": front door with contact, porch camera, alarm panel linked;
- "plain lock": side door, no contact, no camera, no alarm.

Each round sends one request of each kind (rotating the order), each with a fresh grant
window and a fresh token; every courier visit is checked and ended (`end_visit`) before
the next round. Only success is asserted; times are reported, never asserted.
"""

import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.const import DOMAIN, EVENT_ACCESS
from custom_components.concierge.core.rate_limit import RateLimiter
from custom_components.concierge.core.visits import VisitState
from tests.components.delivery_helpers import (
    ALARM,
    CAMERA,
    Carrier,
    courier_url,
    setup_house,
    site_data,
    site_options,
)
from tests.storage_helpers import real_storage

ROUNDS = 200
WARMUP = 5
BARE_URL = "/api/bench/bare_unlock"
FRONT = "lock.front_door"
SIDE = "lock.side_door"
CONTACT = "binary_sensor.front_door_contact"

WITH_ALARM_CAMERA = ["access_requested", "alarm_disarmed", "access_granted"]
PLAIN = ["access_requested", "access_granted"]
"""The records on disk (one batch, one fsync) before the unlock; then `unlocked`, and the
camera's first picture (`evidence_captured`) whenever it is taken, before or after."""


class BareUnlockView(HomeAssistantView):
    """The baseline: a view that calls `lock.unlock` on the front door at once."""

    url = BARE_URL
    name = "api:bench:bare_unlock"
    requires_auth = False

    async def post(self, request: web.Request) -> web.Response:
        """Unlock, then answer."""
        hass = request.app[KEY_HASS]
        await hass.services.async_call("lock", "unlock", {"entity_id": FRONT}, blocking=True)
        return self.json({"status": "ok"})


def _bolt(name: str) -> dict[str, Any]:
    bolt = f"input_boolean.{name}_bolt"
    return {
        "name": name.replace("_", " ").capitalize(),
        "state": f"{{{{ 'locked' if is_state('{bolt}', 'on') else 'unlocked' }}}}",
        "lock": [{"action": "input_boolean.turn_on", "target": {"entity_id": bolt}}],
        "unlock": [{"action": "input_boolean.turn_off", "target": {"entity_id": bolt}}],
    }


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state


async def _setup_locks(hass: HomeAssistant) -> None:
    """Two plain template locks (on input_booleans), as in tests/components/conftest.py."""
    await async_setup_component(
        hass, "input_boolean",
        {"input_boolean": {"front_door_bolt": {"initial": True},
                           "side_door_bolt": {"initial": True}}},
    )  # fmt: skip
    await async_setup_component(
        hass, "template", {"template": [{"lock": [_bolt("front_door"), _bolt("side_door")]}]}
    )
    await hass.async_block_till_done()
    hass.states.async_set(CONTACT, "off", {"device_class": "door"})
    assert _state(hass, FRONT) == "locked"
    assert _state(hass, SIDE) == "locked"


async def _add_site(
    hass: HomeAssistant, name: str, data: dict[str, Any], options: dict[str, Any], carrier: Carrier
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN, unique_id=name, title=name, data=data, options=options,
        subentries_data=[carrier.subentry()],
    )  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    # 3 * ROUNDS requests from one address and one carrier: lift the limits (a burst of 5,
    # then one per 10 s) while still going through the limiter on every request.
    entry.runtime_data.gate.clients = RateLimiter(capacity=1_000_000)
    entry.runtime_data.gate.carriers = RateLimiter(capacity=1_000_000)
    return entry


def _fresh_window() -> dict[str, str]:
    """A one-off window around the real now (naive local times, as the action takes them)."""
    now = dt_util.now()
    return {
        "start": (now - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "end": (now + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M:%S"),
    }


async def _call(hass: HomeAssistant, service: str, **data: str | bool) -> dict[str, Any]:
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
    assert isinstance(response, dict)
    return response


def _p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


@dataclass
class Rig:
    """The running home: the HTTP client, the carrier, and what the bus saw."""

    hass: HomeAssistant
    client: TestClient[web.Request, web.Application]
    carrier: Carrier
    rich: MockConfigEntry
    grants: dict[str, str]
    unlocks: list[tuple[float, str]] = field(default_factory=list)
    access: list[dict[str, Any]] = field(default_factory=list)

    def listen(self) -> None:
        """Record each `lock.unlock` call (when it arrives) and each access event."""

        @callback
        def _is_unlock(data: dict[str, Any]) -> bool:
            return bool(data["domain"] == "lock" and data["service"] == "unlock")

        @callback  # run at once, in the loop: the time is taken as the call arrives
        def _unlock(event: Event[dict[str, Any]]) -> None:
            self.unlocks.append((time.perf_counter(), str(event.data["service_data"]["entity_id"])))

        @callback  # in order (a plain function would run in the executor)
        def _access(event: Event[dict[str, Any]]) -> None:
            self.access.append(dict(event.data))

        self.hass.bus.async_listen(EVENT_CALL_SERVICE, _unlock, _is_unlock)
        self.hass.bus.async_listen(EVENT_ACCESS, _access)

    def _elapsed(self, start: float, lock: str) -> float:
        assert len(self.unlocks) == 1, self.unlocks
        at, entity = self.unlocks.pop()
        assert entity == lock
        return at - start

    async def bare(self) -> float:
        """The baseline request; the front door is locked again afterwards."""
        hass = self.hass
        token = self.carrier.token(self.rich.entry_id, now=dt_util.now())  # a courier's body
        start = time.perf_counter()
        response = await self.client.post(BARE_URL, json={"token": token})
        assert response.status == 200, await response.text()
        elapsed = self._elapsed(start, FRONT)
        await hass.async_block_till_done()
        assert _state(hass, FRONT) == "unlocked"
        await hass.services.async_call("lock", "lock", {"entity_id": FRONT}, blocking=True)
        await hass.async_block_till_done()
        assert _state(hass, FRONT) == "locked"
        return elapsed

    def courier(
        self, entry: MockConfigEntry, lock: str, steps: list[str]
    ) -> Callable[[], Awaitable[float]]:
        """A courier request to a site (fresh window, fresh token), checked, then ended."""
        hass = self.hass

        async def run() -> float:
            await _call(hass, "update_grant", grant_id=self.grants[entry.entry_id],
                        **_fresh_window())  # fmt: skip
            token = self.carrier.token(entry.entry_id, now=dt_util.now())
            self.access.clear()
            start = time.perf_counter()
            response = await self.client.post(courier_url(entry), json={"token": token})
            body = await response.json()
            assert response.status == 200, body
            elapsed = self._elapsed(start, lock)
            await hass.async_block_till_done(wait_background_tasks=True)  # the first picture
            visit = body["visit"]
            seen = [e["type"] for e in self.access if e.get("visit") == visit]
            assert seen[: len(steps)] == steps
            assert {"unlocked", "visit_started"} <= set(seen)
            assert ("evidence_captured" in seen) == (entry is self.rich)
            assert entry.runtime_data.visit(visit).state is VisitState.IN_PROGRESS
            assert _state(hass, lock) == "unlocked"
            if entry is self.rich:
                assert _state(hass, ALARM) == "disarmed"
            await _call(hass, "end_visit", visit_id=visit)
            await hass.async_block_till_done()
            assert entry.runtime_data.visit(visit).state is VisitState.COMPLETED
            assert _state(hass, lock) == "locked"
            assert _state(hass, ALARM) == "armed_away"
            return elapsed

        return run


@dataclass
class Variant:
    """One kind of request and its measurements."""

    name: str
    run: Callable[[], Awaitable[float]]
    samples: list[float] = field(default_factory=list)


async def _sites(hass: HomeAssistant, carrier: Carrier) -> tuple[MockConfigEntry, ...]:
    """The two sites, each with a courier grant for the carrier."""
    rich = await _add_site(
        hass, "Home", site_data(FRONT, CONTACT, [CAMERA]), site_options(), carrier
    )
    plain = await _add_site(
        hass, "Annex",
        {"site_name": "Annex", "portals": [
            {"id": "side", "name": "Side door", "lock": SIDE, "door_sensor": None,
             "cameras": []}]},
        {"notify": [], "lock_timeout": 5},
        carrier,
    )  # fmt: skip
    return rich, plain


@pytest.fixture
def on_disk() -> Iterator[None]:
    """Every `Store` in real files under the config folder, as in a home."""
    with real_storage():
        yield


@pytest.mark.usefixtures("on_disk")
async def test_bench_courier_entry(
    hass: HomeAssistant, tmp_path: Path, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Measure ROUNDS bare unlocks and ROUNDS courier entries at each site, interleaved."""
    hass.config.config_dir = str(tmp_path)  # the audit log, on a real disk (fsync)
    hass.config.media_dirs = {"local": str(tmp_path / "media")}  # the evidence
    await hass.config.async_set_time_zone("Europe/Berlin")
    await _setup_locks(hass)
    await setup_house(hass, tmp_path)  # alarm armed away (code, no delays), porch camera
    carrier = Carrier()
    rich, plain = await _sites(hass, carrier)
    grants: dict[str, str] = {}
    for entry in (rich, plain):
        response = await _call(
            hass, "create_grant", config_entry_id=entry.entry_id, label="Parcel Co",
            kind="courier", remote_token=True, **_fresh_window(),
        )  # fmt: skip
        grants[entry.entry_id] = str(response["grant_id"])
    hass.http.register_view(BareUnlockView())  # before the client starts the server
    rig = Rig(hass, await hass_client_no_auth(), carrier, rich, grants)
    rig.listen()

    variants = [
        Variant("bare view -> lock.unlock (baseline)", rig.bare),
        Variant("courier, alarm + camera", rig.courier(rich, FRONT, WITH_ALARM_CAMERA)),
        Variant("courier, plain lock", rig.courier(plain, SIDE, PLAIN)),
    ]
    for n in range(WARMUP + ROUNDS):
        shift = n % len(variants)  # rotate the order: none always follows the same one
        for variant in variants[shift:] + variants[:shift]:
            elapsed = await variant.run()
            if n >= WARMUP:
                variant.samples.append(elapsed)

    base_p50, base_p99 = statistics.median(variants[0].samples), _p99(variants[0].samples)
    print()
    print(f"request sent -> lock.unlock received, {ROUNDS} requests each (ms)")
    print(f"{'':38} {'p50':>7} {'p99':>7} {'p50 ratio':>10} {'p99 ratio':>10}")
    for variant in variants:
        p50, p99 = statistics.median(variant.samples), _p99(variant.samples)
        print(f"{variant.name:38} {p50 * 1000:7.2f} {p99 * 1000:7.2f} "
              f"{p50 / base_p50:10.2f} {p99 / base_p99:10.2f}")  # fmt: skip
    assert all(len(v.samples) == ROUNDS for v in variants)
    for entry in (rich, plain):
        assert (await _call(hass, "verify_audit_log", config_entry_id=entry.entry_id))["ok"]
        assert await hass.config_entries.async_unload(entry.entry_id)
