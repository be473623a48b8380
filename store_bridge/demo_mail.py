"""The demo's mail sink: receipts kept as `.eml` files in the demo's folder, nothing sent.

`store-bridge demo` needs no mail server: its receipts go to a `DemoMailbox`, which is the
receipts' `mailer.Sender` as the SMTP mailer is, and accepts every message at once. Each
receipt is written to ``<demo folder>/receipts/receipt-0001.eml`` (open it in any mail
program, or read it as text), and the last few are kept in memory. The files hold the
demo's made-up addresses only; the bridge itself erases an address once the message is
accepted, as it does with a real mail server.
"""

import asyncio
from collections import deque
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Final

from .mailer import Accepted, SendResult

KEPT: Final = 20
"""How many receipts the mailbox keeps in memory."""


class DemoMailbox:
    """Accepts every message: written as an `.eml` file, the last `KEPT` kept in memory."""

    def __init__(self, folder: Path, on_receipt: Callable[[Path], None] | None = None) -> None:
        """Write into `folder` (made at the first message); `on_receipt` hears of each file."""
        self.folder = folder
        self.received = 0
        self.last: deque[EmailMessage] = deque(maxlen=KEPT)
        self._on_receipt = on_receipt or (lambda _path: None)

    async def send(self, message: EmailMessage) -> SendResult:
        """Keep `message` (as a mail server that accepted it would)."""
        self.received += 1
        path = self.folder / f"receipt-{self.received:04d}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes(policy=SMTP))
        self.last.append(message)
        self._on_receipt(path)
        return Accepted()

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
