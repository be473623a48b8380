"""The status' `checkout` object keeps being refreshed whatever one read throws."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from store_bridge.checkout_status import CheckoutStatus
from store_bridge.database import Database
from store_bridge.storage import StorageUnavailable

from ..waiting import until


class Settings:
    timezone = ZoneInfo("Europe/Berlin")
    currency = "EUR"


class Runner:
    """The runner's part of the object; its first `failures` reads fail unexpectedly."""

    def __init__(self, failures: list[Exception]) -> None:
        self.settings = Settings()
        self.failures = failures
        self.pending = 0
        self.on_change: Any = None

    def status(self) -> dict[str, int]:
        if self.failures:
            raise self.failures.pop(0)
        return {"pending": self.pending, "retrying": 0}


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(tmp_path / "bridge.sqlite3")
    await db.open()
    yield db
    await db.close()


async def test_an_unexpected_failure_does_not_stop_the_status(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    runner = Runner([RuntimeError("boom"), StorageUnavailable("gone"), RuntimeError("boom")])
    published: list[int] = []
    status = CheckoutStatus(
        database,
        runner,  # type: ignore[arg-type]
        lambda: published.append(1),
        lambda: datetime.now(UTC),
        min_interval_s=0.01,
        refresh_s=30.0,
    )
    await status.start()  # its first read fails too
    try:
        runner.pending = 2
        status.changed()
        await until(
            "the object shows the pending checkouts",
            lambda: status.current,
            want=lambda current: current is not None and current["pending"] == 2,
        )
    finally:
        await status.stop()
    assert runner.failures == []
    assert any("could not be read (RuntimeError)" in r.getMessage() for r in caplog.records)
