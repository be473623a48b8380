"""OSDP gate: the bridge as an OSDP Control Panel (CP) for the one reader/controller at a gate.

The reader at the gate is an OSDP Peripheral Device (PD) on an RS-485 line
(`osdp_channels.py`). The gate talks to it through libosdp's Python binding (`libosdp`
3.2.9, the `osdp` extra); the frames it sends and reads are in `osdp_frames.py`.

- `open` pulses the relay output and returns once the PD acknowledged it.
  `GateError("gate_unreachable")`: the PD is offline, did not answer within `ack_timeout`,
  or the command was dropped. `GateError("gate_refused")`: the PD reported no such output,
  libosdp did not accept the command, or the PD answered with a NAK.
- `feedback` flashes the reader LED green or red and beeps (best effort, never raises).
- Card reads become `CREDENTIAL` signals when they are QR text; anything else is ignored
  with a debug log that never shows the data.
- Input 0 (door contact, turnstile arm) becomes `OPENED` (input active) and `CLOSED`
  (inactive), once per change.

Secure channel: each reader has its own 16-byte SCBK (`scbk`, 32 hex digits). With a key
the CP enforces the secure channel: a PD with another key never comes online. Without a key
`start` refuses, unless `install_mode=True`, which is for the first pairing only: it does not
enforce the secure channel. With a key and install mode, libosdp falls back to the default
key SCBK-D for a reader in install mode and sets the key on it (KEYSET); without a key the
link runs *in the clear*. The key is never logged and never in `repr`.

What libosdp 3.2.9 imposes: a card read carries at most 64 bytes, so the app's signed QR
code (a JWT of about 270 characters) does not fit in one read; the binding keeps only the low
8 bits of the output timer, so a pulse lasts 25.5 s at most; a NAK from the PD (even for an
LED command the PD has no LED for) takes the PD offline for 300 s, and so does a failed
secure-channel handshake. The gate therefore sends only what the PD reported it can do.

Threads: `osdp.ControlPanel` keeps every event in a queue nobody drains (it would grow for as
long as the service runs), so the gate drives the binding under it (`osdp_sys.ControlPanel`)
from its own refresh thread. libosdp calls back on that thread; signals, acknowledgements and
online changes reach the event loop through `loop.call_soon_threadsafe`; `stop` joins the
thread. libosdp writes its own log lines to stderr, outside Python logging (none shows a key).
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final, Self, cast

import osdp  # type: ignore[import-untyped]
import osdp_sys  # type: ignore[import-not-found]

from .base import GateBase, GateError, GateRole, GateSignal, SignalCallback, SignalKind
from .osdp_channels import ByteChannel, SerialChannel
from .osdp_frames import (
    CAP_BUZZER,
    CAP_LED,
    CAP_OUTPUT,
    CARD_FORMAT_RAW,
    COMPLETION_ABORTED,
    COMPLETION_FAILED,
    COMPLETION_OK,
    EVENT_CARDREAD,
    EVENT_NOTIFICATION,
    EVENT_STATUS,
    MAX_ADDRESS,
    MAX_BYTE,
    NOTIFY_PD_STATUS,
    PD_INDEX,
    STATUS_INPUT,
    ControlPanel,
    Fields,
    buzzer_command,
    contact_active,
    led_command,
    output_command,
    parse_key,
    qr_text,
)

_LOGGER = logging.getLogger(__name__)

REFRESH_S: Final = 0.02
"""libosdp wants a refresh at least every 50 ms."""


def _option[T](options: Mapping[str, Any], key: str, kind: type[T], default: T) -> T:
    value = options.get(key, default)
    if kind is float and type(value) is int:
        value = float(value)
    if type(value) is not kind:
        msg = f"{key}: must be a {kind.__name__}"
        raise ValueError(msg)
    return value


class OsdpGate(GateBase):
    """A gate whose reader/controller is an OSDP PD; the bridge is its Control Panel."""

    def __init__(  # noqa: PLR0913 - keyword-only settings
        self,
        gate_id: str,
        role: GateRole,
        channel: ByteChannel,
        *,
        scbk: str | None,
        install_mode: bool = False,
        address: int = 0,
        output_no: int = 0,
        pulse_seconds: float = 1.0,
        ack_timeout: float = 2.0,
    ) -> None:
        """Configure the gate; `start` connects. `scbk`: the reader's key, 32 hex digits."""
        self._key = parse_key(scbk)
        if not 0 <= address <= MAX_ADDRESS:
            msg = "address: 0..126"
            raise ValueError(msg)
        if not 0 <= output_no <= MAX_BYTE:
            msg = "output: 0..255"
            raise ValueError(msg)
        self._timer = round(pulse_seconds * 10)
        if not 1 <= self._timer <= MAX_BYTE:
            msg = "pulse_seconds: 0.1..25.5"
            raise ValueError(msg)
        super().__init__(gate_id, role)
        self._channel = channel
        self._install_mode = install_mode
        self._address = address
        self._output_no = output_no
        self._ack_timeout = ack_timeout
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._cp: ControlPanel | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_signal: SignalCallback = _drop
        self._online = asyncio.Event()
        self._stopped = asyncio.Event()
        self._pending: list[tuple[Fields, asyncio.Future[int]]] = []
        self._contact: bool | None = None

    @classmethod
    def from_options(cls, gate_id: str, role: GateRole, options: Mapping[str, Any]) -> Self:
        """Build from the options of a `[[gates]]` table; a bad one raises ValueError naming it.

        Keys: `serial_port`, `baud_rate`, `scbk`, `install_mode`, `address`, `output`,
        `pulse_seconds`, `ack_timeout` (as the constructor's arguments).
        """
        return cls(
            gate_id,
            role,
            SerialChannel(
                _option(options, "serial_port", str, ""),
                _option(options, "baud_rate", int, 9600),
            ),
            scbk=options.get("scbk"),
            install_mode=_option(options, "install_mode", bool, default=False),
            address=_option(options, "address", int, 0),
            output_no=_option(options, "output", int, 0),
            pulse_seconds=_option(options, "pulse_seconds", float, 1.0),
            ack_timeout=_option(options, "ack_timeout", float, 2.0),
        )

    def __repr__(self) -> str:
        """Say which gate and reader, never the key."""
        return (
            f"OsdpGate(gate_id={self._gate_id!r}, role={self._role.value!r}, "
            f"address={self._address}, channel={self._channel!r})"
        )

    @property
    def online(self) -> bool:
        """Whether the reader is online (with a key: with the secure channel up)."""
        return self._has_bit(lambda cp: cp.status())

    @property
    def secure(self) -> bool:
        """Whether the secure channel to the reader is up."""
        return self._has_bit(lambda cp: cp.sc_status())

    async def wait_online(self) -> None:
        """Return once the reader came online (wrap in `asyncio.timeout`)."""
        await self._online.wait()

    async def start(self, on_signal: SignalCallback) -> None:
        """Open the channel and start talking to the reader (it may come online later)."""
        if self._thread is not None:
            msg = "the gate is already started"
            raise RuntimeError(msg)
        if self._key is None and not self._install_mode:
            raise GateError(
                "osdp_key_missing",
                f"gate {self._gate_id}: no scbk configured; install_mode=True only to pair",
            )
        if self._install_mode:
            _LOGGER.warning("Gate %s: OSDP install mode (first pairing only)", self._gate_id)
        flags = [
            osdp.LibFlag.InstallMode if self._install_mode else osdp.LibFlag.EnforceSecure,
            osdp.LibFlag.EnableNotification,
        ]
        info = osdp.PDInfo(self._address, self._channel, scbk=self._key, flags=flags)
        self._loop = asyncio.get_running_loop()
        self._on_signal = on_signal
        self._contact = None
        self._online.clear()
        self._stopped.clear()
        self._stopping.clear()
        self._channel.open()
        cp = cast("ControlPanel", osdp_sys.ControlPanel([info.get()]))
        cp.set_event_callback(self._on_event)
        cp.set_command_completion_callback(self._on_completion)
        self._cp = cp
        self._thread = threading.Thread(
            target=self._refresh, args=(cp,), name=f"osdp-cp-{self._gate_id}", daemon=True
        )
        self._thread.start()

    async def open(self) -> None:
        """Pulse the relay output for `pulse_seconds`; return once the reader acknowledged."""
        cp = self._connected()
        if cp is None:
            raise GateError("gate_unreachable", f"OSDP reader of gate {self._gate_id} offline")
        if not self._can(cp, CAP_OUTPUT, self._output_no):
            raise GateError("gate_refused", f"the reader reports no output {self._output_no}")
        command = output_command(self._output_no, self._timer)
        if not self._submit(cp, command):
            raise GateError("gate_refused", "libosdp did not accept the output command")
        entry = (command, asyncio.get_running_loop().create_future())
        self._pending.append(entry)
        try:
            async with asyncio.timeout(self._ack_timeout):
                status = await entry[1]
        except TimeoutError:
            raise GateError("gate_unreachable", "the reader did not acknowledge") from None
        finally:
            if entry in self._pending:  # not answered
                self._pending.remove(entry)
        if status == COMPLETION_FAILED:
            raise GateError("gate_refused", "the reader refused the output command (NAK)")
        if status != COMPLETION_OK:
            raise GateError("gate_unreachable", "the output command was dropped")

    async def feedback(self, *, granted: bool) -> None:
        """Flash the reader LED green (granted) or red and beep; best effort, never raises."""
        led, beep = led_command(granted=granted), buzzer_command(granted=granted)
        cp = self._connected()
        for name, command, capability in (("LED", led, CAP_LED), ("buzzer", beep, CAP_BUZZER)):
            if cp is None or not (self._can(cp, capability, 0) and self._submit(cp, command)):
                _LOGGER.debug(
                    "Gate %s: no %s feedback (offline or not capable)", self._gate_id, name
                )

    async def stop(self) -> None:
        """Stop and join the refresh thread, close the channel; pending opens fail."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        await self._stopped.wait()
        thread.join()
        self._cp = None
        self._online.clear()
        self._channel.close()
        for _, future in self._pending:
            future.set_result(COMPLETION_ABORTED)
        self._pending.clear()

    def _has_bit(self, mask_of: Callable[[ControlPanel], int]) -> bool:
        """Whether our PD's bit is set in a status mask of the CP."""
        if self._cp is None:
            return False
        with self._lock:
            return bool(mask_of(self._cp) & 1 << PD_INDEX)

    def _connected(self) -> ControlPanel | None:
        """The CP (libosdp's) if the reader is online, else None."""
        return self._cp if self.online else None

    def _can(self, cp: ControlPanel, capability: int, item: int) -> bool:
        """Whether the PD reported `capability` with more than `item` items."""
        with self._lock:
            _, items = cp.check_capability(PD_INDEX, capability)
        return items > item

    def _submit(self, cp: ControlPanel, command: Fields) -> bool:
        with self._lock:
            return cp.submit_command(PD_INDEX, command)

    def _refresh(self, cp: ControlPanel) -> None:
        """The refresh thread: drive libosdp until `stop`."""
        try:
            while not self._stopping.wait(REFRESH_S):
                with self._lock:
                    cp.refresh()
        finally:
            self._call_on_loop(self._stopped.set)

    def _call_on_loop[*Ts](self, callback: Callable[[*Ts], object], *args: *Ts) -> None:
        """From the refresh thread: run `callback` on the event loop."""
        loop = cast("asyncio.AbstractEventLoop", self._loop)
        with contextlib.suppress(RuntimeError):  # the loop is closed: the bridge is shutting down
            loop.call_soon_threadsafe(callback, *args)

    def _on_event(self, _pd: int, event: Fields) -> int:
        """libosdp: the PD reported an event (refresh thread; must not raise)."""
        if event.get("event") == EVENT_NOTIFICATION:
            if event.get("type") == NOTIFY_PD_STATUS:
                self._call_on_loop(self._set_online, event.get("arg0") == 1)
            return 0
        signal = self._signal_for(event)
        if signal is not None:
            self._call_on_loop(self._on_signal, signal)
        return 0

    def _on_completion(self, _pd: int, command: Fields, status: int) -> None:
        """libosdp: a command was acknowledged, refused or dropped (refresh thread)."""
        self._call_on_loop(self._complete, command, status)

    def _set_online(self, online: bool) -> None:  # noqa: FBT001 - the new state
        if online:
            self._online.set()
            _LOGGER.info("Gate %s: OSDP reader online", self._gate_id)
        else:
            self._online.clear()
            _LOGGER.warning("Gate %s: OSDP reader offline", self._gate_id)

    def _complete(self, command: Fields, status: int) -> None:
        """Answer the oldest `open` waiting for this command (if it still waits)."""
        for index, (sent, future) in enumerate(self._pending):
            if sent == command:
                del self._pending[index]
                future.set_result(status)
                return

    def _signal_for(self, event: Fields) -> GateSignal | None:
        """Turn a PD event into a gate signal (None: nothing for the bridge)."""
        kind = event.get("event")
        if kind == EVENT_CARDREAD:
            return self._credential(event)
        if kind == EVENT_STATUS and event.get("type") == STATUS_INPUT:
            return self._passage(event.get("report"))
        return None

    def _credential(self, event: Fields) -> GateSignal | None:
        fmt, bits = event.get("format"), event.get("length")
        text = qr_text(event.get("data"), bits) if fmt == CARD_FORMAT_RAW else None
        if text is None:
            _LOGGER.debug(
                "Gate %s: ignored a card read (format %s, %s bits)", self._gate_id, fmt, bits
            )
            return None
        return GateSignal(self._gate_id, SignalKind.CREDENTIAL, text)

    def _passage(self, report: object) -> GateSignal | None:
        """Input 0 changed: the passage opened (input active) or closed."""
        active = contact_active(report)
        if active is None or active == self._contact:
            return None
        self._contact = active
        return GateSignal(self._gate_id, SignalKind.OPENED if active else SignalKind.CLOSED)


def _drop(_signal: GateSignal) -> None:
    """The signal callback before `start`."""
