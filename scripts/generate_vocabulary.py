#!/usr/bin/env python3
"""Generate the wire vocabulary Concierge and store_bridge share, from schema/.

The integration and the store bridge cannot import each other (HACS installs only
custom_components/concierge; store_bridge is a package of its own), so each gets its own
copy of what they say to each other, written by this script from one source:

- schema/access-event.v1.schema.json: the event version, types, outcomes, sources and
  evidence kinds (its enums);
- schema/store-status.v1.schema.json: the retained status's version;
- schema/store-topics.json: the MQTT topics, the default prefix, and which event types and
  sources a store emits (JSON Schema cannot say these).

It writes custom_components/concierge/core/vocabulary.py, store_bridge/vocabulary.py and
the copy of the event schema store_bridge ships and validates with
(store_bridge/schema/access-event.v1.schema.json). The output depends on those files only.

    scripts/generate_vocabulary.py            # (re)write the generated files
    scripts/generate_vocabulary.py --check    # exit 1 if one differs from a fresh generation

Exit status: 0 done (or up to date), 1 a generated file is stale or missing (--check),
2 the schema files say something this script cannot generate from.
"""

import argparse
import difflib
import json
import keyword
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENT_SCHEMA = "schema/access-event.v1.schema.json"
STATUS_SCHEMA = "schema/store-status.v1.schema.json"
TOPICS = "schema/store-topics.json"
INTEGRATION_MODULE = "custom_components/concierge/core/vocabulary.py"
BRIDGE_MODULE = "store_bridge/vocabulary.py"
BRIDGE_EVENT_SCHEMA = "store_bridge/schema/access-event.v1.schema.json"
SOURCES = (EVENT_SCHEMA, STATUS_SCHEMA, TOPICS)

LINE = 100
CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")
ADDRESS = re.compile(r"\{prefix\}/\{site\}(/[a-z][a-z0-9_]*)+")
# What ruff's S105 (hardcoded password) takes for a password's name.
PASSWORD_NAME = re.compile(
    r"(^|_)(pas+wo?r?d|pass(phrase)?|pwd|token|secrete?)($|_)", re.IGNORECASE
)
MAX_DIFF_LINES = 40


class VocabularyError(Exception):
    """The schema files cannot be generated from; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Enum:
    """A string enum: its class name, docstring and values (in the schema's order)."""

    name: str
    doc: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    """One MQTT topic of a store bridge."""

    name: str
    address: str
    payload: str
    qos: int
    retain: bool
    description: str


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Everything the generated modules say, read and checked from schema/."""

    event_version: int
    status_version: int
    event_types: Enum
    outcomes: Enum
    sources: Enum
    evidence_kinds: Enum
    store_event_types: tuple[str, ...]
    store_sources: tuple[str, ...]
    default_prefix: str
    topics: tuple[Topic, ...]


# --- reading schema/ ------------------------------------------------------------------


def _load(root: Path, name: str) -> dict[str, Any]:
    try:
        loaded: object = json.loads((root / name).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        msg = f"{name}: cannot be read as JSON ({err})"
        raise VocabularyError(msg) from None
    if not isinstance(loaded, dict):
        msg = f"{name}: must be a JSON object"
        raise VocabularyError(msg)
    return loaded


def _get(obj: object, path: str, where: str) -> object:
    """`obj` at a `/`-separated path, or a `VocabularyError` naming the missing key."""
    value = obj
    for key in path.split("/"):
        if not isinstance(value, dict) or key not in value:
            msg = f"{where}: {path} is missing"
            raise VocabularyError(msg)
        value = value[key]
    return value


def _text(obj: object, path: str, where: str) -> str:
    """A line of text that can go into a docstring or a string literal as it is."""
    value = _get(obj, path, where)
    if (
        not isinstance(value, str)
        or not value.strip()
        or not value.isprintable()
        or "\\" in value
        or '"""' in value
    ):
        msg = f"{where}: {path} must be a line of text (no backslash, no triple quotes)"
        raise VocabularyError(msg)
    return value


def _version(schema: object, where: str) -> int:
    value = _get(schema, "properties/v/const", where)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"{where}: properties/v/const must be a version number"
        raise VocabularyError(msg)
    return value


def _codes(value: object, path: str, where: str, *, nullable: bool = False) -> tuple[str, ...]:
    """A list of distinct snake_case codes (and, if `nullable`, a trailing null)."""
    if not isinstance(value, list) or not value:
        msg = f"{where}: {path} must be a non-empty list"
        raise VocabularyError(msg)
    items: list[object] = list(value)
    if nullable:
        if items[-1] is not None:
            msg = f"{where}: {path} must end with null"
            raise VocabularyError(msg)
        items.pop()
    codes: list[str] = []
    for item in items:
        if not isinstance(item, str) or CODE.fullmatch(item) is None or keyword.iskeyword(item):
            msg = f"{where}: {path}: {item!r} is not a snake_case code"
            raise VocabularyError(msg)
        if item in codes:
            msg = f"{where}: {path}: {item!r} is listed twice"
            raise VocabularyError(msg)
        codes.append(item)
    return tuple(codes)


def _enum(schema: object, name: str, path: str, *, nullable: bool = False) -> Enum:
    values = _get(schema, f"{path}/enum", EVENT_SCHEMA)
    return Enum(
        name=name,
        doc=_text(schema, f"{path}/description", EVENT_SCHEMA),
        values=_codes(values, path, EVENT_SCHEMA, nullable=nullable),
    )


def _subset(topics: object, key: str, of: Enum) -> tuple[str, ...]:
    path = f"store_events/{key}"
    codes = _codes(_get(topics, path, TOPICS), path, TOPICS)
    if unknown := [code for code in codes if code not in of.values]:
        msg = f"{TOPICS}: {path}: {', '.join(unknown)} not in {EVENT_SCHEMA}"
        raise VocabularyError(msg)
    return codes


def _topic(root: Path, name: str, spec: object) -> Topic:
    where = f"{TOPICS}: topics/{name}"
    if CODE.fullmatch(name) is None or not isinstance(spec, dict):
        msg = f"{where}: a topic is a snake_case name and an object"
        raise VocabularyError(msg)
    address = _text(spec, "address", where)
    if ADDRESS.fullmatch(address) is None:
        msg = f"{where}: address must be {{prefix}}/{{site}}/ and snake_case levels"
        raise VocabularyError(msg)
    payload = _text(spec, "payload", where)
    if "/" in payload or not (root / "schema" / payload).is_file():
        msg = f"{where}: payload must name a schema file in schema/"
        raise VocabularyError(msg)
    qos, retain = spec.get("qos"), spec.get("retain")
    if type(qos) is not int or qos not in {0, 1, 2} or not isinstance(retain, bool):
        msg = f"{where}: qos must be 0, 1 or 2 and retain true or false"
        raise VocabularyError(msg)
    return Topic(name, address, payload, qos, retain, _text(spec, "description", where))


def read(root: Path) -> Vocabulary:
    """Read and check the vocabulary from `root`/schema."""
    event, status, topics = (_load(root, name) for name in SOURCES)
    event_types = _enum(event, "AccessEventType", "properties/type")
    sources = _enum(event, "Source", "properties/source", nullable=True)
    specs = _get(topics, "topics", TOPICS)
    if not isinstance(specs, dict) or not specs:
        msg = f"{TOPICS}: topics must be a non-empty object"
        raise VocabularyError(msg)
    prefix = _text(topics, "default_prefix", TOPICS)
    if ADDRESS.fullmatch(f"{{prefix}}/{{site}}/{prefix}") is None:
        msg = f"{TOPICS}: default_prefix must be snake_case topic levels"
        raise VocabularyError(msg)
    return Vocabulary(
        event_version=_version(event, EVENT_SCHEMA),
        status_version=_version(status, STATUS_SCHEMA),
        event_types=event_types,
        outcomes=_enum(event, "Outcome", "properties/outcome"),
        sources=sources,
        evidence_kinds=_enum(event, "EvidenceKind", "$defs/evidence/properties/kind"),
        store_event_types=_subset(topics, "type", event_types),
        store_sources=_subset(topics, "source", sources),
        default_prefix=prefix,
        topics=tuple(_topic(root, name, spec) for name, spec in specs.items()),
    )


# --- writing Python -------------------------------------------------------------------


def _docstring(text: str, indent: str = "") -> str:
    """A docstring: the first sentence as its summary line, the rest wrapped below it."""
    summary, _, rest = text.partition(". ")
    summary = summary if summary.endswith(".") else f"{summary}."
    if len(indent) + len(summary) + 6 > LINE:
        msg = f"the summary {summary!r} is too long for one line"
        raise VocabularyError(msg)
    if not rest:
        return f'{indent}"""{summary}"""\n'
    body = textwrap.fill(
        rest,
        LINE - len(indent),
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return f'{indent}"""{summary}\n\n{body}\n{indent}"""\n'


def _enum_class(enum: Enum, name: str | None = None, doc: str | None = None) -> str:
    lines = [f"class {name or enum.name}(StrEnum):\n", _docstring(doc or enum.doc, "    "), "\n"]
    for value in enum.values:
        member = value.upper()
        noqa = "  # noqa: S105 - a name, not a password" if PASSWORD_NAME.search(member) else ""
        line = f'    {member} = "{value}"{noqa}'
        if len(line) > LINE:
            msg = f"{enum.name}: {value!r} is too long for one line of code"
            raise VocabularyError(msg)
        lines.append(f"{line}\n")
    return "".join(lines)


def _subset_enum(enum: Enum, values: tuple[str, ...]) -> Enum:
    return Enum(enum.name, enum.doc, values)


def _topic_function(topic: Topic) -> str:
    shown = topic.address.replace("{", "<").replace("}", ">")
    kept = "retained" if topic.retain else "not retained"
    summary = f"The {topic.name} topic, `{shown}` (QoS {topic.qos}, {kept})."
    return (
        f"def {topic.name}_topic(prefix: str, site: str) -> str:\n"
        f"{_docstring(f'{summary} Payload: schema/{topic.payload}. {topic.description}', '    ')}"
        f'    return f"{topic.address}"\n'
    )


MODULE = '''\
"""{summary}

Generated by scripts/generate_vocabulary.py from schema/access-event.v1.schema.json,
schema/store-status.v1.schema.json and schema/store-topics.json; do not edit. Change schema/
and run `scripts/generate_vocabulary.py`: `scripts/test` (CI) runs it with `--check` and fails
when this file differs from a fresh generation. The same files generate
{other}.
"""

from datetime import UTC, datetime
from enum import StrEnum
from secrets import token_hex
from typing import Final

EVENT_VERSION: Final = {event_version}
"""The access event's version, sent as `"v"` (schema/access-event.v1.schema.json)."""

STATUS_VERSION: Final = {status_version}
"""The store status's version, sent as `"v"` (schema/store-status.v1.schema.json)."""

DEFAULT_TOPIC_PREFIX: Final = "{default_prefix}"
"""The store bridge's default topic prefix (schema/store-topics.json)."""
{body}

def format_wire_time(value: datetime) -> str:
    """Format an aware datetime as a wire time (`YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC)."""
    t = value.astimezone(UTC)
    return (
        f"{{t.year:04d}}-{{t.month:02d}}-{{t.day:02d}}T{{t.hour:02d}}:{{t.minute:02d}}:{{t.second:02d}}"
        f".{{t.microsecond // 1000:03d}}Z"
    )


def new_id() -> str:
    """Return a fresh random id (event, visit, grant...): 32 lowercase hex characters."""
    return token_hex(16)
'''

STORE_EVENT_TYPES = '''\
STORE_EVENT_TYPES: Final[tuple[AccessEventType, ...]] = (
{members})
"""The event types a store bridge emits (a store gate's event entity offers these)."""
'''


def _module(summary: str, other: str, body: list[str], vocabulary: Vocabulary) -> str:
    parts = [*body, *(_topic_function(topic) for topic in vocabulary.topics)]
    return MODULE.format(
        summary=summary,
        other=other,
        event_version=vocabulary.event_version,
        status_version=vocabulary.status_version,
        default_prefix=vocabulary.default_prefix,
        body="".join(f"\n\n{part}" for part in parts),
    )


def integration_module(vocabulary: Vocabulary) -> str:
    """custom_components/concierge/core/vocabulary.py: the whole event vocabulary."""
    members = "".join(
        f"    AccessEventType.{value.upper()},\n" for value in vocabulary.store_event_types
    )
    return _module(
        "The wire vocabulary shared with store_bridge: event types, sources, topics, versions.",
        BRIDGE_MODULE,
        [
            _enum_class(vocabulary.event_types),
            _enum_class(vocabulary.outcomes),
            _enum_class(vocabulary.sources),
            _enum_class(vocabulary.evidence_kinds),
            STORE_EVENT_TYPES.format(members=members),
        ],
        vocabulary,
    )


def bridge_module(vocabulary: Vocabulary) -> str:
    """store_bridge/vocabulary.py: what a store says (its event types and sources)."""
    return _module(
        "The wire vocabulary shared with Concierge: event types, sources, topics, versions.",
        INTEGRATION_MODULE,
        [
            _enum_class(
                _subset_enum(vocabulary.event_types, vocabulary.store_event_types),
                "EventType",
                "The access-event types a store emits (a subset of the shared model's).",
            ),
            _enum_class(vocabulary.outcomes),
            _enum_class(
                _subset_enum(vocabulary.sources, vocabulary.store_sources),
                "Source",
                "What caused it: the access-event sources a store emits.",
            ),
        ],
        vocabulary,
    )


def generate(root: Path) -> dict[str, bytes]:
    """Every generated file under `root`, by its path relative to `root`."""
    vocabulary = read(root)
    return {
        INTEGRATION_MODULE: integration_module(vocabulary).encode(),
        BRIDGE_MODULE: bridge_module(vocabulary).encode(),
        BRIDGE_EVENT_SCHEMA: (root / EVENT_SCHEMA).read_bytes(),
    }


# --- the command ----------------------------------------------------------------------


def _diff(path: str, old: bytes, new: bytes) -> str:
    lines = list(
        difflib.unified_diff(
            old.decode(errors="replace").splitlines(keepends=True),
            new.decode(errors="replace").splitlines(keepends=True),
            f"{path} (checked in)",
            f"{path} (fresh generation)",
        )
    )
    shown = "".join(lines[:MAX_DIFF_LINES])
    if len(lines) > MAX_DIFF_LINES:
        shown += f"... ({len(lines) - MAX_DIFF_LINES} more diff lines)\n"
    return shown


def check(root: Path, files: dict[str, bytes]) -> list[str]:
    """A message for each generated file that is missing or differs from `files`."""
    problems: list[str] = []
    for path, content in files.items():
        target = root / path
        if not target.is_file():
            problems.append(f"{path} is missing\n")
        elif (current := target.read_bytes()) != content:
            diff = _diff(path, current, content)
            problems.append(f"{path} differs from a fresh generation:\n{diff}")
    return problems


def write(root: Path, files: dict[str, bytes]) -> list[str]:
    """Write the files that changed; return their paths."""
    written: list[str] = []
    for path, content in files.items():
        target = root / path
        if not target.is_file() or target.read_bytes() != content:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Generate (or with --check, verify) the vocabulary files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a file is out of date"
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository (default: this)")
    args = parser.parse_args(argv)
    root: Path = args.root
    try:
        files = generate(root)
    except VocabularyError as err:
        print(f"generate_vocabulary: {err}", file=sys.stderr)
        return 2
    if args.check:
        if problems := check(root, files):
            print(
                "generate_vocabulary --check: the generated vocabulary is out of date with "
                "schema/.\n",
                *problems,
                "\nRun scripts/generate_vocabulary.py and commit the result "
                "(never edit the generated files by hand).",
                sep="",
                file=sys.stderr,
            )
            return 1
        print(f"generate_vocabulary: {len(files)} generated files are up to date")
        return 0
    written = write(root, files)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print(f"generate_vocabulary: {len(files)} generated files are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
