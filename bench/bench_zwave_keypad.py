"""Z-Wave keypad codes: radio commands per grant lifecycle, and window start to confirmed code.

Run: .venv/bin/python -m pytest bench/bench_zwave_keypad.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

Everything is real (Concierge, Home Assistant's zwave_js, the Z-Wave JS driver and server);
only the lock is simulated by rigs/zwave/rig.mjs, which counts the frames it receives.
The baseline, measured in the same run, is a bare `zwave_js.set_lock_usercode` call until
the code is in the lock's memory: what any automation would pay at least.
"""

import asyncio
import statistics
import time
from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.concierge.const import DOMAIN
from tests.zwave.conftest import ZWaveRig
from tests.zwave.helpers import EMPTY, Lock

ROUNDS = 5


async def _until(rig: ZWaveRig, slot: int, expected: dict[str, Any]) -> float:
    start = time.perf_counter()
    while (await rig.async_codes())[slot] != expected:  # noqa: ASYNC110 - the lock is polled
        await asyncio.sleep(0.005)
    return time.perf_counter() - start


def _user_code_frames(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if k.startswith("UserCode.") and v}


async def test_bench_zwave_keypad(hass: HomeAssistant, lock: Lock) -> None:
    """Measure ROUNDS bare writes, then ROUNDS whole grant lifecycles through Concierge."""
    rig = lock.rig
    baseline: list[float] = []
    for n in range(ROUNDS):
        pin = f"70{n}123"
        start = time.perf_counter()
        await hass.services.async_call(
            "zwave_js", "set_lock_usercode",
            {"entity_id": lock.entity_id, "code_slot": 15, "usercode": pin}, blocking=True,
        )  # fmt: skip
        await _until(rig, 15, {"status": "enabled", "code": pin})
        baseline.append(time.perf_counter() - start)
        await hass.services.async_call(
            "zwave_js", "clear_lock_usercode",
            {"entity_id": lock.entity_id, "code_slot": 15}, blocking=True,
        )  # fmt: skip
        await _until(rig, 15, EMPTY)

    entry = MockConfigEntry(
        domain=DOMAIN, title="Home",
        data={"site_name": "Home", "portals": [
            {"id": "front", "name": "Front door", "lock": lock.entity_id,
             "slot_first": 10, "slot_last": 14}]},
    )  # fmt: skip
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await asyncio.sleep(1)  # the first look at the lock's slots (from the driver's cache)
    latencies: list[float] = []
    frames: list[dict[str, int]] = []
    for n in range(ROUNDS):
        await rig.async_post("/frames/reset")
        pin = f"81{n}456"
        opens = dt_util.now() + timedelta(seconds=1.5)
        response = await hass.services.async_call(
            DOMAIN, "create_grant",
            {"label": f"Guest {n}", "pin": pin,
             "start": opens.replace(tzinfo=None).isoformat(" "),
             "end": (opens + timedelta(seconds=2)).replace(tzinfo=None).isoformat(" ")},
            blocking=True, return_response=True,
        )  # fmt: skip
        assert response is not None
        await _until(rig, 10, {"status": "enabled", "code": pin})
        latencies.append((dt_util.now() - opens).total_seconds())
        await _until(rig, 10, EMPTY)
        await asyncio.sleep(0.5)  # the clear's confirmation, then silence
        frames.append(_user_code_frames(await rig.async_get("/frames")))

    p50_base = statistics.median(baseline)
    p50 = statistics.median(latencies)
    print()
    print(f"baseline set_lock_usercode -> in lock memory: p50 {p50_base * 1000:.0f} ms")
    print(f"window start -> code in lock memory:        p50 {p50 * 1000:.0f} ms, "
          f"max {max(latencies) * 1000:.0f} ms, ratio {p50 / p50_base:.2f}")  # fmt: skip
    print(f"user-code frames per grant lifecycle: {frames}")
    assert all(sum(v for k, v in f.items() if k.endswith("Set")) == 2 for f in frames)
    await hass.config_entries.async_unload(entry.entry_id)
