"""Camera evidence of a visit: snapshots (and recordings) in Home Assistant's media folder.

A thin adapter. When a visit starts, `EvidenceRecorder.async_start` takes a snapshot of
each of the portal's cameras at once, then one every `interval` seconds (up to
`max_snapshots` per camera) until `async_stop` takes a last one. Cameras that can stream
also record a clip through the `camera.record` action. Every file is written once, never
overwritten, and handed to `on_captured` with the SHA-256 of its bytes, so the coordinator
can put it in the audit chain. A camera that goes dark during the series is reported once
to `on_camera_lost`.

Files live in `<media>/concierge/<site>/<visit>/`; where, under which name and with which
reference is `evidence_files.py`'s job.

The camera integration is imported only when a camera is used, so a home without cameras
does not need its libraries.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
    split_entity_id,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event, async_track_time_interval

from .core.events import EvidenceKind, EvidenceRef
from .evidence_files import (
    evidence_ref,
    evidence_root,
    extension_for,
    free_path,
    hash_file,
    write_new,
)

_LOGGER = logging.getLogger(__name__)

RECORD_SECONDS = 180
"""Length of the clip a streaming camera records at the start of a visit."""
_DARK_STATES = frozenset({STATE_UNAVAILABLE, STATE_UNKNOWN})


@dataclass(frozen=True, slots=True)
class Captured:
    """One evidence file as written: its audit reference, where it is, which camera."""

    ref: EvidenceRef
    path: Path
    camera: str


class _CameraError(Exception):
    """The camera gave no picture."""


@dataclass(slots=True)
class _Series:
    """The evidence of one visit while it is being collected."""

    visit_id: str
    folder: Path
    members: set[str] = field(default_factory=set)
    """Cameras whose first picture was taken: each gets a final one."""
    running: set[str] = field(default_factory=set)
    """Cameras still taking interval snapshots."""
    counts: dict[str, int] = field(default_factory=dict)
    lost: set[str] = field(default_factory=set)
    busy: set[str] = field(default_factory=set)
    snapshots: set[asyncio.Task[None]] = field(default_factory=set)
    unsubs: list[CALLBACK_TYPE] = field(default_factory=list)

    def end_interval(self) -> None:
        """Cancel the timer and the camera-state listener."""
        for unsub in self.unsubs:
            unsub()
        self.unsubs.clear()


class EvidenceRecorder:
    """Collects camera evidence for the visits of one site."""

    def __init__(  # noqa: PLR0913 - two callbacks and two tunables
        self,
        hass: HomeAssistant,
        site_id: str,
        *,
        on_captured: Callable[[str, Captured], Awaitable[None]],
        on_camera_lost: Callable[[str, str], Awaitable[None]],
        interval: float = 5.0,
        max_snapshots: int = 12,
    ) -> None:
        """Prepare the recorder; nothing runs until `async_start`."""
        self.hass = hass
        self.site_id = site_id
        self._on_captured = on_captured
        self._on_camera_lost = on_camera_lost
        self.interval = interval
        self.max_snapshots = max_snapshots
        self._series: dict[str, _Series] = {}
        self._recordings: set[asyncio.Task[None]] = set()

    def camera_working(self, camera: str) -> bool:
        """Whether the camera entity exists and is neither unavailable nor unknown."""
        state = self.hass.states.get(camera)
        return state is not None and state.state not in _DARK_STATES

    def running(self, visit_id: str) -> bool:
        """Whether evidence is being collected for the visit."""
        return visit_id in self._series

    # --- the series --------------------------------------------------------------------

    async def async_start(self, visit_id: str, cameras: tuple[str, ...]) -> list[Captured]:
        """Take a first snapshot of every camera now, then keep taking them on a timer.

        Returns the first snapshots (each was also handed to `on_captured`). A camera
        that gives no first picture is left out of the series; compare the result with
        `cameras` to tell. Starting a visit that is already running returns `[]`.
        """
        if visit_id in self._series or not cameras:
            return []
        series = _Series(
            visit_id=visit_id,
            folder=evidence_root(self.hass) / self.site_id / visit_id,
        )
        self._series[visit_id] = series
        first = await asyncio.gather(*(self._async_first(series, c) for c in cameras))
        captured = [c for c in first if c is not None]
        if self._series.get(visit_id) is not series:
            return captured  # stopped while the first pictures were taken
        if series.running:
            series.unsubs.append(
                async_track_time_interval(
                    self.hass,
                    self._tick_callback(series),
                    timedelta(seconds=self.interval),
                    name=f"concierge evidence {visit_id}",
                    cancel_on_shutdown=True,
                )
            )
            series.unsubs.append(
                async_track_state_change_event(
                    self.hass, list(series.running), self._state_callback(series)
                )
            )
        for camera in {c.camera for c in captured}:
            if _streams(self.hass, camera):
                self._spawn(self._recordings, self._async_record(series, camera), camera)
        return captured

    async def async_stop(self, visit_id: str) -> None:
        """End the visit's series: let running snapshots finish, then take a last one each.

        A recording in progress keeps going and is reported when its file is complete
        (evidence may arrive after the visit ended); `async_stop_all` cancels it.
        """
        if (series := self._series.pop(visit_id, None)) is None:
            return
        series.end_interval()
        series.running.clear()
        if in_flight := _others(series.snapshots):
            await asyncio.gather(*in_flight, return_exceptions=True)
        cameras = sorted(series.members - series.lost)
        await asyncio.gather(*(self._async_shot(series, c) for c in cameras))

    async def async_stop_all(self) -> None:
        """Cancel every series and recording at once (on unload); no final snapshots."""
        tasks = [*self._recordings]
        for series in self._series.values():
            series.end_interval()
            series.running.clear()
            tasks.extend(series.snapshots)
        self._series.clear()
        if tasks := _others(tasks):
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- one snapshot --------------------------------------------------------------------

    async def _async_first(self, series: _Series, camera: str) -> Captured | None:
        if not self.camera_working(camera):
            _LOGGER.debug("Camera %s is not available for visit %s", camera, series.visit_id)
            return None
        try:
            captured = await self._async_capture(series, camera)
        except _CameraError:
            _LOGGER.debug("Camera %s gave no picture for visit %s", camera, series.visit_id)
            return None
        if captured is not None:
            series.members.add(camera)
            if series.counts[camera] < self.max_snapshots:
                series.running.add(camera)
            await self._async_report(series, captured)
        return captured

    async def _async_shot(self, series: _Series, camera: str) -> None:
        """One snapshot of a camera already in the series; a failure means it is lost."""
        if not self.camera_working(camera):
            await self._async_lost(series, camera)
            return
        try:
            captured = await self._async_capture(series, camera)
        except _CameraError:
            await self._async_lost(series, camera)
            return
        if captured is not None:
            await self._async_report(series, captured)

    async def _async_capture(self, series: _Series, camera: str) -> Captured | None:
        """Fetch a picture and store it; None when it could not be stored."""
        from homeassistant.components.camera import async_get_image  # noqa: PLC0415 - see top

        try:
            image = await async_get_image(self.hass, camera)
        except HomeAssistantError as err:
            raise _CameraError from err
        series.counts[camera] = series.counts.get(camera, 0) + 1
        extension = extension_for(image.content_type)
        try:
            path, digest = await self.hass.async_add_executor_job(
                write_new, series.folder, split_entity_id(camera)[1], extension, image.content
            )
        except OSError as err:
            _LOGGER.warning(
                "Could not store a picture of %s for visit %s: %s", camera, series.visit_id, err
            )
            return None
        ref = EvidenceRef(
            EvidenceKind.SNAPSHOT, evidence_ref(self.site_id, series.visit_id, path.name), digest
        )
        return Captured(ref=ref, path=path, camera=camera)

    async def _async_report(self, series: _Series, captured: Captured) -> None:
        try:
            await self._on_captured(series.visit_id, captured)
        except Exception:
            _LOGGER.exception("Could not record evidence %s", captured.ref.ref)

    async def _async_lost(self, series: _Series, camera: str) -> None:
        """Report a camera once per visit and take it out of the series."""
        if camera in series.lost:
            return
        series.lost.add(camera)
        series.running.discard(camera)
        if not series.running:
            series.end_interval()
        _LOGGER.info("Camera %s went dark during visit %s", camera, series.visit_id)
        try:
            await self._on_camera_lost(series.visit_id, camera)
        except Exception:
            _LOGGER.exception("Could not report camera %s as lost", camera)

    # --- timer and listener --------------------------------------------------------------

    def _tick_callback(self, series: _Series) -> Callable[[datetime], None]:
        @callback
        def _tick(_now: datetime) -> None:
            for camera in sorted(series.running - series.busy):
                self._spawn(series.snapshots, self._async_tick(series, camera), camera)

        return _tick

    async def _async_tick(self, series: _Series, camera: str) -> None:
        series.busy.add(camera)
        try:
            await self._async_shot(series, camera)
        finally:
            series.busy.discard(camera)
        if series.counts.get(camera, 0) >= self.max_snapshots:
            series.running.discard(camera)
            if not series.running:
                series.end_interval()

    def _state_callback(self, series: _Series) -> Callable[[Event[EventStateChangedData]], None]:
        @callback
        def _changed(event: Event[EventStateChangedData]) -> None:
            camera = event.data["entity_id"]
            new = event.data["new_state"]
            if camera in series.running and (new is None or new.state in _DARK_STATES):
                self._spawn(series.snapshots, self._async_lost(series, camera), camera)

        return _changed

    def _spawn(
        self, tasks: set[asyncio.Task[None]], job: Coroutine[Any, Any, None], camera: str
    ) -> None:
        task = self.hass.async_create_background_task(job, f"concierge evidence {camera}")
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    # --- recordings ----------------------------------------------------------------------

    async def _async_record(self, series: _Series, camera: str) -> None:
        """Record a clip with `camera.record`; on failure keep to snapshots quietly."""
        stem = split_entity_id(camera)[1]
        try:
            path = await self.hass.async_add_executor_job(
                free_path, series.folder, f"{stem}-recording", "mp4"
            )
            await self.hass.services.async_call(
                "camera",
                "record",
                {
                    ATTR_ENTITY_ID: camera,
                    "filename": str(path),
                    "duration": RECORD_SECONDS,
                    "lookback": 0,
                },
                blocking=True,
            )
        except (HomeAssistantError, OSError) as err:
            _LOGGER.debug("No recording of %s, snapshots only: %s", camera, err)
            return
        if (digest := await self.hass.async_add_executor_job(hash_file, path)) is None:
            _LOGGER.debug("The recording of %s left no file", camera)
            return
        ref = EvidenceRef(
            EvidenceKind.RECORDING, evidence_ref(self.site_id, series.visit_id, path.name), digest
        )
        await self._async_report(series, Captured(ref=ref, path=path, camera=camera))


def _others(tasks: Iterable[asyncio.Task[None]]) -> list[asyncio.Task[None]]:
    """The tasks, without the one running now (a callback may stop its own visit)."""
    current = asyncio.current_task()
    return [task for task in tasks if task is not current]


def _streams(hass: HomeAssistant, camera: str) -> bool:
    """Whether a camera entity says it can stream (and so record)."""
    from homeassistant.components.camera.const import (  # noqa: PLC0415 - see top
        CameraEntityFeature,
    )

    state = hass.states.get(camera)
    features = 0 if state is None else int(state.attributes.get(ATTR_SUPPORTED_FEATURES, 0))
    return bool(features & CameraEntityFeature.STREAM)
