"""A real Home Assistant process with the develop configuration, for the browser tests.

It reuses scripts/develop's pieces in a temporary config directory on a free port:
develop_seed.py writes the HTTP settings and onboarding state, develop_bootstrap.py
onboards the user "dev" and adds the camera and the Concierge site "Home" through Home
Assistant's HTTP API, exactly as `scripts/develop` does; develop_keypad.py then adds the
keypad door "Back door": the Z-Wave rig's simulated keypad lock through Home Assistant's
own zwave_js, so that PIN grants can be made.
"""

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).parent.parent.parent
STOP_TIMEOUT = 60.0
START_TIMEOUT = 300.0


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class RunningHass:
    """A started, onboarded instance with the Concierge site set up."""

    base_url: str
    config_dir: Path
    tokens: dict[str, Any]  # the dev user's access and refresh token
    bootstrap: ModuleType  # develop_bootstrap, pointed at this instance
    keypad_lock: str  # the Back door's lock (zwave_js, the rig's)
    rig_control: str  # the rig's control channel (GET /codes: what the lock holds)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One authenticated HTTP API request; its JSON answer."""
        return self.bootstrap._call(method, path, token=self.tokens["access_token"], body=body)

    def local_storage_tokens(self) -> str:
        """What Home Assistant's frontend keeps in localStorage["hassTokens"] once logged in."""
        return json.dumps(
            {
                **self.tokens,
                "hassUrl": self.base_url,
                "clientId": f"{self.base_url}/",
                "expires": int(time.time() * 1000) + int(self.tokens["expires_in"]) * 1000,
            }
        )


def _tokens(bootstrap: ModuleType) -> dict[str, Any]:
    """Log in as dev through the login flow; the full token answer (with refresh token)."""
    flow = bootstrap._call(
        "POST",
        "/auth/login_flow",
        body={
            "client_id": bootstrap.CLIENT_ID,
            "handler": ["homeassistant", None],
            "redirect_uri": bootstrap.REDIRECT_URI,
        },
    )
    answer = bootstrap._call(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        body={
            "client_id": bootstrap.CLIENT_ID,
            "username": bootstrap.USERNAME,
            "password": bootstrap.PASSWORD,
        },
    )
    tokens: dict[str, Any] = bootstrap._call(
        "POST",
        "/auth/token",
        form={
            "grant_type": "authorization_code",
            "code": answer["result"],
            "client_id": bootstrap.CLIENT_ID,
        },
    )
    return tokens


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (Home Assistant stops cleanly), then SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def running_hass(config_dir: Path, log_file: Path) -> Iterator[RunningHass]:
    """Start Home Assistant in config_dir, set it up like scripts/develop; stop it after."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config" / "configuration.yaml", config_dir / "configuration.yaml")
    (config_dir / "custom_components").symlink_to(ROOT / "custom_components")
    (config_dir / "automations.yaml").write_text("[]\n")
    for name in ("scripts.yaml", "scenes.yaml"):
        (config_dir / name).touch()
    seed = _script("develop_seed")
    seed.PORT = port
    seed.seed(config_dir)
    bootstrap = _script("develop_bootstrap")
    bootstrap.BASE_URL = base_url
    bootstrap.CLIENT_ID = f"{base_url}/"
    bootstrap.REDIRECT_URI = f"{base_url}/?auth_callback=1"
    keypad = _script("develop_keypad")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    rig, ws_url, control_url = keypad.start_rig(log_file.parent / "zwave-rig")
    try:
        with log_file.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "homeassistant", "--config", str(config_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            try:
                bootstrap.setup(config_dir, hass_pid=process.pid, timeout=START_TIMEOUT)
                tokens = _tokens(bootstrap)
                lock = keypad.add_keypad_door(
                    bootstrap, tokens["access_token"], ws_url, hass_pid=process.pid
                )
                yield RunningHass(base_url, config_dir, tokens, bootstrap, lock, control_url)
            finally:
                _stop(process)
    finally:
        _stop(rig)
