"""Embedded schemas (and their parts) that no value can satisfy: a mistake, never a rule.

Each schema inside ``data_schema``, ``payload_schema`` and ``when`` is looked at on its own:
a ``required`` key whose property schema is ``false``; ``minimum`` above ``maximum`` (and the
exclusive bounds, ``minLength``/``maxLength``, ``minItems``/``maxItems``,
``minProperties``/``maxProperties``); a ``const`` or every ``enum`` value outside its own
``type``; an empty ``enum``. In a ``payload_schema`` such a schema refuses every payload; in a
``when`` it never holds; in ``data_schema`` no case could be opened.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeGuard

from engine.definition.checks_data import json_type, meets, types_of
from engine.definition.loader import Document, Path
from engine.definition.schema_rules import embedded_schemas, subschemas
from engine.definition.wording import type_words
from engine.errors import Problem

__all__ = ["unsatisfiable_problems"]

_NO_VALUE = "no value can satisfy this schema"
_PAIRS = (
    ("minimum", "maximum", "above"),
    ("minLength", "maxLength", "above"),
    ("minItems", "maxItems", "above"),
    ("minProperties", "maxProperties", "above"),
)
_EXCLUSIVE = (
    ("exclusiveMinimum", "maximum"),
    ("minimum", "exclusiveMaximum"),
    ("exclusiveMinimum", "exclusiveMaximum"),
)


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounds(schema: Mapping[str, Any]) -> Iterator[str]:
    for low, high, word in _PAIRS:
        a, b = schema.get(low), schema.get(high)
        if _number(a) and _number(b) and a > b:
            yield f"{low} {a} is {word} {high} {b}"
    for low, high in _EXCLUSIVE:
        a, b = schema.get(low), schema.get(high)
        if _number(a) and _number(b) and a >= b:
            yield f"{low} {a} is not below {high} {b}"


def _values(schema: Mapping[str, Any]) -> Iterator[str]:
    types = types_of(schema)
    if "const" in schema and types is not None and not meets({json_type(schema["const"])}, types):
        yield f"const {schema['const']!r} is not {type_words(sorted(types))}, as type requires"
    enum = schema.get("enum")
    if isinstance(enum, list):
        if not enum:
            yield "enum is empty"
        elif types is not None and not any(meets({json_type(x)}, types) for x in enum):
            yield f"no value of enum is {type_words(sorted(types))}, as type requires"


def _problems_in(doc: Document, at: Path, schema: Mapping[str, Any]) -> Iterator[Problem]:
    props = schema.get("properties")
    if isinstance(props, Mapping):
        for name in schema.get("required") or ():
            if props.get(name) is False:
                yield doc.problem(
                    (*at, "properties", name),
                    f"{name!r} is required but its schema is false: no payload can satisfy "
                    "this schema",
                    at_key=True,
                )
    for reason in (*_bounds(schema), *_values(schema)):
        yield doc.problem(at, f"{reason}: {_NO_VALUE}")


def unsatisfiable_problems(doc: Document, v: Mapping[str, Any]) -> Iterator[Problem]:
    for path, schema in embedded_schemas(v):
        for at, sub in subschemas(schema, path):
            yield from _problems_in(doc, at, sub)
