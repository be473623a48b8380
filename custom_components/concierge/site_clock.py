"""Site time: the wall clock, never going backwards (the shell around `core.clock`)."""

import logging
from collections.abc import Callable
from datetime import datetime

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .core import clock
from .site_storage import SiteData

_LOGGER = logging.getLogger(__name__)


class SiteClock:
    """Reads site time for one site and keeps its mark in the site's stored data.

    Every grant decision uses it. A wall clock stepping back is ignored (site time runs
    on from where it was, on the event loop's monotonic clock); one stepping forward is
    followed, and `on_forward` is told so that timers waiting for an edge now passed act
    at once. Each step is logged once.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        site_name: Callable[[], str],
        data: Callable[[], SiteData],
        on_forward: Callable[[datetime], None],
    ) -> None:
        """Read for the site whose stored data `data` gives."""
        self._hass = hass
        self._site_name = site_name
        self._data = data
        self._on_forward = on_forward
        self._mark: clock.ClockMark | None = None

    def restart(self) -> None:
        """The next reading starts from the stored site time (after loading)."""
        self._mark = None

    def now(self, *, at_least: datetime | None = None) -> datetime:
        """Site time now; `at_least` moves it forward to an instant already acted on."""
        wall, monotonic = dt_util.utcnow(), self._hass.loop.time()
        data = self._data()
        if self._mark is None:
            reading = clock.start(data.clock_mark, wall, monotonic)
        else:
            reading = clock.read(self._mark, wall, monotonic)
        mark = reading.mark if at_least is None else clock.advance(reading.mark, at_least)
        self._mark = mark
        data.clock_mark = mark.effective
        if reading.step is not None:
            self._stepped(reading.step, mark.effective)
        return mark.effective

    def _stepped(self, step: clock.ClockStep, now: datetime) -> None:
        if step.direction is clock.StepDirection.BACK:
            _LOGGER.warning(
                "%s: the wall clock stepped back by %.0f s; grant windows ignore the step "
                "and keep running on elapsed time",
                self._site_name(),
                step.seconds,
            )
            return
        _LOGGER.warning(
            "%s: the wall clock stepped forward by %.0f s; grant windows follow it",
            self._site_name(),
            step.seconds,
        )
        self._on_forward(now)
