"""The byte lines an OSDP gate talks over: a serial port, or an in-memory pair.

`SerialChannel` is an RS-485 adapter's serial port (raw 8N1, non-blocking);
`memory_channel_pair` gives two in-memory ends (tests, and a simulated reader in the same
process for a demo). libosdp reads and writes them from the gate's refresh thread.
"""

import os
import termios
import threading
import tty
from typing import Final, Protocol

BAUD_RATES: Final = {
    9600: termios.B9600,
    19200: termios.B19200,
    38400: termios.B38400,
    57600: termios.B57600,
    115200: termios.B115200,
    230400: termios.B230400,
}


class ByteChannel(Protocol):
    """A byte stream libosdp can talk over (what `osdp.Channel` asks for, plus open/close)."""

    def open(self) -> None:
        """Acquire the transport."""

    def read(self, max_bytes: int) -> bytes:
        """Return at most `max_bytes` received bytes, without blocking (b"" if none)."""
        ...

    def write(self, buf: bytes) -> int:
        """Send what can be sent of `buf` without blocking; return how much was sent."""
        ...

    def flush(self) -> None:
        """Drop received bytes not read yet (libosdp does this to resynchronise)."""

    def close(self) -> None:
        """Release the transport."""


class SerialChannel:
    """A serial port (an RS-485 adapter): raw 8N1 at `baud_rate`, non-blocking reads/writes."""

    def __init__(self, port: str, baud_rate: int = 9600) -> None:
        """Remember the port; `open` opens it."""
        if baud_rate not in BAUD_RATES:
            msg = f"baud_rate: one of {sorted(BAUD_RATES)}"
            raise ValueError(msg)
        self.port = port
        self._speed = BAUD_RATES[baud_rate]
        self._fd = -1

    def __repr__(self) -> str:
        """Name the port."""
        return f"SerialChannel({self.port!r})"

    def open(self) -> None:
        """Open the port and set it raw, 8N1, at the configured speed."""
        fd = os.open(self.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            attrs = termios.tcgetattr(fd)
            tty.cfmakeraw(attrs)
            attrs[2] |= termios.CLOCAL | termios.CREAD
            attrs[4] = attrs[5] = self._speed
            termios.tcsetattr(fd, termios.TCSANOW, attrs)
            termios.tcflush(fd, termios.TCIOFLUSH)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def read(self, max_bytes: int) -> bytes:
        """Return what arrived, at most `max_bytes`."""
        try:
            return os.read(self._fd, max_bytes)
        except BlockingIOError:
            return b""

    def write(self, buf: bytes) -> int:
        """Queue `buf` for sending; return how many bytes the driver took."""
        try:
            return os.write(self._fd, buf)
        except BlockingIOError:
            return 0

    def flush(self) -> None:
        """Drop received bytes not read yet (never what is queued for sending)."""
        termios.tcflush(self._fd, termios.TCIFLUSH)

    def close(self) -> None:
        """Close the port."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)


class _Pipe:
    """One direction of an in-memory line."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.lock = threading.Lock()


class MemoryChannel:
    """One end of an in-memory line (see `memory_channel_pair`); thread-safe."""

    def __init__(self, receive: _Pipe, send: _Pipe) -> None:
        """Read from `receive`, write to `send`."""
        self._receive = receive
        self._send = send

    def open(self) -> None:
        """Nothing to acquire."""

    def read(self, max_bytes: int) -> bytes:
        """Take at most `max_bytes` of what the other end wrote."""
        with self._receive.lock:
            data = bytes(self._receive.buffer[:max_bytes])
            del self._receive.buffer[:max_bytes]
        return data

    def write(self, buf: bytes) -> int:
        """Hand all of `buf` to the other end."""
        with self._send.lock:
            self._send.buffer += buf
        return len(buf)

    def flush(self) -> None:
        """Drop what the other end wrote and this end did not read."""
        with self._receive.lock:
            self._receive.buffer.clear()

    def close(self) -> None:
        """Nothing to release."""


def memory_channel_pair() -> tuple[MemoryChannel, MemoryChannel]:
    """Two connected ends: the CP's and the PD's (a simulated reader in the same process)."""
    one, other = _Pipe(), _Pipe()
    return MemoryChannel(one, other), MemoryChannel(other, one)
