"""The store-bridge command line, as an operator meets it first."""

import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from store_bridge import __version__
from store_bridge.cli import main


def test_python_dash_m_help_works() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "store_bridge", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: store-bridge")
    assert "gates" in result.stdout


def test_no_arguments_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "usage: store-bridge" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"store-bridge {__version__}"


def test_unknown_option_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--frobnicate"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --frobnicate" in capsys.readouterr().err


def test_module_entry_point_exits_with_main_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["store_bridge"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("store_bridge", run_name="__main__")
    assert exit_info.value.code == 0


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "store-bridge"
    result = subprocess.run(
        [script, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"store-bridge {__version__}"
