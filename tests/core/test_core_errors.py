"""Tests for the core error hierarchy and its translation keys."""

import re
from pathlib import Path

import pytest

from custom_components.concierge.core import errors
from custom_components.concierge.core.errors import (
    TRANSLATION_KEYS,
    ConciergeError,
    EventValidationError,
    InvalidGrantError,
    InvalidWindowError,
    StoredDataError,
    TransitionError,
    VisitTransitionError,
)

CORE = Path(errors.__file__).parent


def test_error_carries_key_and_placeholders() -> None:
    err = TransitionError(
        translation_key="transition_not_allowed",
        placeholders={"action": "resume", "state": "active"},
    )
    assert err.translation_key == "transition_not_allowed"
    assert err.placeholders == {"action": "resume", "state": "active"}
    assert str(err) == "transition_not_allowed (action=resume, state=active)"
    assert isinstance(err, ConciergeError)


def test_error_message_defaults() -> None:
    assert str(InvalidWindowError(translation_key="no_windows")) == "no_windows"
    err = EventValidationError(translation_key="invalid_event", message="bad id")
    assert str(err) == "bad id"
    assert err.placeholders == {}


def test_unknown_translation_key_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown translation key"):
        ConciergeError(translation_key="does_not_exist")


@pytest.mark.parametrize(
    "cls",
    [
        InvalidWindowError,
        InvalidGrantError,
        TransitionError,
        VisitTransitionError,
        EventValidationError,
        StoredDataError,
    ],
)
def test_subclasses(cls: type[ConciergeError]) -> None:
    assert issubclass(cls, ConciergeError)


def test_translation_keys_are_snake_case() -> None:
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", key) for key in TRANSLATION_KEYS)


def test_every_key_used_in_core_is_listed_and_every_listed_key_is_used() -> None:
    used: set[str] = set()
    for path in CORE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        used.update(re.findall(r'(?:translation_key|key)="([a-z_]+)"', text))
    assert used == set(TRANSLATION_KEYS)
