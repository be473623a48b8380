"""Access events as the store bridge emits them: the shared wire record, schema version 1.

The bridge does not import Home Assistant or the integration: it builds the wire object
itself and checks every event against the very schema file the integration is tested
against (`schema/access-event.v1.schema.json`, shipped inside this package as
`store_bridge/schema/`). An event that does not validate is a bug and is never published.
The event types, outcomes and sources are the schema's, generated into `vocabulary` (as
is the package's copy of the schema: scripts/generate_vocabulary.py).
"""

import copy
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker

from .vocabulary import EVENT_VERSION, EventType, Outcome, Source, format_wire_time, new_id

SCHEMA_FILE = "access-event.v1.schema.json"

type Wire = dict[str, Any]
"""An access event as a JSON object."""


class InvalidEventError(ValueError):
    """An event that does not match the shared schema (a programming error)."""


@cache
def schema() -> dict[str, Any]:
    """The shared access-event schema, as shipped in this package."""
    text = resources.files("store_bridge").joinpath("schema", SCHEMA_FILE).read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(schema(), format_checker=FormatChecker())


@cache
def _fast() -> Callable[[object], object]:
    """The same schema compiled to Python code (fastjsonschema): about 20x quicker.

    fastjsonschema knows drafts up to 7. Every keyword this schema uses (type, const, enum,
    pattern, format, $ref, additionalProperties, propertyNames, not, maxProperties, items,
    maxItems) means the same in draft 7 and 2020-12, so it is compiled as draft 7;
    `tests/store_bridge/test_contract.py` holds both validators to the same verdicts.
    """
    draft7 = {**copy.deepcopy(schema()), "$schema": "http://json-schema.org/draft-07/schema#"}
    compiled: Callable[[object], object] = fastjsonschema.compile(draft7)
    return compiled


def validate(obj: object) -> None:
    """Raise `InvalidEventError` naming the first problem if `obj` is not a valid event."""
    try:
        _fast()(obj)
    except fastjsonschema.JsonSchemaException:
        pass
    else:
        return
    # Invalid: let the reference validator name the problem precisely.
    error = next(iter(_validator().iter_errors(obj)), None)
    where = "(event)" if error is None else "/".join(map(str, error.absolute_path)) or "(event)"
    msg = f"{where}: {'does not match the schema' if error is None else error.message}"
    raise InvalidEventError(msg)


def make_event(  # noqa: PLR0913 - the record has this many fields
    *,
    site: str,
    type: EventType,  # noqa: A002 - the wire key
    outcome: Outcome,
    when: datetime,
    portal: str | None = None,
    visit: str | None = None,
    reason: str | None = None,
    source: Source | None = Source.SYSTEM,
    data: Mapping[str, str | int | float | bool] | None = None,
    event_id: str | None = None,
) -> Wire:
    """Build one access event and check it against the schema."""
    event: Wire = {
        "v": EVENT_VERSION,
        "id": event_id or new_id(),
        "time": format_wire_time(when),
        "site": site,
        "portal": portal,
        "grant": None,
        "visit": visit,
        "type": type.value,
        "outcome": outcome.value,
        "reason": reason,
        "source": None if source is None else source.value,
        "data": dict(data or {}),
        "evidence": [],
    }
    validate(event)
    return event


def to_json(event: Wire) -> str:
    """The compact JSON text of an event (as published)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
