"""One bridge per database file: a second `serve` on the same file refuses to start.

Two bridges on one file would each take its carts and charge them; `serve` holds an
exclusive lock on ``<database>.lock`` for its life (`single_bridge.py`).
"""

from pathlib import Path

import pytest

from store_bridge import single_bridge
from store_bridge.cli import main

from .test_cli import free_port, write_config


def test_a_second_holder_of_the_database_is_refused_until_the_first_lets_go(
    tmp_path: Path,
) -> None:
    database = tmp_path / "store.sqlite3"
    with single_bridge.held(database) as lock:
        assert lock == tmp_path / "store.sqlite3.lock"
        with (
            pytest.raises(single_bridge.AlreadyServingError, match="charge carts twice"),
            single_bridge.held(database),
        ):
            pass  # pragma: no cover - refused
    with single_bridge.held(database):  # let go: the next bridge starts
        pass


def test_serve_refuses_to_start_on_a_database_another_bridge_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], socket_enabled: None
) -> None:
    path = write_config(tmp_path, port=free_port())
    with single_bridge.held(tmp_path / "store.sqlite3"):  # the bridge that runs already
        assert main(["serve", "--config", str(path)]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"store-bridge: another store bridge is running on {tmp_path / 'store.sqlite3'} "
        f"(it holds {tmp_path / 'store.sqlite3.lock'}); stop it first: two bridges on one "
        "database would charge carts twice\n"
    )
