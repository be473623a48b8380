"""scripts/develop's first start: HTTP on 127.0.0.1 without a repair, no onboarding extras,
an external URL for guest links.

The seed is loaded the way Home Assistant loads it at start (the http integration's own
config loader, the core configuration's loader) together with the develop configuration.
"""

import importlib.util
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from homeassistant.components.http.config import async_load_config
from homeassistant.core import HomeAssistant
from homeassistant.core_config import CORE_CONFIG_SCHEMA, async_process_ha_core_config
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util.yaml import load_yaml_dict

from custom_components.concierge.guest_link_url import guest_link_base

ROOT = Path(__file__).parent.parent.parent


def _seed_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("develop_seed", ROOT / "scripts/develop_seed.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _develop_configuration(config_dir: Path) -> dict[str, Any]:
    # A copy beside the files scripts/develop makes for its !include lines (not committed).
    shutil.copy(ROOT / "config/configuration.yaml", config_dir / "configuration.yaml")
    (config_dir / "automations.yaml").write_text("[]\n")
    for name in ("scripts.yaml", "scenes.yaml"):
        (config_dir / name).touch()
    return load_yaml_dict(config_dir / "configuration.yaml")


def test_develop_configuration_has_no_http_section(tmp_path: Path) -> None:
    assert "http" not in _develop_configuration(tmp_path)


async def _start_core_config(
    hass: HomeAssistant, hass_storage: dict[str, Any], config_dir: Path
) -> None:
    """What Home Assistant does at start: the stored core config, then the YAML keys."""
    hass_storage["core.config"] = json.loads((config_dir / ".storage/core.config").read_text())
    yaml_core = _develop_configuration(config_dir)["homeassistant"]
    await async_process_ha_core_config(hass, CORE_CONFIG_SCHEMA(yaml_core))


async def test_first_start_has_the_external_url_for_guest_links(
    hass: HomeAssistant, hass_storage: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(ServiceValidationError):
        guest_link_base(hass)  # the refusal a new develop user met before
    _seed_module().seed(tmp_path)
    await _start_core_config(hass, hass_storage, tmp_path)
    assert hass.config.external_url == "http://127.0.0.1:8123"
    assert guest_link_base(hass) == "http://127.0.0.1:8123"
    assert ("concierge", "no_external_url") not in ir.async_get(hass).issues
    # Stored and YAML values combine: the location still comes from configuration.yaml.
    assert hass.config.location_name == "Concierge dev"
    assert hass.config.time_zone == "Europe/Berlin"
    assert hass.config.country == "DE"


async def test_a_changed_external_url_survives_the_next_start(
    hass: HomeAssistant, hass_storage: dict[str, Any], tmp_path: Path
) -> None:
    seed = _seed_module()
    seed.seed(tmp_path)
    await _start_core_config(hass, hass_storage, tmp_path)
    await hass.config.async_update(external_url="https://door.example.org")
    await hass.async_block_till_done()
    # The next start: scripts/develop seeds again, Home Assistant loads store and YAML.
    (tmp_path / ".storage/core.config").write_text(json.dumps(hass_storage["core.config"]))
    assert "core.config" not in seed.seed(tmp_path)
    hass.config.external_url = None
    await _start_core_config(hass, hass_storage, tmp_path)
    assert hass.config.external_url == "https://door.example.org"


async def test_first_start_serves_localhost_without_a_repair(
    hass: HomeAssistant, hass_storage: dict[str, Any], tmp_path: Path
) -> None:
    seed = _seed_module()
    assert seed.seed(tmp_path) == ["http", "onboarding", "core.config"]
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
    assert _seed_module().seed(tmp_path) == ["onboarding", "core.config"]
    assert (tmp_path / ".storage/http").read_text() == "{}"


async def test_an_http_section_would_raise_the_repair(hass: HomeAssistant) -> None:
    """What the develop configuration did before: Home Assistant flags it."""
    await async_load_config(hass, {"http": {"server_host": ["127.0.0.1"], "server_port": 8123}})
    assert ("http", "deprecated_yaml") in ir.async_get(hass).issues
