"""The checkouts' calls at the processor (`processor_slots.py`): so many at once, started first.

What the processor would notice: never more calls at once than the slots, and when one ends
the next call is one that continues a payment before one that creates a new payment, in
order of arrival within each; a call given up while waiting takes no slot with it.
"""

import asyncio

from store_bridge.processor_slots import ProcessorSlots


async def _call(
    slots: ProcessorSlots, name: str, log: list[str], release: asyncio.Event, *, first: bool
) -> None:
    async with slots.slot(first=first):
        log.append(name)
        await release.wait()


async def test_a_payment_under_way_goes_before_a_new_one_and_never_more_than_the_slots() -> None:
    slots, log, release = ProcessorSlots(2), [], asyncio.Event()
    calls = [
        asyncio.create_task(_call(slots, name, log, release, first=first))
        for name, first in [
            ("create-a", False),
            ("create-b", False),
            ("create-c", False),
            ("confirm-x", True),
            ("create-d", False),
            ("confirm-y", True),
        ]
    ]
    for _ in range(3):
        await asyncio.sleep(0)
    assert log == ["create-a", "create-b"]  # two slots: the others wait

    release.set()
    await asyncio.wait_for(asyncio.gather(*calls), 5)
    assert log == ["create-a", "create-b", "confirm-x", "confirm-y", "create-c", "create-d"]


async def test_a_call_given_up_while_waiting_takes_no_slot_with_it() -> None:
    slots, log = ProcessorSlots(1), []
    busy, release = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(_call(slots, "holder", log, busy, first=False))
    await asyncio.sleep(0)
    given_up = asyncio.create_task(_call(slots, "given up", log, release, first=True))
    handed = asyncio.create_task(_call(slots, "handed", log, release, first=True))
    later = asyncio.create_task(_call(slots, "later", log, release, first=False))
    await asyncio.sleep(0)
    given_up.cancel()  # waiting: passed over
    await asyncio.sleep(0)

    busy.set()  # the holder ends: its slot goes to "handed" ...
    await asyncio.sleep(0)
    assert holder.done()
    handed.cancel()  # ... which is cancelled before it ran: the slot goes on
    release.set()
    await asyncio.wait_for(asyncio.gather(given_up, handed, later, return_exceptions=True), 5)

    assert log == ["holder", "later"]
    assert given_up.cancelled()
    assert handed.cancelled()
    again = asyncio.create_task(_call(slots, "again", log, release, first=False))
    await asyncio.wait_for(again, 1)  # the slot is free again
    assert log[-1] == "again"
