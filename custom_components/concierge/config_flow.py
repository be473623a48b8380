"""Config flow for Concierge: add a site, a home or a store, and reconfigure it.

The first step is a menu: a home (the site, its doors, alarm and notifications) or a
store (a store bridge heard through Home Assistant's MQTT integration). The forms and
their checks live beside this file: `config_flow_home` (the site name and portals),
`config_flow_store` (a store and its bridge), `config_flow_options` (a home's options,
also its last setup step) and `config_flow_carrier` (carriers, a home's subentries).
"""

from types import ModuleType
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.core import callback
from homeassistant.util import slugify

from .config_flow_carrier import CarrierSubentryFlow
from .config_flow_checks import usable_name
from .config_flow_home import (
    PORTAL_SCHEMA,
    SITE_SCHEMA,
    make_portal,
    reconfigure_schema,
    validate_portal,
)
from .config_flow_options import (
    ConciergeOptionsFlow,
    clean_extras,
    extras_schema,
    extras_suggestions,
    validate_extras,
)
from .config_flow_prefill import prefilled
from .config_flow_store import (
    STORE_RECONFIGURE_SCHEMA,
    STORE_SCHEMA,
    async_bridge_status,
    store_errors,
    store_input,
)
from .const import (
    CONF_ADD_ANOTHER,
    CONF_BRIDGE_SITE,
    CONF_KEEP_PORTALS,
    CONF_PORTAL_ID,
    CONF_PORTALS,
    CONF_SITE_KIND,
    CONF_SITE_NAME,
    CONF_STORE_NAME,
    CONF_TOPIC_PREFIX,
    DEFAULT_TOPIC_PREFIX,
    DOMAIN,
    SITE_KIND_STORE,
    STORE_STATUS_WAIT,
    SUBENTRY_CARRIER,
)
from .core.stores import status_topic, unique_id
from .site import SiteConfig, is_store
from .site_runtime import ConciergeConfigEntry
from .store_mqtt import async_mqtt_ready


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

    async def _bridge_answers(self, mqtt: ModuleType, prefix: str, site: str) -> bool:
        """Whether the bridge's retained status arrives within `STORE_STATUS_WAIT` seconds."""
        status = await async_bridge_status(self.hass, mqtt, prefix, site, wait=STORE_STATUS_WAIT)
        return status is not None

    async def async_step_user(
        self,
        user_input: dict[str, Any] | None = None,  # noqa: ARG002
    ) -> ConfigFlowResult:
        """Ask what kind of site to add: a home or a store."""
        return self.async_show_menu(step_id="user", menu_options=["home", "store"])

    async def async_step_home(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the home's name."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input[CONF_SITE_NAME]).strip()
            if not usable_name(name):
                errors[CONF_SITE_NAME] = "empty_name"
            elif self._site_taken(name):
                errors[CONF_SITE_NAME] = "site_exists"
            else:
                await self.async_set_unique_id(slugify(name))
                self._abort_if_unique_id_configured()
                self._site_name = name
                return await self.async_step_portal()
        return self.async_show_form(
            step_id="home",
            data_schema=self.add_suggested_values_to_schema(SITE_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_store(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a store: its name, its bridge's site id and topic prefix; the bridge must answer."""
        if (mqtt := await async_mqtt_ready(self.hass)) is None:
            return self.async_abort(reason="mqtt_not_set_up")
        errors: dict[str, str] = {}
        topic = status_topic(DEFAULT_TOPIC_PREFIX, "<site>")
        if user_input is not None:
            name, site, prefix = store_input(user_input)
            errors = store_errors(name, site, prefix)
            if not errors:
                await self.async_set_unique_id(unique_id(prefix, site))
                self._abort_if_unique_id_configured()
                topic = status_topic(prefix, site)
                if not await self._bridge_answers(mqtt, prefix, site):
                    errors["base"] = "no_bridge"
                else:
                    return self.async_create_entry(
                        title=name,
                        data={
                            CONF_SITE_KIND: SITE_KIND_STORE,
                            CONF_STORE_NAME: name,
                            CONF_BRIDGE_SITE: site,
                            CONF_TOPIC_PREFIX: prefix,
                        },
                    )
        return self.async_show_form(
            step_id="store",
            data_schema=self.add_suggested_values_to_schema(STORE_SCHEMA, user_input),
            errors=errors,
            description_placeholders={"topic": topic},
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
        """Choose the home's options: alarm panel, notify targets, delivery timings."""
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
            data_schema=prefilled(
                self, extras_schema(self.hass), extras_suggestions(user_input or {})
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename the site, drop portals or add new ones (a store: rename, move its topics)."""
        entry = self._get_reconfigure_entry()
        if is_store(entry.data):
            return await self.async_step_reconfigure_store()
        site = SiteConfig.from_entry_data(entry.data)
        names = {p.portal_id: p.name for p in site.portals}
        errors: dict[str, str] = {}
        if user_input is not None:
            name = str(user_input[CONF_SITE_NAME]).strip()
            keep = set(user_input.get(CONF_KEEP_PORTALS, []))
            if not usable_name(name):
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
        suggested = user_input or {
            CONF_SITE_NAME: site.name,
            CONF_KEEP_PORTALS: list(names),
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(reconfigure_schema(names), suggested),
            errors=errors,
        )

    async def async_step_reconfigure_store(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename a store or change its bridge's topic prefix (the bridge must answer there)."""
        entry = self._get_reconfigure_entry()
        site = str(entry.data[CONF_BRIDGE_SITE])
        errors: dict[str, str] = {}
        topic = ""
        if user_input is not None:
            name, _, prefix = store_input({**user_input, CONF_BRIDGE_SITE: site})
            errors = store_errors(name, site, prefix)
            new_id = unique_id(prefix, site)
            if not errors and any(
                other.unique_id == new_id and other.entry_id != entry.entry_id
                for other in self._async_current_entries(include_ignore=False)
            ):
                errors[CONF_TOPIC_PREFIX] = "store_exists"
            if not errors and prefix != entry.data[CONF_TOPIC_PREFIX]:
                if (mqtt := await async_mqtt_ready(self.hass)) is None:
                    return self.async_abort(reason="mqtt_not_set_up")
                topic = status_topic(prefix, site)
                if not await self._bridge_answers(mqtt, prefix, site):
                    errors["base"] = "no_bridge"
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    unique_id=new_id,
                    title=name,
                    data={**entry.data, CONF_STORE_NAME: name, CONF_TOPIC_PREFIX: prefix},
                )
        suggested = user_input or {
            CONF_STORE_NAME: entry.data[CONF_STORE_NAME],
            CONF_TOPIC_PREFIX: entry.data[CONF_TOPIC_PREFIX],
        }
        return self.async_show_form(
            step_id="reconfigure_store",
            data_schema=self.add_suggested_values_to_schema(STORE_RECONFIGURE_SCHEMA, suggested),
            errors=errors,
            description_placeholders={"topic": topic, "site": site},
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
    def async_get_options_flow(
        config_entry: ConciergeConfigEntry,  # noqa: ARG004
    ) -> ConciergeOptionsFlow:
        """Return the options flow."""
        return ConciergeOptionsFlow()

    @classmethod
    @callback
    def async_supports_options_flow(cls, config_entry: ConfigEntry) -> bool:
        """Homes have options (alarm, notifications, deliveries); stores have none."""
        return not is_store(config_entry.data)

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the subentries a site has: a home's carriers (a store has none)."""
        if is_store(config_entry.data):
            return {}
        return {SUBENTRY_CARRIER: CarrierSubentryFlow}
