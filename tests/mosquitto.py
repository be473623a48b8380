"""A real Mosquitto broker for the tests, on 127.0.0.1 only (a pytest plugin).

``mosquitto`` (function scope) starts Debian's ``mosquitto`` on a free port of 127.0.0.1 with
anonymous access, and stops it after the test. Persistence is on (in the test's own folder),
as in a real installation: persistent sessions and their queued messages survive a restart.
``stop()`` and ``start()`` take it down and bring it back on the same port, for tests of a
broker that goes away.

``scripts/setup`` installs the Debian package. Without the binary the tests are skipped,
unless the ``CI`` environment variable is set: then they fail, so CI cannot skip them.

The fixture requests pytest-socket's ``socket_enabled`` (see ``tests/zwave/conftest.py``):
connections stay limited to 127.0.0.1.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT = 10.0


def find_mosquitto() -> str | None:
    """The broker binary (Debian puts it in /usr/sbin, which may not be on PATH)."""
    return shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """A broker process that can be stopped and started again on the same port."""

    host = "127.0.0.1"

    def __init__(self, binary: str, workdir: Path) -> None:
        """Prepare a configuration on a free port."""
        self.binary = binary
        self.port = _free_port()
        self.config = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "max_queued_messages 100000\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\n",
            encoding="utf-8",
        )
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the broker process is up."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        if self.running:
            return
        self._process = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                msg = f"mosquitto exited ({self._process.returncode}); see {self.log}"
                raise RuntimeError(msg)
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.2),
            ):
                return
            time.sleep(0.02)
        self.stop()
        msg = f"mosquitto did not listen on {self.host}:{self.port} within {START_TIMEOUT} s"
        raise RuntimeError(msg)

    def stop(self) -> None:
        """Stop the broker (connected clients see the connection drop)."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a hung broker
                self._process.kill()
                self._process.wait(5)
        self._process = None


@pytest.fixture
def mosquitto(socket_enabled: None) -> Iterator[Mosquitto]:
    """A running Mosquitto on 127.0.0.1, stopped after the test."""
    binary = find_mosquitto()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed (scripts/setup installs Debian's package)")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    with tempfile.TemporaryDirectory(prefix="concierge-mosquitto-") as workdir:
        # Started as root, mosquitto drops to the "mosquitto" user: it must be able to write
        # its log and its persistence file here.
        Path(workdir).chmod(0o777)
        broker = Mosquitto(binary, Path(workdir))
        broker.start()
        try:
            yield broker
        finally:
            broker.stop()
