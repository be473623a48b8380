"""Home Assistant's translated errors for what a service call or flow got wrong."""

from homeassistant.exceptions import ServiceValidationError

from .const import DOMAIN
from .core.errors import ConciergeError


def validation_error(err: ConciergeError) -> ServiceValidationError:
    """Turn a core error into Home Assistant's translated validation error."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=err.translation_key,
        translation_placeholders=dict(err.placeholders),
    )


def not_valid(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated validation error with the key `key`."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders
    )
