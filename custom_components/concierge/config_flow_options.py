"""A home's options: its alarm panel and code, notify targets, attack threshold, deliveries.

The options alone also say how many days an ended grant stays, and whether each grant has
a device and entities (`SITE_SCHEMA`).

`extras_schema` is the form, `validate_extras` checks it against Home Assistant,
`clean_extras` builds the stored options (the delivery section flattened) and
`extras_suggestions` fills the form back in, never with the alarm code. The config
flow's last step (`extras`) shows the same form as `ConciergeOptionsFlow`. Stores have
no options.
"""

from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.components.alarm_control_panel.const import AlarmControlPanelEntityFeature
from homeassistant.config_entries import ConfigFlowResult, OptionsFlowWithReload
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector

from .config_flow_checks import entity_error
from .config_flow_prefill import prefilled
from .const import (
    ARM_MODES,
    CONF_ALARM_CODE,
    CONF_ALARM_PANEL,
    CONF_ALARM_TIMEOUT,
    CONF_ATTACK_THRESHOLD,
    CONF_DELIVERY_ADDRESS,
    CONF_DOOR_HELD_OPEN,
    CONF_DOOR_OPEN_TIMEOUT,
    CONF_FALLBACK_ARM_MODE,
    CONF_GRANT_ENTITIES,
    CONF_LOCK_TIMEOUT,
    CONF_NOTIFY,
    CONF_PETS_HOME,
    CONF_RETIRE_AFTER_DAYS,
    DEFAULT_ALARM_TIMEOUT,
    DEFAULT_ATTACK_THRESHOLD,
    DEFAULT_DOOR_HELD_OPEN,
    DEFAULT_DOOR_OPEN_TIMEOUT,
    DEFAULT_FALLBACK_ARM_MODE,
    DEFAULT_GRANT_ENTITIES,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_RETIRE_AFTER_DAYS,
    MAX_RETIRE_AFTER_DAYS,
)

SECTION_DELIVERY = "delivery"
"""The collapsible section with the timings of a delivery (stored flat in the options)."""

DELIVERY_DEFAULTS: dict[str, int] = {
    CONF_DOOR_OPEN_TIMEOUT: DEFAULT_DOOR_OPEN_TIMEOUT,
    CONF_DOOR_HELD_OPEN: DEFAULT_DOOR_HELD_OPEN,
    CONF_LOCK_TIMEOUT: DEFAULT_LOCK_TIMEOUT,
    CONF_ALARM_TIMEOUT: DEFAULT_ALARM_TIMEOUT,
}
DELIVERY_KEYS = (*DELIVERY_DEFAULTS, CONF_PETS_HOME, CONF_DELIVERY_ADDRESS)

PETS_HOME_DOMAINS = ["binary_sensor", "device_tracker", "input_boolean", "person", "switch"]
"""Entities that tell whether the pets are home: "on" or "home" means they are."""

ARM_MODE_FEATURES = {
    "armed_home": AlarmControlPanelEntityFeature.ARM_HOME,
    "armed_away": AlarmControlPanelEntityFeature.ARM_AWAY,
    "armed_night": AlarmControlPanelEntityFeature.ARM_NIGHT,
    "armed_vacation": AlarmControlPanelEntityFeature.ARM_VACATION,
}


def _seconds(low: int, high: int) -> vol.All[int]:
    return vol.All(
        selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=low,
                max=high,
                step=1,
                unit_of_measurement="s",
                mode=selector.NumberSelectorMode.BOX,
            )
        ),
        vol.Coerce(int),
    )


DELIVERY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_DOOR_OPEN_TIMEOUT, default=DEFAULT_DOOR_OPEN_TIMEOUT): _seconds(10, 1800),
        vol.Required(CONF_DOOR_HELD_OPEN, default=DEFAULT_DOOR_HELD_OPEN): _seconds(30, 3600),
        vol.Required(CONF_LOCK_TIMEOUT, default=DEFAULT_LOCK_TIMEOUT): _seconds(5, 300),
        vol.Required(CONF_ALARM_TIMEOUT, default=DEFAULT_ALARM_TIMEOUT): _seconds(5, 600),
        vol.Optional(CONF_PETS_HOME): selector.EntitySelector(
            selector.EntitySelectorConfig(domain=PETS_HOME_DOMAINS)
        ),
        vol.Optional(CONF_DELIVERY_ADDRESS): selector.TextSelector(
            selector.TextSelectorConfig(multiline=True)
        ),
    }
)


def _notify_options(hass: HomeAssistant) -> list[str]:
    """List the notify targets a user can pick: notify entities and legacy services."""
    entities = sorted(hass.states.async_entity_ids("notify"))
    services = sorted(
        f"notify.{name}"
        for name in hass.services.async_services_for_domain("notify")
        if name not in {"send_message", "persistent_notification"}
    )
    return entities + [s for s in services if s not in entities]


def extras_schema(hass: HomeAssistant) -> vol.Schema:
    """Build the schema of the entry's options: alarm, notify targets and delivery timings."""
    return vol.Schema(
        {
            vol.Optional(CONF_ALARM_PANEL): selector.EntitySelector(
                selector.EntitySelectorConfig(domain="alarm_control_panel")
            ),
            vol.Optional(CONF_ALARM_CODE): selector.TextSelector(
                selector.TextSelectorConfig(
                    type=selector.TextSelectorType.PASSWORD, autocomplete="off"
                )
            ),
            vol.Required(
                CONF_FALLBACK_ARM_MODE, default=DEFAULT_FALLBACK_ARM_MODE
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    translation_key="arm_mode",
                    options=list(ARM_MODES),
                    mode=selector.SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Optional(CONF_NOTIFY, default=[]): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=_notify_options(hass), multiple=True, custom_value=True
                )
            ),
            vol.Required(CONF_ATTACK_THRESHOLD, default=DEFAULT_ATTACK_THRESHOLD): vol.All(
                selector.NumberSelector(
                    selector.NumberSelectorConfig(
                        min=2, max=20, step=1, mode=selector.NumberSelectorMode.BOX
                    )
                ),
                vol.Coerce(int),
            ),
            vol.Required(SECTION_DELIVERY, default={}): section(
                DELIVERY_SCHEMA, {"collapsed": True}
            ),
        }
    )


def _alarm_code(user_input: Mapping[str, Any], previous: Mapping[str, Any]) -> str | None:
    """Return the code to store: the one entered, else the stored one for the same panel.

    The stored code is never shown in the form, so an empty field means "keep it".
    A code belongs to its panel: choosing another panel (or none) drops it.
    """
    panel = user_input.get(CONF_ALARM_PANEL) or None
    if panel is None:
        return None
    if code := str(user_input.get(CONF_ALARM_CODE) or "").strip():
        return code
    if previous.get(CONF_ALARM_PANEL) == panel:
        return previous.get(CONF_ALARM_CODE) or None
    return None


def _panel_errors(
    hass: HomeAssistant, panel: str, user_input: Mapping[str, Any], previous: Mapping[str, Any]
) -> dict[str, str]:
    """Check what the chosen panel needs: a code, and support for the fallback mode."""
    errors: dict[str, str] = {}
    if (state := hass.states.get(panel)) is None:
        return errors  # Known to the registry but not loaded: nothing to check against.
    if state.attributes.get("code_format") is not None and not _alarm_code(user_input, previous):
        errors[CONF_ALARM_CODE] = "alarm_code_required"
    features = state.attributes.get("supported_features")
    mode = str(user_input.get(CONF_FALLBACK_ARM_MODE, DEFAULT_FALLBACK_ARM_MODE))
    if (
        isinstance(features, int)
        and mode in ARM_MODE_FEATURES
        and not features & ARM_MODE_FEATURES[mode]
    ):
        errors[CONF_FALLBACK_ARM_MODE] = "arm_mode_unsupported"
    return errors


def validate_extras(
    hass: HomeAssistant,
    user_input: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Check the alarm panel and its code, the notify targets and the pets entity.

    `previous` holds the stored options (the options flow), whose alarm code is kept
    when the field is left empty.
    """
    errors: dict[str, str] = {}
    if panel := user_input.get(CONF_ALARM_PANEL):
        if error := entity_error(hass, str(panel)):
            errors[CONF_ALARM_PANEL] = error
        else:
            errors |= _panel_errors(hass, str(panel), user_input, previous or {})
    for target in user_input.get(CONF_NOTIFY, []):
        domain, _, name = str(target).partition(".")
        if domain != "notify":
            errors[CONF_NOTIFY] = "wrong_domain"
        elif hass.states.get(target) is None and not hass.services.has_service("notify", name):
            errors[CONF_NOTIFY] = "notify_not_found"
        else:
            continue
        break
    delivery = user_input.get(SECTION_DELIVERY, {})
    if (pets := delivery.get(CONF_PETS_HOME)) and entity_error(hass, str(pets)):
        # The form shows a section's errors under the section's key.
        errors[SECTION_DELIVERY] = "pets_entity_not_found"
    return errors


def clean_extras(
    user_input: Mapping[str, Any], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the stored options from validated input, the delivery section flattened."""
    delivery = user_input.get(SECTION_DELIVERY, {})
    return {
        CONF_ALARM_PANEL: user_input.get(CONF_ALARM_PANEL) or None,
        CONF_ALARM_CODE: _alarm_code(user_input, previous or {}),
        CONF_FALLBACK_ARM_MODE: str(
            user_input.get(CONF_FALLBACK_ARM_MODE, DEFAULT_FALLBACK_ARM_MODE)
        ),
        CONF_NOTIFY: [str(t) for t in user_input.get(CONF_NOTIFY, [])],
        CONF_ATTACK_THRESHOLD: int(user_input.get(CONF_ATTACK_THRESHOLD, DEFAULT_ATTACK_THRESHOLD)),
        **{key: int(delivery.get(key, default)) for key, default in DELIVERY_DEFAULTS.items()},
        CONF_PETS_HOME: delivery.get(CONF_PETS_HOME) or None,
        CONF_DELIVERY_ADDRESS: str(delivery.get(CONF_DELIVERY_ADDRESS) or "").strip() or None,
    }


def extras_suggestions(options: Mapping[str, Any]) -> dict[str, Any]:
    """Turn stored (or entered) options into the form's suggested values.

    The alarm code is a secret: it is never sent back to the browser.
    """
    flat = {**options, **options.get(SECTION_DELIVERY, {})}
    shown = {
        k: v
        for k, v in flat.items()
        if v not in (None, [], "") and k not in {CONF_ALARM_CODE, SECTION_DELIVERY, *DELIVERY_KEYS}
    }
    shown[SECTION_DELIVERY] = {k: flat[k] for k in DELIVERY_KEYS if flat.get(k) not in (None, "")}
    return shown


SITE_SCHEMA = {
    vol.Required(CONF_RETIRE_AFTER_DAYS, default=DEFAULT_RETIRE_AFTER_DAYS): vol.All(
        selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0, max=MAX_RETIRE_AFTER_DAYS, step=1, unit_of_measurement="d",
                mode=selector.NumberSelectorMode.BOX,
            )
        ),
        vol.Coerce(int),
    ),
    vol.Required(
        CONF_GRANT_ENTITIES, default=DEFAULT_GRANT_ENTITIES
    ): selector.BooleanSelector(),
}  # fmt: skip
"""Only in the options: days an ended grant keeps its device and entities (`grant_retirement`),
and whether each grant has a device and entities at all (off: the panel and calendar only)."""
SITE_KEYS = (CONF_RETIRE_AFTER_DAYS, CONF_GRANT_ENTITIES)


class ConciergeOptionsFlow(OptionsFlowWithReload):
    """Change the alarm panel, notify targets, delivery timings and the grants' entities.

    Saving reloads the site: with `grant_entities` off its grants' devices leave the
    registries, with it on again they come back.
    """

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options; an empty alarm code keeps the stored one."""
        errors: dict[str, str] = {}
        stored = self.config_entry.options
        if user_input is not None:
            errors = validate_extras(self.hass, user_input, stored)
            if not errors:
                own = {key: user_input[key] for key in SITE_KEYS}
                return self.async_create_entry(data=clean_extras(user_input, stored) | own)
        return self.async_show_form(
            step_id="init",
            data_schema=prefilled(
                self,
                extras_schema(self.hass).extend(SITE_SCHEMA),
                extras_suggestions(user_input or stored),
            ),
            errors=errors,
        )
