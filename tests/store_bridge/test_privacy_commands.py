"""The privacy commands with a running bridge: the reference on standard input, and an
erasure that says so when the write-ahead log could not be truncated."""

import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from store_bridge.cli import main
from store_bridge.fake_processor import FakeProcessor
from store_bridge.privacy_cli import NOT_TRUNCATED

from .cart_shop import Shop
from .test_checkout_runner import ACCOUNT, CUSTOMER
from .test_checkout_setup import _config, charged

__all__ = ["charged"]


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _held(path: Path, text: str) -> bool:
    return any(text.encode() in p.read_bytes() for p in path.parent.glob(f"{path.name}*"))


async def test_the_reference_can_come_on_standard_input(
    charged: tuple[Shop, FakeProcessor, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop, _, visits = charged
    (tmp_path / "cfg").mkdir()
    config = str(_config(tmp_path / "cfg", shop.path))
    _stdin(monkeypatch, f"{ACCOUNT}\n")
    assert main(["privacy", "export", "--config", config, "--account", "-"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert sorted(s["visit_id"] for s in exported["sessions"]) == sorted(visits[:2])
    assert all("address_held" in r for r in exported["receipt_requests"])
    _stdin(monkeypatch, "\n")
    assert main(["privacy", "erase", "--config", config, "--account", "-"]) == 2
    assert "no account reference" in capsys.readouterr().err


async def test_an_erasure_while_the_log_is_read_says_so_and_a_second_run_finishes(
    charged: tuple[Shop, FakeProcessor, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop, _, _ = charged  # the bridge keeps running
    (tmp_path / "cfg").mkdir()
    config = str(_config(tmp_path / "cfg", shop.path))
    monkeypatch.setattr("store_bridge.privacy.FOLD_PAUSE_S", 0.001)
    with closing(sqlite3.connect(shop.path, isolation_level=None)) as reader:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sessions").fetchone()  # a read transaction
        _stdin(monkeypatch, f"{ACCOUNT}\n")
        code = main(["privacy", "erase", "--config", config, "--account", "-"])
        out, err = capsys.readouterr()
        assert code == NOT_TRUNCATED
        assert "erased" in out
        assert "could not be truncated" in err
        assert ACCOUNT not in out + err
        assert _held(shop.path, CUSTOMER)  # the old frames still hold it: not promised gone
        reader.execute("COMMIT")
    _stdin(monkeypatch, f"{ACCOUNT}\n")
    assert main(["privacy", "erase", "--config", config, "--account", "-"]) == 0
    assert "nothing to erase" in capsys.readouterr().out
    assert not _held(shop.path, ACCOUNT)
    assert not _held(shop.path, CUSTOMER)
