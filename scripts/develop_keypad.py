"""A keypad door for the development Home Assistant: the Z-Wave rig's lock as "Back door".

Concierge programs PINs only into locks it drives, Z-Wave JS or ZHA ones; the develop
"Front door" is a template lock, so a PIN grant could not be made there. This adds a
second door whose lock has a keypad, made of real parts: the Z-Wave test rig
(`rigs/zwave/rig.mjs`: the real Z-Wave JS driver and server on the driver's mock controller
with one simulated keypad door lock), Home Assistant's own `zwave_js` integration
connected to it (its config flow, manual URL), and the door added to the Concierge site
"Home" through the site's reconfigure flow, the way a person clicking through would.

    start_rig(workdir)                        # -> the rig process, its ws:// and control URLs
    add_keypad_door(bootstrap, token, url)    # zwave_js on the rig, then the door

`bootstrap` is `develop_bootstrap` pointed at the instance (its HTTP helpers and waits).
Each part is skipped when it is already done. scripts/develop runs

    develop_keypad.py --config-dir config --hass-pid PID

next to Home Assistant: the rig on the Z-Wave JS server's usual port 3000 (zwave_js keeps
that URL, so the next start finds the lock again), the door added once Concierge is set
up, and the rig stopped when Home Assistant exits.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RIG = ROOT / "rigs" / "zwave" / "rig.mjs"
DOOR_NAME = "Back door"
READY_TIMEOUT = 120.0


class RigError(Exception):
    """The Z-Wave rig did not start."""


def start_rig(workdir: Path, ws_port: int = 0) -> tuple[subprocess.Popen[bytes], str, str]:
    """Start the Z-Wave rig (it stops when its parent goes).

    Returns its process, its ws:// URL (for zwave_js) and its control channel's URL.
    """
    node = shutil.which("node")
    if node is None or not (RIG.parent / "node_modules").is_dir():
        msg = "the Z-Wave rig needs node and `npm ci` in rigs/zwave (scripts/setup --develop)"
        raise RigError(msg)
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "zwave-rig.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - node and the rig's own fixed path
            [
                node,
                str(RIG),
                "--cache-dir",
                str(workdir / "zwave-cache"),
                "--ws-port",
                str(ws_port),
            ],
            cwd=RIG.parent,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith("READY "):
                ready = dict(part.split("=", 1) for part in line.split()[1:])
                return (
                    process,
                    f"ws://127.0.0.1:{ready['ws']}",
                    f"http://127.0.0.1:{ready['control']}",
                )
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    process.wait()
    msg = f"the Z-Wave rig did not start; see {log_path}"
    raise RigError(msg)


def _http(bootstrap: ModuleType) -> Any:  # noqa: ANN401 - develop_bootstrap's request helper
    """develop_bootstrap's request helper: one authenticated call, its JSON answer."""
    return bootstrap._call  # noqa: SLF001 - a helper of the develop scripts, shared


def _zwave_lock(bootstrap: ModuleType, token: str) -> str | None:
    """The lock entity zwave_js made for the rig's lock (any lock but the template one)."""
    states = _http(bootstrap)("GET", "/api/states", token=token)
    locks = [s["entity_id"] for s in states if s["entity_id"].startswith("lock.")]
    return next((lock for lock in locks if lock != bootstrap.LOCK), None)


def _flow_step(bootstrap: ModuleType, token: str, flow_id: str, answer: dict[str, Any]) -> Any:  # noqa: ANN401 - JSON
    return _http(bootstrap)(
        "POST", f"/api/config/config_entries/flow/{flow_id}", token=token, body=answer
    )


def _portal_ids(form: dict[str, Any]) -> list[str]:
    """The site's doors, as the reconfigure form offers them to keep."""
    for field in form.get("data_schema", []):
        if field.get("name") == "keep_portals":
            options = field["selector"]["select"]["options"]
            return [str(option["value"]) for option in options]
    return []


def add_keypad_door(
    bootstrap: ModuleType, token: str, ws_url: str, *, hass_pid: int | None = None
) -> str:
    """Connect zwave_js to the rig and add its lock to the site as "Back door"; the lock."""
    if not bootstrap.entries(token, "zwave_js"):
        print("develop: adding Z-Wave JS (the rig's keypad lock)", flush=True)
        bootstrap.run_flow(token, "zwave_js", [("manual", {"url": ws_url})])
    found: list[str] = []

    def lock_added() -> bool:
        found[:] = [lock] if (lock := _zwave_lock(bootstrap, token)) else []
        return bool(found)

    wait_for = bootstrap._wait_for  # noqa: SLF001 - a helper of the develop scripts, shared
    wait_for("the Z-Wave lock", lock_added, hass_pid=hass_pid, timeout=120)
    lock = found[0]
    (site,) = bootstrap.entries(token, "concierge")
    form = _http(bootstrap)(
        "POST",
        "/api/config/config_entries/flow",
        token=token,
        body={"handler": "concierge", "entry_id": site["entry_id"]},
    )
    keep = _portal_ids(form)
    if len(keep) > 1:  # the door is there already
        flow = f"/api/config/config_entries/flow/{form['flow_id']}"
        _http(bootstrap)("DELETE", flow, token=token)
        return lock
    print(f"develop: adding the keypad door {DOOR_NAME!r} ({lock})", flush=True)
    portal = _flow_step(
        bootstrap,
        token,
        form["flow_id"],
        {"site_name": site["title"], "keep_portals": keep, "add_another": True},
    )
    done = _flow_step(
        bootstrap, token, portal["flow_id"], {"name": DOOR_NAME, "lock": lock, "add_another": False}
    )
    if done.get("reason") != "reconfigure_successful":
        msg = f"adding {DOOR_NAME!r} failed: {done}"
        raise bootstrap.BootstrapError(msg)
    return lock


DEVELOP_WS_PORT = 3000


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """scripts/develop's keypad door: the rig for as long as Home Assistant runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-dir", type=Path, required=True)
    parser.add_argument("--hass-pid", type=int, required=True)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).parent))
    import develop_bootstrap as bootstrap  # noqa: PLC0415 - a sibling script, found here

    try:
        rig, ws_url, _ = start_rig(args.config_dir / "zwave-rig", DEVELOP_WS_PORT)
    except RigError as err:
        print(f"develop: no keypad door: {err}", file=sys.stderr, flush=True)
        return 1
    try:
        tokens: list[str] = []

        def site_ready() -> bool:  # develop_bootstrap onboards and adds the site meanwhile
            try:
                if not tokens:
                    # Onboarding's views answer until it is done, then they are gone.
                    status, steps = bootstrap._request("GET", "/api/onboarding")  # noqa: SLF001
                    onboarded = status == bootstrap.HTTP_NOT_FOUND or (
                        status == bootstrap.HTTP_OK and all(s.get("done") for s in steps)
                    )
                    if not onboarded:
                        return False
                    tokens.append(bootstrap.log_in())
                return bool(bootstrap.entries(tokens[0], "concierge"))
            except bootstrap.BootstrapError:
                return False

        wait_for = bootstrap._wait_for  # noqa: SLF001 - a helper of the develop scripts, shared
        wait_for("the Concierge site", site_ready, hass_pid=args.hass_pid, timeout=900)
        lock = add_keypad_door(bootstrap, tokens[0], ws_url, hass_pid=args.hass_pid)
        print(f"develop: keypad door {DOOR_NAME!r}: {lock} (Z-Wave rig)", flush=True)
        while _alive(args.hass_pid):
            time.sleep(1)
    except bootstrap.BootstrapError as err:
        print(f"develop: no keypad door: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        rig.terminate()
        rig.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
