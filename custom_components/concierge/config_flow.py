"""Config flow for Concierge: a site, its portals, its alarm panel, notify targets and carriers.

The first step is a menu: a home (the site, its doors, alarm and notifications) or a
store (a store bridge heard through Home Assistant's MQTT integration).
"""

import asyncio
import re
import uuid
from collections.abc import Iterable, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

import probatio as vol
from homeassistant.components.alarm_control_panel.const import AlarmControlPanelEntityFeature
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlowWithReload,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers import selector
from homeassistant.util import slugify

from .const import (
    ARM_MODES,
    CONF_ADD_ANOTHER,
    CONF_ALARM_CODE,
    CONF_ALARM_PANEL,
    CONF_ALARM_TIMEOUT,
    CONF_ATTACK_THRESHOLD,
    CONF_BRIDGE_SITE,
    CONF_CAMERAS,
    CONF_CARRIER_ID,
    CONF_CARRIER_KEYS,
    CONF_CARRIER_NAME,
    CONF_DELIVERY_ADDRESS,
    CONF_DOOR_HELD_OPEN,
    CONF_DOOR_OPEN_TIMEOUT,
    CONF_DOOR_SENSOR,
    CONF_FALLBACK_ARM_MODE,
    CONF_KEEP_PORTALS,
    CONF_LOCK,
    CONF_LOCK_TIMEOUT,
    CONF_NOTIFY,
    CONF_PETS_HOME,
    CONF_PORTAL_ID,
    CONF_PORTAL_NAME,
    CONF_PORTALS,
    CONF_SITE_KIND,
    CONF_SITE_NAME,
    CONF_SLOT_FIRST,
    CONF_SLOT_LAST,
    CONF_STORE_NAME,
    CONF_TOPIC_PREFIX,
    DEFAULT_ALARM_TIMEOUT,
    DEFAULT_ATTACK_THRESHOLD,
    DEFAULT_DOOR_HELD_OPEN,
    DEFAULT_DOOR_OPEN_TIMEOUT,
    DEFAULT_FALLBACK_ARM_MODE,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_SLOT_FIRST,
    DEFAULT_SLOT_LAST,
    DEFAULT_TOPIC_PREFIX,
    DOMAIN,
    DOOR_DEVICE_CLASSES,
    SITE_KIND_STORE,
    STORE_STATUS_WAIT,
    SUBENTRY_CARRIER,
)
from .core.errors import InvalidCredentialError
from .core.ids import is_identifier
from .core.stores import StoreStatus, is_topic_prefix, parse_status, status_topic, unique_id
from .core.tokens import (
    CARRIER_NAME_MAX_LENGTH,
    MAX_KEYS_PER_CARRIER,
    Carrier,
    CarrierKey,
    parse_public_key,
)
from .site import SiteConfig, is_store
from .store_site import async_mqtt_ready, message_payload

if TYPE_CHECKING:
    from homeassistant.components.mqtt import ReceiveMessage

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


STORE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_STORE_NAME): selector.TextSelector(),
        vol.Required(CONF_BRIDGE_SITE): selector.TextSelector(
            selector.TextSelectorConfig(autocomplete="off")
        ),
        vol.Required(CONF_TOPIC_PREFIX, default=DEFAULT_TOPIC_PREFIX): selector.TextSelector(),
    }
)
STORE_RECONFIGURE_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_STORE_NAME): selector.TextSelector(),
        vol.Required(CONF_TOPIC_PREFIX, default=DEFAULT_TOPIC_PREFIX): selector.TextSelector(),
    }
)


def _store_input(user_input: Mapping[str, Any]) -> tuple[str, str, str]:
    """A store's name, bridge site id and topic prefix as entered (trimmed)."""
    return (
        str(user_input[CONF_STORE_NAME]).strip(),
        str(user_input[CONF_BRIDGE_SITE]).strip(),
        str(user_input.get(CONF_TOPIC_PREFIX, DEFAULT_TOPIC_PREFIX)).strip(),
    )


def store_errors(name: str, site: str, prefix: str) -> dict[str, str]:
    """Check a store's name, its bridge's site id (an identifier) and the topic prefix."""
    errors: dict[str, str] = {}
    if not _usable_name(name):
        errors[CONF_STORE_NAME] = "empty_name"
    if not is_identifier(site):
        errors[CONF_BRIDGE_SITE] = "invalid_site_id"
    if not is_topic_prefix(prefix):
        errors[CONF_TOPIC_PREFIX] = "invalid_topic_prefix"
    return errors


async def async_bridge_status(
    hass: HomeAssistant, mqtt: ModuleType, prefix: str, site: str
) -> StoreStatus | None:
    """Wait up to `STORE_STATUS_WAIT` seconds for the bridge's retained status; None if none."""
    answered: asyncio.Future[StoreStatus] = hass.loop.create_future()

    @callback
    def _message(message: ReceiveMessage) -> None:
        status = parse_status(message_payload(message), site)
        if isinstance(status, StoreStatus) and not answered.done():
            answered.set_result(status)

    unsubscribe = await mqtt.async_subscribe(
        hass, status_topic(prefix, site), _message, qos=1, encoding=None
    )
    try:
        async with asyncio.timeout(STORE_STATUS_WAIT):
            return await answered
    except TimeoutError:
        return None
    finally:
        unsubscribe()


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
        if error := _entity_error(hass, str(panel)):
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
    if (pets := delivery.get(CONF_PETS_HOME)) and _entity_error(hass, str(pets)):
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
            step_id="home",
            data_schema=self.add_suggested_values_to_schema(SITE_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_store(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Add a store: its name, its bridge's site id and topic prefix; the bridge must answer."""
        if (mqtt := await async_mqtt_ready(self.hass)) is None:
            return self.async_abort(reason="mqtt_not_set_up")
        errors: dict[str, str] = {}
        topic = ""
        if user_input is not None:
            name, site, prefix = _store_input(user_input)
            errors = store_errors(name, site, prefix)
            if not errors:
                await self.async_set_unique_id(unique_id(prefix, site))
                self._abort_if_unique_id_configured()
                topic = status_topic(prefix, site)
                if await async_bridge_status(self.hass, mqtt, prefix, site) is None:
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
            data_schema=self.add_suggested_values_to_schema(
                extras_schema(self.hass), extras_suggestions(user_input or {})
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

    async def async_step_reconfigure_store(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename a store or change its bridge's topic prefix (the bridge must answer there)."""
        entry = self._get_reconfigure_entry()
        site = str(entry.data[CONF_BRIDGE_SITE])
        errors: dict[str, str] = {}
        topic = ""
        if user_input is not None:
            name, _, prefix = _store_input({**user_input, CONF_BRIDGE_SITE: site})
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
                if await async_bridge_status(self.hass, mqtt, prefix, site) is None:
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
    def async_get_options_flow(config_entry: ConfigEntry) -> ConciergeOptionsFlow:  # noqa: ARG004
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


class ConciergeOptionsFlow(OptionsFlowWithReload):
    """Change the alarm panel, notify targets and delivery timings."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show the options; an empty alarm code keeps the stored one."""
        errors: dict[str, str] = {}
        stored = self.config_entry.options
        if user_input is not None:
            errors = validate_extras(self.hass, user_input, stored)
            if not errors:
                return self.async_create_entry(data=clean_extras(user_input, stored))
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                extras_schema(self.hass), extras_suggestions(user_input or stored)
            ),
            errors=errors,
        )


# --- carriers (config subentries) -----------------------------------------------------

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)

CARRIER_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_CARRIER_NAME): selector.TextSelector(),
        vol.Required(CONF_CARRIER_ID): selector.TextSelector(
            selector.TextSelectorConfig(autocomplete="off")
        ),
        vol.Required(CONF_CARRIER_KEYS): selector.TextSelector(
            selector.TextSelectorConfig(multiline=True, autocomplete="off")
        ),
    }
)


def _pem_blocks(text: str) -> list[tuple[str, str]] | None:
    """Split pasted text into (label, block) PEM blocks; None when anything else is in it."""
    blocks = [(match.group(1), match.group(0)) for match in _PEM_BLOCK.finditer(text)]
    if _PEM_BLOCK.sub("", text).strip():
        return None
    return blocks


def _unique_keys(keys: Iterable[CarrierKey]) -> list[CarrierKey]:
    """Drop a key pasted twice (same key id), keeping the order."""
    by_kid: dict[str, CarrierKey] = {}
    for key in keys:
        by_kid.setdefault(key.kid, key)
    return list(by_kid.values())


def _parse_keys(text: str, errors: dict[str, str]) -> list[CarrierKey]:
    """Parse one or more pasted PEM public keys; put an error in `errors` if they are bad."""
    blocks = _pem_blocks(text)
    if blocks is None:
        errors[CONF_CARRIER_KEYS] = "invalid_public_key"
    elif not blocks:
        errors[CONF_CARRIER_KEYS] = "no_public_key"
    elif any("PRIVATE" in label for label, _ in blocks):
        errors[CONF_CARRIER_KEYS] = "private_key"
    elif len(blocks) > MAX_KEYS_PER_CARRIER:
        errors[CONF_CARRIER_KEYS] = "too_many_keys"
    else:
        try:
            return _unique_keys(parse_public_key(block) for _, block in blocks)
        except InvalidCredentialError:
            errors[CONF_CARRIER_KEYS] = "invalid_public_key"
    return []


def validate_carrier(
    user_input: Mapping[str, Any], taken_ids: Iterable[str]
) -> tuple[Carrier | None, dict[str, str]]:
    """Check a carrier's name, id (its JWT issuer) and public keys; build it when valid.

    The checks are those `Carrier` makes, so that each field gets its own error.
    """
    errors: dict[str, str] = {}
    name = str(user_input[CONF_CARRIER_NAME]).strip()
    carrier_id = str(user_input[CONF_CARRIER_ID]).strip()
    if not name:
        errors[CONF_CARRIER_NAME] = "empty_name"
    elif len(name) > CARRIER_NAME_MAX_LENGTH:
        errors[CONF_CARRIER_NAME] = "name_too_long"
    if not is_identifier(carrier_id):
        errors[CONF_CARRIER_ID] = "invalid_carrier_id"
    elif carrier_id in set(taken_ids):
        errors[CONF_CARRIER_ID] = "carrier_exists"
    keys = _parse_keys(str(user_input[CONF_CARRIER_KEYS]), errors)
    if errors:
        return None, errors
    return Carrier(carrier_id=carrier_id, name=name, keys=tuple(keys)), errors


def carrier_data(carrier: Carrier) -> dict[str, Any]:
    """Build the stored form of a carrier (what `Carrier.from_dict` reads back)."""
    return {
        CONF_CARRIER_ID: carrier.carrier_id,
        CONF_CARRIER_NAME: carrier.name,
        CONF_CARRIER_KEYS: [key.to_dict() for key in carrier.keys],
    }


class CarrierSubentryFlow(ConfigSubentryFlow):
    """Add or change a carrier: a delivery company whose signed tokens open the door."""

    def _taken_ids(self, ignore_subentry_id: str | None = None) -> list[str]:
        return [
            str(subentry.data.get(CONF_CARRIER_ID))
            for subentry in self._get_entry().subentries.values()
            if subentry.subentry_type == SUBENTRY_CARRIER
            and subentry.subentry_id != ignore_subentry_id
        ]

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a carrier: its name, the issuer it signs with and its public keys."""
        errors: dict[str, str] = {}
        if user_input is not None:
            carrier, errors = validate_carrier(user_input, self._taken_ids())
            if carrier is not None:
                return self.async_create_entry(
                    title=carrier.name, data=carrier_data(carrier), unique_id=carrier.carrier_id
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(CARRIER_SCHEMA, user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Rename a carrier, change its issuer or replace its keys (a key rotation)."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            carrier, errors = validate_carrier(
                user_input, self._taken_ids(ignore_subentry_id=subentry.subentry_id)
            )
            if carrier is not None:
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=carrier.name,
                    unique_id=carrier.carrier_id,
                    data=carrier_data(carrier),
                    reason="reconfigure_successful",
                )
        suggested = user_input or {
            CONF_CARRIER_NAME: subentry.data.get(CONF_CARRIER_NAME, subentry.title),
            CONF_CARRIER_ID: subentry.data.get(CONF_CARRIER_ID, ""),
            CONF_CARRIER_KEYS: "".join(
                str(key.get("public_key_pem", ""))
                for key in subentry.data.get(CONF_CARRIER_KEYS, [])
            ),
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(CARRIER_SCHEMA, suggested),
            errors=errors,
        )
