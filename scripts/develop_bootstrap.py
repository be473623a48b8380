"""Onboard the development Home Assistant and add a Concierge site to it.

scripts/develop runs this next to Home Assistant. It talks to Home Assistant only through
the HTTP API its own frontend uses, the way a person clicking through would:

1. onboarding: create the owner (POST /api/onboarding/users), trade the returned code for
   a token (/auth/token), then finish core_config, analytics and integration;
   on later starts it logs in through /auth/login_flow instead;
2. a local_file camera "Front door camera" showing a generated picture of a door;
3. the Concierge config flow: site "Home", one door "Front door" (lock, door contact,
   camera) and the manual alarm panel.

Each part is skipped when it is already done, so a second start only logs in and checks.

    develop_bootstrap.py setup --config-dir config [--hass-pid PID]
    develop_bootstrap.py entries [DOMAIN]   # log in and list config entries
"""

import argparse
import json
import os
import struct
import sys
import time
import zlib
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

BASE_URL = "http://127.0.0.1:8123"
CLIENT_ID = f"{BASE_URL}/"
REDIRECT_URI = f"{BASE_URL}/?auth_callback=1"

USER_NAME = "Developer"
USERNAME = "dev"
PASSWORD = "concierge-dev"  # noqa: S105 - the fixed login of a local development instance
ALARM_CODE = "1234"

LOCK = "lock.front_door"
DOOR_SENSOR = "binary_sensor.front_door_contact"
CAMERA = "camera.front_door_camera"
CAMERA_NAME = "Front door camera"
CAMERA_PICTURE = Path("www/concierge-front-door.png")
ALARM_PANEL = "alarm_control_panel.home_alarm"
SITE_NAME = "Home"
PORTAL_NAME = "Front door"

HTTP_OK = 200
HTTP_NOT_FOUND = 404


class BootstrapError(Exception):
    """Home Assistant did not answer as expected."""


def _request(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Mapping[str, Any] | None = None,
    form: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    """Send one request to Home Assistant; return the status and the decoded body."""
    headers: dict[str, str] = {}
    data: bytes | None = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    # BASE_URL is a fixed http:// address, so no other scheme can sneak in.
    request = Request(f"{BASE_URL}{path}", data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urlopen(request, timeout=60) as response:  # noqa: S310
            status, raw = int(response.status), response.read()
    except HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def _call(
    method: str,
    path: str,
    *,
    token: str | None = None,
    body: Mapping[str, Any] | None = None,
    form: Mapping[str, str] | None = None,
) -> Any:  # noqa: ANN401 - whatever JSON Home Assistant answers
    """Send one request and return the body; anything but 200 OK is an error."""
    status, answer = _request(method, path, token=token, body=body, form=form)
    if status != HTTP_OK:
        msg = f"{method} {path} answered {status}: {answer}"
        raise BootstrapError(msg)
    return answer


def _wait_for(
    what: str, check: Callable[[], bool], *, hass_pid: int | None, timeout: float
) -> None:
    """Poll check() until it is true; give up when Home Assistant exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except URLError, ConnectionError, TimeoutError:
            pass
        if hass_pid is not None and not _alive(hass_pid):
            msg = f"Home Assistant exited while waiting for {what}"
            raise BootstrapError(msg)
        if time.monotonic() > deadline:
            msg = f"gave up waiting {timeout:.0f} s for {what}"
            raise BootstrapError(msg)
        time.sleep(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _token_from_code(code: str) -> str:
    """Trade an authorization code for an access token."""
    answer = _call(
        "POST",
        "/auth/token",
        form={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID},
    )
    return str(answer["access_token"])


def log_in() -> str:
    """Log in as the development user through the login flow; return an access token."""
    flow = _call(
        "POST",
        "/auth/login_flow",
        body={
            "client_id": CLIENT_ID,
            "handler": ["homeassistant", None],
            "redirect_uri": REDIRECT_URI,
        },
    )
    answer = _call(
        "POST",
        f"/auth/login_flow/{flow['flow_id']}",
        body={"client_id": CLIENT_ID, "username": USERNAME, "password": PASSWORD},
    )
    if answer.get("type") != "create_entry":
        msg = f"logging in as {USERNAME!r} failed: {answer}"
        raise BootstrapError(msg)
    return _token_from_code(str(answer["result"]))


def onboard() -> str:
    """Finish whatever onboarding is left; return an access token of the dev user."""
    status, steps = _request("GET", "/api/onboarding")
    if status == HTTP_NOT_FOUND:  # the views are only there until onboarding is done
        return log_in()
    if status != HTTP_OK:
        msg = f"GET /api/onboarding answered {status}: {steps}"
        raise BootstrapError(msg)
    done = {str(step["step"]) for step in steps if step["done"]}
    if "user" in done:
        token = log_in()
    else:
        print(f"develop: onboarding: creating the user {USERNAME!r}", flush=True)
        answer = _call(
            "POST",
            "/api/onboarding/users",
            body={
                "name": USER_NAME,
                "username": USERNAME,
                "password": PASSWORD,
                "client_id": CLIENT_ID,
                "language": "en",
            },
        )
        token = _token_from_code(str(answer["auth_code"]))
    remaining: dict[str, dict[str, str]] = {
        "core_config": {},
        "analytics": {},
        "integration": {"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI},
    }
    for step, body in remaining.items():
        if step not in done:
            print(f"develop: onboarding: {step}", flush=True)
            _call("POST", f"/api/onboarding/{step}", token=token, body=body)
    return token


def entries(token: str, domain: str) -> list[dict[str, Any]]:
    """Return the config entries of one integration."""
    answer = _call("GET", f"/api/config/config_entries/entry?domain={domain}", token=token)
    return [entry for entry in answer if entry.get("domain") == domain]


def run_flow(token: str, handler: str, steps: list[tuple[str, Mapping[str, Any]]]) -> None:
    """Run a config flow: each step (form or menu) must be the one expected; it must finish.

    A menu step's input is ``{"next_step_id": <choice>}``.
    """
    result = _call(
        "POST",
        "/api/config/config_entries/flow",
        token=token,
        body={"handler": handler, "show_advanced_options": False},
    )
    for step_id, user_input in steps:
        if result.get("type") not in {"form", "menu"} or result.get("step_id") != step_id:
            msg = f"{handler} flow: expected the form {step_id!r}, got {result}"
            raise BootstrapError(msg)
        result = _call(
            "POST",
            f"/api/config/config_entries/flow/{result['flow_id']}",
            token=token,
            body=user_input,
        )
    if result.get("type") != "create_entry":
        msg = f"{handler} flow did not create an entry: {result}"
        raise BootstrapError(msg)


def _entity_exists(token: str, entity_id: str) -> bool:
    status, _ = _request("GET", f"/api/states/{entity_id}", token=token)
    return status == HTTP_OK


def _is_running(token: str) -> bool:
    return bool(_call("GET", "/api/config", token=token).get("state") == "RUNNING")


def door_picture(width: int = 320, height: int = 240) -> bytes:
    """Draw the stand-in camera's picture, a closed door in a wall, as a PNG."""
    wall, floor, door, frame, knob = (
        (196, 206, 214),
        (120, 110, 100),
        (133, 87, 45),
        (90, 58, 30),
        (230, 190, 60),
    )
    left, right, top, bottom = 115, 205, 40, 200

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        if (x - 190) ** 2 + (y - 125) ** 2 <= 25:  # noqa: PLR2004 - a knob of radius 5
            return knob
        if left <= x <= right and top <= y <= bottom:
            inner = left + 4 <= x <= right - 4 and top + 4 <= y
            return door if inner else frame
        return floor if y > bottom else wall

    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in pixel(x, y)) for y in range(height)
    )

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload)
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def add_camera(token: str, config_dir: Path) -> None:
    """Add the local_file camera, drawing its picture first when it is missing."""
    picture = (config_dir / CAMERA_PICTURE).resolve()
    if not picture.exists():
        picture.parent.mkdir(parents=True, exist_ok=True)
        picture.write_bytes(door_picture())
    if any(
        entry.get("title") == CAMERA_NAME for entry in entries(token, "local_file")
    ) or _entity_exists(token, CAMERA):
        return
    print(f"develop: adding the camera {CAMERA_NAME!r} (local_file)", flush=True)
    run_flow(token, "local_file", [("user", {"name": CAMERA_NAME, "file_path": str(picture)})])


def add_concierge(token: str, *, hass_pid: int | None) -> bool:
    """Add the Concierge site unless there is one; return whether it was added."""
    if entries(token, "concierge"):
        return False
    for entity_id in (LOCK, DOOR_SENSOR, CAMERA, ALARM_PANEL):
        _wait_for(
            entity_id,
            partial(_entity_exists, token, entity_id),
            hass_pid=hass_pid,
            timeout=60,
        )
    print(f"develop: adding the Concierge site {SITE_NAME!r}", flush=True)
    run_flow(
        token,
        "concierge",
        [
            ("user", {"next_step_id": "home"}),
            ("home", {"site_name": SITE_NAME}),
            (
                "portal",
                {
                    "name": PORTAL_NAME,
                    "lock": LOCK,
                    "door_sensor": DOOR_SENSOR,
                    "cameras": [CAMERA],
                    "add_another": False,
                },
            ),
            ("extras", {"alarm_panel": ALARM_PANEL, "alarm_code": ALARM_CODE, "notify": []}),
        ],
    )
    return True


def setup(config_dir: Path, *, hass_pid: int | None, timeout: float) -> None:
    """Wait for Home Assistant, onboard it and add the camera and the Concierge site."""
    # The frontend depends on onboarding: once it serves its manifest, the onboarding
    # views are registered (or onboarding is complete and they are gone for good).
    _wait_for(
        "the web server",
        lambda: _request("GET", "/manifest.json")[0] == HTTP_OK,
        hass_pid=hass_pid,
        timeout=timeout,
    )
    token = onboard()
    _wait_for(
        "the start to finish",
        lambda: _is_running(token),
        hass_pid=hass_pid,
        timeout=timeout,
    )
    add_camera(token, config_dir)
    added = add_concierge(token, hass_pid=hass_pid)
    sites = entries(token, "concierge")
    states = ", ".join(f"{entry['title']}: {entry['state']}" for entry in sites)
    rule = "=" * 72
    print(
        f"\n{rule}\n"
        f"  Concierge is {'set up' if added else 'already set up'} ({states})\n"
        f"  Open {BASE_URL}  and log in as  {USERNAME} / {PASSWORD}\n"
        f"  Door: {LOCK}, {DOOR_SENSOR}, {CAMERA}\n"
        f"  Alarm: {ALARM_PANEL} (code {ALARM_CODE})\n"
        f"  Ctrl-C stops Home Assistant.\n"
        f"{rule}\n",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    setup_parser = commands.add_parser("setup", help="onboard and add the Concierge site")
    setup_parser.add_argument("--config-dir", type=Path, required=True)
    setup_parser.add_argument("--hass-pid", type=int, help="stop waiting when it exits")
    setup_parser.add_argument("--timeout", type=float, default=600.0, help="seconds")
    entries_parser = commands.add_parser("entries", help="log in and list config entries")
    entries_parser.add_argument("domain", nargs="?", default="concierge")
    args = parser.parse_args(argv)
    try:
        if args.command == "setup":
            setup(args.config_dir, hass_pid=args.hass_pid, timeout=args.timeout)
        else:
            print(json.dumps(entries(log_in(), args.domain), indent=2))
    except (BootstrapError, URLError, ConnectionError, TimeoutError) as err:
        print(f"develop: {err}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
