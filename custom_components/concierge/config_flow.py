"""Config flow for Concierge: a site, its portals, its alarm panel and notify targets."""

import uuid
from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import selector
from homeassistant.util import slugify

from .const import (
    CONF_ADD_ANOTHER,
    CONF_ALARM_PANEL,
    CONF_ATTACK_THRESHOLD,
    CONF_CAMERAS,
    CONF_DOOR_SENSOR,
    CONF_KEEP_PORTALS,
    CONF_LOCK,
    CONF_NOTIFY,
    CONF_PORTAL_ID,
    CONF_PORTAL_NAME,
    CONF_PORTALS,
    CONF_SITE_NAME,
    CONF_SLOT_FIRST,
    CONF_SLOT_LAST,
    DEFAULT_ATTACK_THRESHOLD,
    DEFAULT_SLOT_FIRST,
    DEFAULT_SLOT_LAST,
    DOMAIN,
    DOOR_DEVICE_CLASSES,
)
from .site import SiteConfig

SITE_SCHEMA = vol.Schema({vol.Required(CONF_SITE_NAME): selector.TextSelector()})

SLOT_SELECTOR = vol.All(
    selector.NumberSelector(
        selector.NumberSelectorConfig(min=1, max=250, step=1, mode=selector.NumberSelectorMode.BOX)
    ),
    vol.Coerce(int),
)

PORTAL_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_PORTAL_NAME): selector.TextSelector(),
        vol.Required(CONF_LOCK): selector.EntitySelector(
            selector.EntitySelectorConfig(domain="lock")
        ),
        vol.Optional(CONF_DOOR_SENSOR): selector.EntitySelector(
            selector.EntitySelectorConfig(
                domain="binary_sensor", device_class=sorted(DOOR_DEVICE_CLASSES)
            )
        ),
        vol.Optional(CONF_CAMERAS, default=[]): selector.EntitySelector(
            selector.EntitySelectorConfig(domain="camera", multiple=True)
        ),
        vol.Required(CONF_SLOT_FIRST, default=DEFAULT_SLOT_FIRST): SLOT_SELECTOR,
        vol.Required(CONF_SLOT_LAST, default=DEFAULT_SLOT_LAST): SLOT_SELECTOR,
        vol.Required(CONF_ADD_ANOTHER, default=False): selector.BooleanSelector(),
    }
)


def _usable_name(name: str) -> bool:
    """Tell whether a name has at least one letter or digit."""
    return any(char.isalnum() for char in name)


def _entity_error(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return an error key when entity_id is not a known entity.

    The entity selectors already refuse entities of the wrong domain.
    """
    if hass.states.get(entity_id) is None and er.async_get(hass).async_get(entity_id) is None:
        return "entity_not_found"
    return None


def validate_portal(
    hass: HomeAssistant, user_input: Mapping[str, Any], existing: list[dict[str, Any]]
) -> dict[str, str]:
    """Check one portal's input against Home Assistant and the portals already chosen."""
    errors: dict[str, str] = {}
    name = str(user_input[CONF_PORTAL_NAME]).strip()
    if not name:
        errors[CONF_PORTAL_NAME] = "empty_name"
    elif any(p[CONF_PORTAL_NAME].casefold() == name.casefold() for p in existing):
        errors[CONF_PORTAL_NAME] = "duplicate_portal"
    lock = str(user_input[CONF_LOCK])
    if error := _entity_error(hass, lock):
        errors[CONF_LOCK] = error
    elif any(p[CONF_LOCK] == lock for p in existing):
        errors[CONF_LOCK] = "lock_in_use"
    if (sensor := user_input.get(CONF_DOOR_SENSOR)) and (error := _entity_error(hass, str(sensor))):
        errors[CONF_DOOR_SENSOR] = error
    if int(user_input.get(CONF_SLOT_FIRST, DEFAULT_SLOT_FIRST)) > int(
        user_input.get(CONF_SLOT_LAST, DEFAULT_SLOT_LAST)
    ):
        errors[CONF_SLOT_LAST] = "slot_range"
    for camera in user_input.get(CONF_CAMERAS, []):
        if error := _entity_error(hass, str(camera)):
            errors[CONF_CAMERAS] = error
            break
    return errors


def make_portal(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Build the stored form of a portal with a stable id."""
    return {
        CONF_PORTAL_ID: uuid.uuid4().hex[:12],
        CONF_PORTAL_NAME: str(user_input[CONF_PORTAL_NAME]).strip(),
        CONF_LOCK: str(user_input[CONF_LOCK]),
        CONF_DOOR_SENSOR: user_input.get(CONF_DOOR_SENSOR) or None,
        CONF_CAMERAS: [str(c) for c in user_input.get(CONF_CAMERAS, [])],
        CONF_SLOT_FIRST: int(user_input.get(CONF_SLOT_FIRST, DEFAULT_SLOT_FIRST)),
        CONF_SLOT_LAST: int(user_input.get(CONF_SLOT_LAST, DEFAULT_SLOT_LAST)),
    }


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
    """Build the schema of the alarm panel and notify targets (the entry's options)."""
    return vol.Schema(
        {
            vol.Optional(CONF_ALARM_PANEL): selector.EntitySelector(
                selector.EntitySelectorConfig(domain="alarm_control_panel")
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
        }
    )


def validate_extras(hass: HomeAssistant, user_input: Mapping[str, Any]) -> dict[str, str]:
    """Check the alarm panel and notify targets."""
    errors: dict[str, str] = {}
    if (panel := user_input.get(CONF_ALARM_PANEL)) and (error := _entity_error(hass, str(panel))):
        errors[CONF_ALARM_PANEL] = error
    for target in user_input.get(CONF_NOTIFY, []):
        domain, _, name = str(target).partition(".")
        if domain != "notify":
            errors[CONF_NOTIFY] = "wrong_domain"
        elif hass.states.get(target) is None and not hass.services.has_service("notify", name):
            errors[CONF_NOTIFY] = "notify_not_found"
        else:
            continue
        break
    return errors


def clean_extras(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Build the stored options from validated input."""
    return {
        CONF_ALARM_PANEL: user_input.get(CONF_ALARM_PANEL) or None,
        CONF_NOTIFY: [str(t) for t in user_input.get(CONF_NOTIFY, [])],
        CONF_ATTACK_THRESHOLD: int(user_input.get(CONF_ATTACK_THRESHOLD, DEFAULT_ATTACK_THRESHOLD)),
    }


class ConciergeConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a Concierge site."""

    VERSION = 1
    MINOR_VERSION = 1

    def __init__(self) -> None:
        """Start with no site and no portals."""
        self._site_name = ""
        self._portals: list[dict[str, Any]] = []

    def _site_taken(self, name: str, ignore_entry_id: str | None = None) -> bool:
        slug = slugify(name)
        return any(
            entry.unique_id == slug and entry.entry_id != ignore_entry_id
            for entry in self._async_current_entries(include_ignore=False)
        )

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the site's name."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input[CONF_SITE_NAME]).strip()
            if not _usable_name(name):
                errors[CONF_SITE_NAME] = "empty_name"
            elif self._site_taken(name):
                errors[CONF_SITE_NAME] = "site_exists"
            else:
                await self.async_set_unique_id(slugify(name))
                self._abort_if_unique_id_configured()
                self._site_name = name
                return await self.async_step_portal()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(SITE_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_portal(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a portal: a lock with an optional door contact and cameras."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_portal(self.hass, user_input, self._portals)
            if not errors:
                self._portals.append(make_portal(user_input))
                if user_input.get(CONF_ADD_ANOTHER):
                    return await self.async_step_portal()
                if self.source == "reconfigure":
                    return self._finish_reconfigure()
                return await self.async_step_extras()
        return self.async_show_form(
            step_id="portal",
            data_schema=self.add_suggested_values_to_schema(PORTAL_SCHEMA, user_input),
            errors=errors,
            description_placeholders={"count": str(len(self._portals))},
        )

    async def async_step_extras(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the alarm panel and who gets notified."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_extras(self.hass, user_input)
            if not errors:
                return self.async_create_entry(
                    title=self._site_name,
                    data={CONF_SITE_NAME: self._site_name, CONF_PORTALS: self._portals},
                    options=clean_extras(user_input),
                )
        return self.async_show_form(
            step_id="extras",
            data_schema=self.add_suggested_values_to_schema(extras_schema(self.hass), user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename the site, drop portals or add new ones."""
        entry = self._get_reconfigure_entry()
        site = SiteConfig.from_entry_data(entry.data)
        names = {p.portal_id: p.name for p in site.portals}
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input[CONF_SITE_NAME]).strip()
            keep = set(user_input.get(CONF_KEEP_PORTALS, []))
            if not _usable_name(name):
                errors[CONF_SITE_NAME] = "empty_name"
            elif self._site_taken(name, ignore_entry_id=entry.entry_id):
                errors[CONF_SITE_NAME] = "site_exists"
            elif not keep and not user_input.get(CONF_ADD_ANOTHER):
                errors["base"] = "no_portals"
            else:
                self._site_name = name
                self._portals = [p for p in entry.data[CONF_PORTALS] if p[CONF_PORTAL_ID] in keep]
                if user_input.get(CONF_ADD_ANOTHER):
                    return await self.async_step_portal()
                return self._finish_reconfigure()
        schema = vol.Schema(
            {
                vol.Required(CONF_SITE_NAME): selector.TextSelector(),
                vol.Optional(CONF_KEEP_PORTALS): selector.SelectSelector(
                    selector.SelectSelectorConfig(
                        options=[
                            selector.SelectOptionDict(value=pid, label=label)
                            for pid, label in names.items()
                        ],
                        multiple=True,
                    )
                ),
                vol.Required(CONF_ADD_ANOTHER, default=False): selector.BooleanSelector(),
            }
        )
        suggested = user_input or {
            CONF_SITE_NAME: site.name,
            CONF_KEEP_PORTALS: list(names),
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    def _finish_reconfigure(self) -> ConfigFlowResult:
        entry = self._get_reconfigure_entry()
        return self.async_update_reload_and_abort(
            entry,
            unique_id=slugify(self._site_name),
            title=self._site_name,
            data={CONF_SITE_NAME: self._site_name, CONF_PORTALS: self._portals},
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> ConciergeOptionsFlow:  # noqa: ARG004
        """Return the options flow."""
        return ConciergeOptionsFlow()


class ConciergeOptionsFlow(OptionsFlowWithReload):
    """Change the alarm panel and notify targets."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the alarm panel and notify targets."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_extras(self.hass, user_input)
            if not errors:
                return self.async_create_entry(data=clean_extras(user_input))
        suggested = user_input or {
            k: v for k, v in self.config_entry.options.items() if v not in (None, [])
        }
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(extras_schema(self.hass), suggested),
            errors=errors,
        )
