"""The access event: the versioned wire record shared by the integration and `store_bridge`.

`to_wire` produces the canonical JSON object (schema version 1, see
`schema/access-event.v1.schema.json`); `from_wire` is a strict, hand-written validator
for it that agrees with the schema. Every key is always present (absent values are
`null`, empty `data` is `{}`, no evidence is `[]`), so `to_wire(from_wire(x)) == x`
for every valid `x`. The event types, outcomes, sources and evidence kinds are the
schema's enums, generated into `vocabulary` (scripts/generate_vocabulary.py) and
re-exported here.

Privacy by design: `data` holds only small, non-personal extras (a slot number, an
attempt count, an occupancy). A key that contains a secret or personal word as a
snake_case word (`pin`, `code`, `token`, `jwt`, `pan`, `email`, `password`,
`secret`) or contains `card_number` is refused, so `user_code`, `pin_slot` and
`card_number_hash` are refused as well.
"""

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from .errors import EventValidationError
from .ids import is_identifier, is_snake_case
from .vocabulary import EVENT_VERSION as SCHEMA_VERSION
from .vocabulary import (
    AccessEventType,
    EvidenceKind,
    Outcome,
    Source,
    format_wire_time,
    new_id,
)

__all__ = [
    "DATA_KEY",
    "EVIDENCE_REF",
    "FORBIDDEN_DATA_KEY",
    "FORBIDDEN_DATA_KEYS",
    "MAX_DATA_ITEMS",
    "MAX_DATA_STRING",
    "MAX_EVIDENCE",
    "SCHEMA_VERSION",
    "SHA256_HEX",
    "WIRE_KEYS",
    "WIRE_TIME",
    "AccessEvent",
    "AccessEventType",
    "DataValue",
    "EvidenceKind",
    "EvidenceRef",
    "Outcome",
    "Source",
    "format_wire_time",
    "from_json",
    "from_wire",
    "parse_wire_time",
    "to_json",
    "to_wire",
]

WIRE_KEYS: frozenset[str] = frozenset(
    {
        "v",
        "id",
        "time",
        "site",
        "portal",
        "grant",
        "visit",
        "type",
        "outcome",
        "reason",
        "source",
        "data",
        "evidence",
    }
)
"""Every key of the wire object; all are required, none other is allowed."""

FORBIDDEN_DATA_KEYS: frozenset[str] = frozenset(
    {
        "pin",
        "code",
        "user_code",
        "token",
        "jwt",
        "card_number",
        "pan",
        "email",
        "password",
        "secret",
    }
)
"""Data keys that must never appear (each is also caught by `FORBIDDEN_DATA_KEY`)."""

FORBIDDEN_DATA_KEY = re.compile(
    r"(^|_)(pin|code|token|jwt|pan|email|password|secret)(_|$)|card_number"
)
"""A data key matching this (with `re.search`) is refused."""

DATA_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
"""Data keys are snake_case, at most 40 characters."""

WIRE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")
"""Wire times: RFC 3339, UTC (`Z`), exactly millisecond precision."""

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
EVIDENCE_REF = re.compile(r"[^\x00-\x1f\x7f]{1,1024}")
MAX_DATA_ITEMS = 32
MAX_DATA_STRING = 200
MAX_EVIDENCE = 32

type DataValue = str | int | float | bool
"""A value in an event's `data`."""


def _bad(*, problem: str) -> EventValidationError:
    return EventValidationError(
        translation_key="invalid_event", placeholders={"problem": problem}, message=problem
    )


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """A reference to captured media and the SHA-256 of its content."""

    kind: EvidenceKind
    ref: str
    sha256: str

    def __post_init__(self) -> None:
        """Check the kind, the reference and the digest."""
        kind: object = self.kind
        if not isinstance(kind, EvidenceKind):
            raise _bad(problem=f"evidence kind must be one of {_choices(EvidenceKind)}")
        ref: object = self.ref
        if not isinstance(ref, str) or EVIDENCE_REF.fullmatch(ref) is None:
            raise _bad(problem="evidence ref must be 1-1024 characters without control characters")
        digest: object = self.sha256
        if not isinstance(digest, str) or SHA256_HEX.fullmatch(digest) is None:
            raise _bad(problem="evidence sha256 must be 64 lowercase hexadecimal characters")

    def to_wire(self) -> dict[str, object]:
        """Serialise to the wire (and storage) form."""
        return {"kind": self.kind.value, "ref": self.ref, "sha256": self.sha256}

    @classmethod
    def from_wire(cls, obj: object) -> EvidenceRef:
        """Parse and validate the wire form."""
        if not isinstance(obj, dict) or set(obj) != {"kind", "ref", "sha256"}:
            raise _bad(problem="evidence items must be objects with exactly kind, ref, sha256")
        return cls(
            kind=_enum(EvidenceKind, obj["kind"], "evidence kind"),
            ref=_string(obj["ref"], "evidence ref"),
            sha256=_string(obj["sha256"], "evidence sha256"),
        )


def _choices(enum: type[StrEnum]) -> str:
    return ", ".join(m.value for m in enum)


def _truncate_to_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessEvent:
    """One access event. Construction validates everything `from_wire` checks.

    `time` is normalised to UTC and truncated to milliseconds (the wire precision),
    and `data` is frozen into a read-only mapping.
    """

    time: datetime
    site: str
    type: AccessEventType
    outcome: Outcome
    id: str = field(default_factory=new_id)
    portal: str | None = None
    grant: str | None = None
    visit: str | None = None
    reason: str | None = None
    source: Source | None = None
    data: Mapping[str, DataValue] = field(default_factory=dict)
    evidence: tuple[EvidenceRef, ...] = ()

    def __post_init__(self) -> None:
        """Validate all fields."""
        self._check_ids()
        if self.time.tzinfo is None or self.time.utcoffset() is None:
            raise _bad(problem="time must be timezone-aware")
        object.__setattr__(self, "time", _truncate_to_ms(self.time.astimezone(UTC)))
        self._check_codes()
        object.__setattr__(self, "data", MappingProxyType(_checked_data(self.data)))
        evidence: object = self.evidence
        if not isinstance(evidence, tuple) or len(evidence) > MAX_EVIDENCE:
            raise _bad(problem=f"evidence must be a tuple of at most {MAX_EVIDENCE} items")
        if not all(isinstance(e, EvidenceRef) for e in evidence):
            raise _bad(problem="evidence items must be EvidenceRef")

    def _check_ids(self) -> None:
        if not is_identifier(self.id):
            raise _bad(problem="id must be 1-64 characters of A-Z a-z 0-9 . _ : -")
        if not is_identifier(self.site):
            raise _bad(problem="site must be an id (1-64 characters of A-Z a-z 0-9 . _ : -)")
        for name in ("portal", "grant", "visit"):
            value: object = getattr(self, name)
            if value is not None and not is_identifier(value):
                raise _bad(problem=f"{name} must be null or an id")

    def _check_codes(self) -> None:
        kind: object = self.type
        if not isinstance(kind, AccessEventType):
            raise _bad(problem=f"unknown event type {kind!r}")
        outcome: object = self.outcome
        if not isinstance(outcome, Outcome):
            raise _bad(problem=f"unknown outcome {outcome!r}")
        source: object = self.source
        if source is not None and not isinstance(source, Source):
            raise _bad(problem=f"unknown source {source!r}")
        if self.reason is not None and not is_snake_case(self.reason):
            raise _bad(problem="reason must be null or a snake_case code of at most 64 characters")


def _checked_data(data: object) -> dict[str, DataValue]:
    """Validate an event's `data` and return a plain copy."""
    if not isinstance(data, Mapping):
        raise _bad(problem="data must be an object")
    if len(data) > MAX_DATA_ITEMS:
        raise _bad(problem=f"data may hold at most {MAX_DATA_ITEMS} items")
    checked: dict[str, DataValue] = {}
    for key, value in data.items():
        if not isinstance(key, str) or DATA_KEY.fullmatch(key) is None:
            raise _bad(problem=f"data key {key!r} must be snake_case, at most 40 characters")
        if FORBIDDEN_DATA_KEY.search(key):
            raise _bad(problem=f"data key {key!r} is forbidden (secret or personal data)")
        checked[key] = _checked_value(key, value)
    return checked


def _checked_value(key: str, value: object) -> DataValue:
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(problem=f"data value {key!r} must be a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_DATA_STRING:
            raise _bad(problem=f"data value {key!r} is longer than {MAX_DATA_STRING} characters")
        return value
    raise _bad(problem=f"data value {key!r} must be a string, number or boolean")


def parse_wire_time(value: object) -> datetime:
    """Parse a wire time; raise `EventValidationError` if naive or malformed."""
    if not isinstance(value, str):
        raise _bad(problem="time must be a string")
    if WIRE_TIME.fullmatch(value) is None:
        try:
            naive = datetime.fromisoformat(value).tzinfo is None
        except ValueError:
            naive = False
        if naive:
            raise _bad(problem=f"time {value!r} is naive; it must be UTC with a Z suffix")
        raise _bad(
            problem=f"time {value!r} must be RFC 3339 UTC with milliseconds, "
            "e.g. 2025-01-31T12:00:00.000Z"
        )
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise _bad(problem=f"time {value!r} is not a valid date and time") from None


def to_wire(event: AccessEvent) -> dict[str, object]:
    """Serialise an event to its canonical wire object (JSON-compatible)."""
    return {
        "v": SCHEMA_VERSION,
        "id": event.id,
        "time": format_wire_time(event.time),
        "site": event.site,
        "portal": event.portal,
        "grant": event.grant,
        "visit": event.visit,
        "type": event.type.value,
        "outcome": event.outcome.value,
        "reason": event.reason,
        "source": None if event.source is None else event.source.value,
        "data": dict(event.data),
        "evidence": [e.to_wire() for e in event.evidence],
    }


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise _bad(problem=f"{name} must be a string")
    return value


def _opt_string(value: object, name: str) -> str | None:
    return None if value is None else _string(value, f"{name} (or null)")


def _enum[E: StrEnum](enum: type[E], value: object, name: str) -> E:
    try:
        return enum(_string(value, name))
    except ValueError:
        raise _bad(problem=f"unknown {name} {value!r}; expected one of {_choices(enum)}") from None


def from_wire(obj: object) -> AccessEvent:
    """Parse and strictly validate a wire object (as decoded from JSON).

    Raises `EventValidationError` with a message naming the problem: not an object,
    unknown or missing keys, wrong version, wrong types, bad ids, a naive or malformed
    time, unknown type/outcome/source, forbidden or malformed data, bad evidence.
    """
    if not isinstance(obj, dict):
        raise _bad(problem="an access event must be a JSON object")
    keys = set(obj)
    if unknown := keys - WIRE_KEYS:
        raise _bad(problem=f"unknown key(s): {', '.join(sorted(map(str, unknown)))}")
    if missing := WIRE_KEYS - keys:
        raise _bad(problem=f"missing key(s): {', '.join(sorted(missing))}")
    version = obj["v"]
    if isinstance(version, bool) or not isinstance(version, int | float) or version != 1:
        raise _bad(problem=f"unsupported version {version!r}; expected {SCHEMA_VERSION}")
    source = obj["source"]
    evidence = obj["evidence"]
    if not isinstance(evidence, list):
        raise _bad(problem="evidence must be an array")
    return AccessEvent(
        id=_string(obj["id"], "id"),
        time=parse_wire_time(obj["time"]),
        site=_string(obj["site"], "site"),
        portal=_opt_string(obj["portal"], "portal"),
        grant=_opt_string(obj["grant"], "grant"),
        visit=_opt_string(obj["visit"], "visit"),
        type=_enum(AccessEventType, obj["type"], "event type"),
        outcome=_enum(Outcome, obj["outcome"], "outcome"),
        reason=_opt_string(obj["reason"], "reason"),
        source=None if source is None else _enum(Source, source, "source"),
        data=_checked_data(obj["data"]),
        evidence=tuple(EvidenceRef.from_wire(e) for e in evidence),
    )


def to_json(event: AccessEvent) -> str:
    """Serialise an event to a compact JSON text."""
    return json.dumps(to_wire(event), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def from_json(text: str | bytes) -> AccessEvent:
    """Parse a JSON text and validate it with `from_wire`."""
    try:
        obj: object = json.loads(text)
    except ValueError:
        raise _bad(problem="not valid JSON") from None
    return from_wire(obj)
