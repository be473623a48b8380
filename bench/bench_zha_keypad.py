"""Zigbee keypad codes: frames per grant lifecycle, and window start to confirmed code.

Run: .venv/bin/python -m pytest bench/bench_zha_keypad.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

Home Assistant's real ZHA and zigpy on a simulated radio and lock (tests/zha/conftest.py).
The baseline, measured in the same run, is a bare `zha.set_lock_user_code` call until the
code is in the lock's table (which, unlike Concierge, does not confirm anything).
"""

import asyncio
import statistics
import time
from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from tests.zha.conftest import ZhaLock

ROUNDS = 5


async def _until(check: object) -> None:
    while not check():  # type: ignore[operator]  # noqa: ASYNC110 - the table is polled
        await asyncio.sleep(0.002)


def _has(lock: ZhaLock, pin: str) -> bool:
    return any(c["pin"] == pin for c in lock.codes().values())


async def test_bench_zha_keypad(hass: HomeAssistant, zha_lock: ZhaLock) -> None:
    """Measure ROUNDS bare writes, then ROUNDS whole grant lifecycles through Concierge."""
    baseline: list[float] = []
    for n in range(ROUNDS):
        pin = f"70{n}123"
        start = time.perf_counter()
        await hass.services.async_call(
            "zha", "set_lock_user_code",
            {"entity_id": zha_lock.entity_id, "code_slot": 15, "user_code": pin}, blocking=True,
        )  # fmt: skip
        await _until(lambda pin=pin: _has(zha_lock, pin))
        baseline.append(time.perf_counter() - start)
        await hass.services.async_call(
            "zha", "clear_lock_user_code",
            {"entity_id": zha_lock.entity_id, "code_slot": 15}, blocking=True,
        )  # fmt: skip

    entry = MockConfigEntry(
        domain=DOMAIN, title="Home",
        data={"site_name": "Home", "portals": [
            {"id": "front", "name": "Front door", "lock": zha_lock.entity_id,
             "slot_first": 10, "slot_last": 12}]},
    )  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await asyncio.sleep(1)  # the first look at the managed slots (3 reads, once)
    latencies: list[float] = []
    frames: list[list[str]] = []
    for n in range(ROUNDS):
        zha_lock.reset_frames()
        pin = f"81{n}456"
        opens = dt_util.now() + timedelta(seconds=1)
        await hass.services.async_call(
            DOMAIN, "create_grant",
            {"label": f"Guest {n}", "pin": pin,
             "start": opens.replace(tzinfo=None).isoformat(" "),
             "end": (opens + timedelta(seconds=1)).replace(tzinfo=None).isoformat(" ")},
            blocking=True,
        )  # fmt: skip
        await _until(lambda pin=pin: _has(zha_lock, pin))
        latencies.append((dt_util.now() - opens).total_seconds())
        await _until(lambda pin=pin: not _has(zha_lock, pin))
        await asyncio.sleep(0.3)
        frames.append(zha_lock.frames())

    p50_base = statistics.median(baseline)
    p50 = statistics.median(latencies)
    print()
    print(f"baseline zha.set_lock_user_code -> in lock table: p50 {p50_base * 1000:.1f} ms")
    print(f"window start -> code in lock table: p50 {p50 * 1000:.1f} ms, "
          f"max {max(latencies) * 1000:.1f} ms, ratio {p50 / p50_base:.2f}")  # fmt: skip
    print(f"DoorLock frames per grant lifecycle: {frames}")
    assert all(f == ["set_pin_code", "clear_pin_code"] for f in frames)
    await hass.config_entries.async_unload(entry.entry_id)
