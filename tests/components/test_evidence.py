"""Camera evidence of a visit: snapshots and recordings through real Home Assistant cameras."""

import asyncio
import hashlib
import io
import logging
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.camera import Camera, CameraEntityFeature
from homeassistant.components.image import async_get_image as async_get_entity_image
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from PIL import Image
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    setup_test_component_platform,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.concierge.const import DOMAIN
from custom_components.concierge.core.events import AccessEventType, EvidenceKind, EvidenceRef
from custom_components.concierge.evidence import Captured, EvidenceRecorder
from custom_components.concierge.evidence_files import REF_PREFIX, evidence_root, path_for_ref

from .conftest import SITE_DATA
from .helpers import at, call, entity_id, move_to

CAMERA = "camera.front_door_camera"
GARDEN = "camera.garden_camera"
SITE = "site1"
VISIT = "visit1"


def _jpeg(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, format="JPEG")
    return out.getvalue()


RED, BLUE = _jpeg("red"), _jpeg("blue")


class Calls:
    """What the recorder reported to its owner."""

    def __init__(self) -> None:
        self.captured: list[tuple[str, Captured]] = []
        self.lost: list[tuple[str, str]] = []

    async def on_captured(self, visit_id: str, captured: Captured) -> None:
        self.captured.append((visit_id, captured))

    async def on_camera_lost(self, visit_id: str, camera: str) -> None:
        self.lost.append((visit_id, camera))

    def names(self) -> list[str]:
        return [c.path.name for _, c in self.captured]


@pytest.fixture(autouse=True)
def media_in_tmp(hass: HomeAssistant, tmp_path: Path) -> None:
    """Home Assistant's media folder in the test's folder (the test harness points elsewhere)."""
    hass.config.media_dirs = {"local": str(tmp_path / "media")}


async def _local_file_camera(hass: HomeAssistant, picture: Path, name: str) -> None:
    _show(picture, RED)
    entry = MockConfigEntry(
        domain="local_file", title=name, options={"name": name, "file_path": str(picture)}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.fixture
async def front_camera(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A real local_file camera showing a red picture; returns the picture's path."""
    picture = tmp_path / "front.jpg"
    await _local_file_camera(hass, picture, "Front door camera")
    assert hass.states.get(CAMERA).state == "idle"
    return picture


@pytest.fixture
async def garden_camera(hass: HomeAssistant, tmp_path: Path, front_camera: Path) -> Path:
    """A second local_file camera (camera.garden_camera)."""
    picture = tmp_path / "garden.jpg"
    await _local_file_camera(hass, picture, "Garden camera")
    assert hass.states.get(GARDEN).state == "idle"
    return picture


@pytest.fixture
def calls() -> Calls:
    return Calls()


@pytest.fixture
def recorder_factory(hass: HomeAssistant, calls: Calls) -> Callable[..., EvidenceRecorder]:
    def _make(**kwargs: Any) -> EvidenceRecorder:
        return EvidenceRecorder(
            hass,
            SITE,
            on_captured=calls.on_captured,
            on_camera_lost=calls.on_camera_lost,
            **kwargs,
        )

    return _make


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float = 5) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass, dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)


def _show(camera_file: Path, picture: bytes | None) -> None:
    """Put a picture in front of the local_file camera (None: it has nothing to show)."""
    if picture is None:
        camera_file.unlink()
    else:
        camera_file.write_bytes(picture)


def _block(folder: Path) -> None:
    """Put a file where the evidence folder must go: storing pictures fails."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("not a folder")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- snapshots ---------------------------------------------------------------------------


async def test_first_snapshot_is_taken_at_once_and_hashed(
    hass: HomeAssistant, tmp_path: Path, front_camera: Path, calls: Calls, recorder_factory
) -> None:
    recorder = recorder_factory()
    assert recorder.camera_working(CAMERA)
    assert not recorder.camera_working("camera.nowhere")

    first = await recorder.async_start(VISIT, (CAMERA,))

    assert len(first) == 1
    shot = first[0]
    assert calls.captured == [(VISIT, shot)]
    assert recorder.running(VISIT)
    assert shot.camera == CAMERA
    assert shot.path == tmp_path / "media" / "concierge" / SITE / VISIT / (
        "front_door_camera-001.jpg"
    )
    assert shot.path.read_bytes() == RED
    assert shot.ref.kind is EvidenceKind.SNAPSHOT
    assert shot.ref.sha256 == _sha256(shot.path) == hashlib.sha256(RED).hexdigest()
    assert shot.ref.ref == (
        f"media-source://media_source/local/concierge/{SITE}/{VISIT}/front_door_camera-001.jpg"
    )
    assert path_for_ref(hass, shot.ref.ref) == shot.path
    assert await recorder.async_start(VISIT, (CAMERA,)) == []  # already running
    await recorder.async_stop_all()
    assert not recorder.running(VISIT)


async def test_without_a_local_media_dir_the_config_media_folder_is_used(
    hass: HomeAssistant, front_camera: Path, tmp_path: Path, recorder_factory
) -> None:
    hass.config.media_dirs = {}
    assert hass.config.config_dir == str(tmp_path)
    recorder = recorder_factory()
    [shot] = await recorder.async_start(VISIT, (CAMERA,))
    assert shot.path.parent == tmp_path / "media" / "concierge" / SITE / VISIT
    assert evidence_root(hass) == tmp_path / "media" / "concierge"
    await recorder.async_stop_all()


async def test_series_continues_on_the_interval_up_to_the_limit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    recorder = recorder_factory(interval=5, max_snapshots=3)
    await recorder.async_start(VISIT, (CAMERA,))
    await _tick(hass, freezer, 2)
    assert calls.names() == ["front_door_camera-001.jpg"]

    _show(front_camera, BLUE)
    await _tick(hass, freezer, 3)
    assert calls.names() == ["front_door_camera-001.jpg", "front_door_camera-002.jpg"]
    second = calls.captured[-1][1]
    assert second.path.read_bytes() == BLUE
    assert second.ref.sha256 == hashlib.sha256(BLUE).hexdigest()

    for _ in range(4):
        await _tick(hass, freezer)
    assert len(calls.captured) == 3  # the limit: no more interval pictures
    assert calls.lost == []

    await recorder.async_stop(VISIT)  # the last picture is still taken
    assert calls.names()[-1] == "front_door_camera-004.jpg"
    assert all(_sha256(c.path) == c.ref.sha256 for _, c in calls.captured)


async def test_stop_takes_a_final_snapshot_and_ends_the_series(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    recorder = recorder_factory(interval=5)
    await recorder.async_start(VISIT, (CAMERA,))
    await _tick(hass, freezer)
    assert len(calls.captured) == 2

    await recorder.async_stop(VISIT)
    assert len(calls.captured) == 3
    assert not recorder.running(VISIT)
    for _ in range(3):
        await _tick(hass, freezer)
    assert len(calls.captured) == 3
    folder = evidence_root(hass) / SITE / VISIT
    assert sorted(p.name for p in folder.iterdir()) == [
        "front_door_camera-001.jpg",
        "front_door_camera-002.jpg",
        "front_door_camera-003.jpg",
    ]
    await recorder.async_stop(VISIT)  # stopping twice is harmless
    assert len(calls.captured) == 3


async def test_stop_waits_for_a_snapshot_in_flight(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    recorder = recorder_factory(interval=5)
    await recorder.async_start(VISIT, (CAMERA,))
    freezer.tick(timedelta(seconds=5))
    async_fire_time_changed(hass, dt_util.utcnow())  # a tick starts, not yet finished
    await recorder.async_stop(VISIT)
    await hass.async_block_till_done(wait_background_tasks=True)
    names = calls.names()
    assert names == sorted(names)
    assert len(names) == 3  # first, the one in flight, the final one
    assert len({c.ref.ref for _, c in calls.captured}) == 3


async def test_evidence_is_never_overwritten(
    hass: HomeAssistant, front_camera: Path, calls: Calls, recorder_factory
) -> None:
    """A series started again for the same visit (after a restart) adds new files."""
    first = recorder_factory()
    await first.async_start(VISIT, (CAMERA,))
    await first.async_stop_all()
    _show(front_camera, BLUE)
    again = recorder_factory()
    [shot] = await again.async_start(VISIT, (CAMERA,))
    assert shot.path.name == "front_door_camera-002.jpg"
    assert calls.captured[0][1].path.read_bytes() == RED
    await again.async_stop_all()


async def test_camera_going_unavailable_is_reported_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    recorder = recorder_factory(interval=5)
    await recorder.async_start(VISIT, (CAMERA,))
    hass.states.async_set(CAMERA, "unavailable")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert calls.lost == [(VISIT, CAMERA)]

    hass.states.async_set(CAMERA, "idle")
    hass.states.async_set(CAMERA, "unknown")
    for _ in range(3):
        await _tick(hass, freezer)
    assert calls.lost == [(VISIT, CAMERA)]
    assert len(calls.captured) == 1  # its series stopped

    await recorder.async_stop(VISIT)  # no final picture of a lost camera
    assert len(calls.captured) == 1
    assert calls.lost == [(VISIT, CAMERA)]


async def test_camera_whose_picture_fails_is_reported_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    recorder = recorder_factory(interval=5)
    await recorder.async_start(VISIT, (CAMERA,))
    _show(front_camera, None)  # local_file now has no picture to give
    for _ in range(3):
        await _tick(hass, freezer)
    assert calls.lost == [(VISIT, CAMERA)]
    assert len(calls.captured) == 1
    await recorder.async_stop(VISIT)
    assert calls.lost == [(VISIT, CAMERA)]


async def test_final_picture_that_fails_reports_the_camera(
    hass: HomeAssistant, front_camera: Path, calls: Calls, recorder_factory
) -> None:
    recorder = recorder_factory(interval=5)
    await recorder.async_start(VISIT, (CAMERA,))
    _show(front_camera, None)
    await recorder.async_stop(VISIT)
    assert calls.lost == [(VISIT, CAMERA)]


async def test_camera_going_dark_at_stop_is_reported(
    hass: HomeAssistant, front_camera: Path, calls: Calls, recorder_factory
) -> None:
    recorder = recorder_factory(interval=5, max_snapshots=1)
    await recorder.async_start(VISIT, (CAMERA,))  # the interval series is already over
    hass.states.async_set(CAMERA, "unavailable")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert calls.lost == []  # no series running for it any more
    await recorder.async_stop(VISIT)
    assert calls.lost == [(VISIT, CAMERA)]


async def test_cameras_that_do_not_work_at_the_start_are_left_out(
    hass: HomeAssistant, front_camera: Path, calls: Calls, recorder_factory
) -> None:
    recorder = recorder_factory()
    hass.states.async_set("camera.porch", "unavailable")
    hass.states.async_set("camera.garden", "idle")  # a state but no camera entity
    first = await recorder.async_start(VISIT, ("camera.porch", "camera.garden", CAMERA))
    assert [c.camera for c in first] == [CAMERA]
    assert calls.lost == []
    assert await recorder.async_start("visit2", ()) == []
    assert not recorder.running("visit2")

    await recorder.async_stop(VISIT)
    assert [c.camera for _, c in calls.captured] == [CAMERA, CAMERA]
    assert calls.lost == []


async def test_no_camera_picture_at_the_start_means_no_series(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    recorder = recorder_factory()
    _show(front_camera, None)
    assert await recorder.async_start(VISIT, (CAMERA,)) == []
    _show(front_camera, RED)
    await _tick(hass, freezer)
    assert calls.captured == []
    await recorder.async_stop(VISIT)
    assert calls.captured == []
    assert calls.lost == []


async def test_stop_during_the_first_pictures_starts_no_timer(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    recorder = recorder_factory()

    async def stop_at_once(visit_id: str, captured: Captured) -> None:
        await calls.on_captured(visit_id, captured)
        if len(calls.captured) == 1:
            await recorder.async_stop(visit_id)

    recorder._on_captured = stop_at_once
    await recorder.async_start(VISIT, (CAMERA,))
    assert not recorder.running(VISIT)
    count = len(calls.captured)
    await _tick(hass, freezer)
    assert len(calls.captured) == count


async def test_a_callback_may_stop_its_own_visit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    """The owner ends the visit when a camera is lost, from inside the report."""
    recorder = recorder_factory(interval=5)

    async def stop_on_loss(visit_id: str, camera: str) -> None:
        await calls.on_camera_lost(visit_id, camera)
        await recorder.async_stop(visit_id)

    async def stop_all_on_picture(visit_id: str, captured: Captured) -> None:
        await calls.on_captured(visit_id, captured)
        if len(calls.captured) == 3:
            await recorder.async_stop_all()

    recorder._on_camera_lost = stop_on_loss
    await recorder.async_start(VISIT, (CAMERA,))
    hass.states.async_set(CAMERA, "unavailable")
    await hass.async_block_till_done(wait_background_tasks=True)
    assert calls.lost == [(VISIT, CAMERA)]
    assert not recorder.running(VISIT)

    hass.states.async_set(CAMERA, "idle")
    recorder._on_captured = stop_all_on_picture
    await recorder.async_start("visit2", (CAMERA,))
    await _tick(hass, freezer)
    await _tick(hass, freezer)
    assert not recorder.running("visit2")
    await _tick(hass, freezer)
    assert len(calls.captured) == 3


async def test_a_failing_owner_callback_does_not_stop_the_series(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(_visit: str, _what: object) -> None:
        raise RuntimeError

    recorder = EvidenceRecorder(hass, SITE, on_captured=broken, on_camera_lost=broken, interval=5)
    await recorder.async_start(VISIT, (CAMERA,))
    await _tick(hass, freezer)
    folder = evidence_root(hass) / SITE / VISIT
    assert len(list(folder.iterdir())) == 2
    _show(front_camera, None)
    await _tick(hass, freezer)
    assert "Could not record evidence" in caplog.text
    assert "Could not report camera camera.front_door_camera as lost" in caplog.text
    await recorder.async_stop_all()


async def test_a_picture_that_cannot_be_stored_is_skipped(
    hass: HomeAssistant,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _block(evidence_root(hass) / SITE)
    recorder = recorder_factory()
    assert await recorder.async_start(VISIT, (CAMERA,)) == []
    assert "Could not store a picture of camera.front_door_camera" in caplog.text
    assert calls.lost == []  # the camera is fine; the disk is not


async def test_other_cameras_keep_going_when_one_is_lost(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    garden_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    recorder = recorder_factory(interval=5, max_snapshots=3)
    first = await recorder.async_start(VISIT, (CAMERA, GARDEN))
    assert sorted(c.camera for c in first) == [CAMERA, GARDEN]
    hass.states.async_set(GARDEN, "streaming")  # not dark: nothing to report
    _show(garden_camera, None)
    await _tick(hass, freezer)
    assert calls.lost == [(VISIT, GARDEN)]
    for _ in range(3):
        await _tick(hass, freezer)
    cameras = [c.camera for _, c in calls.captured]
    assert cameras.count(CAMERA) == 3  # up to the limit
    assert cameras.count(GARDEN) == 1
    await recorder.async_stop(VISIT)
    assert [c.camera for _, c in calls.captured].count(GARDEN) == 1


async def test_each_camera_stops_at_the_limit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    garden_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    recorder = recorder_factory(interval=5, max_snapshots=2)
    await recorder.async_start(VISIT, (CAMERA, GARDEN))
    for _ in range(3):
        await _tick(hass, freezer)
    cameras = [c.camera for _, c in calls.captured]
    assert sorted(cameras) == [CAMERA, CAMERA, GARDEN, GARDEN]


async def test_a_camera_found_dark_twice_at_once_is_reported_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, calls: Calls, recorder_factory
) -> None:
    porch = SlowCamera("Porch")
    await _test_cameras(hass, porch)
    recorder = recorder_factory(interval=5)
    porch.release.set()
    await recorder.async_start(VISIT, ("camera.porch",))
    porch.release.clear()
    porch.picture = None
    freezer.tick(timedelta(seconds=5))
    async_fire_time_changed(hass, dt_util.utcnow())  # a picture is being fetched ...
    hass.states.async_set("camera.porch", "unavailable")  # ... when the camera drops out
    await hass.async_block_till_done()
    porch.release.set()  # ... and the fetch fails too
    await hass.async_block_till_done(wait_background_tasks=True)
    assert calls.lost == [(VISIT, "camera.porch")]
    await recorder.async_stop(VISIT)
    assert len(calls.captured) == 1


async def test_a_picture_that_cannot_be_stored_later_is_skipped(
    hass: HomeAssistant,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = recorder_factory()
    [shot] = await recorder.async_start(VISIT, (CAMERA,))
    _block(shot.path.parent)
    await recorder.async_stop(VISIT)
    assert "Could not store a picture of camera.front_door_camera" in caplog.text
    assert len(calls.captured) == 1
    assert calls.lost == []


async def test_the_picture_format_gives_the_extension(
    hass: HomeAssistant, front_camera: Path, tmp_path: Path, recorder_factory
) -> None:
    png = tmp_path / "front.png"
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(out, format="PNG")
    png.write_bytes(out.getvalue())
    await hass.services.async_call(
        "local_file",
        "update_file_path",
        {"entity_id": CAMERA, "file_path": str(png)},
        blocking=True,
    )
    camera = hass.data["camera"].get_entity(CAMERA)
    camera.content_type = "image/png"
    [shot] = await recorder_factory().async_start(VISIT, (CAMERA,))
    assert shot.path.name == "front_door_camera-001.png"
    assert shot.path.read_bytes() == out.getvalue()


# --- recordings --------------------------------------------------------------------------


class _Stream:
    """What `camera.record` drives: writes the clip when the recording ends."""

    def __init__(self, hass: HomeAssistant, clip: bytes | None) -> None:
        self.hass = hass
        self.clip = clip
        self.calls: list[tuple[str, int, int]] = []

    async def async_record(self, video_path: str, duration: int, lookback: int) -> None:
        self.calls.append((video_path, duration, lookback))
        if self.clip is not None:
            await self.hass.async_add_executor_job(Path(video_path).write_bytes, self.clip)


class StreamingCamera(Camera):
    """A camera that can stream, as an RTSP camera would."""

    _attr_supported_features = CameraEntityFeature.STREAM

    def __init__(self, name: str, stream: _Stream | None) -> None:
        super().__init__()
        self._attr_name = name
        self._stream = stream

    async def async_camera_image(self, *_args: Any, **_kwargs: Any) -> bytes | None:
        return RED

    async def stream_source(self) -> str | None:
        return "rtsp://127.0.0.1:8554/porch"

    async def async_create_stream(self) -> Any:
        if self._stream is None:  # the real path: needs the stream integration (PyAV)
            return await super().async_create_stream()
        return self._stream


class SlowCamera(Camera):
    """A camera that answers when the test lets it."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self._attr_name = name
        self.picture: bytes | None = RED
        self.release = asyncio.Event()

    async def async_camera_image(self, *_args: Any, **_kwargs: Any) -> bytes | None:
        await self.release.wait()
        return self.picture


async def _test_cameras(hass: HomeAssistant, *cameras: Camera) -> None:
    setup_test_component_platform(hass, "camera", cameras)
    assert await async_setup_component(hass, "camera", {"camera": [{"platform": "test"}]})
    await hass.async_block_till_done()


async def test_a_streaming_camera_also_records_a_clip(
    hass: HomeAssistant, calls: Calls, recorder_factory
) -> None:
    stream = _Stream(hass, b"\x00\x00\x00\x18ftypmp42 a clip")
    await _test_cameras(hass, StreamingCamera("Porch", stream))

    first = await recorder_factory().async_start(VISIT, ("camera.porch",))
    await hass.async_block_till_done(wait_background_tasks=True)

    assert [c.ref.kind for c in first] == [EvidenceKind.SNAPSHOT]
    recording = calls.captured[-1][1]
    assert recording.ref.kind is EvidenceKind.RECORDING
    assert recording.camera == "camera.porch"
    assert recording.path.name == "porch-recording-001.mp4"
    assert recording.ref.ref == f"{REF_PREFIX}{SITE}/{VISIT}/porch-recording-001.mp4"
    assert recording.ref.sha256 == _sha256(recording.path)
    assert path_for_ref(hass, recording.ref.ref) == recording.path
    assert stream.calls == [(str(recording.path), 180, 0)]

    # The same visit again (after a restart): a new file, the first one stays.
    await recorder_factory().async_start(VISIT, ("camera.porch",))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert calls.captured[-1][1].path.name == "porch-recording-002.mp4"
    assert recording.ref.sha256 == _sha256(recording.path)


async def test_a_recording_that_leaves_no_file_is_not_reported(
    hass: HomeAssistant, calls: Calls, recorder_factory
) -> None:
    await _test_cameras(hass, StreamingCamera("Porch", _Stream(hass, None)))
    await recorder_factory().async_start(VISIT, ("camera.porch",))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert [c.ref.kind for _, c in calls.captured] == [EvidenceKind.SNAPSHOT]


async def test_without_the_stream_integration_it_falls_back_to_snapshots(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    calls: Calls,
    recorder_factory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, "custom_components.concierge.evidence")
    await _test_cameras(hass, StreamingCamera("Porch", None))
    recorder = recorder_factory(interval=5)
    await recorder.async_start(VISIT, ("camera.porch",))
    await hass.async_block_till_done(wait_background_tasks=True)
    await _tick(hass, freezer)
    assert "No recording of camera.porch, snapshots only" in caplog.text
    assert [c.ref.kind for _, c in calls.captured] == [EvidenceKind.SNAPSHOT] * 2
    assert calls.lost == []
    await recorder.async_stop(VISIT)


async def test_stop_all_cancels_series_and_recordings(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    front_camera: Path,
    calls: Calls,
    recorder_factory,
) -> None:
    class _SlowStream(_Stream):
        async def async_record(self, *_args: Any, **_kwargs: Any) -> None:
            await hass.loop.create_future()  # records "for minutes"

    setup_test_component_platform(
        hass, "camera", [StreamingCamera("Porch", _SlowStream(hass, b"c"))]
    )
    await hass.data["camera"].async_setup_platform("test", {"platform": "test"})
    await hass.async_block_till_done()

    recorder = recorder_factory(interval=5)
    await recorder.async_start(VISIT, ("camera.porch", CAMERA))
    await recorder.async_stop("visit-that-never-ran")
    await recorder.async_stop(VISIT)  # the recording goes on after the visit
    await recorder.async_start("visit2", (CAMERA,))
    await recorder.async_stop_all()
    await _tick(hass, freezer)
    assert not recorder.running("visit2")
    assert EvidenceKind.RECORDING not in [c.ref.kind for _, c in calls.captured]
    await recorder.async_stop_all()  # nothing left


# --- references --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        f"{REF_PREFIX}{SITE}/{VISIT}/../../../secrets.yaml",
        f"{REF_PREFIX}{SITE}/../{VISIT}/x.jpg",
        f"{REF_PREFIX}../../secrets.yaml/x",
        f"{REF_PREFIX}{SITE}/{VISIT}/..",
        f"{REF_PREFIX}{SITE}/{VISIT}/.hidden",
        f"{REF_PREFIX}{SITE}/{VISIT}/a\\..\\b.jpg",
        f"{REF_PREFIX}{SITE}/{VISIT}//x.jpg",
        f"{REF_PREFIX}{SITE}/{VISIT}/x.jpg/",
        f"{REF_PREFIX}{SITE}/{VISIT}",
        f"{REF_PREFIX}{SITE}/{VISIT}/sub/x.jpg",
        f"{REF_PREFIX}/etc/passwd/x",
        "media-source://media_source/local/other/site1/visit1/x.jpg",
        "media-source://media_source/recordings/concierge/site1/visit1/x.jpg",
        "media-source://camera/camera.front_door_camera",
        "/config/media/concierge/site1/visit1/x.jpg",
        "file:///etc/passwd",
        "",
    ],
)
async def test_path_for_ref_refuses_anything_outside_the_evidence_folder(
    hass: HomeAssistant, ref: str
) -> None:
    assert path_for_ref(hass, ref) is None


async def test_path_for_ref_stays_inside_the_evidence_folder(hass: HomeAssistant) -> None:
    path = path_for_ref(hass, f"{REF_PREFIX}{SITE}/{VISIT}/porch-001.jpg")
    assert path is not None
    assert path.resolve().is_relative_to(evidence_root(hass).resolve())
    assert path.parts[-3:] == (SITE, VISIT, "porch-001.jpg")


# --- the "Last visit" image entity -------------------------------------------------------


@pytest.fixture
async def camera_site(hass: HomeAssistant, real_locks: None, front_camera: Path) -> MockConfigEntry:
    """A site whose front door has the front door camera (the back door has none)."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    portals = [dict(p) for p in SITE_DATA["portals"]]
    portals[0]["cameras"] = [CAMERA]
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="home",
        title="Home",
        data={**SITE_DATA, "portals": portals},
        options={"notify": []},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _cleaner(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> str:
    await move_to(hass, freezer, at("2026-11-24 10:00"))
    response = await call(
        hass,
        "create_grant",
        label="Cleaner",
        kind="cleaner",
        portals=["Front door", "Back door"],
        start="2026-11-24 09:00:00",
        end="2026-11-24 13:00:00",
    )
    return str(response["grant_id"])


async def _picture(hass: HomeAssistant, image: str) -> bytes:
    return (await async_get_entity_image(hass, image)).content


async def test_last_visit_image_shows_the_visits_newest_picture(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    camera_site: MockConfigEntry,
    front_camera: Path,
) -> None:
    grant_id = await _cleaner(hass, freezer)
    image = entity_id(hass, camera_site, "front_last_visit", "image")
    # Before the first visit there is no picture: unavailable, not a broken image.
    assert hass.states.get(image).state == "unavailable"
    assert "entity_picture" not in hass.states.get(image).attributes
    assert hass.states.get(image).attributes["friendly_name"] == "Front door Last visit"

    visit_id = (await call(hass, "start_visit", grant_id=grant_id, portal="Front door"))["visit_id"]
    await hass.async_block_till_done()
    first = hass.states.get(image).state
    assert first == dt_util.utcnow().isoformat()
    assert await _picture(hass, image) == RED
    assert (await async_get_entity_image(hass, image)).content_type == "image/jpeg"

    _show(front_camera, BLUE)
    await _tick(hass, freezer)
    second = hass.states.get(image).state
    assert second > first
    assert await _picture(hass, image) == BLUE

    _show(front_camera, RED)
    await call(hass, "end_visit", visit_id=visit_id)  # the last picture, same instant
    await hass.async_block_till_done()
    third = hass.states.get(image).state
    assert third > second  # a new picture always gets a new state
    assert await _picture(hass, image) == RED

    # Every picture is in the audit chain, with the hash of the file it names.
    bundle = await call(hass, "export_visit", visit_id=visit_id)
    refs = [
        EvidenceRef.from_wire(e)
        for r in bundle["records"]
        if r["event"]["type"] == "evidence_captured"
        for e in r["event"]["evidence"]
    ]
    assert len(refs) == 3
    for ref in refs:
        path = path_for_ref(hass, ref.ref)
        assert path is not None
        assert _sha256(path) == ref.sha256
    assert bundle["verified"]["ok"] is True

    # A file that vanished shows nothing; the state still says when it was taken.
    _show(path_for_ref(hass, refs[-1].ref), None)
    with pytest.raises(HomeAssistantError):
        await async_get_entity_image(hass, image)
    assert hass.states.get(image).state == third


async def test_last_visit_image_shows_only_snapshots_from_the_evidence_folder(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    camera_site: MockConfigEntry,
    front_camera: Path,
) -> None:
    """Fed through the same coordinator calls the evidence hook uses."""
    coordinator = camera_site.runtime_data
    grant_id = await _cleaner(hass, freezer)
    _show(front_camera, None)  # the camera has nothing to show
    visit_id = (await call(hass, "start_visit", grant_id=grant_id, portal="Front door"))["visit_id"]
    await hass.async_block_till_done()
    image = entity_id(hass, camera_site, "front_last_visit", "image")
    assert hass.states.get(image).state == "unavailable"  # no picture

    async def captured(ref: EvidenceRef) -> None:
        await coordinator.step(
            coordinator.visit(visit_id), AccessEventType.EVIDENCE_CAPTURED, evidence=(ref,)
        )
        coordinator.save_and_publish()
        await hass.async_block_till_done()

    digest = "0" * 64
    await captured(EvidenceRef(EvidenceKind.RECORDING, f"{REF_PREFIX}x/{visit_id}/a.mp4", digest))
    assert hass.states.get(image).state == "unavailable"  # a clip is no picture

    await captured(EvidenceRef(EvidenceKind.SNAPSHOT, f"{REF_PREFIX}x/../../a.jpg", digest))
    assert hass.states.get(image).state == dt_util.utcnow().isoformat()
    with pytest.raises(HomeAssistantError):
        await async_get_entity_image(hass, image)  # never read outside the evidence folder

    await captured(EvidenceRef(EvidenceKind.SNAPSHOT, f"{REF_PREFIX}x/{visit_id}/b.png", digest))
    state = hass.states.get(image)
    assert state.state > dt_util.utcnow().isoformat()  # same instant, still a new state
    entity = hass.data["image"].get_entity(image)
    assert entity.content_type == "image/png"

    # The next visit has no picture yet: the image is empty again.
    await call(hass, "end_visit", visit_id=visit_id)
    await move_to(hass, freezer, at("2026-11-24 11:00"))
    await call(hass, "start_visit", grant_id=grant_id, portal="Front door")
    await hass.async_block_till_done()
    assert hass.states.get(image).state == "unavailable"
    with pytest.raises(HomeAssistantError):
        await async_get_entity_image(hass, image)


# --- evidence in Media and in the logbook ------------------------------------------------


async def test_evidence_in_media_is_a_titled_folder_per_visit_with_thumbnails(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    camera_site: MockConfigEntry,
    front_camera: Path,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    from homeassistant.components import media_source  # noqa: PLC0415 - set up here
    from homeassistant.components.http.auth import async_sign_path  # noqa: PLC0415

    assert await async_setup_component(hass, "media_source", {})
    grant_id = await _cleaner(hass, freezer)
    visit_id = (await call(hass, "start_visit", grant_id=grant_id, portal="Front door"))["visit_id"]
    await hass.async_block_till_done()
    _show(front_camera, BLUE)
    await _tick(hass, freezer)
    await call(hass, "end_visit", visit_id=visit_id)
    await hass.async_block_till_done()

    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert root.title == "Concierge"
    assert [c.title for c in root.children] == ["Home"]
    home = await media_source.async_browse_media(hass, root.children[0].media_content_id)
    assert [c.title for c in home.children] == ["24 Nov 10:00 · Cleaner · Front door"]
    folder = home.children[0]
    assert folder.thumbnail is not None
    visit = await media_source.async_browse_media(hass, folder.media_content_id)
    assert visit.title == "24 Nov 10:00 · Cleaner · Front door"
    assert [c.title for c in visit.children] == [
        "10:00:00 · Front door camera",
        "10:00:05 · Front door camera",
        "10:00:05 · Front door camera",  # the last picture, as the visit ended
    ]

    # The thumbnails and the files open through Home Assistant's media view, for a
    # logged-in user only (the browser signs the path, as here).
    client = await hass_client_no_auth()
    assert (await client.get(folder.thumbnail)).status == 401

    async def _open(path: str) -> bytes:
        response = await client.get(async_sign_path(hass, path, timedelta(minutes=1)))
        assert response.status == 200
        return await response.read()

    pictures = [await _open(child.thumbnail) for child in [folder, *visit.children]]
    assert pictures == [RED, RED, BLUE, BLUE]
    played = await media_source.async_resolve_media(hass, visit.children[1].media_content_id, None)
    assert played.mime_type == "image/jpeg"
    assert await _open(played.url) == BLUE

    # Nothing the visit does not name is played, and no path leaves the evidence folder.
    for wrong in (f"{visit_id}/x.jpg", "../../secrets.yaml"):
        with pytest.raises(media_source.Unresolvable):
            await media_source.async_resolve_media(
                hass, f"media-source://{DOMAIN}/{camera_site.entry_id}/{wrong}", None
            )
