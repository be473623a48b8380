"""The channel between `serve` and its checkout process: JSON lines on the child's stdin/stdout.

The parent asks (``{"id": n, "op": "find"|"refund"|"settle_refund"|"retry"|"settle"|
"wake_receipts", …}``)
and the child answers each request once its work is committed (``{"id": n, "result": …}``
or ``{"id": n, "refused": "<reason>"}`` for a refund refused, ``{"id": n, "failed": kind}``).
Besides, the child tells (``{"tell": …}``): ``ready`` (it holds the checkout lock and runs),
``committed`` (new events are in the outbox: the parent's publisher is woken), and
``counts`` (its own counts, pending and retrying: the status may have changed). Its
heartbeat: every `HEARTBEAT_S` (the parent sets it in `HEARTBEAT_ENV`) it tells ``counts``
once it runs, ``beat`` before (while it starts or waits for the checkout lock); a child the
parent hears nothing from for a few beats is taken as hung (`checkout_remote.py`).

A checkout or a refund travels whole (the references included: the pipe is private to the
two processes; nothing here is logged).
"""

import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime
from enum import Enum
from typing import Any, Final

from .core.checkout import Checkout, Kind, Phase
from .core.refund import Refund, RefundPhase

CHILD_COMMAND: Final = "checkout-process"
"""The hidden ``store-bridge`` subcommand the parent starts the child with."""
LINE_LIMIT: Final = 1 << 20
"""The longest line either side reads (a checkout is well under a kilobyte)."""
HEARTBEAT_S: Final = 2.0
"""How often the child tells the parent it is alive."""
HEARTBEAT_ENV: Final = "STORE_BRIDGE_CHECKOUT_HEARTBEAT_S"
"""Where the parent puts the child's heartbeat interval (seconds) in the child's environment."""


def heartbeat_s(environ: Mapping[str, str]) -> float:
    """The child's heartbeat interval from its environment (`HEARTBEAT_S` if none or unusable)."""
    try:
        every = float(environ.get(HEARTBEAT_ENV, HEARTBEAT_S))
    except ValueError:
        return HEARTBEAT_S
    return every if every > 0 else HEARTBEAT_S


def _plain(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def checkout_to_wire(checkout: Checkout | None) -> dict[str, Any] | None:
    """A checkout as JSON data (None stays None)."""
    if checkout is None:
        return None
    return {f.name: _plain(getattr(checkout, f.name)) for f in fields(checkout)}


def checkout_from_wire(data: dict[str, Any] | None) -> Checkout | None:
    """A checkout from `checkout_to_wire`'s data."""
    if data is None:
        return None
    values = dict(data)
    values["kind"] = Kind(values["kind"])
    values["phase"] = Phase(values["phase"])
    retry_at = values.get("retry_at")
    values["retry_at"] = None if retry_at is None else datetime.fromisoformat(retry_at)
    return Checkout(**values)


def refund_to_wire(refund: Refund) -> dict[str, Any]:
    """A refund as JSON data."""
    return {f.name: _plain(getattr(refund, f.name)) for f in fields(refund)}


def refund_from_wire(data: dict[str, Any]) -> Refund:
    """A refund from `refund_to_wire`'s data."""
    values = dict(data)
    values["phase"] = RefundPhase(values["phase"])
    retry_at = values.get("retry_at")
    values["retry_at"] = None if retry_at is None else datetime.fromisoformat(retry_at)
    return Refund(**values)


def encode(message: dict[str, Any]) -> bytes:
    """One message as one line."""
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any] | None:
    """One line's message (None: not a message, ignored)."""
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None
