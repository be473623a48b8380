"""Carrying out one code write, bounded in time: whatever happens, an answer comes back."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from homeassistant.core import HomeAssistant

from .adapter import WriteResult

_LOGGER = logging.getLogger(__name__)

WRITE_TIMEOUT = 30.0
"""Seconds a write may take, confirmation included (a connection that drops while a
command waits for its result may never answer it): then its outcome is unknown."""


async def async_bounded_write(
    hass: HomeAssistant, write: Coroutine[Any, Any, WriteResult], lock_id: str
) -> WriteResult:
    """Carry out a write, but never wait longer than `WRITE_TIMEOUT` for it.

    A call that fails in any way, or hangs (a connection that dropped while the command
    waited for its result may never answer, and may not even let itself be cancelled),
    has an unknown outcome.
    """
    task = hass.async_create_background_task(write, f"concierge write {lock_id}")
    done, _pending = await asyncio.wait({task}, timeout=WRITE_TIMEOUT)
    if task not in done:
        task.cancel()
        _LOGGER.info("Lock %s: a code write got no answer in %s s", lock_id, WRITE_TIMEOUT)
        return WriteResult.UNREACHABLE
    if task.cancelled():  # the call itself was cancelled (its connection closed)
        _LOGGER.info("Lock %s: a code write was cut off", lock_id)
        return WriteResult.UNREACHABLE
    if (err := task.exception()) is not None:
        # Only the kind of failure: a message may quote the call's data (the PIN).
        _LOGGER.info("Lock %s: a code write failed (%s)", lock_id, type(err).__name__)
        return WriteResult.UNREACHABLE
    return task.result()
