"""Stand-ins for hassfest and the HACS action, which need the internet.

They check the files Home Assistant and HACS read before any of our code runs: the
manifest, hacs.json, the translations, services.yaml, icons.json and quality_scale.yaml.
Where the installed homeassistant package has the validator hassfest uses (its `cv`
string checks, services.yaml's schema, `cv.icon`), the test calls it; hassfest itself
(script/hassfest) is not in the wheel, so its dependency rule is repeated here.
"""

import ast
import json
import re
from pathlib import Path
from typing import Any

import probatio
import pytest
import yaml
from awesomeversion import AwesomeVersion
from homeassistant import components
from homeassistant.const import __version__ as HA_VERSION  # noqa: N812
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import service
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


# hassfest (script/hassfest in Home Assistant's repository) is not part of the homeassistant
# wheel. Its dependency rule is small; this is the same rule, over the same files.
HASSFEST_ALLOWED_COMPONENTS = {
    *{p.value for p in __import__("homeassistant.const").const.Platform},
    "alert", "automation", "conversation", "default_config", "device_automation", "frontend",
    "group", "homeassistant", "input_boolean", "input_button", "input_datetime",
    "input_number", "input_select", "input_text", "media_source", "onboarding",
    "panel_custom", "persistent_notification", "person", "script", "shopping_list", "sun",
    "system_health", "system_log", "timer", "webhook", "websocket_api", "zone", "mjpeg",
    "stream",
}  # fmt: skip


class _ComponentImports(ast.NodeVisitor):
    """The Home Assistant components a module imports, inside functions too.

    As hassfest counts them: `homeassistant.components.<x>` in any import, except under
    `if TYPE_CHECKING:`.
    """

    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module is None:
            return
        if node.module.startswith("homeassistant.components."):
            self.found.add(node.module.split(".")[2])
        elif node.module == "homeassistant.components":
            self.found |= {alias.name for alias in node.names}

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("homeassistant.components."):
                self.found.add(alias.name.split(".")[2])


def test_every_component_used_is_a_dependency_as_hassfest_counts() -> None:
    allowed = (
        HASSFEST_ALLOWED_COMPONENTS
        | set(MANIFEST["dependencies"])
        | set(MANIFEST["after_dependencies"])
    )
    built_in = Path(components.__file__).parent
    used: dict[str, set[str]] = {}
    for module in INTEGRATION.glob("**/*.py"):
        collector = _ComponentImports()
        collector.visit(ast.parse(module.read_text()))
        path = module.relative_to(INTEGRATION)
        # A platform of another integration (diagnostics.py, logbook.py) may import it.
        platform_of = path.stem if len(path.parts) == 1 else path.parts[0]
        for component in collector.found - allowed:
            if (built_in / platform_of).is_dir() and component == platform_of:
                continue
            used.setdefault(component, set()).add(str(path))
    assert used == {}, "Using component ... but it's not in dependencies or after_dependencies"
    # Reached at run time, imported lazily: they must stay named.
    assert {"mqtt", "zha", "zwave_js"} <= set(MANIFEST["after_dependencies"])


def test_dependencies_are_home_assistants_own() -> None:
    """No requirement of our own; every (after_)dependency is a built-in integration.

    Home Assistant installs the requirements of after_dependencies too (requirements.py),
    but those of built-in integrations ship in the Home Assistant OS and Container images.
    """
    assert MANIFEST["requirements"] == []
    # http serves the courier endpoint and the guest page; it is part of every install.
    assert MANIFEST["dependencies"] == ["http"]
    assert not set(MANIFEST["dependencies"]) & set(MANIFEST["after_dependencies"])
    for name in MANIFEST["dependencies"] + MANIFEST["after_dependencies"]:
        assert (Path(components.__file__).parent / name / "manifest.json").is_file(), name


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


def _invalid(validator: Any, value: Any) -> str | None:
    try:
        validator(value)
    except probatio.Invalid as err:
        return str(err)
    return None


def test_translations_pass_home_assistants_string_check() -> None:
    """hassfest validates every translation string with `cv.string_with_no_html`."""
    refused = {
        f"{lang}: {key}": error
        for lang in LANGUAGES
        for key, text in _leaves(TRANSLATIONS[lang]).items()
        if (error := _invalid(cv.string_with_no_html, text))
    }
    assert refused == {}


SERVICES: dict[str, Any] = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
ICONS: dict[str, Any] = json.loads((INTEGRATION / "icons.json").read_text())


def _service_fields(spec: dict[str, Any] | None) -> set[str]:
    """A service's fields, those inside sections too."""
    fields: set[str] = set()
    for name, field in ((spec or {}).get("fields") or {}).items():
        if isinstance(field, dict) and "fields" in field:
            fields |= set(field["fields"])
        else:
            fields.add(name)
    return fields


def test_services_yaml_passes_home_assistants_schema() -> None:
    assert _invalid(service._SERVICES_SCHEMA, SERVICES) is None


def test_every_action_has_an_icon_and_words_in_both_languages() -> None:
    assert set(ICONS["services"]) == set(SERVICES)
    icons = [spec["service"] for spec in ICONS["services"].values()]
    icons += [
        icon
        for platform in ICONS["entity"].values()
        for entity in platform.values()
        for icon in [entity["default"], *entity.get("state", {}).values()]
    ]
    assert [icon for icon in icons if _invalid(cv.icon, icon)] == []
    for lang in LANGUAGES:
        words = TRANSLATIONS[lang]["services"]
        assert set(words) == set(SERVICES), lang
        for name, spec in SERVICES.items():
            assert words[name]["name"], (lang, name)
            assert words[name]["description"], (lang, name)
            assert set(words[name].get("fields", {})) == _service_fields(spec), (lang, name)


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
