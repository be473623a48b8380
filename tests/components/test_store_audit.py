"""A store's audit chain: appends that wait for the disk, and a head saved late."""

from typing import Any

from homeassistant.core import HomeAssistant

from custom_components.concierge.site_storage import storage_key
from custom_components.concierge.store_audit import StoreAudit

from .test_audit_segments import ENTRY, event


async def test_every_event_is_in_the_chain_before_it_is_verified(hass: HomeAssistant) -> None:
    chain = StoreAudit(hass, ENTRY)
    await chain.async_load()
    for n in range(1, 6):
        chain.record(event(n))  # no wait between them, as a burst of events comes

    verified = await chain.async_verify()

    assert (verified.ok, verified.count) == (True, 5)
    assert [r.event["id"] for r in await chain.log.async_read()] == [f"e{n}" for n in range(1, 6)]
    await chain.async_close()


async def test_a_head_saved_late_is_caught_up_at_the_next_start(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    chain = StoreAudit(hass, ENTRY)
    await chain.async_load()
    for n in range(1, 4):
        chain.record(event(n))
    await chain.async_close()
    # Home Assistant stopped before the site's data took the last head: it knows one record.
    first = await chain.log.async_read()
    hass_storage[storage_key(ENTRY)]["data"]["audit"] = {"head": first[0].hash, "count": 1}

    again = StoreAudit(hass, ENTRY)
    await again.async_load()
    verified = await again.async_verify()

    assert (verified.ok, verified.count, verified.head) == (True, 3, first[-1].hash)
    await again.async_close()
    assert hass_storage[storage_key(ENTRY)]["data"]["audit"]["count"] == 3
