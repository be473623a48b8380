"""The store-bridge command line, as an operator meets it first."""

import contextlib
import io
import json
import os
import re
import runpy
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

import store_bridge
from store_bridge import __version__
from store_bridge.cli import build_parser, main


def test_python_dash_m_help_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "store_bridge", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: store-bridge")
    assert "gates" in result.stdout


def test_no_arguments_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: store-bridge" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"store-bridge {__version__}"


def test_unknown_option_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--frobnicate"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err


def test_module_entry_point_exits_with_main_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["store_bridge"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("store_bridge", run_name="__main__")
    assert exit_info.value.code == 0


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "store-bridge"
    result = subprocess.run(
        [script, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"store-bridge {__version__}"


# --- store-bridge serve ------------------------------------------------------------------

TOKEN = "api-token-0123456789-abcdefghijklmnop"
SERVE_LINE = re.compile(r"^store-bridge: (?P<name>.+) \((?P<site>.+)\) on (?P<url>http://\S+) ")
TALLY = (
    r"inside (?P<inside>\d+)/(?P<capacity>\d+)"
    r" · came in (?P<came>\d+) \((?P<checked_in>\d+) check-ins?\)"
    r" · left (?P<left>\d+) \((?P<checked_out>\d+) checked out,"
    r" (?P<unrecognised>\d+) not recognised at the exit\)"
)
STATUS_LINE = re.compile(
    rf"^\[\s*(?P<elapsed>\d+)s\] {TALLY}"
    r" · refused (?P<refused>\d+)(?: \((?P<reasons>[^)]*)\))?"
    r" · no broker \(events kept in the outbox\)"
    r" · charged (?P<charged>\d+\.\d\d) EUR · receipts (?P<receipts>\d+)$"
)
DONE_LINE = re.compile(
    rf"^store-bridge demo: done\. {TALLY} · refused (?P<refused>\d+)"
    r" · charged (?P<charged>\d+\.\d\d) EUR · receipts (?P<receipts>\d+)$"
)
RECEIPT_LINE = re.compile(
    r"^  receipt (arrived: .+/receipts/receipt-\d{4}\.eml"
    r"|page  http://\S+/r/\S+  \(a card shopper's QR code\))$"
)
REASONS = {
    "store full",
    "code expired",
    "code already used",
    "used the wrong gate",
    "database not available",
}
WAIT = 30.0  # a cold Python start with aiohttp on a busy machine


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, *, port: int = 8787, gates: str | None = None) -> Path:
    """A configuration for a store with two simulated turnstiles, no broker."""
    (folder / "app.pub.pem").write_bytes(
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    (folder / "api-token").write_text(TOKEN + "\n", encoding="utf-8")
    path = folder / "store.toml"
    path.write_text(
        f"""
[store]
site = "store-042"
name = "Corner store"
capacity = 5
database = "store.sqlite3"

[api]
host = "127.0.0.1"
port = {port}
token_file = "api-token"

[checkin]
issuer = "corner-app"
keys = {{ k1 = "app.pub.pem" }}
"""
        + (
            gates
            or """
[[gates]]
id = "entry_1"
role = "entry"
kind = "simulated"
passage_seconds = 0

[[gates]]
id = "exit_1"
role = "exit"
kind = "simulated"
"""
        ),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("[store\n", None, id="not toml"),
        pytest.param(
            '[store]\nsite = "s1"\n[checkin]\nissuer = "app"\n',
            "api.token or api.token_file: is required",
            id="no token",
        ),
        pytest.param(
            '[store]\nsite = "s 1"\n[api]\ntoken = "' + "t" * 32 + '"\n[checkin]\n',
            "store.site: must be 1-64 characters of A-Z a-z 0-9 . _ : -",
            id="bad site",
        ),
        pytest.param(
            '[store]\nsite = "s1"\n[api]\ntoken = "short"\n[checkin]\n',
            "api.token: must be at least 32 characters",
            id="short token",
        ),
    ],
)
def test_serve_with_a_bad_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str | None
) -> None:
    path = tmp_path / "store.toml"
    path.write_text(text, encoding="utf-8")
    if message is None:
        message = f"{path}: not valid TOML (Expected ']' at the end of a table declaration"

    assert main(["serve", "--config", str(path)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"store-bridge: configuration error: {message}")
    assert captured.err.count("\n") == 1


def test_serve_with_a_missing_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nowhere.toml"
    assert main(["serve", "-c", str(path)]) == 2
    assert capsys.readouterr().err == (
        f"store-bridge: configuration error: {path}: cannot read it (No such file or directory)\n"
    )


def test_serve_without_config_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve"])
    assert exit_info.value.code == 2
    assert "the following arguments are required: --config/-c" in capsys.readouterr().err


def test_serve_with_a_bad_configuration_as_a_command(tmp_path: Path) -> None:
    path = write_config(tmp_path, port=0)
    result = subprocess.run(
        [Path(sys.executable).parent / "store-bridge", "serve", "--config", path],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "store-bridge: configuration error: api.port: must be a whole number from 1 to 65535\n"
    )


def test_serve_reports_a_gate_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gates = (
        '[[gates]]\nid = "entry_1"\nrole = "entry"\nkind = "shelly"\ndevice = "shelly-1"\n'
        '[[gates]]\nid = "exit_1"\nrole = "exit"\nkind = "simulated"\n'
    )
    path = write_config(tmp_path, gates=gates)
    assert main(["serve", "--config", str(path)]) == 2
    assert capsys.readouterr().err == (
        "store-bridge: configuration error: gates.entry_1: a shelly relay needs the [mqtt] table\n"
    )


@pytest.mark.usefixtures("socket_enabled")
def test_serve_on_a_port_in_use_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        path = write_config(tmp_path, port=port)
        assert main(["serve", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert str(port) in err
    assert "Traceback" not in err


def _wait_for_output(
    process: subprocess.Popen[bytes], output: Path, pattern: re.Pattern[str]
) -> re.Match[str] | None:
    """The first line of `output` matching `pattern`; None if the process ended first."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for line in output.read_text(encoding="utf-8", errors="replace").splitlines():
            if found := pattern.search(line):
                return found
        if process.poll() is not None:
            return None
        time.sleep(0.05)
    pytest.fail(f"no line matching {pattern.pattern!r} within {WAIT} s: {output.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=WAIT)


@pytest.mark.usefixtures("socket_enabled")
def test_serve_runs_until_sigterm(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "store-bridge"
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    for _attempt in range(3):  # the free port may be taken before the bridge binds it
        port = free_port()
        path = write_config(tmp_path, port=port)
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [script, "serve", "--config", path], stdout=stdout, stderr=stderr
            )
        try:
            started = _wait_for_output(process, out, SERVE_LINE)
            if started is not None:
                break
            assert "in use" in err.read_text(), err.read_text()
        except BaseException:
            _stop(process)
            raise
    else:
        pytest.fail("no free port for the bridge in three attempts")
    try:
        assert started["name"] == "Corner store"
        assert started["site"] == "store-042"
        url = started["url"]
        assert url == f"http://127.0.0.1:{port}"

        with urllib.request.urlopen(f"{url}/v1/status", timeout=WAIT) as answer:  # noqa: S310
            assert answer.status == 200
            assert answer.headers["Content-Type"].startswith("application/json")
            status = json.load(answer)
        assert status["site"] == "store-042"
        assert status["name"] == "Corner store"
        assert (status["occupancy"], status["capacity"]) == (0, 5)
        assert [gate["id"] for gate in status["gates"]] == ["entry_1", "exit_1"]

        request = urllib.request.Request(  # noqa: S310 - http on 127.0.0.1
            f"{url}/v1/gates/entry_1/check-in",
            data=json.dumps({"card_token": "pm_test_0123456789"}).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=WAIT) as answer:  # noqa: S310
            assert json.load(answer)["opened"] is True

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        _stop(process)
    assert "Traceback" not in err.read_text()
    with closing(sqlite3.connect(tmp_path / "store.sqlite3", isolation_level=None)) as db:
        assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    db.close()


class SigtermWhenUp(threading.Thread):
    """Sends this process SIGTERM once the bridge on `port` answers (or gives up)."""

    def __init__(self, port: int) -> None:
        super().__init__(name="sigterm-when-up")
        self.url = f"http://127.0.0.1:{port}/v1/status"
        self.answered = threading.Event()
        self.main_returned = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and not self.main_returned.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=2) as answer:  # noqa: S310
                    self.answered.set()
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.05)
        # serve() answers only after installing its handlers: SIGTERM stops it, not pytest.
        if not self.main_returned.is_set() and self.answered.is_set():
            os.kill(os.getpid(), signal.SIGTERM)


@pytest.mark.usefixtures("socket_enabled")
def test_serve_in_process_until_sigterm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`main(["serve", ...])` itself (the test above runs the command in another process)."""
    for _attempt in range(3):  # the free port may be taken before the bridge binds it
        port = free_port()
        path = write_config(tmp_path, port=port)
        stopper = SigtermWhenUp(port)
        stopper.start()
        try:
            code = main(["serve", "--config", str(path)])
        except OSError:  # taken meanwhile (serve does not report it yet: see above)
            continue
        finally:
            stopper.main_returned.set()
            stopper.join(WAIT)
        break
    else:
        pytest.fail("no free port for the bridge in three attempts")
    assert stopper.answered.is_set()
    assert code == 0
    assert capsys.readouterr().out == (
        f"store-bridge: Corner store (store-042) on http://127.0.0.1:{port} — Ctrl+C stops\n"
    )


def test_demo_mqtt_option_takes_host_and_port() -> None:
    args = build_parser().parse_args(["demo", "--mqtt", "broker.local:1884"])
    assert args.mqtt == ("broker.local", 1884)
    assert build_parser().parse_args(["demo", "--mqtt", "::1:1883"]).mqtt == ("::1", 1883)


# --- store-bridge demo -------------------------------------------------------------------


@pytest.fixture
def fresh_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """Have `main` import the demo module anew, under this test's captured stdout.

    `DemoOptions.out` defaults to the `sys.stdout` of the moment store_bridge.demo was
    first imported (see test_demo_options_follow_a_redirected_stdout); whichever test or module
    imported it before, capsys would not see the demo's output otherwise.
    """
    monkeypatch.delitem(sys.modules, "store_bridge.demo", raising=False)
    monkeypatch.delattr(store_bridge, "demo", raising=False)


def _demo_lines(out: str) -> tuple[str, list[re.Match[str]], re.Match[str]]:
    """The status page address, the status lines, the final line; checks them all."""
    lines = out.splitlines()
    assert lines[0].startswith("store-bridge demo: Demo store, ")
    page = re.fullmatch(r"  status page   (http://127\.0\.0\.1:(\d+)/)", lines[1])
    assert page is not None, lines[1]
    assert int(page[2]) != 0
    assert lines[2] == f"  status JSON   {page[1]}v1/status"
    assert lines[3].startswith("  API token     ")
    assert lines[5].startswith("  receipts      ")
    assert lines[6] == "  Ctrl+C stops."
    # What the shoppers' receipts do may come between the status lines.
    shown = [line for line in lines[7:-2] if not RECEIPT_LINE.fullmatch(line)]
    statuses = [STATUS_LINE.fullmatch(line) for line in shown]
    assert all(statuses), shown
    assert lines[-2] == ""
    done = DONE_LINE.fullmatch(lines[-1])
    assert done is not None, lines[-1]

    previous = dict.fromkeys(("checked_in", "came", "left", "refused"), 0)
    for status in [*statuses, done]:
        assert status is not None  # the line adds up: in - out = inside, out = both kinds
        assert int(status["came"]) - int(status["left"]) == int(status["inside"])
        assert int(status["checked_out"]) + int(status["unrecognised"]) == int(status["left"])
    for status in statuses:
        assert status is not None
        numbers = {key: int(status[key]) for key in previous}
        assert numbers["came"] >= numbers["left"]
        assert int(status["inside"]) <= int(status["capacity"])
        assert all(numbers[key] >= previous[key] for key in previous)  # counters only grow
        reasons: dict[str, int] = {}
        for part in status["reasons"].split(", ") if status["reasons"] else []:
            name, count = part.rsplit(" ", 1)
            reasons[name] = int(count)
        assert (status["reasons"] is None) == (numbers["refused"] == 0)
        assert set(reasons) <= REASONS
        assert sum(reasons.values()) == numbers["refused"]
        previous = numbers
    final = {key: int(done[key]) for key in previous}
    assert final["came"] >= final["left"]
    assert all(final[key] >= previous[key] for key in previous)
    return page[1], [status for status in statuses if status], done


@pytest.mark.usefixtures("socket_enabled", "fresh_demo")
def test_demo_runs_for_its_duration(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    assert main(["demo", "--duration", "3", "--speed", "10", "--port", "0", "--seed", "1"]) == 0
    assert time.monotonic() - started >= 3

    captured = capsys.readouterr()
    _page, statuses, done = _demo_lines(captured.out)
    assert captured.out.startswith("store-bridge demo: Demo store, 12 people at most\n")
    assert len(statuses) >= 2  # a line a second
    assert statuses[0]["elapsed"] == "0"
    assert all(status["capacity"] == "12" for status in statuses)
    assert int(done["checked_in"]) >= 1


@pytest.mark.usefixtures("socket_enabled", "fresh_demo")
def test_demo_in_a_full_store_lists_the_refusals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One place, shoppers arriving faster than they leave: some are refused (store_full)."""
    argv = ["demo", "--capacity", "1", "--shoppers", "6", "--speed", "10", "--port", "0"]
    assert main([*argv, "--seed", "2", "--data", str(tmp_path / "data")]) == 0

    _page, _statuses, done = _demo_lines(capsys.readouterr().out)
    assert int(done["refused"]) >= 1
    assert int(done["checked_in"]) >= 1
    with closing(
        sqlite3.connect(tmp_path / "data" / "store-bridge.sqlite3", isolation_level=None)
    ) as db:
        events = [
            json.loads(payload)
            for (payload,) in db.execute("SELECT payload FROM outbox ORDER BY seq")
        ]
        sessions = db.execute("SELECT state, count(*) FROM sessions GROUP BY state").fetchall()
    db.close()
    kinds = [event["type"] for event in events]
    assert kinds.count("check_in") == int(done["checked_in"])
    assert kinds.count("check_out") <= int(done["checked_out"])  # people: parties count more
    unrecognised = [e for e in events if e["type"] == "gate_opened" and e["reason"] == "egress"]
    assert len(unrecognised) >= int(done["unrecognised"])
    assert kinds.count("access_denied") == int(done["refused"])
    assert sum(count for _state, count in sessions) == int(done["checked_in"])


def test_a_fresh_demo_import_writes_to_the_stdout_of_the_moment(fresh_demo: None) -> None:
    """Why `fresh_demo` works around the bug below."""
    with contextlib.redirect_stdout(io.StringIO()) as replaced:
        from store_bridge.demo import DemoOptions  # noqa: PLC0415 - imported anew on purpose

        assert DemoOptions().out is replaced


def test_demo_options_follow_a_redirected_stdout() -> None:
    from store_bridge.demo import DemoOptions  # noqa: PLC0415

    DemoOptions()  # imported before the redirection, as any long-lived program does
    with contextlib.redirect_stdout(io.StringIO()) as replaced:
        assert DemoOptions().out is replaced


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(
            ["--speed", "0"],
            "argument --speed: expected a number above 0 and below 1e+06 (got '0')",
            id="speed 0",
        ),
        pytest.param(
            ["--speed", "fast"],
            "argument --speed: expected a number above 0 and below 1e+06 (got 'fast')",
            id="speed text",
        ),
        pytest.param(
            ["--speed", "nan"],
            "argument --speed: expected a number above 0 and below 1e+06 (got 'nan')",
            id="nan",
        ),
        pytest.param(
            ["--duration", "-1"],
            "argument --duration: expected a number above 0 and below 1e+06 (got '-1')",
            id="duration -1",
        ),
        pytest.param(
            ["--mqtt", "nohost"],
            "argument --mqtt: expected HOST:PORT, e.g. 127.0.0.1:1883 (got 'nohost')",
            id="mqtt no port",
        ),
        pytest.param(
            ["--mqtt", ":1883"],
            "argument --mqtt: expected HOST:PORT, e.g. 127.0.0.1:1883 (got ':1883')",
            id="mqtt no host",
        ),
        pytest.param(
            ["--mqtt", "broker:65536"],
            "argument --mqtt: expected HOST:PORT, e.g. 127.0.0.1:1883 (got 'broker:65536')",
            id="mqtt port too big",
        ),
        pytest.param(
            ["--capacity", "0"], "--capacity and --shoppers must be at least 1", id="capacity 0"
        ),
        pytest.param(
            ["--shoppers", "0"], "--capacity and --shoppers must be at least 1", id="shoppers 0"
        ),
        pytest.param(
            ["--capacity", "many"], "argument --capacity: invalid int value: 'many'", id="cap text"
        ),
        pytest.param(
            ["--port", "http"],
            "argument --port: expected a port from 0 to 65535 (got 'http')",
            id="port",
        ),
    ],
)
def test_demo_with_bad_arguments(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *argv])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("usage: store-bridge")
    assert captured.err.rstrip().endswith(f"error: {message}")


def test_demo_refuses_an_infinite_speed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--speed", "inf"])


@pytest.mark.usefixtures("socket_enabled")
def test_demo_refuses_a_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--port", "70000", "--duration", "1"])
    assert exit_info.value.code == 2


@pytest.mark.usefixtures("socket_enabled", "fresh_demo")
def test_demo_on_a_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        assert main(["demo", "--port", str(port), "--duration", "1"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("store-bridge: ")
    assert captured.err.endswith(f"(is port {port} in use? try --port 0)\n")
    assert "address already in use" in captured.err.lower()


@pytest.mark.usefixtures("socket_enabled")
def test_demo_stops_on_ctrl_c(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "store-bridge"
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [script, "demo", "--port", "0", "--speed", "5", "--seed", "3"],
            stdout=stdout,
            stderr=stderr,
        )
    try:
        assert _wait_for_output(process, out, STATUS_LINE) is not None, err.read_text()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        _stop(process)
    assert out.read_text(encoding="utf-8").rstrip().endswith("store-bridge demo: stopped.")
    assert "Traceback" not in err.read_text()
