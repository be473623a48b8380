"""Small parts of the checkout's shell: the crash test's kill points, the schema's columns."""

import os
import signal
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from store_bridge import store_schema
from store_bridge.crash_points import CRASH_ENV, Crasher


def test_the_process_is_killed_only_the_nth_time_it_reaches_a_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kills: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: kills.append((pid, sig)))
    monkeypatch.setenv(CRASH_ENV, "before_create:2, persisted")
    crasher = Crasher.from_environment()

    crasher.point("before_create")
    crasher.point("after_create")
    assert kills == []
    crasher.point("before_create")
    assert kills == [(os.getpid(), signal.SIGKILL)]
    crasher.point("persisted")
    assert len(kills) == 2
    Crasher(None).point("persisted")
    assert len(kills) == 2


def test_a_file_whose_checkouts_lack_the_new_columns_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    store_schema.connect(path).close()
    with closing(sqlite3.connect(path)) as db:  # an unreleased schema 4's checkouts
        for name, _kind in store_schema.CHECKOUT_COLUMNS:
            db.execute(f"ALTER TABLE checkouts DROP COLUMN {name}")
        db.commit()

    store_schema.connect(path).close()

    with closing(sqlite3.connect(path)) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(checkouts)")}
    assert {"alerted", "looks", "charged"} <= columns
