"""Receipts when `serve` runs its checkouts in a process of their own.

The request comes to the parent's API (queued in the database); the checkout process sends
it, woken by the parent (`CheckoutRemote.wake_receipts`), and the parent's status counts it.
Real parts: localstripe, Mosquitto, aiosmtpd (STARTTLS, a login), the SQLite file, the
checkout process; the parent's parts run in this process (`service.running`, as `serve`
runs them).
"""

from pathlib import Path
from typing import Any

import aiohttp

from store_bridge import store_schema
from store_bridge.config import load_config
from store_bridge.service import build_bridge, running

from ..localstripe_server import LocalStripe, add_customer
from ..mosquitto import Mosquitto
from ..waiting import until
from .receipt_helpers import mail_server  # noqa: F401 - the mail server fixture
from .smtp_rig import MailServer
from .test_checkout_crash import no_orphan
from .test_receipt_end_to_end import (
    ADDRESS,
    TOKEN,
    _charged_and_receipt_asked,
    _config,
    _holding,
    _seed,
)


async def test_a_receipt_asked_of_serve_is_sent_by_its_checkout_process(
    tmp_path: Path,
    localstripe: LocalStripe,
    stripe_client: Any,
    mosquitto: Mosquitto,
    mail_server: Any,  # noqa: F811 - the fixture imported above
) -> None:
    customer, _method = await add_customer(stripe_client)
    server: MailServer = mail_server()
    path = _config(tmp_path, localstripe.url, mosquitto, server)
    store_schema.connect(tmp_path / "bridge.sqlite3").close()
    _seed(tmp_path / "bridge.sqlite3", customer)
    bridge = build_bridge(load_config(path), checkout_process=path)
    assert bridge.checkout is None  # not on this loop
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        running(bridge, "127.0.0.1", 0, TOKEN) as url,
        aiohttp.ClientSession(url, headers=auth) as api,
    ):
        await _charged_and_receipt_asked(api, seconds=30)
        [mail] = await until("the receipt arrives", lambda: list(server.received), seconds=30)
        assert mail["To"] == ADDRESS

        async def status() -> dict[str, Any]:
            async with api.get("/v1/status") as answer:
                return dict((await answer.json())["checkout"])

        shown = await until(
            "the status counts the receipt sent",
            status,
            want=lambda c: c["receipts_waiting"] == 0 and c["pending"] == 0,
        )
        assert shown["receipts_failed"] == 0
    no_orphan(path)
    assert _holding(tmp_path, ADDRESS) == []
    assert len(server.received) == 1
