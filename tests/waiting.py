"""How tests wait: until something has happened, never for a fixed while.

``until`` is the one way a test waits for an outcome. It polls a check (a plain function or
a coroutine function) until the check returns something truthy, or something ``want``
accepts, and returns that value. When time is up it fails, saying what did not happen and
the last value it saw::

    slot = await until("the PIN is written to the lock", lambda: slot_of(lock, PIN))
    await until("the clear is retried", lambda: sets(rig), want=lambda n: n >= 3)

Two clocks:

- Real time, when the event loop's clock runs (rigs, brokers, sockets): the check is polled
  every ``every`` seconds; the test fails after ``seconds``.
- Loop turns, when the clock is frozen (freezegun moves the event loop's clock with the
  wall clock, so a timed sleep would never end): each round lets the loop run one turn and
  gives executor threads a millisecond of real time (a durable write may be fsyncing
  there); timers wait for the test to move the clock. The test fails after ``seconds`` of
  real time, or after ``turns`` rounds when the test bounds it so.

The clock is told apart by itself; ``turns`` forces loop turns on a running clock too.

Waiting for something *not* to happen is never a sleep: wait for the moment after which it
would have happened (a confirmation, an idle state), then assert. With a frozen clock,
``settled`` is that moment for Home Assistant: everything it can do without the clock moving
or the outside world answering has been done.
"""

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant

__all__ = ["settled", "until"]


def _real_time() -> float:
    """A monotonic clock that freezegun leaves alone."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def _clock_frozen(loop: asyncio.AbstractEventLoop) -> bool:
    before = loop.time()
    time.sleep(0.0005)
    return loop.time() == before


def _describe(check: Callable[[], Any]) -> str:
    """A check's name, or a lambda's own text (up to the comma or bracket that ends it)."""
    if check.__name__ != "<lambda>":
        return f"{check.__qualname__}() holds"
    try:
        source = inspect.getsource(check)
    except OSError, TypeError:  # pragma: no cover - source not available
        return "the condition holds"
    text = source[source.find("lambda") :]
    depth, quote = 0, ""
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}" and depth:
            depth -= 1
        elif char in ",)]}\n#" and not depth:
            return text[:index].strip()
    return text.strip()


async def until(
    what: str | Callable[[], Any],
    check: Callable[[], Any] | None = None,
    *,
    want: Callable[[Any], bool] | None = None,
    seconds: float = 10.0,
    turns: int | None = None,
    every: float = 0.02,
) -> Any:
    """Wait until ``check()`` (sync or async) is truthy, or satisfies ``want``; return it.

    ``what`` says what should happen, in the words of the one who would notice: it heads
    the failure message. It may be left out (``until(check)``): the check's source is used.
    """
    if check is None:
        if isinstance(what, str):
            msg = "until() needs a check"
            raise TypeError(msg)
        what, check = _describe(what), what
    assert isinstance(what, str)
    by_turns: bool | None = True if turns is not None else None  # told apart when needed
    deadline = _real_time() + seconds
    rounds = 0
    value: Any = None
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if want(value) if want is not None else value:
            return value
        rounds += 1
        if _real_time() > deadline or (turns is not None and rounds > turns):
            limit = f"{turns} loop turns" if turns is not None else f"{seconds:g} s"
            pytest.fail(f"{what}: did not happen within {limit}\n  last seen: {value!r}")
        if by_turns is None:
            by_turns = _clock_frozen(asyncio.get_running_loop())
        if by_turns:
            await asyncio.sleep(0)
            time.sleep(0.001)  # noqa: ASYNC251 - real time for executor threads, on purpose
        else:
            await asyncio.sleep(every)


async def settled(hass: HomeAssistant, seconds: float = 10.0) -> None:
    """Wait until Home Assistant has done all it can before time passes or the world answers.

    Home Assistant is settled when no callback is ready to run, no timer is due on the
    loop's clock and no executor job is pending: every task left is waiting for a timer, a
    socket or a future only those complete. For tests with a frozen clock where an
    automation waits (so ``hass.async_block_till_done()`` would wait for ever): once
    settled, whatever the last event or clock step set in motion has happened, and what has
    not happened will not happen until the clock moves again.
    """
    loop = asyncio.get_running_loop()
    deadline = _real_time() + seconds
    while True:
        await asyncio.sleep(0)
        busy = _busy(hass, loop)
        if not busy:
            return
        if _real_time() > deadline:
            pytest.fail(f"Home Assistant did not settle within {seconds:g} s: {busy}")
        time.sleep(0.001)  # noqa: ASYNC251 - real time for executor threads, on purpose


def _busy(hass: HomeAssistant, loop: asyncio.AbstractEventLoop) -> str:
    """What is still to run (empty when nothing is): ready callbacks, due timers, jobs."""
    # The loop's queues are private, but they are what "nothing left to run" means; Home
    # Assistant's own test helpers read `_scheduled` as well.
    ready = len(loop._ready)  # type: ignore[attr-defined]
    now = loop.time() + loop._clock_resolution  # type: ignore[attr-defined]
    due = sum(
        1
        for handle in loop._scheduled  # type: ignore[attr-defined]
        if not handle.cancelled() and handle.when() <= now
    )
    jobs = sum(
        1
        for job in (*hass._tasks, *hass._background_tasks)
        if not isinstance(job, asyncio.Task) and not job.done()
    )
    counts = {"ready callbacks": ready, "due timers": due, "executor jobs": jobs}
    parts = [f"{count} {name}" for name, count in counts.items() if count]
    return ", ".join(parts)
