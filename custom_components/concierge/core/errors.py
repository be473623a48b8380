"""Errors raised by the functional core.

Every error carries a `translation_key` and string `placeholders`, so the Home
Assistant shell can re-raise it as a translated `ServiceValidationError` or
`HomeAssistantError` without parsing messages. Placeholders never contain secrets
(no PIN, no token).
"""

from collections.abc import Mapping

TRANSLATION_KEYS: frozenset[str] = frozenset(
    {
        # windows
        "naive_datetime",
        "window_end_before_start",
        "window_too_long",
        "invalid_weekdays",
        "invalid_time",
        "no_windows",
        "invalid_validity",
        "invalid_skipped",
        "description_too_long",
        "window_outside_validity",
        # grants
        "invalid_grant_id",
        "empty_label",
        "label_too_long",
        "no_portals",
        "invalid_portal",
        "duplicate_portal",
        "invalid_max_uses",
        "invalid_max_visit_minutes",
        "invalid_uses",
        "invalid_pin",
        "invalid_changes",
        "transition_not_allowed",
        # events
        "invalid_event",
        # visits
        "invalid_visit",
        "visit_transition_not_allowed",
        "visit_closed",
        "event_visit_mismatch",
        # lock slots
        "invalid_slot_range",
        # storage
        "stored_data_invalid",
        # tokens: carriers, their keys, guest links
        "invalid_public_key",
        "weak_public_key",
        "invalid_key_id",
        "invalid_carrier",
        "invalid_guest_link",
    }
)
"""Every translation key the core can raise; the shell's translations must cover them."""


class ConciergeError(Exception):
    """Base class of every error the core raises."""

    translation_key: str
    placeholders: dict[str, str]

    def __init__(
        self,
        translation_key: str,
        placeholders: Mapping[str, str] | None = None,
        message: str | None = None,
    ) -> None:
        """Create the error from a translation key, its placeholders and an optional message."""
        if translation_key not in TRANSLATION_KEYS:
            msg = f"unknown translation key {translation_key!r}"
            raise ValueError(msg)
        self.translation_key = translation_key
        self.placeholders = dict(placeholders or {})
        if message is None:
            details = ", ".join(f"{k}={v}" for k, v in sorted(self.placeholders.items()))
            message = f"{translation_key} ({details})" if details else translation_key
        super().__init__(message)


class InvalidWindowError(ConciergeError):
    """An access window or schedule is invalid."""


class InvalidGrantError(ConciergeError):
    """A grant, its credentials or an update to it is invalid."""


class TransitionError(ConciergeError):
    """A grant action is not allowed in the grant's current state."""


class VisitTransitionError(ConciergeError):
    """A visit is invalid, or a visit change is not allowed in its current state."""


class EventValidationError(ConciergeError):
    """An access event (object or wire record) is invalid."""


class InvalidCredentialError(ConciergeError):
    """A carrier, a carrier's public key or a guest link is invalid."""


class StoredDataError(ConciergeError):
    """Stored data (JSON from storage) does not have the expected shape."""
