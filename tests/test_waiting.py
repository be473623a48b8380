"""The suite's one way of waiting (tests/waiting.py) says what did not happen."""

import asyncio

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant

from tests.waiting import settled, until


async def test_until_returns_what_the_check_saw() -> None:
    seen: list[int] = []
    asyncio.get_running_loop().call_later(0.05, seen.append, 7)
    assert await until("a number arrives", lambda: seen) == [7]


async def test_until_awaits_an_async_check_and_applies_want() -> None:
    count = 0

    async def counted() -> int:
        nonlocal count
        count += 1
        return count

    assert await until("the third look", counted, want=lambda n: n >= 3) == 3


async def test_until_fails_with_what_did_not_happen_and_the_last_value() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        await until("the door locks", lambda: "unlocked", want=lambda s: s == "locked", seconds=0.1)
    assert "the door locks: did not happen within 0.1 s" in str(failed.value)
    assert "last seen: 'unlocked'" in str(failed.value)


async def test_until_without_a_description_names_the_check() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        await until(lambda: [] != [], turns=3)
    assert "lambda: [] != []: did not happen within 3 loop turns" in str(failed.value)


async def test_until_runs_with_a_frozen_clock(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """With the clock frozen a timed sleep never ends: loop turns and real time bound it."""
    done: list[bool] = []
    hass.async_create_task(asyncio.sleep(0)).add_done_callback(lambda _: done.append(True))
    assert await until("a task finishes", lambda: done) == [True]
    with pytest.raises(pytest.fail.Exception, match=r"within 0\.05 s"):
        await until("the clock moves by itself", lambda: False, seconds=0.05)


async def test_settled_waits_for_what_is_set_in_motion(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    steps: list[str] = []

    async def chain() -> None:
        for step in ("one", "two", "three"):
            await asyncio.sleep(0)
            steps.append(step)
        await hass.async_add_executor_job(lambda: steps.append("job"))

    hass.async_create_task(chain())
    await settled(hass)
    assert steps == ["one", "two", "three", "job"]
