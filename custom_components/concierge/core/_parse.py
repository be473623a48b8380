"""Strict readers for stored JSON data (private helpers for the `from_dict` functions)."""

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum

from .errors import StoredDataError


def fail(what: str, field: str) -> StoredDataError:
    """Build the error for a missing or malformed stored field."""
    return StoredDataError(
        translation_key="stored_data_invalid",
        placeholders={"what": what, "field": field},
    )


def as_mapping(value: object, what: str) -> Mapping[str, object]:
    """Return `value` as a string-keyed mapping, or raise."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise fail(what, "<root>")
    return value


def get_str(data: Mapping[str, object], key: str, what: str) -> str:
    """Read a required string."""
    value = data.get(key)
    if not isinstance(value, str):
        raise fail(what, key)
    return value


def get_opt_str(data: Mapping[str, object], key: str, what: str) -> str | None:
    """Read an optional (nullable) string."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise fail(what, key)
    return value


def get_int(data: Mapping[str, object], key: str, what: str) -> int:
    """Read a required integer (booleans are not integers here)."""
    value = data.get(key)
    if type(value) is not int:
        raise fail(what, key)
    return value


def get_opt_int(data: Mapping[str, object], key: str, what: str) -> int | None:
    """Read an optional (nullable) integer."""
    if data.get(key) is None:
        return None
    return get_int(data, key, what)


def get_bool(data: Mapping[str, object], key: str, what: str) -> bool:
    """Read a required boolean."""
    value = data.get(key)
    if not isinstance(value, bool):
        raise fail(what, key)
    return value


def get_list(data: Mapping[str, object], key: str, what: str) -> list[object]:
    """Read a required list."""
    value = data.get(key)
    if not isinstance(value, list):
        raise fail(what, key)
    return value


def parse_datetime(value: object, what: str, field: str) -> datetime:
    """Parse an ISO 8601 string into an aware UTC datetime."""
    if not isinstance(value, str):
        raise fail(what, field)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise fail(what, field) from None
    if parsed.tzinfo is None:
        raise fail(what, field)
    return parsed.astimezone(UTC)


def get_datetime(data: Mapping[str, object], key: str, what: str) -> datetime:
    """Read a required aware ISO 8601 datetime."""
    return parse_datetime(data.get(key), what, key)


def get_opt_datetime(data: Mapping[str, object], key: str, what: str) -> datetime | None:
    """Read an optional (nullable) aware ISO 8601 datetime."""
    value = data.get(key)
    if value is None:
        return None
    return parse_datetime(value, what, key)


def get_enum[E: StrEnum](data: Mapping[str, object], key: str, enum: type[E], what: str) -> E:
    """Read a required member of a string enum by its value."""
    value = get_str(data, key, what)
    try:
        return enum(value)
    except ValueError:
        raise fail(what, key) from None
