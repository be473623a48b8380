"""Forms that open filled in: what is stored shows, inside sections too.

Home Assistant's frontend starts a section from the section's own suggested value, else
its default, and never looks at the suggestions of the fields inside it. A section with
`default={}` therefore opens with every field empty although values are stored, and its
required fields block Submit ("Not all required fields are filled in"). `prefilled`
suggests, besides each field's value, each section's whole starting value: a field's
stored (or entered) value, else its default.
"""

import copy
from collections.abc import Mapping
from typing import Any

import probatio as vol
from homeassistant.data_entry_flow import FlowHandler, section


def section_start(schema: vol.Schema, values: Mapping[str, Any]) -> dict[str, Any]:
    """The values a section's fields start with: each given one, else the field's default."""
    start: dict[str, Any] = {}
    for key in schema.schema:
        name = str(key)
        if values.get(name) not in (None, ""):
            start[name] = values[name]
        elif isinstance(key, vol.Required | vol.Optional) and callable(key.default):
            start[name] = key.default()  # a marker without a default holds UNDEFINED
    return start


def prefilled(
    flow: FlowHandler[Any, Any, Any], schema: vol.Schema, values: Mapping[str, Any]
) -> vol.Schema:
    """`schema` with `values` suggested, a section's values given to the section itself."""
    filled = flow.add_suggested_values_to_schema(schema, values)
    fields: dict[Any, Any] = {}
    for key, validator in filled.schema.items():
        if isinstance(validator, section) and isinstance(key, vol.Marker):
            inner = values.get(str(key))
            key = copy.copy(key)  # noqa: PLW2901 - the flow's schema keeps its own marker
            key.description = {
                "suggested_value": section_start(
                    validator.schema, inner if isinstance(inner, Mapping) else {}
                )
            }
        fields[key] = validator
    return vol.Schema(fields)
