"""OSDP frames as the gate sends and reads them: libosdp's codes, commands, card reads, inputs.

- The relay pulse is an *Output* command: output `output_no`, control code 5 (on for the
  timer, then back to the permanent state), timer in 100 ms units; the binding keeps only
  its low 8 bits, so a pulse lasts 25.5 s at most.
- Feedback flashes the reader LED green or red and beeps.
- libosdp knows three card formats: raw *unspecified* (a bit array), raw *Wiegand* and
  *ASCII*. ASCII (`osdp_FMT`) is deprecated and libosdp drops it at the PD with a warning,
  so a 2D/QR reader delivers the scanned text as a raw, unspecified-format read whose bytes
  are the text (bit count = 8 x bytes). Such a read whose bytes are printable ASCII is a
  credential; anything else (Wiegand badges, binary data) is not. A card read carries at
  most 64 bytes.
- Input status reports for input 0 (door contact, turnstile arm): active or inactive.
- A reader's key (SCBK) is 16 bytes, written as 32 hex digits.
"""

from collections.abc import Callable
from typing import Final, Protocol, cast

import osdp  # type: ignore[import-untyped]

type Fields = dict[str, object]
"""An OSDP command or event as the binding passes it."""

CMD_OUTPUT: Final[int] = osdp.Command.Output
CMD_LED: Final[int] = osdp.Command.LED
CMD_BUZZER: Final[int] = osdp.Command.Buzzer
EVENT_CARDREAD: Final[int] = osdp.Event.CardRead
EVENT_STATUS: Final[int] = osdp.Event.Status
EVENT_NOTIFICATION: Final[int] = osdp.Event.Notification
NOTIFY_PD_STATUS: Final[int] = osdp.EventNotification.PeripheralDeviceStatus
CARD_FORMAT_RAW: Final[int] = osdp.CardFormat.Unspecified
STATUS_INPUT: Final[int] = osdp.StatusReportType.Input
CAP_OUTPUT: Final[int] = osdp.Capability.OutputControl
CAP_LED: Final[int] = osdp.Capability.LEDControl
CAP_BUZZER: Final[int] = osdp.Capability.AudibleControl
COMPLETION_OK: Final[int] = osdp.CompletionStatus.Ok
COMPLETION_FAILED: Final[int] = osdp.CompletionStatus.Failed
COMPLETION_ABORTED: Final[int] = osdp.CompletionStatus.Aborted
LED_GREEN: Final[int] = osdp.CommandLEDColor.Green
LED_RED: Final[int] = osdp.CommandLEDColor.Red
LED_OFF: Final[int] = osdp.CommandLEDColor.Black

OUTPUT_TEMPORARY_ON: Final = 5
"""Output control code: on for the timer, then back to the permanent state."""
LED_TEMPORARY: Final = 2
"""LED temporary control code: show this state now and start the timer."""
BUZZER_DEFAULT_TONE: Final = 2
MAX_BYTE: Final = 255
"""Output numbers and the output timer (100 ms units): the binding keeps 8 bits."""
MAX_ADDRESS: Final = 126
CONTACT_INPUT: Final = 0
PD_INDEX: Final = 0
"""The gate's CP has exactly one PD."""
KEY_BYTES: Final = 16


class ControlPanel(Protocol):
    """The part of `osdp_sys.ControlPanel` the gate uses (the binding has no type hints)."""

    def refresh(self) -> None:
        """Drive the line: send, receive, call back."""

    def status(self) -> int:
        """A bit per PD: online."""
        ...

    def sc_status(self) -> int:
        """A bit per PD: secure channel up."""
        ...

    def check_capability(self, pd: int, function_code: int) -> tuple[int, int]:
        """What the PD reported for a capability: (compliance, number of items)."""
        ...

    def submit_command(self, pd: int, command: Fields) -> bool:
        """Queue a command for the PD; False: libosdp did not take it."""
        ...

    def set_event_callback(self, callback: Callable[[int, Fields], int]) -> None:
        """Call `callback` with each event a PD reports."""

    def set_command_completion_callback(self, callback: Callable[[int, Fields, int], None]) -> None:
        """Call `callback` when a command is acknowledged, refused or dropped."""


def parse_key(scbk: object) -> bytes | None:
    """The reader's key from its 32 hex digits (None: no key); ValueError if malformed."""
    if scbk is None:
        return None
    try:
        key = bytes.fromhex(cast("str", scbk))
    except TypeError, ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        msg = "scbk: 32 hexadecimal digits (16 bytes)"
        raise ValueError(msg)
    return key


def qr_text(data: object, bits: object) -> str | None:
    """The text of a raw card read if its bytes are printable ASCII, else None."""
    if not isinstance(data, bytes) or not data or bits != 8 * len(data) or not data.isascii():
        return None
    text = data.decode("ascii")
    return text if text.isprintable() else None


def contact_active(report: object) -> bool | None:
    """Whether input 0 is active in an input status report (None: no such input)."""
    if not isinstance(report, bytes) or len(report) <= CONTACT_INPUT:
        return None
    return report[CONTACT_INPUT] != 0


def output_command(output_no: int, timer: int) -> Fields:
    """Pulse output `output_no` for `timer` x 100 ms."""
    return {
        "command": CMD_OUTPUT,
        "output_no": output_no,
        "control_code": OUTPUT_TEMPORARY_ON,
        "timer_count": timer,
    }


def led_command(*, granted: bool) -> Fields:
    """Flash the reader LED green (granted) or red."""
    return {
        "command": CMD_LED,
        "reader": 0,
        "led_number": 0,
        "temporary": True,
        "control_code": LED_TEMPORARY,
        "on_color": LED_GREEN if granted else LED_RED,
        "off_color": LED_OFF,
        "on_count": 3,
        "off_count": 2,
        "timer_count": 20,
    }


def buzzer_command(*, granted: bool) -> Fields:
    """Beep once, long (granted), or three times."""
    return {
        "command": CMD_BUZZER,
        "reader": 0,
        "control_code": BUZZER_DEFAULT_TONE,
        "on_count": 2 if granted else 1,
        "off_count": 1,
        "rep_count": 1 if granted else 3,
    }
