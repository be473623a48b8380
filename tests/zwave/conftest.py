"""The Z-Wave rig: the real Z-Wave JS driver and server with a simulated keypad lock.

``zwave_rig`` (session scope) starts ``node rigs/zwave/rig.mjs`` once per test session (per
xdist worker) and stops it at the end: the real Z-Wave JS driver on its mock controller
with one keypad door lock node, served by the real Z-Wave JS Server on 127.0.0.1. Home
Assistant's real ``zwave_js`` integration connects to ``zwave_rig.ws_url``. The rig's HTTP
control channel (see ``rigs/zwave/rig.mjs``) makes the lock act on its own (keypad unlock,
duplicate refusal, going offline, ...) and reads the lock's own memory and the frames it
received. ``zwave_rig_reset`` (function scope) puts the lock back to its start state.
``lock`` (tests/zwave/helpers.py) sets zwave_js up on the rig; ``proxied_lock`` does the
same through a ``tests.tcp_proxy.TcpProxy``, so a test can drop the server connection.

Before the first start ``npm ci`` is run in ``rigs/zwave`` when ``node_modules`` is missing
or older than ``package-lock.json``. Without ``node`` on PATH the tests are skipped, unless
the ``CI`` environment variable is set: then they fail, so CI cannot skip them silently.

Sockets: pytest-homeassistant-custom-component calls ``pytest_socket.socket_allow_hosts(
["127.0.0.1"])`` and then ``disable_socket(allow_unix_socket=True)`` before every test, so
creating any inet socket raises ``SocketBlockedError``. A test that talks to the rig must
request pytest-socket's ``socket_enabled`` fixture (``zwave_rig_reset`` does): it puts the
real ``socket.socket`` back, while the connect guard from ``socket_allow_hosts`` stays in
place, so connections are still limited to 127.0.0.1. The session fixture itself opens no
socket from Python (the rig picks its own free ports and reports them on its READY line),
so it works while sockets are still blocked. Async helpers use aiohttp; the sync ones use
urllib and must not be called from inside the event loop (Home Assistant flags blocking
calls there).
"""

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from json import dumps, loads
from pathlib import Path
from typing import Any
from urllib.request import Request, urlopen

import aiohttp
import pytest

RIG_DIR = Path(__file__).resolve().parents[2] / "rigs" / "zwave"
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
HTTP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class ZWaveRig:
    """A running rig: where to connect, and the lock's control channel."""

    ws_url: str
    control_url: str
    node_id: int
    home_id: int
    log_path: Path

    def get(self, path: str) -> Any:
        """GET a control path (blocking; not from inside the event loop)."""
        return self._request("GET", path, None)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST to a control path (blocking; not from inside the event loop)."""
        return self._request("POST", path, body or {})

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        data = None if body is None else dumps(body).encode()
        request = Request(  # noqa: S310 (always http://127.0.0.1)
            self.control_url + path,
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        with urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            return loads(response.read())

    async def async_get(self, path: str) -> Any:
        """GET a control path."""
        return await self._async_request("GET", path, None)

    async def async_post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST to a control path; raises ``aiohttp.ClientResponseError`` on 4xx/5xx."""
        return await self._async_request("POST", path, body or {})

    async def _async_request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.request(method, self.control_url + path, json=body) as response,
        ):
            response.raise_for_status()
            return await response.json()

    async def async_codes(self) -> dict[int, dict[str, Any]]:
        """The lock's own code table: slot -> {"status": ..., "code": ...}."""
        return {int(slot): entry for slot, entry in (await self.async_get("/codes")).items()}

    async def async_frames(self) -> dict[str, int]:
        """Commands the lock received since the last reset, by CC and command."""
        frames: dict[str, int] = await self.async_get("/frames")
        return frames


def _node_or_skip() -> str:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node and npm:
        return node
    message = "node and npm are needed for the Z-Wave rig (rigs/zwave)"
    if os.environ.get("CI"):
        pytest.fail(message + " and CI must run it")
    pytest.skip(message)


def _ensure_npm_ci() -> None:
    """Run ``npm ci`` unless node_modules matches package-lock.json (one worker at a time)."""
    lock_path = Path(tempfile.gettempdir()) / "concierge-zwave-rig-npm.lock"
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        installed = RIG_DIR / "node_modules" / ".package-lock.json"
        wanted = RIG_DIR / "package-lock.json"
        if installed.exists() and installed.stat().st_mtime >= wanted.stat().st_mtime:
            return
        npm = shutil.which("npm") or "npm"
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=RIG_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci in {RIG_DIR} failed:\n{result.stdout}\n{result.stderr}")


def _tail(path: Path, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _wait_ready(process: subprocess.Popen[bytes], log_path: Path) -> dict[str, str]:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            for line in log_path.read_text(errors="replace").splitlines():
                if line.startswith("READY "):
                    return dict(part.split("=", 1) for part in line.split()[1:])
        if process.poll() is not None:
            pytest.fail(f"the Z-Wave rig exited ({process.returncode}):\n{_tail(log_path)}")
        time.sleep(0.05)
    process.kill()
    process.wait()
    pytest.fail(f"the Z-Wave rig was not ready in {READY_TIMEOUT:.0f} s:\n{_tail(log_path)}")


@pytest.fixture(scope="session")
def zwave_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZWaveRig]:
    """Start the rig once for the session; stop it (and check it stopped) at the end."""
    node = _node_or_skip()
    _ensure_npm_ci()
    workdir = tmp_path_factory.mktemp("zwave-rig")
    log_path = workdir / "rig.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [node, str(RIG_DIR / "rig.mjs"), "--cache-dir", str(workdir / "cache")],
            cwd=RIG_DIR,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        ready = _wait_ready(process, log_path)
        yield ZWaveRig(
            ws_url=f"ws://127.0.0.1:{ready['ws']}",
            control_url=f"http://127.0.0.1:{ready['control']}",
            node_id=int(ready["node"]),
            home_id=int(ready["home"]),
            log_path=log_path,
        )
    finally:
        process.terminate()
        try:
            returncode = process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"the Z-Wave rig did not stop in {STOP_TIMEOUT:.0f} s")
        if returncode != 0:
            pytest.fail(f"the Z-Wave rig exited with {returncode}:\n{_tail(log_path)}")


@pytest.fixture
def zwave_rig_reset(zwave_rig: ZWaveRig, socket_enabled: None) -> ZWaveRig:
    """The rig, its lock reset: only seed slot 1, online, locked, no frames counted."""
    zwave_rig.post("/reset")
    return zwave_rig


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant find Concierge next to zwave_js."""


@pytest.fixture(autouse=True)
def config_dir_in_tmp(hass: Any, tmp_path: Path) -> None:
    """Keep files Home Assistant writes (Concierge's audit log) in a fresh folder."""
    hass.config.config_dir = str(tmp_path)
    hass.config.media_dirs = {"local": str(tmp_path / "media")}


from .helpers import lock, proxied_lock  # noqa: E402, F401 - fixtures shared by the Z-Wave tests
