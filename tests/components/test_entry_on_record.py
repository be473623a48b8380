"""A door never opens for a visit that is not on record (issue #12, issue #15).

Home Assistant is killed at the moment the `lock.unlock` command goes out: what is on
disk then (the site's stores in the test storage, and the site's own files under
`.storage`: the audit log) is all the restart finds. It must find the visit, lock the
door again, re-arm the alarm, record the visit as interrupted and count the grant's use.
"""

import copy
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import Event, HomeAssistant, callback
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.core.visits import VisitState

from .delivery_helpers import (
    ALARM,
    CAMERA,
    Carrier,
    add_site,
    courier_url,
    setup_house,
    site_data,
    site_options,
    window,
)
from .helpers import at, call, entity_id, move_to

NOW = at("2026-11-24 10:00")
FRONT = "lock.front_door"

type Disk = dict[str, Any]
"""The site's test stores (by key) and its files under `.storage` (by path), as on disk."""


@pytest.fixture
async def home(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, tmp_path: Path, real_locks: None
) -> tuple[MockConfigEntry, Carrier]:
    """The front door with contact, porch camera and alarm; a courier carrier."""
    await move_to(hass, freezer, NOW)
    await setup_house(hass, tmp_path)
    carrier = Carrier()
    entry = await add_site(
        hass,
        site_data(FRONT, "binary_sensor.front_door_contact", [CAMERA]),
        site_options(),
        carrier,
    )
    return entry, carrier


def _site_files(hass: HomeAssistant, entry: MockConfigEntry) -> list[Path]:
    return sorted(Path(hass.config.path(".storage")).glob(f"concierge.{entry.entry_id}*"))


def _on_disk(hass: HomeAssistant, hass_storage: dict[str, Any], entry: MockConfigEntry) -> Disk:
    site = f"concierge.{entry.entry_id}"
    stores = {k: copy.deepcopy(v) for k, v in hass_storage.items() if k.startswith(site)}
    files = {str(path): path.read_bytes() for path in _site_files(hass, entry)}
    return {"stores": stores, "files": files}


def _put_back(hass: HomeAssistant, entry: MockConfigEntry, files: dict[str, bytes]) -> None:
    for path in _site_files(hass, entry):
        path.unlink()
    for name, data in files.items():
        Path(name).write_bytes(data)


async def _killed_and_restarted(
    hass: HomeAssistant, hass_storage: dict[str, Any], entry: MockConfigEntry, disk: Disk
) -> None:
    """Stop the site, put back exactly what was on disk, start it again."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    site = f"concierge.{entry.entry_id}"
    for key in [k for k in hass_storage if k.startswith(site)]:
        del hass_storage[key]
    hass_storage.update(disk["stores"])
    await hass.async_add_executor_job(_put_back, hass, entry, disk["files"])
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def _kill_at_unlock(
    hass: HomeAssistant, hass_storage: dict[str, Any], entry: MockConfigEntry
) -> list[Disk]:
    """What is on disk at each `lock.unlock` call, taken as the call arrives."""
    taken: list[Disk] = []

    @callback
    def _unlock_asked(event: Event[dict[str, Any]]) -> None:
        if (event.data["domain"], event.data["service"]) == ("lock", "unlock"):
            taken.append(_on_disk(hass, hass_storage, entry))

    hass.bus.async_listen(EVENT_CALL_SERVICE, _unlock_asked)
    return taken


async def _courier_grant(hass: HomeAssistant) -> str:
    start, end = window(NOW)
    grant = await call(hass, "create_grant", label="Parcel Co", kind="courier", start=start,
                       end=end, remote_token=True)  # fmt: skip
    return str(grant["grant_id"])


async def _courier(
    hass: HomeAssistant, entry: MockConfigEntry, carrier: Carrier, client: Any
) -> str:
    token = carrier.token(entry.entry_id, now=NOW)
    response = await client.post(courier_url(entry), json={"token": token})
    assert response.status == 200, await response.text()
    return str((await response.json())["visit"])


async def _cleaner_grant(hass: HomeAssistant) -> str:
    start, end = window(NOW)
    grant = await call(hass, "create_grant", label="Cleaner", kind="cleaner",
                       portals=["Front door"], start=start, end=end, max_uses=2,
                       pin="735194")  # fmt: skip
    return str(grant["grant_id"])


async def _owner(hass: HomeAssistant, entry: MockConfigEntry, carrier: Carrier, client: Any) -> str:
    grant = next(iter(entry.runtime_data.site_data.grants))
    visit = await call(hass, "start_visit", grant_id=grant, portal="Front door")
    return str(visit["visit_id"])


async def _saved(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """A moment passes: the site's data is saved (it was, long before the door opened)."""
    await move_to(hass, freezer, NOW + timedelta(seconds=5))


type Grant = Callable[[HomeAssistant], Awaitable[str]]
type Entry = Callable[[HomeAssistant, MockConfigEntry, Carrier, Any], Awaitable[str]]


@pytest.mark.parametrize(
    ("create", "enter"), [(_courier_grant, _courier), (_cleaner_grant, _owner)],
    ids=["courier", "owner"],
)  # fmt: skip
async def test_killed_as_the_door_opens_the_restart_locks_it_and_records_the_visit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    home: tuple[MockConfigEntry, Carrier],
    create: Grant,
    enter: Entry,
) -> None:
    entry, carrier = home
    grant = await create(hass)
    await _saved(hass, freezer)
    taken = _kill_at_unlock(hass, hass_storage, entry)
    visit = await enter(hass, entry, carrier, await hass_client_no_auth())
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "unlocked"
    assert hass.states.get(ALARM).state == "disarmed"
    (at_unlock,) = taken

    await _killed_and_restarted(hass, hass_storage, entry, at_unlock)

    assert hass.states.get(FRONT).state == "locked"
    assert hass.states.get(ALARM).state == "armed_away"
    recorded = entry.runtime_data.visit(visit)
    assert recorded.state is VisitState.ABORTED
    assert recorded.abort_reason == "interrupted"
    state = hass.states.get(entity_id(hass, entry, f"{grant}_grant_state", "sensor"))
    assert state is not None
    assert state.attributes["uses"] == 1
    assert (await call(hass, "verify_audit_log"))["ok"] is True


async def test_a_token_used_as_the_door_opened_stays_used_after_the_kill(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    hass_client_no_auth: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    home: tuple[MockConfigEntry, Carrier],
) -> None:
    entry, carrier = home
    await _courier_grant(hass)
    await _saved(hass, freezer)
    taken = _kill_at_unlock(hass, hass_storage, entry)
    client = await hass_client_no_auth()
    token = carrier.token(entry.entry_id, now=NOW)
    assert (await client.post(courier_url(entry), json={"token": token})).status == 200
    (at_unlock,) = taken
    await _killed_and_restarted(hass, hass_storage, entry, at_unlock)
    assert hass.states.get(FRONT).state == "locked"

    again = await client.post(courier_url(entry), json={"token": token})
    assert again.status == 403
    assert (await again.json())["error"] == "replayed"
    await hass.async_block_till_done()
    assert hass.states.get(FRONT).state == "locked"
