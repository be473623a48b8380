"""A code write always comes back with an answer: one that hangs or is cut off is unknown."""

import asyncio
import logging
from typing import NoReturn

import pytest
from homeassistant.core import HomeAssistant

from custom_components.concierge.keypad import writes
from custom_components.concierge.keypad.adapter import WriteResult

PIN = "482913"


async def test_a_write_that_never_answers_has_an_unknown_outcome_and_is_cancelled(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=writes.__name__)
    monkeypatch.setattr(writes, "WRITE_TIMEOUT", 0.05)
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def hangs() -> WriteResult:
        started.set()
        try:
            await asyncio.Event().wait()  # the lock never answers
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return WriteResult.CONFIRMED  # pragma: no cover - never reached

    result = await writes.async_bounded_write(hass, hangs(), "lock.front_door")

    assert result is WriteResult.UNREACHABLE
    assert started.is_set()
    await asyncio.wait_for(cancelled.wait(), timeout=5)  # the hanging call is not left running
    assert "got no answer" in caplog.text


async def test_a_write_whose_call_is_cut_off_has_an_unknown_outcome(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=writes.__name__)

    async def cut_off() -> NoReturn:
        raise asyncio.CancelledError  # its connection closed under it

    result = await writes.async_bounded_write(hass, cut_off(), "lock.front_door")

    assert result is WriteResult.UNREACHABLE
    assert "was cut off" in caplog.text


async def test_a_failed_write_is_unknown_and_its_message_never_logged(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=writes.__name__)

    async def fails() -> NoReturn:
        message = f"set_usercode failed for code {PIN}"
        raise RuntimeError(message)

    result = await writes.async_bounded_write(hass, fails(), "lock.front_door")

    assert result is WriteResult.UNREACHABLE
    assert "RuntimeError" in caplog.text
    assert PIN not in caplog.text


async def test_a_write_that_answers_in_time_gives_its_answer(hass: HomeAssistant) -> None:
    async def rejected() -> WriteResult:
        return WriteResult.REJECTED

    assert await writes.async_bounded_write(hass, rejected(), "lock.front_door") is (
        WriteResult.REJECTED
    )
