"""The rules for the JSON Schemas embedded in a definition, and for the dates its timers read.

Embedded schemas are ``data_schema`` and each transition's ``payload_schema`` and ``when``.
Each must be a valid Draft 2020-12 schema and also:

- **self-contained**: every ``$ref`` / ``$dynamicRef`` is local (``#/$defs/...``, ``#anchor``),
  and no ``$id`` moves the base URI; nothing is ever fetched (``engine/definition/schemas.py``).
- **patterns RE2 can run**: every ``pattern`` and ``patternProperties`` key compiles on RE2, so
  matching is linear in the text (no backreferences, no lookaround). ``unevaluatedProperties``
  is not allowed beside ``patternProperties`` (jsonschema would match those keys by backtracking).

Dates: a timer or deadline whose ``at`` is ``{data: field}`` needs that field declared in
``data_schema.properties`` with ``format: date`` or ``format: date-time``, so a value like
``2026/12/31`` is refused at input (422 with its JSON path) instead of failing when the timer
is armed; a literal ``at`` must be a real date or datetime (no ``2025-02-30``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from engine.definition.loader import Document, Path
from engine.definition.schemas import pattern_error
from engine.definition.wording import worded
from engine.errors import Problem

__all__ = ["date_problems", "embedded_schemas", "schema_problems", "subschemas", "valid_schema"]

_ONE = ("additionalProperties", "items", "contains", "propertyNames", "if", "then", "else")
_ONE_MORE = ("not", "unevaluatedItems", "unevaluatedProperties", "additionalItems")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
DATE_FORMATS = ("date", "date-time")
# Every error of an embedded schema against the draft 2020-12 meta-schema, not only the first.
_META_SCHEMA = Draft202012Validator(Draft202012Validator.META_SCHEMA)


def embedded_schemas(v: Mapping[str, Any]) -> list[tuple[Path, Any]]:
    """Every schema embedded in the definition ``v``, with its path."""
    found: list[tuple[Path, Any]] = []
    if "data_schema" in v:
        found.append((("data_schema",), v["data_schema"]))
    for i, t in enumerate(v.get("transitions", [])):
        for key in ("payload_schema", "when"):
            if key in t:
                found.append((("transitions", i, key), t[key]))
    return found


def valid_schema(schema: Any) -> bool:
    """Whether ``schema`` is valid against the draft 2020-12 meta-schema (each distinct schema
    is checked once: a definition repeats its schemas through anchors, and validate asks twice)."""
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        return bool(_META_SCHEMA.is_valid(schema))
    return _valid_text(key)


@lru_cache(maxsize=4096)
def _valid_text(text: str) -> bool:
    return bool(_META_SCHEMA.is_valid(json.loads(text)))


def subschemas(schema: Any, path: Path) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    """``schema`` and every schema inside it (not the values of enum, const, default ...)."""
    if not isinstance(schema, Mapping):
        return
    yield path, schema
    for key in (*_ONE, *_ONE_MORE):
        if key in schema:
            yield from subschemas(schema[key], (*path, key))
    for key in _MANY:
        if isinstance(schema.get(key), list):
            for i, sub in enumerate(schema[key]):
                yield from subschemas(sub, (*path, key, i))
    for key in _NAMED:
        if isinstance(schema.get(key), Mapping):
            for name, sub in schema[key].items():
                yield from subschemas(sub, (*path, key, name))


def schema_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    """Every embedded schema is valid, self-contained, and has only patterns RE2 can run."""
    for path, schema in embedded_schemas(v):
        invalid = [] if valid_schema(schema) else list(_META_SCHEMA.iter_errors(schema))
        for error in invalid:
            where = (*path, *error.absolute_path)
            yield doc.problem(where, f"invalid JSON Schema: {worded(error, root='the schema')}")
        if invalid:
            continue
        parts = list(subschemas(schema, path))
        for at, sub in parts:
            yield from _refs(doc, at, sub)
            yield from _patterns(doc, at, sub)
        keywords = {key for _, sub in parts for key in sub}
        if {"unevaluatedProperties", "patternProperties"} <= keywords:
            yield doc.problem(
                path, "unevaluatedProperties cannot be used with patternProperties in one schema"
            )


def _refs(doc: Document, at: Path, schema: Mapping[str, Any]) -> Iterator[Problem]:
    for key in ("$ref", "$dynamicRef"):
        ref = schema.get(key)
        if key in schema and not (isinstance(ref, str) and ref.startswith("#")):
            yield doc.problem(
                (*at, key),
                f"{key} {ref!r} is not local: a definition's schemas are self-contained "
                "(write '#/$defs/name'; nothing is fetched)",
            )
    if "$id" in schema:
        yield doc.problem(
            (*at, "$id"), "$id is not allowed: a definition's schemas are self-contained"
        )


def _patterns(doc: Document, at: Path, schema: Mapping[str, Any]) -> Iterator[Problem]:
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        yield from _pattern(doc, (*at, "pattern"), pattern, at_key=False)
    named = schema.get("patternProperties")
    if isinstance(named, Mapping):
        for key in named:
            yield from _pattern(doc, (*at, "patternProperties", key), key, at_key=True)


def _pattern(doc: Document, path: Path, pattern: str, at_key: bool) -> Iterator[Problem]:
    reason = pattern_error(pattern)
    if reason is not None:
        yield doc.problem(
            path,
            f"pattern {pattern!r} cannot be used: {reason} (patterns run on RE2, in linear "
            "time: no backreferences, no lookahead or lookbehind)",
            at_key=at_key,
        )


def date_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    """The ``at`` of every timer and deadline names a real date, or a date field of the data."""
    ats: list[tuple[Path, Any]] = []
    for state, items in (v.get("timers") or {}).items():
        for i, timer in enumerate(items or []):
            if isinstance(timer, Mapping) and "at" in timer:
                ats.append((("timers", state, i, "at"), timer["at"]))
    for name, deadline in (v.get("deadlines") or {}).items():
        if isinstance(deadline, Mapping) and "at" in deadline:
            ats.append((("deadlines", name, "at"), deadline["at"]))
    fields = _declared(v.get("data_schema"))
    for path, at in ats:
        if isinstance(at, Mapping):
            yield from _date_field(doc, (*path, "data"), at.get("data"), fields)
        elif isinstance(at, str) and not _is_moment(at):
            yield doc.problem(path, f"{at!r} is not a real date (YYYY-MM-DD) or ISO datetime")


def _declared(data_schema: Any) -> Mapping[str, Any]:
    if not isinstance(data_schema, Mapping):
        return {}
    properties = data_schema.get("properties")
    return properties if isinstance(properties, Mapping) else {}


def _date_field(
    doc: Document, path: Path, field: Any, fields: Mapping[str, Any]
) -> Iterator[Problem]:
    declared = fields.get(field)
    if isinstance(declared, Mapping) and declared.get("format") in DATE_FORMATS:
        return
    where = "is not in data_schema.properties" if declared is None else "has no date format"
    yield doc.problem(
        path,
        f"the timer reads data field {field!r}, which {where}: declare it with "
        "format: date or format: date-time",
    )


def _is_moment(text: str) -> bool:
    """What ``engine.time.timers.TimerMath.parse_moment`` accepts."""
    try:
        if len(text) == 10:
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
