"""The Access panel's grant list: `concierge/grants/list` with 10 and 500 grants.

Run: .venv/bin/python -m pytest bench/bench_ws_grants.py -o python_files='bench_*.py' -s
     -p no:cacheprovider

Real Home Assistant, a real WebSocket connection (the test harness's client). Each site
is loaded from stored data holding N weekly grants with a PIN, on different days and
hours, valid for a year: none is over, so every grant's current or next window is
computed (the worst case for the list). The figures are the first list (every next
window computed) and the median of the 30 lists after it (next windows kept until they
end), each a round trip of the command (send to answer, JSON both ways), and their
ratios to the same at 10 grants in the same run. The goal: at most 50 ms at 500 grants.
"""

import statistics
import time
from datetime import time as wall
from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.grants import Credentials, GrantKind, new_grant
from custom_components.concierge.core.windows import Schedule, WeeklyWindow
from custom_components.concierge.site_storage import (
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
    SiteData,
    encode,
    storage_key,
)

SIZES = (10, 500)
ROUNDS = 30
DATA = {
    "site_name": "Home",
    "portals": [{"id": "p1", "name": "Front door", "lock": "lock.front_door", "door_sensor": None}],
}


def _stored(count: int, key: str) -> dict[str, Any]:
    data = SiteData()
    now = dt_util.utcnow()
    for n in range(count):
        hour = 6 + n % 12
        grant = new_grant(
            label=f"Cleaner {n}", kind=GrantKind.CLEANER, portals=("p1",),
            schedule=Schedule(
                (WeeklyWindow(frozenset({n % 7}), wall(hour), wall(hour + 2)),),
                valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=365),
            ),
            now=now - timedelta(days=2), credentials=Credentials(pin=f"{100000 + n}"),
        )  # fmt: skip
        data.grants[grant.id] = grant
    return {
        "version": STORAGE_VERSION, "minor_version": STORAGE_MINOR_VERSION,
        "key": key, "data": encode(data),
    }  # fmt: skip


async def _median_list(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, storage: dict[str, Any], count: int
) -> tuple[float, float]:
    entry = MockConfigEntry(domain=DOMAIN, unique_id=f"s{count}", title=f"s{count}", data=DATA)
    storage[storage_key(entry.entry_id)] = _stored(count, storage_key(entry.entry_id))
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    ws = await hass_ws_client(hass)
    spent = []
    for _ in range(ROUNDS + 1):
        began = time.perf_counter()
        await ws.send_json_auto_id({"type": "concierge/grants/list", "site_id": entry.entry_id})
        answer = await ws.receive_json()
        spent.append(time.perf_counter() - began)
        assert answer["success"], answer
        assert len(answer["result"]["grants"]) == count
    await ws.close()
    return spent[0], statistics.median(spent[1:])


async def test_grants_list(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, hass_storage: dict[str, Any]
) -> None:
    """The list command's round trip at 10 and 500 grants (first, then kept windows)."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    hass.states.async_set("lock.front_door", "locked")
    timed = {n: await _median_list(hass, hass_ws_client, hass_storage, n) for n in SIZES}
    first_base, base = timed[SIZES[0]]
    for count, (first, median) in timed.items():
        print(
            f"grants/list with {count:>4} grants: first {first * 1000:6.2f} ms "
            f"({first / first_base:5.1f}x), then median {median * 1000:6.2f} ms "
            f"({median / base:5.1f}x the {SIZES[0]}-grant list)"
        )
