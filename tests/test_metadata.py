"""Stand-ins for hassfest and the HACS action, which need the internet.

They check the files Home Assistant and HACS read before any of our code runs: the
manifest, hacs.json, the translations and quality_scale.yaml.
"""

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from awesomeversion import AwesomeVersion
from homeassistant import components
from homeassistant.const import __version__ as HA_VERSION  # noqa: N812
from PIL import Image

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "concierge"
MANIFEST: dict[str, Any] = json.loads((INTEGRATION / "manifest.json").read_text())
LANGUAGES = ("en", "de")
TRANSLATIONS: dict[str, dict[str, Any]] = {
    lang: json.loads((INTEGRATION / "translations" / f"{lang}.json").read_text())
    for lang in LANGUAGES
}

QUALITY_RULES = {
    "bronze": [
        "action-setup", "appropriate-polling", "brands", "common-modules", "config-flow",
        "config-flow-test-coverage", "dependency-transparency", "docs-actions",
        "docs-high-level-description", "docs-installation-instructions",
        "docs-removal-instructions", "entity-event-setup", "entity-unique-id",
        "has-entity-name", "runtime-data", "test-before-configure", "test-before-setup",
        "unique-config-entry",
    ],
    "silver": [
        "action-exceptions", "config-entry-unloading", "docs-configuration-parameters",
        "docs-installation-parameters", "entity-unavailable", "integration-owner",
        "log-when-unavailable", "parallel-updates", "reauthentication-flow", "test-coverage",
    ],
    "gold": [
        "devices", "diagnostics", "discovery", "discovery-update-info", "docs-data-update",
        "docs-examples", "docs-known-limitations", "docs-supported-devices",
        "docs-supported-functions", "docs-troubleshooting", "docs-use-cases", "dynamic-devices",
        "entity-category", "entity-device-class", "entity-disabled-by-default",
        "entity-translations", "exception-translations", "icon-translations",
        "reconfiguration-flow", "repair-issues", "stale-devices",
    ],
    "platinum": ["async-dependency", "inject-websession", "strict-typing"],
}  # fmt: skip
ALL_RULES = [rule for tier in QUALITY_RULES.values() for rule in tier]


def _platform_files() -> list[Path]:
    platforms = {p.value for p in __import__("homeassistant.const").const.Platform}
    return [f for f in INTEGRATION.glob("*.py") if f.stem in platforms]


# --- manifest.json (hassfest's and HACS's rules) ---------------------------------------


def test_manifest_has_what_hassfest_and_hacs_require() -> None:
    for key in ("domain", "name", "codeowners", "documentation", "issue_tracker", "version"):
        assert MANIFEST[key], key
    assert MANIFEST["domain"] == "concierge" == INTEGRATION.name
    assert MANIFEST["name"] == "Concierge"
    assert MANIFEST["config_flow"] is True
    assert MANIFEST["integration_type"] in {"device", "hub", "service"}
    assert MANIFEST["iot_class"] in {
        "assumed_state", "calculated", "cloud_polling", "cloud_push", "local_polling",
        "local_push",
    }  # fmt: skip
    assert MANIFEST["documentation"].startswith("https://")
    assert MANIFEST["issue_tracker"].startswith("https://")
    assert all(owner.startswith("@") for owner in MANIFEST["codeowners"])
    assert AwesomeVersion(MANIFEST["version"]).valid


def test_manifest_keys_are_sorted_as_hassfest_wants() -> None:
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def _requirements_behind(domain: str, seen: set[str]) -> set[str]:
    """Every requirement Home Assistant installs before it loads `domain`'s dependants."""
    if domain in seen:
        return set()
    seen.add(domain)
    manifest = json.loads((Path(components.__file__).parent / domain / "manifest.json").read_text())
    found = set(manifest.get("requirements", []))
    for dep in manifest.get("dependencies", []) + manifest.get("after_dependencies", []):
        found |= _requirements_behind(dep, seen)
    return found


def test_manifest_needs_no_zigbee_or_zwave_library() -> None:
    """Home Assistant installs the requirements of after_dependencies too (requirements.py).

    So zha and zwave_js must not be listed: a Z-Wave-only home would get the zigpy stack.
    """
    assert MANIFEST["requirements"] == []
    # http serves the courier endpoint and the guest page; it is part of every install.
    assert MANIFEST["dependencies"] == ["http"]
    assert {"lock", "alarm_control_panel"} <= set(MANIFEST["after_dependencies"])
    assert not {"zha", "zwave_js", "mqtt", "camera"} & set(MANIFEST["after_dependencies"])
    seen: set[str] = set()
    for name in MANIFEST["dependencies"] + MANIFEST["after_dependencies"]:
        assert _requirements_behind(name, seen) == set(), name


def test_version_matches_pyproject() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{MANIFEST["version"]}"' in pyproject


# --- hacs.json ------------------------------------------------------------------------

HACS_KEYS = {
    "name", "homeassistant", "hacs", "country", "content_in_root", "zip_release",
    "filename", "hide_default_branch", "persistent_directory", "render_readme",
}  # fmt: skip


def test_hacs_json_is_valid_and_matches_tested_version() -> None:
    hacs = json.loads((ROOT / "hacs.json").read_text())
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == MANIFEST["name"]
    minimum = AwesomeVersion(hacs["homeassistant"])
    assert minimum.valid
    assert minimum <= AwesomeVersion(HA_VERSION)
    # We code against the minimum we promise: the same release line as the tested one.
    assert minimum.section(0) == AwesomeVersion(HA_VERSION).section(0)
    assert minimum.section(1) == AwesomeVersion(HA_VERSION).section(1)
    assert "Apache License" in (ROOT / "LICENSE").read_text()  # OSI-approved
    assert (ROOT / "README.md").is_file()


def test_brand_icon_is_a_square_png() -> None:
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        with Image.open(INTEGRATION / "brand" / name) as image:
            assert image.format == "PNG"
            assert image.size == (size, size)


# --- translations ---------------------------------------------------------------------


def _leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out |= _leaves(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_english_and_german_have_the_same_keys_and_placeholders() -> None:
    en, de = (_leaves(TRANSLATIONS[lang]) for lang in LANGUAGES)
    assert set(en) == set(de)
    placeholder = re.compile(r"\{(\w+)\}")
    for key, text in en.items():
        assert text.strip(), key
        assert set(placeholder.findall(text)) == set(placeholder.findall(de[key])), key
        assert "[%key:" not in text + de[key], "custom integrations need full text"


def _string_constants(tree: ast.Module) -> dict[str, str]:
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign | ast.Assign)
        and isinstance(getattr(node, "value", None), ast.Constant)
        and isinstance(node.value.value, str)
        and isinstance(getattr(node, "targets", [None])[0], ast.Name)
    } | {
        node.target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def test_every_config_flow_error_and_field_is_translated() -> None:
    from custom_components.concierge.const import ARM_MODES  # noqa: PLC0415

    # config_flow.py and the forms beside it (config_flow_home.py, config_flow_options.py, ...)
    source = "".join(path.read_text() for path in sorted(INTEGRATION.glob("config_flow*.py")))
    consts = _string_constants(ast.parse((INTEGRATION / "const.py").read_text()))
    errors = set(re.findall(r'errors\[[^\]]+\] = "(\w+)"', source))
    errors |= set(re.findall(r'return "(\w+)"', source))
    assert errors >= {"entity_not_found", "site_exists", "no_portals", "lock_in_use"}
    for lang in LANGUAGES:
        config = TRANSLATIONS[lang]["config"]
        options = TRANSLATIONS[lang]["options"]
        subentries = TRANSLATIONS[lang]["config_subentries"]
        flows = [config, options, *subentries.values()]
        known_errors = {e for flow in flows for e in flow.get("error", {})}
        assert errors <= known_errors, lang
        steps_and_sections = [
            part
            for flow in flows
            for step in flow["step"].values()
            for part in [step, *step.get("sections", {}).values()]
        ]
        for part in steps_and_sections:
            assert set(part["data"]) == set(part["data_description"])
        fields = {consts[name] for name in re.findall(r"vol\.\w+\((CONF_\w+)", source)}
        translated = {f for part in steps_and_sections for f in part["data"]}
        assert fields <= translated, lang
        steps = set(re.findall(r'step_id="(\w+)"', source))
        assert steps - {"init"} <= set(config["step"])
        assert "init" in options["step"]
        for subentry in subentries.values():
            assert subentry["entry_type"], lang
            assert subentry["initiate_flow"]["user"], lang
            assert {"user", "reconfigure"} <= set(subentry["step"]), lang
        selectors = set(re.findall(r'SelectSelectorConfig\([^)]*?translation_key="(\w+)"', source))
        assert "arm_mode" in selectors
        for key in selectors:
            assert TRANSLATIONS[lang]["selector"][key]["options"], (lang, key)
        assert set(TRANSLATIONS[lang]["selector"]["arm_mode"]["options"]) == set(ARM_MODES)


# --- quality_scale.yaml ---------------------------------------------------------------


def test_quality_scale_lists_every_rule_honestly() -> None:
    rules = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"]
    assert sorted(rules) == sorted(ALL_RULES)
    for name, value in rules.items():
        if isinstance(value, dict):
            assert value["status"] in {"exempt", "todo", "done"}, name
            assert value.get("comment"), f"{name} needs a comment"
        else:
            assert value in {"done", "todo"}, name


def _done(rule: str) -> bool:
    value = yaml.safe_load((INTEGRATION / "quality_scale.yaml").read_text())["rules"][rule]
    return value == "done" or (isinstance(value, dict) and value["status"] == "done")


def test_rules_marked_done_hold_where_a_machine_can_tell() -> None:
    init = (INTEGRATION / "__init__.py").read_text()
    if _done("runtime-data"):
        assert "entry.runtime_data = " in init
    if _done("config-flow"):
        assert MANIFEST["config_flow"] is True
    if _done("brands"):
        assert (INTEGRATION / "brand" / "icon.png").is_file()
    if _done("reconfiguration-flow"):
        assert "async_step_reconfigure" in (INTEGRATION / "config_flow.py").read_text()
    if _done("config-entry-unloading"):
        assert "async def async_unload_entry" in init
    if _done("action-setup"):
        assert "async_setup_entry" not in re.sub(r"(?s).*async def async_setup_entry", "", init)
    if _done("parallel-updates"):
        for platform in _platform_files():
            assert "\nPARALLEL_UPDATES = " in platform.read_text(), platform.name
    if _done("has-entity-name"):
        assert "_attr_has_entity_name = True" in (INTEGRATION / "entity.py").read_text()
    if _done("diagnostics"):
        assert "TO_REDACT" in (INTEGRATION / "diagnostics.py").read_text()
    if _done("icon-translations"):
        assert (INTEGRATION / "icons.json").is_file()
    if _done("strict-typing"):
        typed = re.compile(r"(?<![\w])entry: ([A-Za-z]+)[,)]")
        for module in INTEGRATION.glob("*.py"):
            for annotation in typed.findall(module.read_text()):
                assert annotation == "ConciergeConfigEntry", f"{module.name}: {annotation}"
        assert (ROOT / "store_bridge" / "py.typed").is_file()


@pytest.mark.parametrize("platform", _platform_files(), ids=lambda p: p.stem)
def test_platform_has_parallel_updates(platform: Path) -> None:
    assert "\nPARALLEL_UPDATES = " in platform.read_text()


def test_every_translation_key_the_code_raises_exists_in_both_languages() -> None:
    from custom_components.concierge.core.errors import TRANSLATION_KEYS  # noqa: PLC0415

    raised: set[str] = set(TRANSLATION_KEYS)
    issues: set[str] = set()
    entity_keys: set[str] = set()
    for module in [*INTEGRATION.glob("*.py"), *INTEGRATION.glob("keypad/*.py")]:
        text = module.read_text()
        raised |= set(re.findall(r'_?not_valid\(\s*"(\w+)"', text))
        raised |= set(re.findall(r'async_notify_owner\(\s*"(\w+)"', text))
        issue_keys = set(
            re.findall(
                r'(?:ir\.async_create_issue|self\._repair)\(.*?translation_key="(\w+)"',
                text,
                re.DOTALL,
            )
        )
        issues |= issue_keys
        selector_keys = set(
            re.findall(r'SelectSelectorConfig\([^)]*?translation_key="(\w+)"', text)
        )
        raised |= set(re.findall(r'translation_key="(\w+)"', text)) - issue_keys - selector_keys
        entity_keys |= set(re.findall(r'super\(\).__init__\(coordinator, \w+, "(\w+)"\)', text))
        entity_keys |= set(re.findall(r'_attr_translation_key = "(\w+)"', text))
    assert {"unknown_grant", "unlock_failed", "unsupported_recurrence"} <= raised
    assert {"code_not_programmed", "keypad_attack"} <= raised
    assert {"missing_entity", "code_rejected", "foreign_codes"} <= issues
    assert {"audit_write_failed", "audit_torn_tail", "audit_records_lost"} <= issues
    assert {"grant_state", "visit_in_progress", "access", "grants"} <= entity_keys
    for lang in LANGUAGES:
        translations = TRANSLATIONS[lang]
        assert raised <= set(translations["exceptions"]), lang
        assert issues <= set(translations["issues"]), lang
        translated_entities = {k for platform in translations["entity"].values() for k in platform}
        assert entity_keys <= translated_entities, lang
