"""scripts/develop's first start: HTTP on 127.0.0.1 without a repair, no onboarding extras.

The seed is loaded the way Home Assistant loads it at start (the http integration's own
config loader) together with the develop configuration.
"""

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

from homeassistant.components.http.config import async_load_config
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.yaml import load_yaml_dict

ROOT = Path(__file__).parent.parent.parent


def _seed_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("develop_seed", ROOT / "scripts/develop_seed.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_develop_configuration_has_no_http_section(tmp_path: Path) -> None:
    # A copy beside the files scripts/develop makes for its !include lines (not committed).
    shutil.copy(ROOT / "config/configuration.yaml", tmp_path / "configuration.yaml")
    (tmp_path / "automations.yaml").write_text("[]\n")
    for name in ("scripts.yaml", "scenes.yaml"):
        (tmp_path / name).touch()
    config = load_yaml_dict(tmp_path / "configuration.yaml")
    assert "http" not in config


async def test_first_start_serves_localhost_without_a_repair(
    hass: HomeAssistant, hass_storage: dict[str, Any], tmp_path: Path
) -> None:
    seed = _seed_module()
    assert seed.seed(tmp_path) == ["http", "onboarding"]
    hass_storage["http"] = json.loads((tmp_path / ".storage/http").read_text())
    conf = await async_load_config(hass, {})
    assert conf["server_host"] == ["127.0.0.1"]
    assert conf["server_port"] == 8123
    assert hass_storage["http"]["data"]["pending"] is None
    assert ir.async_get(hass).issues == {}
    onboarding = json.loads((tmp_path / ".storage/onboarding").read_text())
    assert onboarding["data"]["done"] == ["core_config"]


def test_seed_leaves_an_existing_instance_alone(tmp_path: Path) -> None:
    (tmp_path / ".storage").mkdir()
    (tmp_path / ".storage/http").write_text("{}")
    assert _seed_module().seed(tmp_path) == ["onboarding"]
    assert (tmp_path / ".storage/http").read_text() == "{}"


async def test_an_http_section_would_raise_the_repair(hass: HomeAssistant) -> None:
    """What the develop configuration did before: Home Assistant flags it."""
    await async_load_config(hass, {"http": {"server_host": ["127.0.0.1"], "server_port": 8123}})
    assert ("http", "deprecated_yaml") in ir.async_get(hass).issues
